package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/report/jsonreport"
	"github.com/smtpdiag/smtpdiag/internal/report/summary"
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
	format      string
	jsonFile    string
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
	fs.StringVar(&o.format, "format", "text", "what to print, `FORMAT`: text (the matrix and details) or json")
	fs.StringVar(&o.jsonFile, "json", "", "also write the results as JSON to `FILE`")
	o.timeout = defaultProbeTimeout
	fs.Var(durationFlag{&o.timeout}, "timeout", "per-step `DURATION` (connect, each reply, the TLS handshake)")
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
	if o.format != "text" && o.format != "json" {
		return usagef("--format %s: write text or json", o.format)
	}
	if o.jsonFile != "" {
		if err := checkOutput(o.jsonFile); err != nil {
			return err
		}
	}
	var targets []runner.ProbeTarget
	for _, arg := range rest {
		t, err := runner.ParseProbeTarget(arg)
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

	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	probes := runner.Probe(ctx, targets, runner.ProbeOptions{
		Timeout:     o.timeout,
		ServerName:  o.serverName,
		Helo:        o.helo,
		RootCAs:     roots,
		NoVerify:    o.noVerify,
		ImplicitTLS: o.implicitTLS,
	})
	if o.format == "json" {
		if err := jsonreport.WriteProbes(e.stdout, probes); err != nil {
			return err
		}
	} else {
		summary.WriteProbes(e.stdout, probes, time.Now(), outputWidth(e.stdout, e.getenv))
	}
	if o.jsonFile != "" {
		if err := writeFile(o.jsonFile, func(f *os.File) error { return jsonreport.WriteProbes(f, probes) }); err != nil {
			return err
		}
	}
	for _, p := range probes {
		if !p.OK {
			return checksFailed{}
		}
	}
	return nil
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
