package evidence

import (
	"fmt"
	"io"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// WriteMarkdown renders rep as a Markdown document to w, for pasting into
// a ticket: GitHub Flavored Markdown tables, run text backslash-escaped
// (see markdown), transcripts in fenced code blocks.
func (rep *Report) WriteMarkdown(w io.Writer) error {
	return rep.writeMarkdown(w, func(i int) *Suite { return rep.Suites[i] })
}

// writeMarkdown renders the document with details(i) in place of
// rep.Suites[i] for each suite's section.
func (rep *Report) writeMarkdown(w io.Writer, details func(int) *Suite) error {
	var m mdWriter
	m.header(rep)
	for i := range rep.Suites {
		m.suite(details(i))
		// Suite by suite: the document of a large run is never held in
		// memory whole.
		if m.Len() >= 64<<10 {
			if _, err := io.WriteString(w, m.String()); err != nil {
				return err
			}
			m.Reset()
		}
	}
	m.line("---")
	m.line("")
	foot := "Written by smtpdiag"
	if !rep.Version.Empty() {
		foot += " " + markdown(rep.Version)
	}
	m.line(foot + ". Passwords, tokens and sensitive variables are masked as \\*\\*\\*\\*, also in base64 form. " +
		"Characters a server sent that cannot be shown as they are appear as escapes such as \\\\x1b. " +
		"Times are UTC; step and transcript times count from the start of each conversation, or of a check's first DNS lookup.")
	_, err := io.WriteString(w, m.String())
	return err
}

type mdWriter struct{ strings.Builder }

func (m *mdWriter) line(s string) {
	m.WriteString(s)
	m.WriteByte('\n')
}

func (m *mdWriter) linef(format string, args ...any) {
	fmt.Fprintf(m, format, args...)
	m.WriteByte('\n')
}

// item writes a list item "- **name:** value" when value is not empty.
func (m *mdWriter) item(name, value string) {
	if value != "" {
		m.linef("- **%s:** %s", name, value)
	}
}

func verdictMD(v Verdict) string { return "**" + v.Mark + " " + v.Word + "**" }

func joinMD(ts []Text, sep string) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, markdown(t))
	}
	return strings.Join(parts, sep)
}

// row writes a table row; cells are already escaped, so "|" inside them
// is "\|", which GitHub Flavored Markdown reads as part of the cell.
func (m *mdWriter) row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = " "
		}
	}
	m.line("| " + strings.Join(cells, " | ") + " |")
}

func (m *mdWriter) header(rep *Report) {
	m.line("# " + rep.Title)
	m.line("")
	m.linef("%s: %s", verdictMD(rep.Verdict), rep.Tally)
	m.line("")
	if rep.Started != "" {
		m.item("Run", fmt.Sprintf("%s to %s (%s)", rep.Started, rep.Ended, rep.Duration))
	}
	m.item("Report written", rep.Generated)
	m.item("Host", orMD(rep.Hostname, "not known"))
	m.item("Local address", orList(rep.LocalAddrs, "not recorded"))
	m.item("Client IP seen by the servers", orList(rep.ClientIPs, "no server echoed one"))
	if len(rep.Resolvers) > 0 {
		m.item("DNS resolver", joinMD(rep.Resolvers, ", "))
	}
	var suites []string
	for _, s := range rep.Suites {
		suites = append(suites, markdown(s.Name))
	}
	m.item("Suites", strings.Join(suites, "; "))
	if !rep.Version.Empty() {
		m.item("smtpdiag", markdown(rep.Version))
	}
	m.line("")
	m.line("| Verdict | Suite | Check | Endpoint or query | Took | First failed expectation |")
	m.line("|---|---|---|---|--:|---|")
	for _, s := range rep.Suites {
		for _, c := range s.Checks {
			m.row(verdictMD(c.Verdict), markdown(c.Suite), markdown(c.Label),
				markdown(c.Where), c.Duration, markdown(c.FirstFailure))
		}
	}
	m.line("")
}

func orMD(t Text, otherwise string) string {
	if t.Empty() {
		return "_" + otherwise + "_"
	}
	return markdown(t)
}

func orList(ts []Text, otherwise string) string {
	if len(ts) == 0 {
		return "_" + otherwise + "_"
	}
	return joinMD(ts, ", ")
}

