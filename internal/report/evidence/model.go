// Package evidence writes the evidence report of a run (SPEC section 1 and
// 4): one self-contained HTML page or Markdown document that a person can
// forward to an ISP, a copier vendor or a client. It says when and from
// where the run happened, the overall verdict and, for every check, the
// verdict, endpoint and resolved address, a timeline of the SMTP steps, the
// failed expectations, the diagnosis with its fix and source, the TLS
// session and certificate chain, and the full redacted transcript; suites
// with several endpoints get a capability matrix side by side. DNS checks
// show their question, resolver, response code and records with the SPF,
// DMARC and forward-confirmed reverse DNS outcomes; dnsbl checks, and smtp
// checks whose rejection named a blocklisted IP, show each zone's verdict
// with its decoded return code; every check that made lookups shows them
// in its transcript.
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
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
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
	// Resolvers are the distinct DNS servers the checks asked, in order of
	// first use.
	Resolvers []Text

	Verdict Verdict
	Counts  result.Counts
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
	// Interrupted says why the run ended before the suite's checks all
	// finished, and how many did not; empty when it did not.
	Interrupted Text
	Path        Text
	Started     string
	Duration    string
	Counts      result.Counts
	Tally       string
	// Matrix compares the endpoints side by side; nil unless the suite's
	// checks talked to more than one endpoint.
	Matrix *Matrix
	// Paths says which ways to send through Microsoft 365 work today for
	// this tenant from this machine, from the checks that prove a path;
	// nil when none does.
	Paths  *Paths
	Checks []*Check
}

// Check is one check's part of the report.
type Check struct {
	// Anchor is the HTML id and Markdown link target of the check.
	Anchor string
	Suite  Text
	Label  Text
	// Kind is the check's kind as the runner named it: "smtp", "dns" or
	// "dnsbl" ("" counts as smtp). KindTag is what headings show beside
	// the label for the kinds other than smtp: "DNS", "DNSBL".
	Kind    string
	KindTag string
	Verdict Verdict
	// Where is what the overview names: an smtp check's endpoint, a dns
	// check's question ("DNS MX contoso.com"), a dnsbl check's IP
	// ("DNSBL 192.0.2.1").
	Where Text
	// Endpoint is the endpoint's label, Target what it named
	// ("host:port"; a dns check's question, a dnsbl check's IP), Resolved
	// the address connected to, Local the local end, ClientIP what the
	// server echoed.
	Endpoint Text
	Target   Text
	Resolved Text
	Local    Text
	ClientIP Text
	TLSMode  Text
	// Resolver is the DNS server asked (an mx endpoint's resolution, a dns
	// or dnsbl check's lookups); empty when the check made no lookup.
	Resolver Text
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
	// DNS is what a dns check asked and found; nil for other kinds.
	DNS *DNSAnswer
	// DNSBL holds each zone's verdict: a dnsbl check's own, or, with
	// DNSBLProof set, those of the IP an smtp check's rejection named.
	DNSBL      []DNSBLResult
	DNSBLProof bool
	// ProofLookups are the lookups behind DNSBLProof's verdicts, which the
	// conversation's transcript does not hold.
	ProofLookups []Line
	// Device describes a device session (smtpdiag listen): the device,
	// its ClientHello offer, TLS, AUTH (never the secret), envelope and
	// messages; nil for other kinds.
	Device []DeviceFact
	// Paths, for a device session, says which ways to send through
	// Microsoft 365 the device can use after the Basic auth switch-off.
	Paths *Paths
	// Transcript is the conversation's transcript (for an mx endpoint
	// headed by the MX lookups), or the lookups of a check without one.
	Transcript []Line
}

// DeviceFact is one line of a device session's description.
type DeviceFact struct {
	Name  Text
	Value Text
}

// Paths is a decision on the ways to send through Microsoft 365.
type Paths struct {
	// Subject names whom a suite's decision is about (the mailbox, else
	// the suite); empty for a device's, which its check names.
	Subject Text
	Basis   Text
	Summary Text
	Rows    []PathRow
}

// PathRow is one path's verdict, its reasons, what it needs and its
// sources.
type PathRow struct {
	Name    Text
	Usable  string // yes, maybe, no (or unknown, for any other value read back)
	Class   string // CSS class: ok, warn, bad
	Reasons []Text
	Needs   []Text
	Sources []Source
}

