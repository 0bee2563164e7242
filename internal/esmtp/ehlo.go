package esmtp

import (
	"encoding/json"
	"strings"
)

// Extension is one line of an EHLO reply after the greeting: a keyword and
// its parameters (RFC 5321 section 4.1.1.1).
type Extension struct {
	// Line is the line as the server sent it, e.g. "AUTH LOGIN XOAUTH2".
	Line string
	// Keyword is the ehlo-keyword upper-cased ("AUTH"). The pre-RFC 4954
	// form "AUTH=LOGIN PLAIN", which some servers still send for old
	// clients, gives the keyword "AUTH" and Legacy true.
	Keyword string
	// Params are the parameters in the order sent ("LOGIN", "XOAUTH2").
	Params []string
	Legacy bool
}

// Extensions are the extensions of one EHLO reply, in the order sent, each
// line parsed once. Nil means that EHLO did not happen; an EHLO that
// offered nothing is an empty, non-nil value. In JSON they are the lines.
type Extensions []Extension

// ParseEHLO parses the extension lines of an EHLO reply (every line after
// the greeting). It keeps nil-ness: nil lines give nil Extensions.
func ParseEHLO(lines []string) Extensions {
	if lines == nil {
		return nil
	}
	out := make(Extensions, 0, len(lines))
	for _, line := range lines {
		out = append(out, parseExtension(line))
	}
	return out
}

func parseExtension(line string) Extension {
	x := Extension{Line: line}
	words := strings.Fields(line)
	if len(words) == 0 {
		return x
	}
	keyword, params := words[0], words[1:]
	if k, v, ok := strings.Cut(keyword, "="); ok && k != "" {
		keyword, x.Legacy = k, true
		if v != "" {
			params = append([]string{v}, params...)
		}
	}
	x.Keyword = strings.ToUpper(keyword)
	if len(params) > 0 {
		x.Params = params
	}
	return x
}

// Lines returns the lines as sent; nil when the EHLO did not happen.
func (x Extensions) Lines() []string {
	if x == nil {
		return nil
	}
	out := make([]string, len(x))
	for i, e := range x {
		out[i] = e.Line
	}
	return out
}

// Find returns the extension with the keyword (case-insensitive). Where a
// server sends both forms, the RFC 4954 line wins over the legacy "AUTH="
// one.
func (x Extensions) Find(keyword string) (Extension, bool) {
	keyword = strings.ToUpper(strings.TrimSpace(keyword))
	if keyword == "" {
		return Extension{}, false
	}
	var legacy *Extension
	for i := range x {
		if x[i].Keyword != keyword {
			continue
		}
		if !x[i].Legacy {
			return x[i], true
		}
		if legacy == nil {
			legacy = &x[i]
		}
	}
	if legacy != nil {
		return *legacy, true
	}
	return Extension{}, false
}

// Has reports whether the keyword is advertised.
func (x Extensions) Has(keyword string) bool {
	_, ok := x.Find(keyword)
	return ok
}

// AuthMechanisms returns the SASL mechanisms of the AUTH extension (RFC
// 4954 section 3), upper-cased as RFC 4422 section 3.1 writes them; nil
// when AUTH is not advertised.
func (x Extensions) AuthMechanisms() []string {
	e, ok := x.Find("AUTH")
	if !ok {
		return nil
	}
	out := make([]string, len(e.Params))
	for i, p := range e.Params {
		out[i] = strings.ToUpper(p)
	}
	return out
}

// Advertises returns the first extension that advertises item: item's
// first word is the keyword, and every further word must be among the
// line's parameters (case-insensitive), so "AUTH LOGIN" asks for the LOGIN
// mechanism. Ok is false for an empty item.
func (x Extensions) Advertises(item string) (Extension, bool) {
	want := parseExtension(item)
	if want.Keyword == "" {
		return Extension{}, false
	}
	for _, e := range x {
		if e.Keyword == want.Keyword && hasAllFold(e.Params, want.Params) {
			return e, true
		}
	}
	return Extension{}, false
}

func hasAllFold(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if strings.EqualFold(h, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// MarshalJSON writes the lines as sent.
func (x Extensions) MarshalJSON() ([]byte, error) { return json.Marshal(x.Lines()) }

// UnmarshalJSON reads lines and parses them.
func (x *Extensions) UnmarshalJSON(b []byte) error {
	var lines []string
	if err := json.Unmarshal(b, &lines); err != nil {
		return err
	}
	*x = ParseEHLO(lines)
	return nil
}

// String renders the lines separated by ", ", for messages.
func (x Extensions) String() string { return strings.Join(x.Lines(), ", ") }
