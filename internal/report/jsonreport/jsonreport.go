// Package jsonreport writes the full result model of a run as JSON: every
// check's verdict, failed expectations, diagnosis, attempts and the whole
// conversation record (steps, replies, EHLO extensions, TLS session and
// certificate chain, client IP, transcript), under the json tags of the
// results model (internal/result).
package jsonreport

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
	"unsafe"

	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/safetext"
)

// Tool is the value of the report's "tool" member.
const Tool = "smtpdiag"

// Options tune the report.
type Options struct {
	// Redactor masks secrets in every string value written; nil masks
	// nothing.
	Redactor *redact.Redactor
	// Version is the smtpdiag version that made the report.
	Version string
	// Started is when the run began; zero means the earliest suite start.
	Started time.Time
	// Shard, for a sharded run (smtpdiag run --shard), says which slice
	// of the checks it ran and what the whole run holds, so that
	// smtpdiag merge can combine the shards' reports; nil otherwise.
	Shard *result.Shard
}

// Report is the document's top-level object.
type Report struct {
	Tool    string    `json:"tool"`
	Version string    `json:"version"`
	Started time.Time `json:"started"`
	// Duration adds up the suites' durations.
	Duration time.Duration `json:"duration_ns"`
	// Shard is there in the report of a sharded run only.
	Shard   *result.Shard `json:"shard,omitempty"`
	Summary Summary       `json:"summary"`
	Suites  []Suite       `json:"suites"`
}

// Summary tallies verdicts. Failed does not include Errors.
type Summary struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Errors  int `json:"errors"`
	Skipped int `json:"skipped"`
	Total   int `json:"total"`
}

// Suite is one suite's result with its own tally.
type Suite struct {
	*result.Suite
	Summary Summary `json:"summary"`
}

func summaryOf(c result.Counts) Summary {
	return Summary{Passed: c.Passed, Failed: c.Failed, Errors: c.Errored, Skipped: c.Skipped, Total: c.Total()}
}

// build assembles the report for suites without masking anything.
func build(suites []*result.Suite, opts Options) Report {
	rep := Report{
		Tool:    Tool,
		Version: opts.Version,
		Started: opts.Started,
		Shard:   opts.Shard,
		Summary: summaryOf(result.Tally(suites)),
		Suites:  make([]Suite, 0, len(suites)),
	}
	for _, s := range suites {
		if rep.Started.IsZero() || (!s.Started.IsZero() && s.Started.Before(rep.Started)) {
			rep.Started = s.Started
		}
		rep.Duration += s.Duration
		sr := *s
		if sr.Checks == nil {
			sr.Checks = []*result.Check{}
		}
		rep.Suites = append(rep.Suites, Suite{Suite: &sr, Summary: summaryOf(s.Counts())})
	}
	return rep
}

// Write writes the report for suites to w, indented by two spaces. It
// writes one check at a time, so that the report of a large run never
// has to be held in memory whole.
func Write(w io.Writer, suites []*result.Suite, opts Options) error {
	mask := func(s string) string { return safetext.Block(opts.Redactor.String(s)) }
	bw := bufio.NewWriterSize(w, 64<<10)
	e := &streamer{w: bw, mask: mask}
	if err := e.report(build(suites, opts)); err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	return bw.Flush()
}

// streamer writes a report the way encode would, as one indented
// document, but marshals, masks and indents one check at a time.
type streamer struct {
	w    *bufio.Writer
	mask func(string) string
	// raw, its encoder and out are reused for every value.
	raw bytes.Buffer
	enc *json.Encoder
	out []byte
}

// report writes rep: its members, then its suites one by one.
func (e *streamer) report(rep Report) error {
	suites := rep.Suites
	rep.Suites = []Suite{}
	head, err := e.indent(rep, "")
	if err != nil {
		return err
	}
	if err := e.around(head, "\n  \"suites\": []", len(suites), "  ", func(i int) error {
		return e.suite(suites[i], "    ")
	}); err != nil {
		return err
	}
	return e.w.WriteByte('\n')
}

// suite writes one suite, at the indentation prefix: its members, then its
// checks one by one.
func (e *streamer) suite(s Suite, prefix string) error {
	checks := s.Checks
	shell := *s.Suite
	shell.Checks = []*result.Check{}
	head, err := e.indent(Suite{Suite: &shell, Summary: s.Summary}, prefix)
	if err != nil {
		return err
	}
	return e.around(head, "\n"+prefix+"  \"checks\": []", len(checks), prefix+"  ", func(i int) error {
		text, err := e.indent(checks[i], prefix+"    ")
		if err != nil {
			return err
		}
		_, err = e.w.Write(text)
		return err
	})
}

