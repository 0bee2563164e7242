// Package github writes what GitHub Actions shows of a run: an error
// annotation on the suite file at each failed check, and a Markdown job
// summary.
//
// Annotations are workflow commands on standard output
// (https://docs.github.com/actions/reference/workflow-commands-for-github-actions):
//
//	::error file=suites/contoso.hcl,line=12,title=contoso › device submits::rcpt: expected "250", got 550 5.7.606 ...
//
// escaped the way GitHub's own toolkit escapes them (@actions/core,
// command.ts): in the message %, CR and LF become %25, %0D and %0A; in
// the properties also : and , become %3A and %2C. Every string is masked
// and made safe by the one text policy (internal/safetext) first, so no
// text a server sent can end a command early or start one of its own.
package github

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/safetext"
)

// Options tune both outputs.
type Options struct {
	// Redactor masks secrets in every string written; nil masks nothing.
	Redactor *redact.Redactor
	// Workspace is the repository's checkout (GITHUB_WORKSPACE): an
	// absolute suite path inside it is written relative to it, as GitHub
	// wants annotation paths. "" leaves paths as they are.
	Workspace string
	// MaxRows bounds the summary's table of failed checks; 0 means
	// DefaultMaxRows.
	MaxRows int
}

// DefaultMaxRows is how many failed checks the summary's table lists
// (GitHub takes at most 1 MiB of summary per step).
const DefaultMaxRows = 200

// failed reports whether a check counts as failed for CI: a failed
// expectation or a runner error.
func failed(c *result.Check) bool {
	return c.Status == result.Failed || c.Status == result.Errored
}

// text masks s and makes it one safe line.
func (o Options) text(s string) string { return safetext.Line(o.Redactor.String(s)) }

// path is the suite file as annotations name it: relative to the
// workspace when it lies inside it, with forward slashes.
func (o Options) path(p string) string {
	if o.Workspace != "" && filepath.IsAbs(p) {
		if rel, err := filepath.Rel(o.Workspace, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			p = rel
		}
	}
	return filepath.ToSlash(p)
}

