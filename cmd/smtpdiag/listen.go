package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/listener"
	"github.com/smtpdiag/smtpdiag/internal/report/summary"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/suite"
	"github.com/smtpdiag/smtpdiag/runner"
)

const listenUsage = `Usage: smtpdiag listen [flags] SUITE

Tests a device (a copier, a scanner) instead of a server: smtpdiag becomes
the SMTP server the device is pointed at, as the suite's device block says
(where to listen, which name to announce, whether to behave like
smtp.office365.com), records what the device does and checks it against
the block's expect attributes.

Each device session is one test case: its TLS ClientHello (offered
versions, cipher suites, SNI), the negotiated TLS, AUTH mechanism and user
(never the password), and each message's envelope, header fields and size.
Passwords are never recorded, and message bodies are not kept unless
--keep-message names a directory (one only you can write to), where each
message is written as it arrives, under a name new to this run.

A connection that never sends EHLO or HELO (a port scan, a health check)
and a session the listener refuses (more than 8 at once; with --once, any
but the one being tested) are listed as skipped, not judged. A session
that sends more than smtpdiag records (256 KiB of record) is ended with
421 4.7.0.

smtpdiag listens until --once has judged one session, or until the
timeout (the device block's timeout, or --timeout; then no new connection
is accepted, and a session still open gets a minute to end), or until
Ctrl-C. Progress goes to standard error; the summary, JUnit, JSON and
report are those of run.

Exit codes: 0 every session passed, 1 a session failed or no device came,
2 suite or usage error (including an address smtpdiag may not listen on),
3 internal error.
`

// listenFlags are the flags of listen.
type listenFlags struct {
	reports     runFlags // vars, var files, junit, json, report, -v, --no-color
	device      string
	listen      string
	once        bool
	timeout     time.Duration
	keepMessage string
}

func cmdListen(args []string, e env) error {
	var f listenFlags
	fs := newFlagSet("listen", listenUsage, e.stdout)
	fs.Var(&f.reports.vars, "var", "set a variable, `NAME=VALUE` (repeatable)")
	fs.Var(&f.reports.varFiles, "var-file", "read variables from an HCL `FILE` of name = value lines (repeatable)")
	fs.StringVar(&f.reports.junit, "junit", "", "write JUnit XML to `FILE`")
	fs.StringVar(&f.reports.json, "json", "", "write the full results as JSON to `FILE`")
	fs.StringVar(&f.reports.report, "report", "", "write an evidence report to `FILE` (.html or .md)")
	fs.StringVar(&f.reports.metrics, "metrics", "", metricsUsage)
	fs.BoolVar(&f.reports.verbose, "v", false, "show the transcript of every session, not only failing ones")
	fs.BoolVar(&f.reports.noColor, "no-color", false, "no colour (NO_COLOR is honoured too)")
	fs.StringVar(&f.device, "device", "", "the device block to use, by `LABEL` (needed when the suite has several)")
	fs.StringVar(&f.listen, "listen", "", "listen on `ADDR` (ip:port) instead of the device block's listen")
	fs.BoolVar(&f.once, "once", false, "end after the first device session")
	fs.Var(durationFlag{&f.timeout}, "timeout", "how long (`DURATION`) to wait for the device, e.g. 10m (overrides the device block)")
	fs.StringVar(&f.keepMessage, "keep-message", "", "write each message the device sends to `DIR` as an .eml file (a directory only you can write to)")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(paths) != 1 {
		return usagef("listen takes one suite file, got %d", len(paths))
	}
	if err := f.check(); err != nil {
		return err
	}
	loader := suite.NewLoader(suite.Options{Vars: f.reports.vars, VarFiles: f.reports.varFiles, Environ: e.environ})
	suites, diags := loader.LoadPaths(paths)
	if diags.HasErrors() {
		loader.WriteDiagnostics(e.stderr, diags, colorFor(e.stderr, f.reports.noColor, e.getenv), 100)
		return &suiteError{count: len(diags.Errs())}
	}
	s, dev, err := pickDevice(suites, f.device, paths[0])
	if err != nil {
		return err
	}
	cfg := f.listenerConfig(dev)
	results, err := listenFor(s, dev, cfg, f, e)
	if err != nil {
		return err
	}
	if c := result.Tally(results); c.Failed+c.Errored > 0 {
		return checksFailed{}
	}
	return nil
}

// check rejects flag values that cannot work, before anything listens.
func (f *listenFlags) check() error {
	if err := f.reports.check(); err != nil {
		return err
	}
	if f.timeout < 0 {
		return usagef("--timeout must be positive")
	}
	if f.listen != "" {
		addr, err := suite.ParseListen(f.listen)
		if err != nil {
			return usagef("--listen: %v", err)
		}
		f.listen = addr
	}
	if f.keepMessage != "" {
		if err := listener.CheckKeepDir(f.keepMessage); err != nil {
			return usagef("--keep-message %v", err)
		}
	}
	return nil
}

