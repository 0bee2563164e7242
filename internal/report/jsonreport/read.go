package jsonreport

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// Read reads a report that Write wrote back into the results model, for
// smtpdiag merge: every member of the results model is read back, so that
// writing the results again gives the same document, and the other
// reporters render them as they would have rendered the run's own. It
// reads one suite at a time, so that a large report is never held in
// memory twice.
//
// Text comes back as Write left it: masked, with the characters the text
// policy (internal/safetext) escapes already escaped, and bytes that are
// not UTF-8 as U+FFFD (JSON cannot hold them). Every reporter applies the
// policy, so their output is the same, except that the evidence report
// cannot highlight an escape it gets as text.
func Read(r io.Reader) (*Report, error) {
	var rep Report
	if err := read(json.NewDecoder(r), &rep); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("not a JSON report of smtpdiag: the file is empty or cut short")
		}
		return nil, fmt.Errorf("not a JSON report of smtpdiag: %w", err)
	}
	if rep.Tool != Tool {
		return nil, fmt.Errorf("not a JSON report of smtpdiag (tool %q)", rep.Tool)
	}
	for i, s := range rep.Suites {
		if s.Suite == nil {
			return nil, fmt.Errorf("suite %d is null", i+1)
		}
		for j, c := range s.Checks {
			if c == nil {
				return nil, fmt.Errorf("suite %s: check %d is null", s.Path, j+1)
			}
		}
	}
	return &rep, nil
}

// read decodes the report's members one by one, and its suites one at a
// time.
func read(dec *json.Decoder, rep *Report) error {
	if err := delim(dec, '{'); err != nil {
		return err
	}
	members := fieldsByName(rep)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		if name == "suites" {
			if err := readSuites(dec, rep); err != nil {
				return err
			}
			continue
		}
		into, ok := members[name]
		if !ok {
			var skip json.RawMessage
			into = &skip
		}
		if err := dec.Decode(into); err != nil {
			return err
		}
	}
	if err := delim(dec, '}'); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the report")
	}
	return nil
}

// readSuites decodes the suites array, or null.
func readSuites(dec *json.Decoder, rep *Report) error {
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("suites: %v is not an array", tok)
	}
	in := newInterner()
	for dec.More() {
		var s Suite
		if err := dec.Decode(&s); err != nil {
			return err
		}
		in.walk(reflect.ValueOf(s.Suite))
		rep.Suites = append(rep.Suites, s)
	}
	return delim(dec, ']')
}

// delim reads the delimiter want.
func delim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("%v where %v belongs", tok, want)
	}
	return nil
}

// fieldsByName maps the JSON names of rep's members (their json tags) to
// pointers to them.
func fieldsByName(rep *Report) map[string]any {
	v := reflect.ValueOf(rep).Elem()
	out := make(map[string]any, v.NumField())
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out[name] = v.Field(i).Addr().Interface()
		}
	}
	return out
}

// interner makes what a report holds many times over take memory once:
// equal strings share their bytes, equal EHLO replies their parsed
// extensions. The checks of a fleet repeat most of their text (EHLO
// lines, replies, certificates, the transcripts' lines). It also trims
// every slice the decoder grew to its length. A report read back thus
// takes a fraction of the memory its JSON did.
type interner struct {
	strings map[string]string
	ehlo    map[string]esmtp.Extensions
}

func newInterner() *interner {
	return &interner{strings: map[string]string{}, ehlo: map[string]esmtp.Extensions{}}
}

var extensionsType = reflect.TypeFor[esmtp.Extensions]()

// walk interns what v holds.
func (in *interner) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if s == "" || !v.CanSet() {
			return
		}
		if have, ok := in.strings[s]; ok {
			v.SetString(have)
		} else {
			in.strings[s] = s
		}
	case reflect.Pointer:
		if !v.IsNil() {
			in.walk(v.Elem())
		}
	case reflect.Slice:
		if v.IsNil() || !v.CanSet() {
			return
		}
		if v.Type() == extensionsType {
			x := v.Interface().(esmtp.Extensions)
			key := strings.Join(x.Lines(), "\n")
			if have, ok := in.ehlo[key]; ok && len(have) == len(x) {
				v.Set(reflect.ValueOf(have))
				return
			}
			defer func() { in.ehlo[key] = v.Interface().(esmtp.Extensions) }()
		}
		if v.Cap() > v.Len() {
			exact := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			reflect.Copy(exact, v)
			v.Set(exact)
		}
		for i := range v.Len() {
			in.walk(v.Index(i))
		}
	case reflect.Struct:
		t := v.Type()
		for i := range v.NumField() {
			if t.Field(i).IsExported() {
				in.walk(v.Field(i))
			}
		}
	}
}

// Results returns the suites of the report.
func (r *Report) Results() []*result.Suite {
	out := make([]*result.Suite, 0, len(r.Suites))
	for _, s := range r.Suites {
		out = append(out, s.Suite)
	}
	return out
}
