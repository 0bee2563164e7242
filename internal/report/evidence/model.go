// Package evidence writes the evidence report of a run (SPEC section 1 and
// 4): one self-contained HTML page or Markdown document that a person can
// forward to an ISP, a copier vendor or a client. It says when and from
// where the run happened, the overall verdict and, for every check, the
// verdict, endpoint and resolved address, a timeline of the SMTP steps, the
// failed expectations, the diagnosis with its fix and source, the TLS
// session and certificate chain, and the full redacted transcript; suites
// with several endpoints get a capability matrix side by side.
//
// Both formats render one view model, Report, built by Build: every string
// in it has passed through the Redactor and has its control characters
// replaced by visible escapes (see Text). The HTML renderer then leaves all
// escaping to html/template, so a server that sends markup in its banner
// only ever appears as text; the Markdown renderer backslash-escapes the
// characters Markdown would act on and fences transcripts with a fence
// longer than any backtick run inside them.
package evidence

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/conversation"
	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/runner"
)

// Options tune the report.
type Options struct {
	// Redactor masks secrets in every string of the report; nil masks
	// nothing.
	Redactor *redact.Redactor
	// Generated is when the report was written, shown in UTC; the zero
	// time leaves it out. The renderer never reads the clock itself.
	Generated time.Time
	// Hostname is the name of the machine the run happened on.
	Hostname string
	// Version is the smtpdiag version that made the report.
	Version string
}

// Report is the view model both formats render.
type Report struct {
	Title   string
	Version Text
	// Generated, Started and Ended are UTC times ("2026-12-05 06:00:00
	// UTC"); Generated is "" when Options.Generated was zero, Started and
	// Ended are "" when no suite recorded a start.
	Generated string
	Started   string
	Ended     string
	Duration  string

	Hostname Text
	// LocalAddrs are the distinct local IP addresses the conversations
	// left from; ClientIPs the distinct addresses the servers said they
	// saw (the EHLO greeting's "Hello [IP]"), in order of first use.
	LocalAddrs []Text
	ClientIPs  []Text

	Verdict Verdict
	Counts  runner.Counts
	// Tally is "1 passed, 2 failed, 1 error, 1 skipped".
	Tally string

	Suites []*Suite
}

// Verdict is a check's or the run's verdict as shown.
type Verdict struct {
	// Word is PASS, FAIL, ERROR or SKIP (PASSED or FAILED for the run).
	Word string
	// Mark is ✓, ✗, ! or -.
	Mark string
	// Class is pass, fail, error or skip: the CSS class.
	Class string
}

// Suite is one suite file's part of the report.
type Suite struct {
	Anchor      string
	Name        Text
	Description Text
	Path        Text
	Started     string
	Duration    string
	Counts      runner.Counts
	Tally       string
	// Matrix compares the endpoints side by side; nil unless the suite's
	// checks talked to more than one endpoint.
	Matrix *Matrix
	Checks []*Check
}

// Check is one check's part of the report.
type Check struct {
	// Anchor is the HTML id and Markdown link target of the check.
	Anchor  string
	Suite   Text
	Label   Text
	Kind    string
	Verdict Verdict
	// Endpoint is the endpoint's label, Target what it named
	// ("host:port"), Resolved the address connected to, Local the local
	// end, ClientIP what the server echoed.
	Endpoint Text
	Target   Text
	Resolved Text
	Local    Text
	ClientIP Text
	TLSMode  Text
	Started  string
	Duration string
	Attempts int
	// DataSuppressed is true when --no-send kept DATA from being sent.
	DataSuppressed bool
	// Error is the runner's own fault for errored checks.
	Error        Text
	FirstFailure Text
	Failures     []Failure
	Diagnosis    *Diagnosis
	// Stop says where and why the conversation ended early; empty when it
	// ran to its end.
	Stop Text
	// Conversation is false for checks that never talked to a server
	// (skipped, errored before connecting); the step, EHLO, TLS and
	// transcript fields are then empty.
	Conversation  bool
	Steps         []Step
	EHLOBeforeTLS []Text
	EHLOAfterTLS  []Text
	UsedHELO      bool
	TLS           *TLS
	// DNSBL holds the block-list lookups of the IP a rejection named; no
	// source fills it yet, and both renderers show it when it is not
	// empty.
	DNSBL      []DNSBLResult
	Transcript []Line
}

