package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/conversation"
	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/smtpclient"
	"github.com/smtpdiag/smtpdiag/runner"
)

const probeUsage = `Usage: smtpdiag probe [flags] HOST[:PORT]...

Connects to each target, reads the banner, sends EHLO, STARTTLS and EHLO
again, and QUIT. It never sends AUTH, MAIL, RCPT or DATA. Several targets
are shown side by side as one capability matrix, for example the tenant MX
endpoint next to the client submission service:

  smtpdiag probe contoso-com.mail.protection.outlook.com:25 smtp.office365.com:587

The matrix shows the banner host, STARTTLS, TLS version and cipher, the
certificate (subject, issuer, expiry, whether it verified), the AUTH
mechanisms before and after TLS, SIZE, PIPELINING, 8BITMIME, SMTPUTF8,
CHUNKING, the client IP the server echoed, and timings. The full EHLO
replies and certificate chains follow.

PORT defaults to 25; 587 is client submission with STARTTLS; 465 is implicit
TLS (which smtp.office365.com does not offer). smtps://HOST:PORT asks for
implicit TLS on any port, smtp://HOST:PORT for STARTTLS on any port.

Exit codes: 0 every target answered (connect, banner, EHLO and, where
STARTTLS is offered, a TLS handshake with a certificate that verifies
unless --no-verify), 1 a target did not, 2 usage error.
`

// defaultProbeTimeout bounds each step of a probe; shorter than a suite's
// 30s because a probe is interactive.
const defaultProbeTimeout = 15 * time.Second

// probeOptions are the flags of probe.
type probeOptions struct {
	json        bool
	timeout     time.Duration
	caFile      string
	serverName  string
	helo        string
	noVerify    bool
	implicitTLS bool
	noColor     bool
}

func cmdProbe(args []string, e env) error {
	var o probeOptions
	fs := newFlagSet("probe", probeUsage, e.stdout)
	fs.BoolVar(&o.json, "json", false, "print the results as JSON")
	fs.DurationVar(&o.timeout, "timeout", defaultProbeTimeout, "per-step timeout (connect, each reply, the TLS handshake)")
	fs.StringVar(&o.caFile, "ca-file", "", "PEM `FILE` of extra trust anchors (besides the system roots)")
	fs.StringVar(&o.serverName, "server-name", "", "TLS server name (SNI and verification) for every target (default: the host)")
	fs.StringVar(&o.helo, "helo", "", "EHLO `NAME` (default: the machine's FQDN, else localhost)")
	fs.BoolVar(&o.noVerify, "no-verify", false, "a certificate that does not verify is reported but does not fail the probe")
	fs.BoolVar(&o.implicitTLS, "implicit-tls", false, "TLS from the first byte on every target (implied for port 465)")
	fs.BoolVar(&o.noColor, "no-color", false, "accepted for symmetry with run; probe output has no colour")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usagef("probe needs at least one target, e.g. smtpdiag probe smtp.office365.com:587")
	}
	if o.timeout <= 0 {
		return usagef("--timeout must be positive")
	}
	var targets []probeTarget
	for _, arg := range rest {
		t, err := parseTarget(arg)
		if err != nil {
			return usagef("%s", err)
		}
		targets = append(targets, t)
	}
	var roots *x509.CertPool
	if o.caFile != "" {
		if roots, err = probeRoots(o.caFile); err != nil {
			return usagef("%s", err)
		}
	}
	if o.helo == "" {
		o.helo = runner.DefaultHelo()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	results := make([]*probeResult, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			results[i] = probe(ctx, t, o, roots, time.Now)
		})
	}
	wg.Wait()

	if o.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		writeProbe(e.stdout, results, time.Now())
	}
	for _, r := range results {
		if !r.OK {
			return checksFailed{}
		}
	}
	return nil
}

// probeTarget is one HOST[:PORT] argument.
type probeTarget struct {
	Arg  string
	Host string
	Port int
	// TLS is the mode a smtp:// or smtps:// prefix asked for, "" for none.
	TLS smtpclient.TLSMode
}

