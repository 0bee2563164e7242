package assertions

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
)

// pattern is the parsed form of a reply pattern. It is comparable, so two
// patterns parsed from the same source are ==.
//
// A field set to wildcard (-1) matches every value; that is how the x wildcards
// and a missing enhanced code are represented.
type pattern struct {
	// code holds the three characters of the basic code, each a digit or
	// 'x'; "" when the pattern starts with an enhanced code.
	code string
	// enhanced is true when the pattern has an enhanced code, the codes
	// in rng.
	enhanced bool
	rng      esmtp.EnhancedRange
	// text is matched as a case-insensitive substring of the reply text;
	// lower-cased with runs of white space folded to one space.
	text string
}

// Examples quoted by error messages, so that every message shows a way out.
const patternExamples = "250, 5xx, 550 5.7.606-649 or 5.7.1"

// ParsePattern parses a reply pattern written as a string (SPEC section 3):
//
//	250              exact basic code (RFC 5321 section 4.2)
//	2xx, 55x         basic code with trailing wildcards (x or X)
//	250 2.1.5        basic and enhanced code (RFC 3463)
//	5.7.606          enhanced code only
//	5.7.x, 5.x.x     enhanced code with trailing wildcards
//	5.7.606-649      enhanced code with a detail range, low <= high
//	550 5.7.1 Spamhaus, 250 Recipient OK
//	                 any of the above followed by text, matched as a
//	                 case-insensitive substring of the reply text
//
// A basic code's first digit is 2, 3, 4 or 5 (RFC 5321 section 4.2.1); an
// enhanced code's class is 2, 4 or 5 and its subject and detail have one to
// three digits (RFC 3463 section 2). When both codes are given their classes
// must agree. White space around the pattern is ignored; Source keeps the
// rest as written.
func ParsePattern(s string) (Pattern, error) {
	src := strings.TrimSpace(s)
	if src == "" {
		return Pattern{}, fmt.Errorf("empty reply pattern: write a code such as %s", patternExamples)
	}
	fail := func(format string, args ...any) (Pattern, error) {
		return Pattern{}, fmt.Errorf("invalid reply pattern %q: %s", src, fmt.Sprintf(format, args...))
	}

	var p pattern
	first, rest := cutWord(src)
	switch {
	case isEnhancedLike(first):
		if err := p.parseEnhanced(first); err != nil {
			return fail("%v", err)
		}
	case isBasicLike(first):
		if err := p.parseBasic(first); err != nil {
			return fail("%v", err)
		}
		if second, after := cutWord(rest); isEnhancedLike(second) {
			if err := p.parseEnhanced(second); err != nil {
				return fail("%v", err)
			}
			rest = after
			if int(p.code[0]-'0') != p.rng.Class {
				return fail("basic code %s and enhanced code %s must be of the same class, as in 550 5.7.1 or 451 4.7.1",
					first, second)
			}
		}
	default:
		return fail("a reply pattern must start with a code such as %s", patternExamples)
	}
	p.text = foldText(rest)
	return Pattern{Source: src, p: p}, nil
}

// MustParsePattern is like ParsePattern but panics on an invalid pattern.
// It is meant for patterns written in Go source, such as tests.
func MustParsePattern(s string) Pattern {
	p, err := ParsePattern(s)
	if err != nil {
		panic(err)
	}
	return p
}

// PatternFromCode makes the pattern for an exact basic code written as a
// number (expect { auth = 235 }). SMTP replies are 2xx to 5xx (RFC 5321
// section 4.2.1: 1yz is not used), so anything else is rejected.
func PatternFromCode(code int) (Pattern, error) {
	if code < 200 || code > 599 {
		return Pattern{}, fmt.Errorf("invalid reply code %d: an SMTP reply code is a number from 200 to 599, such as 250 or 550", code)
	}
	src := strconv.Itoa(code)
	return Pattern{Source: src, p: pattern{code: src}}, nil
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.Source }

// MarshalText renders the pattern as written, so that it appears as a
// plain string in JSON output.
func (p Pattern) MarshalText() ([]byte, error) { return []byte(p.Source), nil }

// UnmarshalText parses a pattern written as text.
func (p *Pattern) UnmarshalText(b []byte) error {
	q, err := ParsePattern(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// Match reports whether the reply matches the pattern: the basic code
// digit by digit (x matching any digit), the enhanced code exactly or
// within the detail range, and the text as a case-insensitive substring of
// r.Text(), which excludes the codes. A pattern with an enhanced code
// never matches a reply without one. The zero Pattern matches nothing.
func (p Pattern) Match(r esmtp.Reply) bool {
	q := p.p
	if q.code == "" && !q.enhanced {
		return false
	}
	if q.code != "" && !matchBasic(q.code, r.Code) {
		return false
	}
	if q.enhanced && !q.rng.Contains(r.Enhanced) {
		return false
	}
	return q.text == "" || strings.Contains(foldText(r.Text()), q.text)
}

func matchBasic(code string, got int) bool {
	if got < 100 || got > 999 {
		return false
	}
	digits := strconv.Itoa(got)
	for i := 0; i < 3; i++ {
		if code[i] != 'x' && code[i] != digits[i] {
			return false
		}
	}
	return true
}

// cutWord splits s at its first run of white space.
func cutWord(s string) (word, rest string) {
	s = strings.TrimLeft(s, " \t\r\n")
	if i := strings.IndexAny(s, " \t\r\n"); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// foldText lower-cases s and folds runs of white space to single spaces, so
// that text written in a pattern matches however the server wrapped it.
func foldText(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// isBasicLike reports whether w is meant as a basic code: it starts with a
// digit and is made of digits and x's.
func isBasicLike(w string) bool {
	if w == "" || !isDigit(w[0]) {
		return false
	}
	for i := 1; i < len(w); i++ {
		if !isDigit(w[i]) && w[i] != 'x' && w[i] != 'X' {
			return false
		}
	}
	return true
}

// isEnhancedLike reports whether w is meant as an enhanced code: a digit
// followed by a dot. Text after a basic code that looks like this is parsed
// as an enhanced code (and rejected when malformed) rather than silently
// taken as text.
func isEnhancedLike(w string) bool {
	return len(w) >= 2 && isDigit(w[0]) && w[1] == '.'
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func (p *pattern) parseBasic(w string) error {
	if len(w) != 3 {
		return fmt.Errorf("basic code %s must have three digits, as in 250, 55x or 5xx", w)
	}
	if w[0] < '2' || w[0] > '5' {
		return fmt.Errorf("basic code %s must start with 2, 3, 4 or 5 (RFC 5321 section 4.2.1), as in 250 or 5xx", w)
	}
	code := strings.ToLower(w)
	if code[1] == 'x' && code[2] != 'x' {
		return fmt.Errorf("wildcards in basic code %s must come last, as in 55x or 5xx", w)
	}
	p.code = code
	return nil
}

// parseEnhanced parses the enhanced code of a pattern, with its detail
// range or wildcards (RFC 3463 section 2).
func (p *pattern) parseEnhanced(w string) error {
	r, err := esmtp.ParseEnhancedRange(w)
	if err != nil {
		return err
	}
	p.enhanced, p.rng = true, r
	return nil
}
