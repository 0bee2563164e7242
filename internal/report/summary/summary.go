// Package summary writes the live human summary of a run (SPEC section 5):
// one line per check as it completes, then every failure with its failed
// expectations, diagnosis and transcript, then a closing count line that CI
// log parsers can read.
//
// Every string passes through the Redactor, then through a terminal
// sanitizer: server-supplied text (banners, reply lines, fault bytes) can
// neither move the cursor, change colours nor reorder text on screen.
package summary

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/safetext"
)

// Options tune the summary.
type Options struct {
	// Color paints verdicts (green PASS, red FAIL and ERROR, yellow SKIP)
	// and dims transcripts with ANSI escape sequences. The closing count
	// line is never painted.
	Color bool
	// Verbose prints the transcript of every check that is not a failure
	// right under its check line, as the check completes. Failed and
	// errored checks always show theirs, once, in Finish.
	Verbose bool
	// Redactor masks secrets in every string written; nil masks nothing.
	Redactor *redact.Redactor
	// Width, when > 0, is the terminal's width in columns: the failed
	// expectation on a check line is cut (ending in "…") so that the line
	// fits, keeping at least 20 columns of it; the rest of the line is
	// never cut. Finish always prints expectations whole. 0 never cuts, as
	// logs want.
	Width int
}

// Writer prints the summary. Its methods may be called from several
// goroutines; each event's output is written with a single Write.
type Writer struct {
	mu   sync.Mutex
	out  io.Writer
	opts Options
	err  error
}

// New returns a Writer printing to w.
func New(w io.Writer, opts Options) *Writer {
	return &Writer{out: w, opts: opts}
}

// Err returns the first error writing to the underlying writer, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Handle prints a check's line when its CheckFinished event arrives; other
// events print nothing, since every check line names its suite.
func (w *Writer) Handle(ev result.Event) {
	if ev.Kind != result.CheckFinished || ev.Check == nil || ev.Suite == nil {
		return
	}
	var b strings.Builder
	w.checkLine(&b, ev.Suite, ev.Check)
	if ev.Check.Device != nil && !needsDetail(ev.Check) {
		// What a device offered is the point of testing it, pass or fail.
		w.deviceFacts(&b, ev.Check, "    ")
	}
	if w.opts.Verbose && !needsDetail(ev.Check) {
		w.transcript(&b, ev.Check.TranscriptLines(), "    ")
	}
	w.write(b.String())
}

// Finish prints the details of every failed and errored check, in suite
// order, then the decisions on the ways to send after the Basic auth
// switch-off (of each device check, and of each suite whose checks prove
// paths, named by the mailbox they sign in or send as, else by the
// suite's name), then the closing line.
func (w *Writer) Finish(suites []*result.Suite) {
	var b strings.Builder
	for _, s := range suites {
		for _, r := range s.Checks {
			if needsDetail(r) {
				b.WriteString("\n")
				w.detail(&b, s, r)
			}
		}
	}
	for _, s := range suites {
		for _, r := range s.Checks {
			if r.Paths != nil {
				b.WriteString("\n")
				w.paths(&b, result.PathsTitle(w.text(r.Label)), r.Paths)
			}
		}
		if d := s.Paths; d != nil {
			b.WriteString("\n")
			w.paths(&b, result.PathsTitle(w.text(s.PathsSubject())), d)
		}
	}
	b.WriteString("\n")
	for _, s := range suites {
		if s.Interrupted != "" {
			fmt.Fprintf(&b, "%s: %s; %s did not finish\n", w.text(s.Name), w.text(s.Interrupted), plural(s.Unfinished(), "check"))
		}
	}
	b.WriteString(ClosingLine(result.Tally(suites)))
	b.WriteString("\n")
	w.write(b.String())
}

// onceEach drops the "(reply or fault)" a "not reached: stopped at ..."
// message repeats when an earlier line of the block already shows it, so
// that a failure block quotes each reply once.
func onceEach(msg string, shown []string) string {
	i := strings.Index(msg, "not reached: stopped at ")
	if i < 0 || !strings.HasSuffix(msg, ")") {
		return msg
	}
	open := strings.Index(msg[i:], " (")
	if open < 0 {
		return msg
	}
	detail := msg[i+open+2 : len(msg)-1]
	if containsAny(shown, detail) {
		return msg[:i+open]
	}
	return msg
}

// containsAny reports whether any of lines contains s.
func containsAny(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// plural renders "1 check", "2 checks".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// ClosingLine is the last line of the summary: "N passed, N failed", with
// ", N skipped" appended when any check was skipped. Errored checks count
// as failed: the line answers "did everything pass", and the check lines
// above tell errors apart.
func ClosingLine(c result.Counts) string {
	line := fmt.Sprintf("%d passed, %d failed", c.Passed, c.Failed+c.Errored)
	if c.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped", c.Skipped)
	}
	return line
}

