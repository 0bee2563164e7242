// Package jsonreport writes the full result model of a run as JSON: every
// check's verdict, failed expectations, diagnosis, attempts and the whole
// conversation record (steps, replies, EHLO extensions, TLS session and
// certificate chain, client IP, transcript), under the json tags of the
// results model (internal/result).
package jsonreport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

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
}

// Report is the document's top-level object.
type Report struct {
	Tool    string    `json:"tool"`
	Version string    `json:"version"`
	Started time.Time `json:"started"`
	// Duration adds up the suites' durations.
	Duration time.Duration `json:"duration_ns"`
	Summary  Summary       `json:"summary"`
	Suites   []Suite       `json:"suites"`
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

// Write writes the report for suites to w, indented by two spaces.
func Write(w io.Writer, suites []*result.Suite, opts Options) error {
	return encode(w, build(suites, opts), opts.Redactor)
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
	if raw, err = maskValues(raw, func(s string) string { return safetext.Block(red.String(s)) }); err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// maskValues re-encodes the JSON document doc with every string value
// passed through mask; member names, numbers and the order of members are
// kept. Working on decoded string values, not on the JSON text, means a
// mask can neither break an escape sequence nor miss a secret that the
// encoder escaped.
func maskValues(doc []byte, mask func(string) string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	type container struct {
		object bool
		n      int // values (and, in objects, names) written so far
	}
	var (
		out   bytes.Buffer
		stack []container
		done  bool // a whole top-level value has been written
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if done {
			return nil, fmt.Errorf("data after the top-level value")
		}
		name := false
		if d, ok := tok.(json.Delim); (!ok || d == '{' || d == '[') && len(stack) > 0 {
			c := &stack[len(stack)-1]
			switch {
			case c.object && c.n%2 == 1:
				out.WriteByte(':')
			case c.n > 0:
				out.WriteByte(',')
			}
			name = c.object && c.n%2 == 0
			c.n++
		}
		switch t := tok.(type) {
		case json.Delim:
			out.WriteByte(byte(t))
			switch t {
			case '{', '[':
				stack = append(stack, container{object: t == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if !name {
				t = mask(t)
			}
			b, err := json.Marshal(t)
			if err != nil {
				return nil, err
			}
			out.Write(b)
		case json.Number:
			out.WriteString(t.String())
		case bool:
			out.WriteString(strconv.FormatBool(t))
		case nil:
			out.WriteString("null")
		}
		done = len(stack) == 0
	}
	if !done {
		return nil, io.ErrUnexpectedEOF
	}
	return out.Bytes(), nil
}