// pickDevice finds the device block to use: the one named by label, or
// the only one.
func pickDevice(suites []*suite.Suite, label, path string) (*suite.Suite, *suite.Device, error) {
	var labels []string
	for _, s := range suites {
		for _, d := range s.Devices {
			if label == "" || d.Label == label {
				labels = append(labels, d.Label)
			}
		}
	}
	if len(labels) == 1 {
		for _, s := range suites {
			for _, d := range s.Devices {
				if d.Label == labels[0] {
					return s, d, nil
				}
			}
		}
	}
	switch {
	case len(labels) > 1:
		return nil, nil, usagef("%s has several device blocks (%s); choose one with --device LABEL", path, quoteAll(labels))
	case label != "":
		return nil, nil, usagef("%s has no device block labelled %q", path, label)
	}
	return nil, nil, usagef(`%s has no device block; add one such as device "reception copier" { listen = "0.0.0.0:2525" }`, path)
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// listenerConfig turns a device block and the flags into the listener's
// configuration.
func (f *listenFlags) listenerConfig(d *suite.Device) listener.Config {
	cfg := listener.Config{
		Addr:           d.Listen,
		Hostname:       d.Hostname,
		RequireTLS:     d.RequireTLS,
		AcceptAuth:     d.AcceptAuth,
		Mechanisms:     d.AuthMechanisms,
		AllowLegacyTLS: d.AllowLegacyTLS,
		KeepDir:        f.keepMessage,
		OneSession:     f.once,
	}
	if f.listen != "" {
		cfg.Addr = f.listen
	}
	if d.Certificate != nil {
		cfg.Certificates = []tls.Certificate{*d.Certificate}
	}
	return cfg
}

// listenFor waits for the device through runner.Listen, with the live
// summary on stdout and progress on stderr, and writes the reports.
func listenFor(s *suite.Suite, d *suite.Device, cfg listener.Config, f listenFlags, e env) ([]*result.Suite, error) {
	red := runner.Redactor(s)
	sum := summary.New(e.stdout, summary.Options{
		Color:    colorFor(e.stdout, f.reports.noColor, e.getenv),
		Verbose:  f.reports.verbose,
		Redactor: red,
		Width:    outputWidth(e.stdout, e.getenv),
	})
	opts := runner.ListenOptions{
		Start: func(connected func(int, string), finished func(*result.DeviceSession)) (runner.DeviceServer, error) {
			cfg.OnConnect, cfg.OnSession = connected, finished
			l, err := listener.Listen(cfg)
			var be *listener.BindError
			if errors.As(err, &be) {
				return nil, usagef("%v", be)
			}
			if err != nil {
				return nil, err
			}
			return l, nil
		},
		Bound: func(srv runner.DeviceServer, deadline time.Time) {
			announce(e, srv.(*listener.Listener), d, deadline)
		},
		Timeout:  f.timeout,
		Once:     f.once,
		Progress: func(line string) { fmt.Fprintln(e.stderr, line) },
	}
	if f.keepMessage != "" {
		opts.Keep = func(sess *result.DeviceSession) error { return keptMessages(e, sess) }
	}
	if err := clearOutputs(f.reports.outputs()); err != nil {
		return nil, err
	}
	interrupt := watchInterrupt()
	defer interrupt.stop()
	res, err := runner.Listen(interrupt.context(), s, d, opts, sum.Handle)
	if res == nil {
		return nil, err
	}
	results := []*result.Suite{res}
	sum.Finish(results)
	if err != nil {
		return results, err
	}
	return results, writeReportFiles(results, f.reports, red)
}

// announce tells the person at the device where to point it.
func announce(e env, l *listener.Listener, d *suite.Device, deadline time.Time) {
	fmt.Fprintf(e.stderr, "device %q: answering as %s", d.Label, d.Hostname)
	switch {
	case d.RequireTLS && d.AcceptAuth:
		fmt.Fprint(e.stderr, " (STARTTLS, then AUTH, like smtp.office365.com)")
	case d.AcceptAuth:
		fmt.Fprint(e.stderr, " (AUTH without STARTTLS allowed)")
	default:
		fmt.Fprint(e.stderr, " (no AUTH, like a tenant MX endpoint)")
	}
	fmt.Fprintln(e.stderr)
	for _, c := range l.Certificates() {
		fmt.Fprintf(e.stderr, "certificate %s, SHA-256 %s\n", c.Key, c.SHA256)
	}
	if id := l.RunID(); id != "" {
		fmt.Fprintf(e.stderr, "keeping messages as %s-session-N-message-M.eml\n", id)
	}
	addr := l.Addr()
	host, port, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if ips := localAddresses(); len(ips) > 0 {
			fmt.Fprintf(e.stderr, "point the device at %s, port %s\n", strings.Join(ips, " or "), port)
		}
	}
	fmt.Fprintf(e.stderr, "waiting on %s until %s (%s) ...\n", addr, deadline.Format("15:04:05"), time.Until(deadline).Round(time.Second))
}

// localAddresses lists this machine's non-loopback unicast IPv4
// addresses, the ones a device on the LAN can reach.
func localAddresses() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			out = append(out, n.IP.String())
		}
	}
	return out
}

// keptMessages tells where the listener wrote each message of a session
// as it arrived, and returns the first message it could not write.
func keptMessages(e env, s *result.DeviceSession) error {
	for i, m := range s.Messages {
		switch {
		case m.File != "":
			fmt.Fprintf(e.stderr, "session %d, message %d kept as %s\n", s.Number, i+1, m.File)
		case m.KeepError != "":
			return fmt.Errorf("--keep-message: session %d, message %d: %s", s.Number, i+1, m.KeepError)
		}
	}
	return nil
}
