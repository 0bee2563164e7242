// Package junit writes run results as JUnit XML (SPEC section 6) on the
// go-junit-report types, in the dialect of the junit-10.xsd schema that
// Jenkins' xunit plugin validates against.
//
// The mapping: one <testsuite> per suite file, one <testcase> per check
// (name = check label, classname = suite file path), <failure> for checks
// whose expectations did not hold (connection problems included),
// <error> only for the runner's own faults, <skipped> for skipped checks,
// and the redacted transcript in each testcase's <system-out>.
//
// junit-10.xsd allows <properties> only inside <testsuite>, not inside
// <testcase>. The per-check properties (endpoint, target, resolved
// address, TLS version, client IP) are therefore suite properties named
// "<check label>.endpoint" and so on, and are repeated at the head of the
// check's <system-out> so that a CI page showing one test shows them too.
//
// A suite whose checks prove the ways to send after the Basic auth
// switch-off holds the decision on them in its own <system-out>, one line
// per path.
//
// Every string passes through the Redactor and then through an XML
// sanitizer: characters XML 1.0 does not allow (most C0 controls, U+FFFE,
// U+FFFF, bytes that are not UTF-8) and the discouraged DEL and C1
// controls become visible Go-style escapes such as `\x1b`, so that any
// bytes a server sends still yield a well-formed document.
package junit

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/safetext"
)

// Options tune the report.
type Options struct {
	// Redactor masks secrets in every string written; nil masks nothing.
	Redactor *redact.Redactor
	// Hostname is written as each testsuite's hostname when not "".
	Hostname string
}

// Write writes the JUnit XML document for suites to w. It renders one
// <testsuite> at a time, so that the document of a large run is never held
// in memory whole; on an error, w holds part of it.
func Write(w io.Writer, suites []*result.Suite, opts Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := write(bw, suites, opts); err != nil {
		return err
	}
	return bw.Flush()
}

// write writes what build's document would be, encoded by WriteXML: the
// <testsuites> element with the totals, then each <testsuite> encoded at
// its depth.
func write(w *bufio.Writer, suites []*result.Suite, opts Options) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	head := junit.Testsuites{Name: "smtpdiag"}
	var total time.Duration
	for _, s := range suites {
		c := s.Counts()
		head.Tests += len(s.Checks)
		head.Failures += c.Failed
		head.Errors += c.Errored
		total += s.Duration
	}
	head.Time = seconds(total)
	// junit-10.xsd has no skipped or disabled attribute on <testsuites>;
	// go-junit-report omits them when zero. Each <testsuite> keeps its own.
	var envelope bytes.Buffer
	if err := head.WriteXML(&envelope); err != nil {
		return err
	}
	if len(suites) == 0 {
		_, err := w.Write(envelope.Bytes())
		return err
	}
	const end = "</testsuites>\n"
	open, ok := bytes.CutSuffix(envelope.Bytes(), []byte(end))
	if !ok {
		return fmt.Errorf("junit: unexpected envelope %q", envelope.Bytes())
	}
	w.Write(open)
	t := text{opts.Redactor}
	for i, s := range suites {
		w.WriteByte('\n')
		enc := xml.NewEncoder(w)
		enc.Indent("\t", "\t")
		if err := enc.EncodeElement(t.suite(i, s, opts.Hostname), xml.StartElement{Name: xml.Name{Local: "testsuite"}}); err != nil {
			return err
		}
		if err := enc.Flush(); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "\n"+end)
	return err
}

// text masks and sanitizes every string that goes into the document.
type text struct{ red *redact.Redactor }

func (t text) s(s string) string { return safetext.Block(t.red.String(s)) }

func (t text) suite(index int, s *result.Suite, hostname string) junit.Testsuite {
	ts := junit.Testsuite{
		Name:     t.s(s.Name),
		ID:       index,
		Hostname: t.s(hostname),
		File:     t.s(s.Path),
		Time:     seconds(s.Duration),
	}
	if !s.Started.IsZero() {
		ts.SetTimestamp(s.Started)
	}
	if s.Description != "" {
		ts.AddProperty("description", t.s(s.Description))
	}
	if s.Interrupted != "" {
		// CI shows a suite's properties next to its cases: an interrupted
		// run is never mistaken for a complete one.
		ts.AddProperty("interrupted", t.s(fmt.Sprintf("%s; %d of %d checks did not finish", s.Interrupted, s.Unfinished(), len(s.Checks))))
	}
	for _, r := range s.Checks {
		props := t.properties(r)
		for _, p := range props {
			ts.AddProperty(t.s(r.Label)+"."+p.Name, p.Value)
		}
		ts.AddTestcase(t.testcase(s, r, props))
	}
	if s.Paths != nil {
		ts.SystemOut = &junit.Output{Data: t.paths(s)}
	}
	return ts
}