func (m *mdWriter) suite(s *Suite) {
	m.line("## Suite: " + markdown(s.Name))
	m.line("")
	if !s.Description.Empty() {
		m.line(markdown(s.Description))
		m.line("")
	}
	if !s.Interrupted.Empty() {
		m.line("**Incomplete:** " + markdown(s.Interrupted))
		m.line("")
	}
	meta := "File " + markdown(s.Path)
	if s.Started != "" {
		meta += ", started " + s.Started
	}
	m.line(meta + ", " + s.Duration + ": " + s.Tally + ".")
	m.line("")
	if mx := s.Matrix; mx != nil {
		m.line("### Capabilities by endpoint")
		m.line("")
		head := []string{"Capability"}
		rule := "|---"
		for _, c := range mx.Columns {
			head = append(head, markdown(c.Endpoint)+" ("+markdown(c.Target)+")")
			rule += "|---"
		}
		m.row(head...)
		m.line(rule + "|")
		for _, r := range mx.Rows {
			cells := []string{r.Name}
			for _, c := range r.Cells {
				cells = append(cells, markdown(c))
			}
			m.row(cells...)
		}
		m.line("")
	}
	if s.Paths != nil {
		m.paths(s.Paths)
	}
	for _, c := range s.Checks {
		m.check(c)
	}
}

func (m *mdWriter) check(c *Check) {
	m.checkHeader(c)
	m.failures(c.Failures)
	if c.Diagnosis != nil {
		m.diagnosis(c.Diagnosis)
	}
	if !c.Stop.Empty() {
		m.line("The conversation " + markdown(c.Stop) + ".")
		m.line("")
	}
	if len(c.Device) > 0 {
		m.line("**Device session**")
		m.line("")
		for _, f := range c.Device {
			m.item(markdown(f.Name), markdown(f.Value))
		}
		m.line("")
	}
	if c.Paths != nil {
		m.paths(c.Paths)
	}
	if c.DNS != nil {
		m.dnsAnswer(c.DNS)
	}
	m.steps(c)
	m.ehlo(c)
	if c.TLS != nil {
		m.tls(c.TLS)
	}
	m.blocklists(c)
	if len(c.Transcript) > 0 {
		m.line("**Transcript**")
		m.line("")
		m.transcript(c.Transcript)
	}
}

// checkHeader writes the check's heading and where and when it ran.
func (m *mdWriter) checkHeader(c *Check) {
	heading := "### " + c.Verdict.Mark + " " + c.Verdict.Word + ": "
	if c.KindTag != "" {
		heading += c.KindTag + " "
	}
	m.line(heading + markdown(c.Label))
	m.line("")
	switch c.Kind {
	case "dns":
		m.item("Query", markdown(c.Target))
	case "dnsbl":
		m.item("IP looked up", orMD(c.Target, "none"))
	case "device":
		m.item("Listened on", markdown(c.Target))
	default:
		endpoint := markdown(c.Endpoint)
		if !c.Target.Empty() {
			endpoint += ", " + markdown(c.Target)
		}
		if !c.TLSMode.Empty() {
			endpoint += ", TLS mode " + markdown(c.TLSMode)
		}
		m.item("Endpoint", endpoint)
	}
	m.item("DNS resolver", markdown(c.Resolver))
	if c.Conversation {
		m.item("Resolved address", orMD(c.Resolved, "not connected"))
		m.item("Local address", orMD(c.Local, "not recorded"))
		m.item("Client IP seen by the server", orMD(c.ClientIP, "not echoed"))
	}
	when := "took " + c.Duration
	if c.Started != "" {
		when = c.Started + ", " + when
	}
	if c.Attempts > 1 {
		when += fmt.Sprintf(" (%d attempts)", c.Attempts)
	}
	if c.DataSuppressed {
		when += "; DATA not sent (--no-send)"
	}
	m.item("When", when)
	if c.Verdict.Class == "skip" {
		// Why it did not run: enabled = false, an interruption.
		m.item("Not run", markdown(c.Error))
	} else {
		m.item("Runner error", markdown(c.Error))
	}
	m.line("")
}

// failures lists the failed expectations.
func (m *mdWriter) failures(failures []Failure) {
	if len(failures) == 0 {
		return
	}
	m.line("**Failed expectations**")
	m.line("")
	for _, f := range failures {
		m.line("- " + markdown(f.Message))
	}
	m.line("")
}

