// Package knowledge explains SMTP replies and conversation faults the way an
// Exchange Online engineer would: a typed table of Microsoft 365 reply codes
// (each with its source), the RFC 3463 and RFC 5321 generic meanings as
// fallback, and the diagnosis of a failed conversation from the reply, the
// step where it stopped and the kind of endpoint it talked to.
package knowledge

import (
	"fmt"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// Entry is one known reply.
type Entry struct {
	// Basic is the basic reply code, 0 when any.
	Basic int `json:"basic,omitempty"`
	// Enhanced is the enhanced status code, or a range "5.7.606-649".
	Enhanced string `json:"enhanced"`
	// Text, when set, must appear in the reply text (case-insensitive); it
	// tells apart entries that share a code. Alternatives are separated by
	// "|": "relay|not authorized".
	Text     string          `json:"text,omitempty"`
	Category result.Category `json:"category"`
	Meaning  string          `json:"meaning"`
	Fix      string          `json:"fix"`
	// Setting names the Microsoft setting involved, if any.
	Setting string `json:"setting,omitempty"`
	Source  string `json:"source"`
	// Note marks what the sources do not fully establish ("UNVERIFIED:
	// ..."), so that every output that uses the entry can say so.
	Note string `json:"note,omitempty"`
}

// Code renders the entry's codes the way a reply shows them:
// "550 5.7.606-649", or "5.7.705" when any basic code matches.
func (e Entry) Code() string {
	if e.Basic == 0 {
		return e.Enhanced
	}
	return fmt.Sprintf("%d %s", e.Basic, e.Enhanced)
}

// Lookup finds the most specific entry for a reply: the first entry whose
// basic code (if both are known), enhanced code or range, and text (if the
// entry has one) match. Entries lists the specific ones first.
func Lookup(basic int, enhanced, text string) (Entry, bool) {
	lower := strings.ToLower(text)
	for _, e := range Entries {
		if !e.codesMatch(basic, enhanced) {
			continue
		}
		if !e.textMatches(lower) {
			continue
		}
		return e, true
	}
	return Entry{}, false
}

// Candidates returns the entries a reply could be when Lookup finds none:
// with an enhanced code, the entries with that code whose text did not
// match ("5.7.1" is Spamhaus or relay, depending on the text); with only a
// basic code, every entry with that basic code ("530" is 5.7.57 on
// Exchange Online).
func Candidates(basic int, enhanced string) []Entry {
	var out []Entry
	for _, e := range Entries {
		switch {
		case enhanced != "":
			if e.codesMatch(basic, enhanced) {
				out = append(out, e)
			}
		case basic != 0 && e.Basic == basic:
			out = append(out, e)
		}
	}
	return out
}

// textMatches reports whether a lower-cased reply text contains one of the
// entry's text alternatives (any text when the entry has none).
func (e Entry) textMatches(lower string) bool {
	if e.Text == "" {
		return true
	}
	for _, alt := range e.TextAlternatives() {
		if strings.Contains(lower, strings.ToLower(alt)) {
			return true
		}
	}
	return false
}

// TextAlternatives returns the texts of which the reply must contain one,
// or nil when the entry matches any text.
func (e Entry) TextAlternatives() []string {
	if e.Text == "" {
		return nil
	}
	return strings.Split(e.Text, "|")
}

func (e Entry) codesMatch(basic int, enhanced string) bool {
	if e.Basic != 0 && basic != 0 && e.Basic != basic {
		return false
	}
	return enhancedMatches(e.Enhanced, enhanced)
}

// enhancedMatches reports whether got ("5.7.612") is want or lies in want's
// range ("5.7.606-649"); the range applies to the detail number only.
func enhancedMatches(want, got string) bool {
	r, err := esmtp.ParseEnhancedRange(want)
	return err == nil && r.Contains(got)
}
