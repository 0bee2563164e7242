package evidence

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown renders rep as a Markdown document to w, for pasting into
// a ticket: GitHub Flavored Markdown tables, run text backslash-escaped
// (see markdown), transcripts in fenced code blocks.
func (rep *Report) WriteMarkdown(w io.Writer) error {
	var m mdWriter
	m.header(rep)
	for _, s := range rep.Suites {
		m.suite(s)
	}
	m.line("---")
	m.line("")
	foot := "Written by smtpdiag"
	if !rep.Version.Empty() {
		foot += " " + markdown(rep.Version)
	}
	m.line(foot + ". Passwords, tokens and sensitive variables are masked as \\*\\*\\*\\*, also in base64 form. " +
		"Characters a server sent that cannot be shown as they are appear as escapes such as \\\\x1b. " +
		"Times are UTC; step times count from the start of each conversation.")
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
	var suites []string
	for _, s := range rep.Suites {
		suites = append(suites, markdown(s.Name))
	}
	m.item("Suites", strings.Join(suites, "; "))
	if !rep.Version.Empty() {
		m.item("smtpdiag", markdown(rep.Version))
	}
	m.line("")
	m.line("| Verdict | Suite | Check | Endpoint | Took | First failed expectation |")
	m.line("|---|---|---|---|--:|---|")
	for _, s := range rep.Suites {
		for _, c := range s.Checks {
			m.row(verdictMD(c.Verdict), markdown(c.Suite), markdown(c.Label),
				markdown(c.Endpoint), c.Duration, markdown(c.FirstFailure))
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
	for _, c := range s.Checks {
		m.check(c)
	}
}

func (m *mdWriter) check(c *Check) {
	m.line("### " + c.Verdict.Mark + " " + c.Verdict.Word + ": " + markdown(c.Label))
	m.line("")
	endpoint := markdown(c.Endpoint)
	if !c.Target.Empty() {
		endpoint += ", " + markdown(c.Target)
	}
	if !c.TLSMode.Empty() {
		endpoint += ", TLS mode " + markdown(c.TLSMode)
	}
	m.item("Endpoint", endpoint)
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
	m.item("Runner error", markdown(c.Error))
	m.line("")
	if len(c.Failures) > 0 {
		m.line("**Failed expectations**")
		m.line("")
		for _, f := range c.Failures {
			m.line("- " + markdown(f.Message))
		}
		m.line("")
	}
	if d := c.Diagnosis; d != nil {
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
	if !c.Stop.Empty() {
		m.line("The conversation " + markdown(c.Stop) + ".")
		m.line("")
	}
	if len(c.Steps) > 0 {
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
	if len(c.EHLOBeforeTLS) > 0 || len(c.EHLOAfterTLS) > 0 {
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
	if t := c.TLS; t != nil {
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
	if len(c.DNSBL) > 0 {
		m.line("**DNS block lists**")
		m.line("")
		m.line("| Zone | IP | Listed | Answer | Reason |")
		m.line("|---|---|---|---|---|")
		for _, d := range c.DNSBL {
			listed := "not listed"
			if d.Listed {
				listed = "**listed**"
			}
			m.row(markdown(d.Zone), markdown(d.IP), listed, markdown(d.Answer), markdown(d.Reason))
		}
		m.line("")
	}
	if len(c.Transcript) > 0 {
		m.line("**Transcript**")
		m.line("")
		lines := make([]string, 0, len(c.Transcript))
		for _, l := range c.Transcript {
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
}
