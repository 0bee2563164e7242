package runner

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/smtpclient"
)

// ProbeTarget is one HOST[:PORT] argument of smtpdiag probe.
type ProbeTarget struct {
	Arg  string
	Host string
	Port int
	// TLS is the mode a smtp:// or smtps:// prefix asked for, "" for none.
	TLS smtpclient.TLSMode
}

// ParseProbeTarget reads HOST, HOST:PORT, [IPv6]:PORT or a bare IPv6
// address, optionally prefixed with smtps:// (implicit TLS, RFC 8314) or
// smtp:// (STARTTLS). The port defaults to 25, or 465 with smtps://.
func ParseProbeTarget(arg string) (ProbeTarget, error) {
	t := ProbeTarget{Arg: arg, Port: 25}
	rest := arg
	if r, ok := strings.CutPrefix(rest, "smtps://"); ok {
		rest, t.TLS, t.Port = r, smtpclient.Implicit, 465
	} else if r, ok := strings.CutPrefix(rest, "smtp://"); ok {
		rest, t.TLS = r, smtpclient.StartTLS
	}
	rest = strings.TrimSuffix(rest, "/")
	t.Host = rest
	if host, port, err := net.SplitHostPort(rest); err == nil {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return t, fmt.Errorf("target %q: port %q is not a number from 1 to 65535", arg, port)
		}
		t.Host, t.Port = host, n
	} else if strings.Count(rest, ":") == 1 || strings.HasPrefix(rest, "[") {
		return t, fmt.Errorf("target %q: write HOST, HOST:PORT or [IPv6]:PORT", arg)
	}
	t.Host = strings.Trim(t.Host, "[]")
	if t.Host == "" || strings.ContainsAny(t.Host, " /\t") {
		return t, fmt.Errorf("target %q: no host name", arg)
	}
	return t, nil
}

// ProbeOptions tune a probe.
type ProbeOptions struct {
	// Timeout bounds each step (connect, each reply, the handshake).
	Timeout    time.Duration
	ServerName string
	// Helo is the EHLO name; "" means DefaultHelo().
	Helo string
	// RootCAs are the trust anchors; nil means the system's.
	RootCAs *x509.CertPool
	// NoVerify keeps a certificate that does not verify from failing
	// the probe (it is reported all the same).
	NoVerify bool
	// ImplicitTLS asks for TLS from the first byte on every target
	// (implied for port 465 and smtps://).
	ImplicitTLS bool
	// Now and Converse are injected by tests; nil means time.Now and
	// smtpclient.Converse.
	Now      func() time.Time
	Converse func(context.Context, smtpclient.Plan) *result.Conversation
}

// Probe holds one conversation with each target at once, without AUTH,
// MAIL or DATA: banner, EHLO, STARTTLS and EHLO again, then QUIT. The
// results are in the order of targets.
func Probe(ctx context.Context, targets []ProbeTarget, opts ProbeOptions) []*result.Probe {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Converse == nil {
		opts.Converse = smtpclient.Converse
	}
	if opts.Helo == "" {
		opts.Helo = DefaultHelo()
	}
	out := make([]*result.Probe, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() { out[i] = probe(ctx, t, opts) })
	}
	wg.Wait()
	return out
}

// probe holds one conversation: the plan has no AUTH, MAIL or DATA, so
// the client stops after the EHLO (after TLS) and sends QUIT.
func probe(ctx context.Context, t ProbeTarget, o ProbeOptions) *result.Probe {
	mode := t.TLS
	switch {
	case mode != "":
	case o.ImplicitTLS || t.Port == 465:
		mode = smtpclient.Implicit
	default:
		mode = smtpclient.StartTLS
	}
	conv := o.Converse(ctx, smtpclient.Plan{
		Host:       t.Host,
		Port:       t.Port,
		TLS:        mode,
		Helo:       o.Helo,
		Timeout:    o.Timeout,
		ServerName: o.ServerName,
		// A chain that does not verify is recorded and the conversation
		// goes on, so that the EHLO after TLS is still seen; whether it
		// fails the probe is decided below.
		VerifyCertificate: false,
		RootCAs:           o.RootCAs,
		Now:               o.Now,
	})
	r := &result.Probe{
		Target: t.Arg, Host: t.Host, Port: t.Port, TLSMode: string(mode),
		EHLOBeforeTLS: conv.EHLOBeforeTLS, EHLOAfterTLS: conv.EHLOAfterTLS,
		TLS: conv.TLS, ClientIP: conv.ClientIP, Conversation: conv,
		Timings: map[string]float64{},
	}
	if mode == smtpclient.Implicit {
		// With implicit TLS the only EHLO is inside TLS.
		r.EHLOBeforeTLS, r.EHLOAfterTLS = nil, conv.LastEHLO()
	}
	r.StartTLS = r.EHLOBeforeTLS.Has("STARTTLS")
	r.AuthBeforeTLS = offeredMechanisms(r.EHLOBeforeTLS)
	r.AuthAfterTLS = offeredMechanisms(r.EHLOAfterTLS)
	for _, s := range conv.Steps {
		name := string(s.Step)
		if _, seen := r.Timings["ehlo"]; seen && s.Step == result.StepEHLO {
			name = "ehlo_after_tls"
		}
		if s.Step == result.StepQuit {
			continue
		}
		if _, seen := r.Timings[name]; !seen {
			r.Timings[name] = float64(s.Duration.Microseconds()) / 1000
		}
		if s.Step == result.StepBanner && s.Reply != nil {
			r.Banner = s.Reply.String()
			if len(s.Reply.Lines) > 0 {
				r.BannerHost, _, _ = strings.Cut(s.Reply.Lines[0], " ")
			}
		}
	}
	r.OK, r.Problem = probeVerdict(conv, o.NoVerify)
	if !r.OK {
		r.Diagnosis = knowledge.Diagnose(conv)
	}
	return r
}

// offeredMechanisms lists the SASL mechanisms an EHLO offered: nil when
// that EHLO did not happen, empty when it offered none.
func offeredMechanisms(ext esmtp.Extensions) []string {
	if ext == nil {
		return nil
	}
	if m := ext.AuthMechanisms(); m != nil {
		return m
	}
	return []string{}
}

// probeVerdict decides whether the target answered. STARTTLS not being
// offered is a finding, not a failure; a failed handshake is a failure.
func probeVerdict(c *result.Conversation, noVerify bool) (bool, string) {
	for i := range c.Steps {
		s := &c.Steps[i]
		if s.Step == result.StepQuit {
			continue
		}
		if s.Fault != nil {
			if s.Step == result.StepStartTLS && s.Fault.Kind == result.FaultNotAdvertised {
				continue
			}
			return false, fmt.Sprintf("%s: %s", s.Step, s.Fault.Error())
		}
		if s.Reply != nil && !s.Reply.Positive() && !(s.Step == result.StepEHLO && c.UsedHELO) {
			return false, fmt.Sprintf("%s: %s", s.Step, s.Reply)
		}
	}
	if len(c.StepsOf(result.StepEHLO)) == 0 {
		return false, "no EHLO reply"
	}
	if c.TLS != nil && !c.TLS.Verified && !noVerify {
		return false, "certificate not verified: " + c.TLS.VerifyError
	}
	return true, ""
}