// diagnosis writes the knowledge base's explanation.
func (m *mdWriter) diagnosis(d *Diagnosis) {
	m.linef("**Diagnosis** (%s): %s", markdown(d.Category), markdown(d.Summary))
	m.line("")
	m.item("Meaning", markdown(d.Meaning))
	m.item("Fix", markdown(d.Fix))
	m.item("Setting", markdown(d.Setting))
	m.item("IP named in the reply", markdown(d.IP))
	if d.SourceURL != "" {
		// An autolink: the URL is shown as it is and cannot carry
		// Markdown, since linkable admits no space, < or >.
		m.item("Source", "<"+d.SourceURL+">")
	} else {
		m.item("Source", markdown(d.Source))
	}
	m.line("")
}

// steps writes the table of the conversation's steps.
func (m *mdWriter) steps(c *Check) {
	if len(c.Steps) == 0 {
		return
	}
	m.line("**Steps**")
	m.line("")
	m.line("| Step | Sent | Reply | At | Took |")
	m.line("|---|---|---|--:|--:|")
	for _, s := range c.Steps {
		name := s.Name
		if s.AfterTLS {
			name += " (TLS)"
		}
		outcome := markdown(s.Outcome)
		if s.Negative && outcome != "" {
			outcome = "**" + outcome + "**"
		}
		m.row(name, markdown(s.Command), outcome, s.Start, s.Duration)
	}
	m.line("")
}

// ehlo writes the extensions of the EHLO replies.
func (m *mdWriter) ehlo(c *Check) {
	if len(c.EHLOBeforeTLS) == 0 && len(c.EHLOAfterTLS) == 0 {
		return
	}
	heading := "**EHLO extensions**"
	if c.UsedHELO {
		heading += " (EHLO was rejected; HELO used)"
	}
	m.line(heading)
	m.line("")
	m.item("Before TLS", orList(c.EHLOBeforeTLS, "none"))
	m.item("After TLS", orList(c.EHLOAfterTLS, "none"))
	m.line("")
}

// tls writes the TLS session and the certificate chain.
func (m *mdWriter) tls(t *TLS) {
	m.line("**TLS**")
	m.line("")
	m.item("Version", "TLS "+markdown(t.Version)+", "+markdown(t.CipherSuite))
	m.item("Server name", markdown(t.ServerName))
	verified := "verified"
	if !t.Verified {
		verified = "**not verified**"
		if !t.VerifyError.Empty() {
			verified += ": " + markdown(t.VerifyError)
		}
	}
	m.item("Certificate", verified)
	for i, cert := range t.Chain {
		which := "Leaf"
		if i > 0 {
			which = fmt.Sprintf("Chain #%d", i)
		}
		left := fmt.Sprintf("%d days left", cert.DaysLeft)
		if cert.DaysLeft < 0 {
			left = "**expired**"
		}
		m.linef("- **%s:** %s", which, markdown(cert.Subject))
		m.linef("  - issued by %s", markdown(cert.Issuer))
		if len(cert.Names) > 0 {
			m.linef("  - names %s", joinMD(cert.Names, ", "))
		}
		m.linef("  - valid %s to %s (%s), serial %s", cert.NotBefore, cert.NotAfter, left, markdown(cert.Serial))
		m.linef("  - SHA-256 %s", markdown(cert.SHA256))
	}
	m.line("")
}

// blocklists writes the blocklist verdicts and the lookups behind them.
func (m *mdWriter) blocklists(c *Check) {
	if len(c.DNSBL) == 0 {
		return
	}
	heading := "**DNS blocklists**"
	if c.DNSBLProof {
		heading += " (the IP the rejection named)"
	}
	m.line(heading)
	m.line("")
	m.line("| Zone | IP | Verdict | Return code | Meaning | Zone's reason |")
	m.line("|---|---|---|---|---|---|")
	for _, d := range c.DNSBL {
		verdict := markdown(d.Verdict)
		if d.Class != "ok" && verdict != "" {
			verdict = "**" + verdict + "**"
		}
		meaning := markdown(d.Meaning)
		if !d.Delist.Empty() {
			delist := markdown(d.Delist)
			if d.DelistURL != "" {
				delist = "<" + d.DelistURL + ">"
			}
			if meaning != "" {
				meaning += "; "
			}
			meaning += "removal: " + delist
		}
		m.row(markdown(d.Zone), markdown(d.IP), verdict, markdown(d.Codes), meaning, markdown(d.Reason))
	}
	m.line("")
	if len(c.ProofLookups) > 0 {
		m.line("The lookups behind these verdicts:")
		m.line("")
		m.transcript(c.ProofLookups)
	}
}