// WriteAnnotations writes one ::error workflow command per failed or
// errored check, in suite order, at the check's line in its suite file.
func WriteAnnotations(w io.Writer, suites []*result.Suite, opts Options) error {
	var b strings.Builder
	for _, s := range suites {
		for _, c := range s.Checks {
			if !failed(c) {
				continue
			}
			props := "file=" + EscapeProperty(opts.path(opts.text(s.Path)))
			if c.Line > 0 {
				props += fmt.Sprintf(",line=%d", c.Line)
			}
			props += ",title=" + EscapeProperty(opts.text(s.Name)+" › "+opts.text(c.Label))
			b.WriteString("::error " + props + "::" + EscapeData(message(c, opts)) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// message is an annotation's text: every failed expectation (or the
// runner's error), then the diagnosis and its fix, one a line.
func message(c *result.Check, opts Options) string {
	var lines []string
	if c.Status == result.Errored && c.Error != "" {
		lines = append(lines, "error: "+opts.text(c.Error))
	}
	for _, f := range c.Failures {
		lines = append(lines, opts.text(f.Message))
	}
	if len(lines) == 0 {
		lines = append(lines, "failed")
	}
	if d := c.Diagnosis; d != nil {
		if d.Outcome != "" && strings.Contains(strings.Join(lines, "\n"), opts.text(d.Outcome)) {
			// The failures above already quote the reply or fault.
			lines = append(lines, "diagnosis: "+opts.text(string(d.Category)))
		} else {
			lines = append(lines, "diagnosis ("+opts.text(string(d.Category))+"): "+opts.text(d.Summary))
		}
		if d.Fix != "" {
			lines = append(lines, "fix: "+opts.text(d.Fix))
		}
	}
	return strings.Join(lines, "\n")
}

// EscapeData escapes a workflow command's message: %, CR and LF.
func EscapeData(s string) string {
	return dataEscaper.Replace(s)
}

// EscapeProperty escapes a workflow command's property value: %, CR, LF,
// colon and comma.
func EscapeProperty(s string) string {
	return propertyEscaper.Replace(s)
}

var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// WriteSummary writes the Markdown job summary (for $GITHUB_STEP_SUMMARY):
// a heading with the closing line, the counts, the suites an interruption
// cut short, a table of the failed checks with their place, first
// failure and diagnosis category, and each decision on the ways to send
// after the Basic auth switch-off (a suite's, a device's) as a table.
func WriteSummary(w io.Writer, suites []*result.Suite, opts Options) error {
	c := result.Tally(suites)
	var b strings.Builder
	mark := "✅"
	if c.Failed+c.Errored > 0 {
		mark = "❌"
	}
	fmt.Fprintf(&b, "### %s smtpdiag: %d passed, %d failed", mark, c.Passed, c.Failed+c.Errored)
	if c.Skipped > 0 {
		fmt.Fprintf(&b, ", %d skipped", c.Skipped)
	}
	b.WriteString("\n\n| suites | checks | passed | failed | errors | skipped |\n|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %d |\n", len(suites), c.Total(), c.Passed, c.Failed, c.Errored, c.Skipped)
	for _, s := range suites {
		if s.Interrupted != "" {
			fmt.Fprintf(&b, "\n**%s**: %s; %d of %d checks did not finish.\n", safetext.Markdown(opts.text(s.Name)), safetext.Markdown(opts.text(s.Interrupted)), s.Unfinished(), len(s.Checks))
		}
	}
	if c.Failed+c.Errored > 0 {
		limit := opts.MaxRows
		if limit <= 0 {
			limit = DefaultMaxRows
		}
		b.WriteString("\n| | check | suite | file | first failure | diagnosis |\n|---|---|---|---|---|---|\n")
		rows := 0
		for _, s := range suites {
			for _, r := range s.Checks {
				if !failed(r) {
					continue
				}
				rows++
				if rows > limit {
					continue
				}
				where := opts.path(opts.text(s.Path))
				if r.Line > 0 {
					where += fmt.Sprintf(":%d", r.Line)
				}
				mark, category := "✗", "—"
				if r.Status == result.Errored {
					mark, category = "!", "runner error"
				}
				if r.Diagnosis != nil {
					category = safetext.Markdown(opts.text(string(r.Diagnosis.Category)))
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", mark, safetext.Markdown(opts.text(r.Label)), safetext.Markdown(opts.text(s.Name)),
					safetext.Markdown(where), safetext.Markdown(cut(opts.text(r.FirstFailure()), 300)), category)
			}
		}
		if rows > limit {
			fmt.Fprintf(&b, "\n%d more failed checks are not listed here; the JUnit and evidence reports hold them all.\n", rows-limit)
		}
	}
	for _, s := range suites {
		for _, r := range s.Checks {
			if r.Paths != nil {
				opts.paths(&b, r.Label, r.Paths)
			}
		}
		if s.Paths != nil {
			opts.paths(&b, s.PathsSubject(), s.Paths)
		}
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// paths writes a decision on the ways to send about who: its heading,
// its summary, and a row per path with the verdict and deciding reason.
//
//	#### Ways scanner@contoso.com can send after the Basic auth switch-off
//
//	this run (this tenant, this machine): a connector is out; ...
//
//	| | path | why |
//	|---|---|---|
//	| ❔ maybe | Basic auth | Its check passed, so Basic auth works today ... |
func (o Options) paths(b *strings.Builder, who string, d *result.PathDecision) {
	fmt.Fprintf(b, "\n#### %s\n\n%s\n\n| | path | why |\n|---|---|---|\n",
		result.PathsTitle(safetext.Markdown(o.text(who))), safetext.Markdown(o.text(d.Summary)))
	for _, p := range d.Paths {
		mark := "❔"
		switch p.Usable {
		case "yes":
			mark = "✅"
		case "no":
			mark = "❌"
		}
		reason := ""
		if len(p.Reasons) > 0 {
			reason = p.Reasons[0]
		}
		fmt.Fprintf(b, "| %s %s | %s | %s |\n", mark, safetext.Markdown(o.text(p.Usable)), safetext.Markdown(o.text(p.Column())), safetext.Markdown(cut(o.text(reason), 300)))
	}
}

// cut shortens s to at most n runes, ending in "…" when cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