// parseTarget reads HOST, HOST:PORT, [IPv6]:PORT or a bare IPv6 address,
// optionally prefixed with smtps:// (implicit TLS, RFC 8314) or smtp://
// (STARTTLS).
func parseTarget(arg string) (probeTarget, error) {
	t := probeTarget{Arg: arg, Port: 25}
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

func probeRoots(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca-file %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// probeResult is what one probe found out about a target.
type probeResult struct {
	Target  string `json:"target"`
	Host    string `json:"host"`
	Port    int    `json:"port"`
	TLSMode string `json:"tls_mode"`
	// OK is true when the target answered: connect, banner, EHLO and,
	// where TLS was attempted, a handshake (with a verified certificate
	// unless --no-verify).
	OK bool `json:"ok"`
	// Problem says why OK is false.
	Problem   string               `json:"problem,omitempty"`
	Diagnosis *knowledge.Diagnosis `json:"diagnosis,omitempty"`

	Banner     string `json:"banner,omitempty"`
	BannerHost string `json:"banner_host,omitempty"`
	// StartTLS is whether the first EHLO advertised STARTTLS.
	StartTLS      bool                       `json:"starttls"`
	EHLOBeforeTLS []string                   `json:"ehlo_before_tls,omitempty"`
	EHLOAfterTLS  []string                   `json:"ehlo_after_tls,omitempty"`
	TLS           *conversation.TLSInfo      `json:"tls,omitempty"`
	AuthBeforeTLS []string                   `json:"auth_before_tls"`
	AuthAfterTLS  []string                   `json:"auth_after_tls"`
	ClientIP      string                     `json:"client_ip,omitempty"`
	Timings       map[string]float64         `json:"timings_ms"`
	Conversation  *conversation.Conversation `json:"conversation"`
}

// probe holds one conversation without AUTH, MAIL or DATA: the plan has
// none of them, so smtpclient.Converse stops after the EHLO (after TLS)
// and sends QUIT.
func probe(ctx context.Context, t probeTarget, o probeOptions, roots *x509.CertPool, now func() time.Time) *probeResult {
	mode := t.TLS
	switch {
	case mode != "":
	case o.implicitTLS || t.Port == 465:
		mode = smtpclient.Implicit
	default:
		mode = smtpclient.StartTLS
	}
	conv := smtpclient.Converse(ctx, smtpclient.Plan{
		Host:       t.Host,
		Port:       t.Port,
		TLS:        mode,
		Helo:       o.helo,
		Timeout:    o.timeout,
		ServerName: o.serverName,
		// A chain that does not verify is recorded and the conversation
		// goes on, so that the EHLO after TLS is still seen; whether it
		// fails the probe is decided below.
		VerifyCertificate: false,
		RootCAs:           roots,
		Now:               now,
	})
	r := &probeResult{
		Target: t.Arg, Host: t.Host, Port: t.Port, TLSMode: string(mode),
		EHLOBeforeTLS: conv.EHLOBeforeTLS, EHLOAfterTLS: conv.EHLOAfterTLS,
		TLS: conv.TLS, ClientIP: conv.ClientIP, Conversation: conv,
		Timings: map[string]float64{},
	}
	if mode == smtpclient.Implicit {
		// With implicit TLS the only EHLO is inside TLS.
		r.EHLOBeforeTLS, r.EHLOAfterTLS = nil, conv.LastEHLO()
	}
	r.StartTLS = hasKeyword(r.EHLOBeforeTLS, "STARTTLS")
	r.AuthBeforeTLS = authMechanisms(r.EHLOBeforeTLS)
	r.AuthAfterTLS = authMechanisms(r.EHLOAfterTLS)
	for _, s := range conv.Steps {
		name := string(s.Step)
		if _, seen := r.Timings["ehlo"]; seen && s.Step == conversation.StepEHLO {
			name = "ehlo_after_tls"
		}
		if s.Step == conversation.StepQuit {
			continue
		}
		if _, seen := r.Timings[name]; !seen {
			r.Timings[name] = float64(s.Duration.Microseconds()) / 1000
		}
		if s.Step == conversation.StepBanner && s.Reply != nil {
			r.Banner = s.Reply.String()
			if len(s.Reply.Lines) > 0 {
				r.BannerHost, _, _ = strings.Cut(s.Reply.Lines[0], " ")
			}
		}
	}
	r.OK, r.Problem = probeVerdict(conv, o.noVerify)
	if !r.OK {
		r.Diagnosis = knowledge.Diagnose(conv)
	}
	return r
}

// probeVerdict decides whether the target answered. STARTTLS not being
// offered is a finding, not a failure; a failed handshake is a failure.
func probeVerdict(c *conversation.Conversation, noVerify bool) (bool, string) {
	for i := range c.Steps {
		s := &c.Steps[i]
		if s.Step == conversation.StepQuit {
			continue
		}
		if s.Fault != nil {
			if s.Step == conversation.StepStartTLS && s.Fault.Kind == conversation.FaultNotAdvertised {
				continue
			}
			return false, fmt.Sprintf("%s: %s", s.Step, s.Fault.Error())
		}
		if s.Reply != nil && !s.Reply.Positive() && !(s.Step == conversation.StepEHLO && c.UsedHELO) {
			return false, fmt.Sprintf("%s: %s", s.Step, s.Reply)
		}
	}
	if len(c.StepsOf(conversation.StepEHLO)) == 0 {
		return false, "no EHLO reply"
	}
	if c.TLS != nil && !c.TLS.Verified && !noVerify {
		return false, "certificate not verified: " + c.TLS.VerifyError
	}
	return true, ""
}

func hasKeyword(lines []string, keyword string) bool {
	_, ok := extension(lines, keyword)
	return ok
}

// extension finds an EHLO keyword (RFC 5321 section 4.1.1.1) and returns
// its parameters.
func extension(lines []string, keyword string) (string, bool) {
	for _, l := range lines {
		k, params, _ := strings.Cut(strings.TrimSpace(l), " ")
		if strings.EqualFold(k, keyword) {
			return strings.TrimSpace(params), true
		}
	}
	return "", false
}

// authMechanisms lists the SASL mechanisms of an EHLO reply's AUTH line
// (RFC 4954 section 3), also in the old "AUTH=" form; empty, not nil, when
// the EHLO happened and offered none.
func authMechanisms(lines []string) []string {
	if lines == nil {
		return nil
	}
	for _, l := range lines {
		k, params, _ := strings.Cut(strings.TrimSpace(l), " ")
		k = strings.ToUpper(k)
		if k == "AUTH" {
			return strings.Fields(strings.ToUpper(params))
		}
		if rest, ok := strings.CutPrefix(k, "AUTH="); ok {
			return strings.Fields(strings.ToUpper(rest + " " + params))
		}
	}
	return []string{}
}

// matrixCellWidth bounds a cell of the side-by-side matrix; the details
// below it show the full values.
const matrixCellWidth = 44

// writeProbe prints the capability matrix and then each target's EHLO
// replies, certificate chain and, for failures, the diagnosis.
func writeProbe(w io.Writer, results []*probeResult, now time.Time) {
	rows := matrixRows(results, now)
	labelWidth := 0
	for _, row := range rows {
		labelWidth = max(labelWidth, len(row.label))
	}
	widths := make([]int, len(results))
	for _, row := range rows {
		for i, v := range row.values {
			widths[i] = max(widths[i], len(clip(v, len(results))))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		b.WriteString(row.label)
		b.WriteString(strings.Repeat(" ", labelWidth-len(row.label)))
		for i, v := range row.values {
			v = clip(v, len(results))
			b.WriteString("  ")
			b.WriteString(v)
			if i < len(row.values)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-len(v)))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	for _, r := range results {
		fmt.Fprintf(w, "\n== %s\n", r.Target)
		if r.Banner != "" {
			fmt.Fprint(w, wrapField("banner", r.Banner, 14, explainWidth))
		}
		if r.EHLOBeforeTLS != nil {
			fmt.Fprint(w, wrapField("EHLO", strings.Join(r.EHLOBeforeTLS, ", "), 14, explainWidth))
		}
		if r.EHLOAfterTLS != nil {
			fmt.Fprint(w, wrapField("EHLO in TLS", strings.Join(r.EHLOAfterTLS, ", "), 14, explainWidth))
		}
		if r.TLS != nil {
			for i, c := range r.TLS.Chain {
				fmt.Fprint(w, wrapField(fmt.Sprintf("certificate %d", i),
					fmt.Sprintf("%s, issuer %s, not after %s (%s)", c.Subject, c.Issuer, c.NotAfter.Format("2006-01-02"), daysLeft(c.NotAfter, now)),
					14, explainWidth))
			}
			if r.TLS.VerifyError != "" {
				fmt.Fprint(w, wrapField("not verified", r.TLS.VerifyError, 14, explainWidth))
			}
		}
		if !r.OK {
			fmt.Fprint(w, wrapField("FAILED", r.Problem, 14, explainWidth))
			if d := r.Diagnosis; d != nil {
				fmt.Fprint(w, wrapField("diagnosis", fmt.Sprintf("(%s) %s", d.Category, d.Meaning), 14, explainWidth))
				fmt.Fprint(w, wrapField("fix", d.Fix, 14, explainWidth))
				if d.Source != "" {
					fmt.Fprint(w, wrapField("source", d.Source, 14, explainWidth))
				}
			}
		}
	}
	failed := 0
	for _, r := range results {
		if !r.OK {
			failed++
		}
	}
	fmt.Fprintf(w, "\n%d answered, %d failed\n", len(results)-failed, failed)
}

type matrixRow struct {
	label  string
	values []string
}

// matrixRows builds the rows of the capability matrix, one column per
// target. "-" means the probe never got that far.
func matrixRows(results []*probeResult, now time.Time) []matrixRow {
	var rows []matrixRow
	add := func(label string, value func(*probeResult) string) {
		row := matrixRow{label: label}
		for _, r := range results {
			row.values = append(row.values, value(r))
		}
		rows = append(rows, row)
	}
	orDash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	leaf := func(r *probeResult) *conversation.Certificate {
		if r.TLS == nil || len(r.TLS.Chain) == 0 {
			return nil
		}
		return &r.TLS.Chain[0]
	}
	add("target", func(r *probeResult) string { return r.Target })
	add("result", func(r *probeResult) string {
		if r.OK {
			return "ok"
		}
		return "FAILED"
	})
	add("banner host", func(r *probeResult) string { return orDash(r.BannerHost) })
	add("STARTTLS", func(r *probeResult) string {
		switch {
		case r.TLSMode == string(smtpclient.Implicit):
			return "implicit TLS"
		case r.EHLOBeforeTLS == nil:
			return "-"
		case r.StartTLS:
			return "yes"
		}
		return "no"
	})
	add("TLS version", func(r *probeResult) string {
		if r.TLS == nil {
			return "-"
		}
		return "TLS " + r.TLS.Version
	})
	add("cipher", func(r *probeResult) string {
		if r.TLS == nil {
			return "-"
		}
		return r.TLS.CipherSuite
	})
	add("cert subject", func(r *probeResult) string {
		if c := leaf(r); c != nil {
			return c.Subject
		}
		return "-"
	})
	add("cert issuer", func(r *probeResult) string {
		if c := leaf(r); c != nil {
			return c.Issuer
		}
		return "-"
	})
	add("cert expires", func(r *probeResult) string {
		if c := leaf(r); c != nil {
			return c.NotAfter.Format("2006-01-02") + " (" + daysLeft(c.NotAfter, now) + ")"
		}
		return "-"
	})
	add("cert verified", func(r *probeResult) string {
		switch {
		case r.TLS == nil:
			return "-"
		case r.TLS.Verified:
			return "yes"
		}
		return "NO"
	})
	mechs := func(m []string) string {
		switch {
		case m == nil:
			return "-"
		case len(m) == 0:
			return "none"
		}
		return strings.Join(m, " ")
	}
	add("AUTH before TLS", func(r *probeResult) string {
		if r.TLSMode == string(smtpclient.Implicit) {
			return "-"
		}
		return mechs(r.AuthBeforeTLS)
	})
	add("AUTH after TLS", func(r *probeResult) string { return mechs(r.AuthAfterTLS) })
	for _, keyword := range []string{"SIZE", "PIPELINING", "8BITMIME", "SMTPUTF8", "CHUNKING"} {
		add(keyword, func(r *probeResult) string {
			lines := r.Conversation.LastEHLO()
			if lines == nil {
				return "-"
			}
			params, ok := extension(lines, keyword)
			switch {
			case !ok:
				return "no"
			case params != "":
				return params
			}
			return "yes"
		})
	}
	add("client IP", func(r *probeResult) string { return orDash(r.ClientIP) })
	for _, step := range []string{"connect", "banner", "ehlo", "tls"} {
		add(step+" ms", func(r *probeResult) string {
			ms, ok := r.Timings[step]
			if !ok {
				return "-"
			}
			return strconv.FormatFloat(ms, 'f', 1, 64)
		})
	}
	return rows
}

func daysLeft(notAfter, now time.Time) string {
	days := int(notAfter.Sub(now).Hours() / 24)
	if notAfter.Before(now) {
		return "EXPIRED"
	}
	if days == 1 {
		return "1 day left"
	}
	return fmt.Sprintf("%d days left", days)
}

// clip shortens a matrix cell when several targets share the line.
func clip(s string, columns int) string {
	if columns < 2 || len(s) <= matrixCellWidth {
		return s
	}
	return s[:matrixCellWidth-3] + "..."
}