// transcript writes lines as a fenced code block.
func (m *mdWriter) transcript(transcript []Line) {
	lines := make([]string, 0, len(transcript))
	for _, l := range transcript {
		lines = append(lines, fmt.Sprintf("%7s %s: %s", l.Offset, l.Direction, l.Text.String()))
	}
	f := fence(lines)
	m.line(f + "text")
	for _, l := range lines {
		m.line(l)
	}
	m.line(f)
	m.line("")
}

func (m *mdWriter) dnsAnswer(a *DNSAnswer) {
	m.line("**DNS answer**")
	m.line("")
	response := "_no answer_"
	if !a.Rcode.Empty() {
		response = markdown(a.Rcode)
		if a.Negative {
			response = "**" + response + "**"
		}
	}
	if !a.Error.Empty() {
		response += ": " + markdown(a.Error)
	}
	m.item("Response", response)
	if a.Error.Empty() && len(a.Records) == 0 {
		m.item("Records", "_none of the type asked_")
	}
	m.line("")
	if a.Error.Empty() && len(a.Records) > 0 {
		// A table, not a list: a record would start a list item's
		// content, where "- ", "1. " or "---" become Markdown blocks;
		// table cells hold only inline text.
		m.line("| Record |")
		m.line("|---|")
		for _, r := range a.Records {
			m.row(markdown(r))
		}
		m.line("")
	}
	if spf := a.SPF; spf != nil {
		m.line("**SPF** (RFC 7208)")
		m.line("")
		m.item("Record", orMD(spf.Record, "none found"))
		if len(spf.Includes) > 0 {
			m.item("Includes", joinMD(spf.Includes, ", "))
		}
		m.item("Error", markdown(spf.Error))
		m.line("")
		if len(spf.Verdicts) > 0 {
			m.line("| IP | Result | Matched | Reason |")
			m.line("|---|---|---|---|")
			for _, v := range spf.Verdicts {
				result := markdown(v.Result)
				if !v.Pass && result != "" {
					result = "**" + result + "**"
				}
				m.row(markdown(v.IP), result, markdown(v.Mechanism), markdown(v.Reason))
			}
			m.line("")
		}
	}
	if d := a.DMARC; d != nil {
		m.line("**DMARC** (RFC 7489)")
		m.line("")
		m.item("Looked up at", markdown(d.Name))
		m.item("Record", orMD(d.Record, "none found"))
		if !d.Policy.Empty() {
			m.item("Policy", "**p="+markdown(d.Policy)+"**")
		}
		m.item("Error", markdown(d.Error))
		m.line("")
	}
	if f := a.FCrDNS; f != nil {
		m.line("**Forward-confirmed reverse DNS**")
		m.line("")
		m.item("PTR names", orList(f.PTRNames, "none"))
		confirmed := "**none**"
		if len(f.Confirmed) > 0 {
			confirmed = joinMD(f.Confirmed, ", ")
		}
		m.item("Resolving back to the IP", confirmed)
		m.item("Error", markdown(f.Error))
		m.line("")
	}
}

// paths writes which ways to send through Microsoft 365 are open, one
// entry per path with its reasons, needs and sources: a device's, or a
// suite's about its subject.
func (m *mdWriter) paths(p *Paths) {
	if p.Subject.Empty() {
		m.line("**Ways to send after the Basic auth switch-off**")
	} else {
		m.line("**" + result.PathsTitle(markdown(p.Subject)) + "**")
	}
	m.line("")
	m.line(markdown(p.Summary))
	m.line("")
	for _, r := range p.Rows {
		m.linef("- **%s: %s**", r.Usable, markdown(r.Name))
		for _, reason := range r.Reasons {
			m.line("  - " + markdown(reason))
		}
		for _, need := range r.Needs {
			m.line("  - needs: " + markdown(need))
		}
		var srcs []string
		for _, s := range r.Sources {
			if s.URL != "" {
				srcs = append(srcs, "<"+s.URL+">")
			} else {
				srcs = append(srcs, markdown(s.Text))
			}
		}
		if len(srcs) > 0 {
			m.line("  - sources: " + strings.Join(srcs, ", "))
		}
	}
	m.line("")
}