// Failure is one failed expectation. Message names the expectation
// itself ("rcpt: expected ..."), so renderers show only Message.
type Failure struct {
	Expectation Text
	Message     Text
}

// Diagnosis is the knowledge base's explanation of a failure.
type Diagnosis struct {
	Category Text
	Summary  Text
	Meaning  Text
	Fix      Text
	Setting  Text
	// SourceURL is the source as a link, "" when it is not an http(s) URL;
	// Source is the same as text.
	SourceURL string
	Source    Text
	// IP is an address the reply named in brackets.
	IP Text
}

// Step is one row of the step timeline.
type Step struct {
	Name     string
	AfterTLS bool
	Command  Text
	Outcome  Text
	// Negative is true for a fault or a 4xx/5xx reply.
	Negative bool
	Start    string
	Duration string
	// BarLeft and BarWidth place the step's bar on the timeline, in
	// percent of the conversation's duration ("12.50").
	BarLeft  string
	BarWidth string
}

// TLS is the negotiated TLS session.
type TLS struct {
	Version     Text
	CipherSuite Text
	ServerName  Text
	Verified    bool
	VerifyError Text
	Chain       []Certificate
}

// Certificate is one certificate of the presented chain, leaf first.
type Certificate struct {
	Subject   Text
	Issuer    Text
	Names     []Text
	Serial    Text
	NotBefore string
	NotAfter  string
	// DaysLeft is the number of whole days from the check to NotAfter
	// (negative when it had expired).
	DaysLeft int
	SHA256   Text
}

// DNSBLResult is the answer of one DNS block list for one IP.
type DNSBLResult struct {
	Zone   Text
	IP     Text
	Listed bool
	// Answer is the A record returned ("127.0.0.2"), Reason the TXT
	// record explaining the listing, if any.
	Answer Text
	Reason Text
}

// Line is one transcript line.
type Line struct {
	Offset string
	// Direction is C, S, TLS or *; Class the CSS class: c, s, tls, note.
	Direction string
	Class     string
	Text      Text
}

// Matrix is the capability comparison of a suite's endpoints.
type Matrix struct {
	Columns []MatrixColumn
	Rows    []MatrixRow
}

// MatrixColumn is one endpoint.
type MatrixColumn struct {
	Endpoint Text
	Target   Text
}

// MatrixRow is one capability across the endpoints.
type MatrixRow struct {
	Name  string
	Cells []Text
}

// Build assembles the view model of suites. Every string from the run
// passes through opts.Redactor and then through visibleText.
func Build(suites []*runner.SuiteResult, opts Options) *Report {
	b := builder{red: opts.Redactor}
	rep := &Report{
		Title:    "smtpdiag evidence report",
		Version:  b.text(opts.Version),
		Hostname: b.text(opts.Hostname),
		Counts:   runner.Tally(suites),
	}
	if !opts.Generated.IsZero() {
		rep.Generated = utc(opts.Generated)
	}
	rep.Tally = tally(rep.Counts)
	rep.Verdict = Verdict{Word: "PASSED", Mark: "✓", Class: "pass"}
	if rep.Counts.Failed+rep.Counts.Errored > 0 {
		rep.Verdict = Verdict{Word: "FAILED", Mark: "✗", Class: "fail"}
	}

	var first, last time.Time
	locals, clients := distinct{}, distinct{}
	for si, s := range suites {
		if !s.Started.IsZero() {
			if first.IsZero() || s.Started.Before(first) {
				first = s.Started
			}
			if end := s.Started.Add(s.Duration); end.After(last) {
				last = end
			}
		}
		rs := &Suite{
			Anchor:      fmt.Sprintf("suite-%d", si+1),
			Name:        b.text(s.Name),
			Description: b.text(s.Description),
			Path:        b.text(s.Path),
			Duration:    duration(s.Duration),
			Counts:      s.Counts(),
		}
		if !s.Started.IsZero() {
			rs.Started = utc(s.Started)
		}
		rs.Tally = tally(rs.Counts)
		for ci, c := range s.Checks {
			rc := b.check(c)
			rc.Anchor = fmt.Sprintf("check-%d-%d", si+1, ci+1)
			rc.Suite = rs.Name
			rs.Checks = append(rs.Checks, rc)
			if conv := c.Conversation; conv != nil {
				if host, _, err := net.SplitHostPort(conv.LocalAddr); err == nil {
					locals.add(b.red.String(host))
				}
				clients.add(b.red.String(conv.ClientIP))
			}
		}
		rs.Matrix = b.matrix(s)
		rep.Suites = append(rep.Suites, rs)
	}
	if !first.IsZero() {
		rep.Started, rep.Ended = utc(first), utc(last)
		rep.Duration = duration(last.Sub(first))
	}
	for _, l := range locals {
		rep.LocalAddrs = append(rep.LocalAddrs, visibleText(l))
	}
	for _, c := range clients {
		rep.ClientIPs = append(rep.ClientIPs, visibleText(c))
	}
	return rep
}