// Source is a page a fact comes from, as a link when it may be one.
type Source struct {
	URL  string
	Text Text
}

// Failure is one failed expectation. Message names the expectation
// itself ("rcpt: expected ...").
type Failure struct {
	Message Text
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

// Line is one transcript line.
type Line struct {
	Offset string
	// Direction is C, S, TLS or *; Class the CSS class: c, s, tls, note.
	Direction string
	Class     string
	Text      Text
}

// Build assembles the view model of suites. Every string from the run
// passes through opts.Redactor and then through visibleText.
func Build(suites []*result.Suite, opts Options) *Report {
	return build(suites, opts, true)
}

// build assembles the view model; without details, each check holds only
// what the overview shows (verdict, label, where, duration, first
// failure) and no suite a matrix: Write then builds each suite's details
// as it renders it, so that the report of a large run is never held in
// memory whole.
func build(suites []*result.Suite, opts Options, details bool) *Report {
	b := builder{red: opts.Redactor, now: opts.Generated}
	rep := &Report{
		Title:    "smtpdiag evidence report",
		Version:  b.text(opts.Version),
		Hostname: b.text(opts.Hostname),
		Counts:   result.Tally(suites),
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
	locals, clients, resolvers := distinct{}, distinct{}, distinct{}
	for si, s := range suites {
		if !s.Started.IsZero() {
			if first.IsZero() || s.Started.Before(first) {
				first = s.Started
			}
			if end := s.Started.Add(s.Duration); end.After(last) {
				last = end
			}
		}
		rep.Suites = append(rep.Suites, b.suite(si, s, details))
		for _, c := range s.Checks {
			if conv := c.Conversation; conv != nil {
				if ap, err := netip.ParseAddrPort(conv.LocalAddr); err == nil {
					locals.add(b.red.String(ap.Addr().String()))
				}
				clients.add(b.red.String(conv.ClientIP))
			}
			resolvers.add(b.red.String(c.Resolver))
			for _, l := range c.Lookups {
				resolvers.add(b.red.String(l.Server))
			}
		}
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
	for _, r := range resolvers {
		rep.Resolvers = append(rep.Resolvers, visibleText(r))
	}
	return rep
}

// suite builds the si-th suite's part of the report; without details,
// see build.
func (b builder) suite(si int, s *result.Suite, details bool) *Suite {
	rs := &Suite{
		Anchor:      fmt.Sprintf("suite-%d", si+1),
		Name:        b.text(s.Name),
		Description: b.text(s.Description),
		Path:        b.text(s.Path),
		Duration:    duration(s.Duration),
		Counts:      s.Counts(),
	}
	if s.Interrupted != "" {
		rs.Interrupted = b.text(fmt.Sprintf("%s; %d of %d checks did not finish.", s.Interrupted, s.Unfinished(), len(s.Checks)))
	}
	if !s.Started.IsZero() {
		rs.Started = utc(s.Started)
	}
	rs.Tally = tally(rs.Counts)
	for ci, c := range s.Checks {
		var rc *Check
		if details {
			rc = b.check(c)
		} else {
			rc = b.overview(c)
		}
		rc.Anchor = fmt.Sprintf("check-%d-%d", si+1, ci+1)
		rc.Suite = rs.Name
		rs.Checks = append(rs.Checks, rc)
	}
	if details {
		rs.Matrix = b.matrix(s)
		if s.Paths != nil {
			rs.Paths = b.paths(s.Paths)
			rs.Paths.Subject = b.text(s.PathsSubject())
		}
	}
	return rs
}

// overview builds what the overview shows of a check.
func (b builder) overview(r *result.Check) *Check {
	return &Check{
		Label:        b.text(r.Label),
		Kind:         r.Kind,
		KindTag:      kindTags[r.Kind],
		Verdict:      verdictOf(r.Status),
		Where:        b.where(r),
		Duration:     duration(r.Duration),
		FirstFailure: b.text(r.FirstFailure()),
	}
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

type builder struct {
	red *redact.Redactor
	// now dates certificates' days left: the report's Generated time.
	now time.Time
}

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

var verdicts = map[result.Status]Verdict{
	result.Passed:  {"PASS", "✓", "pass"},
	result.Failed:  {"FAIL", "✗", "fail"},
	result.Errored: {"ERROR", "!", "error"},
	result.Skipped: {"SKIP", "-", "skip"},
}

func verdictOf(s result.Status) Verdict {
	if v, ok := verdicts[s]; ok {
		return v
	}
	return Verdict{Word: strings.ToUpper(string(s)), Mark: "?", Class: "error"}
}

// kindTags are the headings' tags of the check kinds other than smtp.
var kindTags = map[string]string{"dns": "DNS", "dnsbl": "DNSBL", "device": "DEVICE"}

func (b builder) check(r *result.Check) *Check {
	c := &Check{
		Label:          b.text(r.Label),
		Kind:           r.Kind,
		KindTag:        kindTags[r.Kind],
		Verdict:        verdictOf(r.Status),
		Where:          b.where(r),
		Endpoint:       b.text(r.Endpoint),
		Target:         b.text(r.Target),
		Resolver:       b.text(r.Resolver),
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
		c.Failures = append(c.Failures, Failure{Message: b.text(f.Message)})
	}
	if d := r.Diagnosis; d != nil {
		c.Diagnosis = b.diagnosis(d)
	}
	if r.DNS != nil {
		c.DNS = b.dnsAnswer(r.DNS)
	}
	c.DNSBL = b.dnsbl(r.Blocklists)
	c.Transcript = b.lines(r.TranscriptLines())
	if r.Device != nil {
		for _, f := range r.Device.Facts() {
			c.Device = append(c.Device, DeviceFact{Name: b.text(f.Name), Value: b.text(f.Value)})
		}
	}
	if r.Paths != nil {
		c.Paths = b.paths(r.Paths)
	}
	conv := r.Conversation
	if conv == nil {
		return c
	}
	// The runner gives an smtp check blocklist verdicts only as the proof
	// of a rejection; their lookups come after the conversation, outside
	// its transcript.
	if len(c.DNSBL) > 0 {
		c.DNSBLProof = true
		c.ProofLookups = b.proofLookups(r)
	}
	c.Conversation = true
	c.Resolved = b.text(conv.RemoteAddr)
	c.Local = b.text(conv.LocalAddr)
	c.ClientIP = b.text(conv.ClientIP)
	c.TLSMode = b.text(conv.TLSMode)
	c.EHLOBeforeTLS = b.texts(conv.EHLOBeforeTLS.Lines())
	c.EHLOAfterTLS = b.texts(conv.EHLOAfterTLS.Lines())
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
	return c
}

// where names what a check talked to or asked, for the overview.
func (b builder) where(r *result.Check) Text {
	switch r.Kind {
	case "dns", "dnsbl":
		return b.text(kindTags[r.Kind] + " " + r.Target)
	case "device":
		return b.text("listening on " + r.Target)
	}
	return b.text(r.Endpoint)
}

func (b builder) lines(transcript []result.TranscriptLine) []Line {
	var out []Line
	for _, l := range transcript {
		out = append(out, Line{
			Offset:    fmt.Sprintf("%dms", l.Offset.Milliseconds()),
			Direction: b.text(string(l.Direction)).String(),
			Class:     directionClass(l.Direction),
			Text:      b.text(l.Text),
		})
	}
	return out
}

func directionClass(d result.Direction) string {
	switch d {
	case result.Client:
		return "c"
	case result.Server:
		return "s"
	case result.TLSEvent:
		return "tls"
	}
	return "note"
}

func (b builder) diagnosis(d *result.Diagnosis) *Diagnosis {
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

func (b builder) paths(d *result.PathDecision) *Paths {
	out := &Paths{Basis: b.text(d.Basis), Summary: b.text(d.Summary)}
	for _, p := range d.Paths {
		row := PathRow{Name: b.text(p.Name), Usable: "unknown", Class: "warn"}
		switch p.Usable {
		case "yes":
			row.Usable, row.Class = p.Usable, "ok"
		case "maybe":
			row.Usable, row.Class = p.Usable, "warn"
		case "no":
			row.Usable, row.Class = p.Usable, "bad"
		}
		for _, r := range p.Reasons {
			row.Reasons = append(row.Reasons, b.text(r))
		}
		for _, n := range p.Needs {
			row.Needs = append(row.Needs, b.text(n))
		}
		for _, src := range p.Sources {
			s := Source{Text: b.text(src)}
			if u := b.red.String(src); linkable(u) {
				s.URL = u
			}
			row.Sources = append(row.Sources, s)
		}
		out.Rows = append(out.Rows, row)
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
func tally(c result.Counts) string {
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