// paths renders a suite's decision on the ways to send after the Basic
// auth switch-off for its <system-out>: a heading, the summary, and one
// line per path with its verdict and deciding reason:
//
//	Ways scanner@contoso.com can send after the Basic auth switch-off
//	this run (this tenant, this machine): a connector is out; ...
//	maybe  basic_auth   Basic authentication for SMTP AUTH is disabled ...
func (t text) paths(s *result.Suite) string {
	d := s.Paths
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n", result.PathsTitle(t.s(s.PathsSubject())), t.s(d.Summary))
	for _, p := range d.Paths {
		reason := ""
		if len(p.Reasons) > 0 {
			reason = p.Reasons[0]
		}
		fmt.Fprintf(&b, "%-6s %-12s %s\n", t.s(p.Usable), t.s(p.Path), t.s(reason))
	}
	return b.String()
}

// properties lists a check's non-empty properties, already sanitized.
func (t text) properties(r *result.Check) []junit.Property {
	var props []junit.Property
	add := func(name, value string) {
		if value != "" {
			props = append(props, junit.Property{Name: name, Value: t.s(value)})
		}
	}
	add("endpoint", r.Endpoint)
	add("target", r.Target)
	add("resolver", r.Resolver)
	if c := r.Conversation; c != nil {
		add("resolved_address", c.RemoteAddr)
		if c.TLS != nil {
			add("tls_version", c.TLS.Version)
		}
		add("client_ip", c.ClientIP)
	}
	if d := r.Device; d != nil {
		add("client_ip", d.ClientIP)
		if h := d.ClientHello; h != nil {
			add("offered_tls_versions", strings.Join(h.Versions, " "))
			add("offers_ecdhe", fmt.Sprint(h.ECDHE))
			add("sni", h.ServerName)
		}
		if d.TLS != nil {
			add("tls_version", d.TLS.Version)
			add("cipher_suite", d.TLS.CipherSuite)
		}
		if n := len(d.Auth); n > 0 {
			add("auth_mechanism", d.Auth[n-1].Mechanism)
			add("auth_user", d.Auth[n-1].User)
		}
		if d.MailFrom != nil {
			add("mail_from", *d.MailFrom)
		}
	}
	return props
}

// testcase renders one check; props are what properties returned for it.
func (t text) testcase(s *result.Suite, r *result.Check, props []junit.Property) junit.Testcase {
	tc := junit.Testcase{
		Name:      t.s(r.Label),
		Classname: t.s(s.Path),
		Time:      seconds(r.Duration),
	}
	switch r.Status {
	case result.Failed:
		tc.Failure = t.failure(r)
	case result.Errored:
		tc.Error = &junit.Result{Message: t.s(r.Error), Type: "runner", Data: t.s(r.Error)}
	case result.Skipped:
		msg := "skipped"
		if r.Error != "" {
			msg = r.Error
		}
		tc.Skipped = &junit.Result{Message: t.s(msg)}
	}
	if out := t.systemOut(r, props); out != "" {
		tc.SystemOut = &junit.Output{Data: out}
	}
	return tc
}

// failure holds every failed expectation and the diagnosis; its type is
// the diagnosis category, so CI can group failures by what has to change.
func (t text) failure(r *result.Check) *junit.Result {
	res := &junit.Result{Message: "failed"}
	if m := r.FirstFailure(); m != "" {
		res.Message = t.s(m)
	}
	var b strings.Builder
	for _, f := range r.Failures {
		b.WriteString(t.s(f.Message))
		b.WriteString("\n")
	}
	if d := r.Diagnosis; d != nil {
		res.Type = t.s(string(d.Category))
		fmt.Fprintf(&b, "\nDiagnosis (%s): %s\n", t.s(string(d.Category)), t.s(d.Summary))
		for _, f := range []struct{ name, value string }{
			{"Meaning", d.Meaning},
			{"Fix", d.Fix},
			{"Setting", d.Setting},
			{"Source", d.Source},
			{"IP", d.IP},
		} {
			if f.value != "" {
				fmt.Fprintf(&b, "%s: %s\n", f.name, t.s(f.value))
			}
		}
	}
	if len(r.Blocklists) > 0 {
		b.WriteString("\nBlocklists:\n")
		for _, l := range r.Blocklists {
			fmt.Fprintf(&b, "%s\n", t.s(l.String()))
		}
	}
	res.Data = b.String()
	return res
}

// systemOut renders the check's properties, then its transcript.
func (t text) systemOut(r *result.Check, props []junit.Property) string {
	var b strings.Builder
	for _, p := range props {
		fmt.Fprintf(&b, "%s: %s\n", p.Name, p.Value)
	}
	if r.Attempts > 1 {
		fmt.Fprintf(&b, "attempts: %d (transcript of the last)\n", r.Attempts)
	}
	if r.DataSuppressed {
		b.WriteString("data: not sent (--no-send)\n")
	}
	if r.Device != nil {
		b.WriteString("\ndevice session:\n")
		for _, f := range r.Device.Facts() {
			fmt.Fprintf(&b, "%s: %s\n", t.s(f.Name), t.s(f.Value))
		}
	}
	if lines := r.TranscriptLines(); len(lines) > 0 {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		for _, l := range lines {
			b.WriteString(t.s(l.String()))
			b.WriteString("\n")
		}
	}
	return b.String()
}

// seconds renders a duration the way JUnit wants it: seconds with three
// decimals.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}