// distinct collects non-empty strings in order of first appearance.
type distinct []string

func (d *distinct) add(s string) {
	if s == "" {
		return
	}
	for _, have := range *d {
		if have == s {
			return
		}
	}
	*d = append(*d, s)
}

type builder struct{ red *redact.Redactor }

// text masks secrets in s, then makes its control characters visible.
// Masking comes first so that a secret is recognised in its raw form.
func (b builder) text(s string) Text { return visibleText(b.red.String(s)) }

func (b builder) texts(ss []string) []Text {
	var out []Text
	for _, s := range ss {
		out = append(out, b.text(s))
	}
	return out
}

var verdicts = map[runner.Status]Verdict{
	runner.Passed:  {"PASS", "✓", "pass"},
	runner.Failed:  {"FAIL", "✗", "fail"},
	runner.Errored: {"ERROR", "!", "error"},
	runner.Skipped: {"SKIP", "-", "skip"},
}

func verdictOf(s runner.Status) Verdict {
	if v, ok := verdicts[s]; ok {
		return v
	}
	return Verdict{Word: strings.ToUpper(string(s)), Mark: "?", Class: "error"}
}

func (b builder) check(r *runner.CheckResult) *Check {
	c := &Check{
		Label:          b.text(r.Label),
		Kind:           r.Kind,
		Verdict:        verdictOf(r.Status),
		Endpoint:       b.text(r.Endpoint),
		Target:         b.text(r.Target),
		Duration:       duration(r.Duration),
		Attempts:       r.Attempts,
		DataSuppressed: r.DataSuppressed,
		Error:          b.text(r.Error),
		FirstFailure:   b.text(r.FirstFailure()),
	}
	if !r.Started.IsZero() {
		c.Started = utc(r.Started)
	}
	for _, f := range r.Failures {
		c.Failures = append(c.Failures, Failure{Expectation: b.text(f.Expectation), Message: b.text(f.Message)})
	}
	if d := r.Diagnosis; d != nil {
		c.Diagnosis = b.diagnosis(d)
	}
	conv := r.Conversation
	if conv == nil {
		return c
	}
	c.Conversation = true
	c.Resolved = b.text(conv.RemoteAddr)
	c.Local = b.text(conv.LocalAddr)
	c.ClientIP = b.text(conv.ClientIP)
	c.TLSMode = b.text(conv.TLSMode)
	c.EHLOBeforeTLS = b.texts(conv.EHLOBeforeTLS)
	c.EHLOAfterTLS = b.texts(conv.EHLOAfterTLS)
	c.UsedHELO = conv.UsedHELO
	// Where the conversation stopped is worth a line of its own only when
	// the diagnosis does not already name that reply.
	if stop := conv.Stop(); stop != nil && (r.Diagnosis == nil || !strings.Contains(r.Diagnosis.Summary, stop.Outcome())) {
		c.Stop = b.text(fmt.Sprintf("stopped at %s: %s", strings.ToUpper(string(stop.Step)), stop.Outcome()))
	}
	c.Steps = b.steps(conv)
	if t := conv.TLS; t != nil {
		c.TLS = b.tls(t, conv.Started)
	}
	for _, l := range conv.Transcript {
		c.Transcript = append(c.Transcript, Line{
			Offset:    fmt.Sprintf("%dms", l.Offset.Milliseconds()),
			Direction: b.text(string(l.Direction)).String(),
			Class:     directionClass(l.Direction),
			Text:      b.text(l.Text),
		})
	}
	return c
}

func directionClass(d conversation.Direction) string {
	switch d {
	case conversation.Client:
		return "c"
	case conversation.Server:
		return "s"
	case conversation.TLS:
		return "tls"
	}
	return "note"
}