// UseColor reports whether output to f should be coloured: never with the
// --no-color flag, never when NO_COLOR is set to a non-empty value
// (https://no-color.org), never for TERM=dumb, and otherwise only when f is
// a character device, which is how a terminal looks without an isatty
// system call.
func UseColor(f *os.File, noColorFlag bool) bool {
	if noColorFlag || f == nil || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func needsDetail(r *result.Check) bool {
	return r.Status == result.Failed || r.Status == result.Errored
}

func (w *Writer) write(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	_, w.err = io.WriteString(w.out, s)
}

// The ANSI SGR sequences used (ECMA-48 section 8.3.117).
const (
	sgrGreen  = "\x1b[32m"
	sgrRed    = "\x1b[31m"
	sgrYellow = "\x1b[33m"
	sgrBold   = "\x1b[1m"
	sgrDim    = "\x1b[2m"
	sgrReset  = "\x1b[0m"
)

type verdict struct{ mark, word, color string }

var verdicts = map[result.Status]verdict{
	result.Passed:  {"✓", "PASS", sgrGreen},
	result.Failed:  {"✗", "FAIL", sgrRed},
	result.Errored: {"!", "ERROR", sgrRed},
	result.Skipped: {"-", "SKIP", sgrYellow},
}

func verdictOf(s result.Status) verdict {
	if v, ok := verdicts[s]; ok {
		return v
	}
	return verdict{"?", strings.ToUpper(string(s)), ""}
}

func (w *Writer) paint(sgr, s string) string {
	if !w.opts.Color || sgr == "" || s == "" {
		return s
	}
	return sgr + s + sgrReset
}

// text masks secrets in s, then makes it safe for a terminal. Masking
// comes first so that a secret is recognised in its raw form.
func (w *Writer) text(s string) string {
	return safetext.Line(w.opts.Redactor.String(s))
}

// checkLine writes
//
//	✗ FAIL  suite › check  1.20s  first failed expectation
func (w *Writer) checkLine(b *strings.Builder, s *result.Suite, r *result.Check) {
	v := verdictOf(r.Status)
	head := v.mark + " " + v.word
	pad := strings.Repeat(" ", max(1, 8-utf8.RuneCountInString(head)))
	rest := pad + w.text(s.Name) + " › " + w.text(r.Label) + "  " + seconds(r)
	if r.Attempts > 1 {
		rest += fmt.Sprintf(" (%d attempts)", r.Attempts)
	}
	if r.DataSuppressed {
		rest += " (DATA not sent: --no-send)"
	}
	if r.Conversation != nil && r.Conversation.PlaintextAuth {
		rest += " (credentials sent without TLS)"
	}
	msg := w.text(r.FirstFailure())
	// Within a width, the line folds at the spaces of the label (the
	// continuation under the suite's name), and the first failure goes
	// after it when it fits, else on a line of its own, cut to fit.
	const indent = "        "
	lines := w.split(head+pad, strings.TrimPrefix(rest, pad), indent)
	if msg != "" {
		last := len(lines) - 1
		switch {
		case w.opts.Width <= 0:
			lines[last] += "  " + msg
		case utf8.RuneCountInString(lines[last])+2+utf8.RuneCountInString(msg) <= w.opts.Width:
			lines[last] += "  " + msg
		case utf8.RuneCountInString(lines[last])+2+20 <= w.opts.Width && len(lines) == 1:
			// Room for a useful part of it on the line itself.
			lines[last] += "  " + cut(msg, w.opts.Width-utf8.RuneCountInString(lines[last])-2)
		default:
			lines = append(lines, cut(msg, max(w.opts.Width-len(indent), 20)))
		}
	}
	for i, line := range lines {
		if i == 0 {
			b.WriteString(w.paint(v.color, head))
			b.WriteString(strings.TrimPrefix(line, head))
		} else {
			b.WriteString(indent)
			b.WriteString(line)
		}
		b.WriteString("\n")
	}
}

func seconds(r *result.Check) string {
	return fmt.Sprintf("%.2fs", r.Duration.Seconds())
}

// cut shortens s to at most n runes, marking the cut with an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}

// detail writes a failed or errored check: where it went, every failed
// expectation (or the runner's error), the diagnosis and the transcript.
func (w *Writer) detail(b *strings.Builder, s *result.Suite, r *result.Check) {
	v := verdictOf(r.Status)
	head := v.mark + " " + v.word
	for i, line := range w.split(head+" ", w.text(s.Name)+" › "+w.text(r.Label), "  ") {
		if i == 0 {
			b.WriteString(w.paint(sgrBold+v.color, head) + strings.TrimPrefix(line, head))
		} else {
			b.WriteString("  " + line)
		}
		b.WriteString("\n")
	}
	if where := w.where(r); where != "" {
		w.fold(b, "  ", "    ", where)
	}
	if r.Device != nil {
		b.WriteString("  device session:\n")
		w.deviceFacts(b, r, "    ")
	}
	if r.Status == result.Errored && r.Error != "" {
		fmt.Fprintf(b, "  error: %s\n", w.text(r.Error))
	}
	var shown []string
	if len(r.Failures) > 0 {
		b.WriteString("  failed expectations:\n")
		for _, f := range r.Failures {
			msg := onceEach(f.Message, shown)
			shown = append(shown, msg)
			w.fold(b, "    ", "      ", w.text(msg))
		}
	}
	if d := r.Diagnosis; d != nil {
		if d.Outcome != "" && containsAny(shown, d.Outcome) {
			// The failures above already quote the reply or fault.
			fmt.Fprintf(b, "  diagnosis: %s\n", w.text(string(d.Category)))
		} else {
			w.fold(b, "  diagnosis: "+w.text(string(d.Category))+": ", "    ", w.text(d.Summary))
		}
		for _, f := range []struct{ name, value string }{
			{"meaning", d.Meaning},
			{"fix", d.Fix},
			{"setting", d.Setting},
			{"source", d.Source},
			{"ip", d.IP},
		} {
			if f.value != "" {
				w.fold(b, fmt.Sprintf("    %-8s ", f.name+":"), strings.Repeat(" ", 13), w.text(f.value))
			}
		}
	}
	if len(r.Blocklists) > 0 {
		b.WriteString("  blocklists:\n")
		for _, l := range r.Blocklists {
			w.fold(b, "    ", "      ", w.text(l.String()))
		}
	}
	if lines := r.TranscriptLines(); len(lines) > 0 {
		b.WriteString("  transcript:\n")
		w.transcript(b, lines, "    ")
	}
}

// where describes the endpoint a check talked to:
// "endpoint submission, smtp.office365.com:587 → 198.51.100.7:587, TLS 1.3, client IP 203.0.113.5",
// or what a dns or dnsbl check asked: "MX contoso.com, resolver 127.0.0.1:53".
func (w *Writer) where(r *result.Check) string {
	var parts []string
	target := w.text(r.Target)
	if c := r.Conversation; c != nil && c.RemoteAddr != "" && c.RemoteAddr != r.Target {
		target += " → " + w.text(c.RemoteAddr)
	}
	if r.Kind == "device" {
		target = "listening on " + target
	}
	switch {
	case r.Endpoint != "" && target != "":
		parts = append(parts, "endpoint "+w.text(r.Endpoint)+", "+target)
	case r.Endpoint != "":
		parts = append(parts, "endpoint "+w.text(r.Endpoint))
	case target != "":
		parts = append(parts, target)
	}
	if r.Resolver != "" {
		parts = append(parts, "resolver "+w.text(r.Resolver))
	}
	if c := r.Conversation; c != nil {
		if c.TLS != nil && c.TLS.Version != "" {
			parts = append(parts, "TLS "+w.text(c.TLS.Version))
		}
		if c.ClientIP != "" {
			parts = append(parts, "client IP "+w.text(c.ClientIP))
		}
	}
	if r.Attempts > 1 {
		parts = append(parts, fmt.Sprintf("%d attempts", r.Attempts))
	}
	return strings.Join(parts, ", ")
}

// deviceFacts writes what a device session showed, one fact a line.
func (w *Writer) deviceFacts(b *strings.Builder, r *result.Check, indent string) {
	for _, f := range r.Device.Facts() {
		w.fold(b, fmt.Sprintf("%s%-14s ", indent, w.text(f.Name)+":"), indent+strings.Repeat(" ", 15), w.text(f.Value))
	}
}

func (w *Writer) transcript(b *strings.Builder, lines []result.TranscriptLine, indent string) {
	for _, l := range lines {
		l.Direction = result.Direction(w.text(string(l.Direction)))
		l.Text = w.text(l.Text)
		// Continuation lines start under the text, after "  12ms S: ".
		head := strings.TrimSuffix(l.String(), l.Text)
		cont := indent + strings.Repeat(" ", utf8.RuneCountInString(head))
		for i, part := range w.split(indent+head, l.Text, cont) {
			if i > 0 {
				b.WriteString(cont)
				b.WriteString(w.paint(sgrDim, part))
			} else {
				b.WriteString(indent)
				b.WriteString(w.paint(sgrDim, strings.TrimPrefix(part, indent)))
			}
			b.WriteString("\n")
		}
	}
}

// fold writes first+text as lines that fit Options.Width, continuation
// lines starting with rest; with no width it writes one line.
func (w *Writer) fold(b *strings.Builder, first, rest, text string) {
	for i, part := range w.split(first, text, rest) {
		if i > 0 {
			b.WriteString(rest)
		}
		b.WriteString(part)
		b.WriteString("\n")
	}
}

// split breaks first+text into lines that fit the width, the later ones
// to follow rest, at the spaces of text. A word longer than the room (a
// URL, a certificate subject without spaces) stays whole, on the line it
// starts: a URL cut in two cannot be copied.
func (w *Writer) split(first, text, rest string) []string {
	width := w.opts.Width
	if width <= 0 || utf8.RuneCountInString(first+text) <= width {
		return []string{first + text}
	}
	room := max(width-utf8.RuneCountInString(rest), 20)
	var parts []string
	cur, limit, empty := first, width, true
	for _, word := range strings.Split(text, " ") {
		switch {
		case empty:
			cur += word
			empty = false
		case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(word) <= limit:
			cur += " " + word
		case word == "":
			// A double space at the end of a line: the line ends there.
		default:
			parts = append(parts, strings.TrimRight(cur, " "))
			cur, limit = word, room
		}
	}
	return append(parts, cur)
}
