package esmtp

import (
	"fmt"
	"strconv"
	"strings"
)

// Enhanced is a parsed RFC 3463 enhanced status code, class.subject.detail.
type Enhanced struct {
	Class, Subject, Detail int
}

// String renders the code as "5.7.606".
func (e Enhanced) String() string { return fmt.Sprintf("%d.%d.%d", e.Class, e.Subject, e.Detail) }

// ParseEnhanced parses an enhanced status code (RFC 3463 section 2): class
// 2, 4 or 5, then a subject and a detail of one to three digits each,
// separated by dots, and nothing else.
func ParseEnhanced(s string) (Enhanced, bool) {
	class, subject, detail, ok := splitCode(s)
	if !ok || !isClass(class) || !isNumber(subject) || !isNumber(detail) {
		return Enhanced{}, false
	}
	e := Enhanced{Class: int(class[0] - '0')}
	e.Subject, _ = strconv.Atoi(subject)
	e.Detail, _ = strconv.Atoi(detail)
	return e, true
}

// EnhancedPrefix returns the enhanced status code at the start of a reply
// line's text, followed by a space or the end of the text, or "". Servers
// write it right after the basic code (RFC 3463 section 2; RFC 2034
// section 3).
func EnhancedPrefix(text string) string {
	word, _, _ := strings.Cut(text, " ")
	if _, ok := ParseEnhanced(word); !ok {
		return ""
	}
	return word
}

// Any marks a part of an EnhancedRange that matches every value.
const Any = -1

// EnhancedRange is a set of enhanced status codes as suites and the
// knowledge base write them: one code ("5.7.1"), a range of details
// ("5.7.606-649"), or trailing wildcards ("5.7.x", "5.x.x").
type EnhancedRange struct {
	Class int
	// Subject, DetailLo and DetailHi are Any for a wildcard.
	Subject, DetailLo, DetailHi int
}

// rangeExample is quoted by every ParseEnhancedRange error.
const rangeExample = "as in 5.7.1, 5.7.x or 5.7.606-649"

// ParseEnhancedRange parses a code, a detail range or a code with trailing
// wildcards (x or X); its errors say what is wrong and show the forms.
func ParseEnhancedRange(s string) (EnhancedRange, error) {
	class, subject, detail, ok := splitCode(s)
	if !ok {
		return EnhancedRange{}, fmt.Errorf("enhanced code %s must be class.subject.detail (RFC 3463 section 2), %s", s, rangeExample)
	}
	if !isClass(class) {
		return EnhancedRange{}, fmt.Errorf("enhanced code %s must have class 2, 4 or 5 (RFC 3463 section 3.1), %s", s, rangeExample)
	}
	r := EnhancedRange{Class: int(class[0] - '0')}
	switch {
	case isWildcard(subject):
		if !isWildcard(detail) {
			return EnhancedRange{}, fmt.Errorf("wildcards in enhanced code %s must come last, %s", s, rangeExample)
		}
		r.Subject, r.DetailLo, r.DetailHi = Any, Any, Any
		return r, nil
	case !isNumber(subject):
		return EnhancedRange{}, fmt.Errorf("enhanced code %s must have a subject of one to three digits, %s", s, rangeExample)
	}
	r.Subject, _ = strconv.Atoi(subject)
	if isWildcard(detail) {
		r.DetailLo, r.DetailHi = Any, Any
		return r, nil
	}
	lo, hi, isRange := strings.Cut(detail, "-")
	if !isNumber(lo) || (isRange && !isNumber(hi)) {
		return EnhancedRange{}, fmt.Errorf("enhanced code %s must have a detail of one to three digits or a range of them, %s", s, rangeExample)
	}
	r.DetailLo, _ = strconv.Atoi(lo)
	r.DetailHi = r.DetailLo
	if isRange {
		r.DetailHi, _ = strconv.Atoi(hi)
		if r.DetailLo > r.DetailHi {
			return EnhancedRange{}, fmt.Errorf("detail range %s in enhanced code %s must run from low to high, as in 5.7.606-649", detail, s)
		}
	}
	return r, nil
}

// Contains reports whether code, a reply's enhanced code ("5.7.612"), is in
// the range. An empty or malformed code is in no range.
func (r EnhancedRange) Contains(code string) bool {
	e, ok := ParseEnhanced(code)
	if !ok || e.Class != r.Class {
		return false
	}
	if r.Subject != Any && e.Subject != r.Subject {
		return false
	}
	return r.DetailLo == Any || (e.Detail >= r.DetailLo && e.Detail <= r.DetailHi)
}

// splitCode cuts s into its three dot-separated parts.
func splitCode(s string) (class, subject, detail string, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

func isClass(s string) bool { return s == "2" || s == "4" || s == "5" }

func isWildcard(s string) bool { return s == "x" || s == "X" }

// isNumber reports whether s has one to three digits, the length RFC 3463
// section 2 allows for subject and detail.
func isNumber(s string) bool {
	if len(s) < 1 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