func (b builder) diagnosis(d *knowledge.Diagnosis) *Diagnosis {
	out := &Diagnosis{
		Category: b.text(string(d.Category)),
		Summary:  b.text(d.Summary),
		Meaning:  b.text(d.Meaning),
		Fix:      b.text(d.Fix),
		Setting:  b.text(d.Setting),
		Source:   b.text(d.Source),
		IP:       b.text(d.IP),
	}
	if src := b.red.String(d.Source); linkable(src) {
		out.SourceURL = src
	}
	return out
}

// linkable reports whether s may become a link: an absolute http or https
// URL with a host and nothing a Markdown autolink cannot hold.
func linkable(s string) bool {
	if s == "" || strings.ContainsAny(s, " <>\"'`\\") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	return (u.Scheme == "https" || u.Scheme == "http") && visibleText(s).String() == s
}

func (b builder) steps(conv *conversation.Conversation) []Step {
	total := conv.Duration
	for _, s := range conv.Steps {
		total = max(total, s.Start+s.Duration)
	}
	pct := func(d time.Duration) float64 {
		if total <= 0 {
			return 0
		}
		return 100 * float64(d) / float64(total)
	}
	var out []Step
	for _, s := range conv.Steps {
		left := min(pct(s.Start), 99.5)
		// A step too short to see still gets a sliver of bar.
		width := min(max(pct(s.Duration), 0.5), 100-left)
		// The handshake is a step of its own, not a step inside TLS.
		afterTLS := s.AfterTLS && s.Step != conversation.StepTLS
		out = append(out, Step{
			Name:     strings.ToUpper(string(s.Step)),
			AfterTLS: afterTLS,
			Command:  b.text(s.Command),
			Outcome:  b.text(outcome(&s)),
			Negative: s.Failed(),
			Start:    fmt.Sprintf("%dms", s.Start.Milliseconds()),
			Duration: fmt.Sprintf("%dms", s.Duration.Milliseconds()),
			BarLeft:  fmt.Sprintf("%.2f", left),
			BarWidth: fmt.Sprintf("%.2f", width),
		})
	}
	return out
}

// outcome renders a step's reply or fault on one line. A positive EHLO
// reply shows only its greeting line: its extension lines are listed
// apart, and joined on one line they would crowd the timeline.
func outcome(s *conversation.StepRecord) string {
	if s.Step == conversation.StepEHLO && s.Fault == nil && s.Reply != nil && s.Reply.Positive() && len(s.Reply.Lines) > 1 {
		greeting := *s.Reply
		greeting.Lines = greeting.Lines[:1]
		return fmt.Sprintf("%s (+%d extension lines)", greeting.String(), len(s.Reply.Lines)-1)
	}
	return s.Outcome()
}

func (b builder) tls(t *conversation.TLSInfo, at time.Time) *TLS {
	out := &TLS{
		Version:     b.text(t.Version),
		CipherSuite: b.text(t.CipherSuite),
		ServerName:  b.text(t.ServerName),
		Verified:    t.Verified,
		VerifyError: b.text(t.VerifyError),
	}
	for _, c := range t.Chain {
		names := append(append([]string(nil), c.DNSNames...), c.IPAddresses...)
		cert := Certificate{
			Subject:   b.text(c.Subject),
			Issuer:    b.text(c.Issuer),
			Names:     b.texts(names),
			Serial:    b.text(c.SerialNumber),
			NotBefore: utc(c.NotBefore),
			NotAfter:  utc(c.NotAfter),
		}
		if !at.IsZero() {
			cert.DaysLeft = int(c.NotAfter.Sub(at).Hours() / 24)
		}
		cert.SHA256 = b.text(c.SHA256)
		out.Chain = append(out.Chain, cert)
	}
	return out
}

// utc renders t as "2026-12-05 06:00:00 UTC".
func utc(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// duration renders d as "40ms" below a second, else "1.23s".
func duration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// tally renders counts as "1 passed, 2 failed, 1 error, 1 skipped",
// leaving out the kinds that are zero except passed and failed.
func tally(c runner.Counts) string {
	s := fmt.Sprintf("%d passed, %d failed", c.Passed, c.Failed)
	if c.Errored == 1 {
		s += ", 1 error"
	} else if c.Errored > 1 {
		s += fmt.Sprintf(", %d errors", c.Errored)
	}
	if c.Skipped > 0 {
		s += fmt.Sprintf(", %d skipped", c.Skipped)
	}
	return s
}