// around writes head, an indented object whose member key (the whole
// line, from its newline) holds an empty array, with the array's n
// elements written by element in its place, each on a line of its own at
// the indentation prefix+"  ", as json.Indent would have written them.
func (e *streamer) around(head []byte, key string, n int, prefix string, element func(int) error) error {
	at := bytes.Index(head, []byte(key))
	if n == 0 || at < 0 {
		_, err := e.w.Write(head)
		return err
	}
	// head is e.indented's buffer, which element reuses: keep what follows
	// the array.
	tail := string(head[at+len(key):])
	if _, err := e.w.Write(head[:at+len(key)-1]); err != nil {
		return err
	}
	for i := range n {
		if i > 0 {
			e.w.WriteByte(',')
		}
		e.w.WriteString("\n" + prefix + "  ")
		if err := element(i); err != nil {
			return err
		}
	}
	e.w.WriteString("\n" + prefix + "]")
	_, err := e.w.WriteString(tail)
	return err
}

// indent marshals v, masks its string values and indents it as the
// element of a document at the indentation prefix, as json.Indent would.
// The result is valid until the next call.
func (e *streamer) indent(v any, prefix string) ([]byte, error) {
	if e.enc == nil {
		e.enc = json.NewEncoder(&e.raw) // json.Marshal's encoding, into a reused buffer
	}
	e.raw.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	raw := bytes.TrimSuffix(e.raw.Bytes(), []byte("\n"))
	var err error
	e.out, err = transform(e.out[:0], raw, e.mask, true, prefix)
	return e.out, err
}

// encode writes v as indented JSON. Every string value is masked, then
// made safe by the one text policy, so that a consumer decoding the
// document gets no secret and no raw control or format character a
// server sent.
func encode(w io.Writer, v any, red *redact.Redactor) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	out, err := transform(nil, raw, func(s string) string { return safetext.Block(red.String(s)) }, true, "")
	if err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

// transform appends doc, a valid compact JSON document (as json.Marshal
// writes it), to dst with every string value passed through mask, and,
// with indent, indented by two spaces after the prefix as json.Indent
// indents it. A string without escapes that mask leaves alone is copied
// as it is (json.Marshal would write it the same); any other is decoded,
// masked and encoded again.
func transform(dst, doc []byte, mask func(string) string, indent bool, prefix string) ([]byte, error) {
	depth := 0
	newline := func() {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		for range depth {
			dst = append(dst, ' ', ' ')
		}
	}
	for i := 0; i < len(doc); {
		c := doc[i]
		if c != '"' {
			i++
			if !indent {
				dst = append(dst, c)
				continue
			}
			switch c {
			case '{', '[':
				if i < len(doc) && (doc[i] == '}' || doc[i] == ']') {
					dst = append(dst, c, doc[i])
					i++
					continue
				}
				dst = append(dst, c)
				depth++
				newline()
			case '}', ']':
				depth--
				newline()
				dst = append(dst, c)
			case ',':
				dst = append(dst, c)
				newline()
			case ':':
				dst = append(dst, c, ' ')
			case ' ', '\t', '\n', '\r':
			default:
				dst = append(dst, c)
			}
			continue
		}
		j, escaped := i+1, false
		for j < len(doc) && doc[j] != '"' {
			if doc[j] == '\\' {
				escaped = true
				j++
			}
			j++
		}
		if j >= len(doc) {
			return nil, io.ErrUnexpectedEOF
		}
		tok := doc[i : j+1]
		i = j + 1
		k := i
		for k < len(doc) && (doc[k] == ' ' || doc[k] == '\t' || doc[k] == '\n' || doc[k] == '\r') {
			k++
		}
		if k < len(doc) && doc[k] == ':' {
			dst = append(dst, tok...) // a member name
			continue
		}
		var s string
		if !escaped {
			if len(tok) == 2 {
				dst = append(dst, tok...)
				continue
			}
			// A view of the bytes, not a copy: most strings come through
			// unchanged and are copied as they are, and a changed one is
			// a new string (neither mask returns part of its input), which
			// is encoded at once.
			view := unsafe.String(&tok[1], len(tok)-2)
			masked := mask(view)
			if masked == view {
				dst = append(dst, tok...)
				continue
			}
			s = masked
		} else {
			if err := json.Unmarshal(tok, &s); err != nil {
				return nil, err
			}
			s = mask(s)
		}
		b, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		dst = append(dst, b...)
	}
	return dst, nil
}
