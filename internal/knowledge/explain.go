package knowledge

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// Explanation is what the knowledge base says about one code or one pasted
// reply ("550 5.7.606 Access denied, banned sending IP [203.0.113.5]").
type Explanation struct {
	// Input is what was explained, as given.
	Input string `json:"input"`
	// Basic and Enhanced are the codes found in the input (0 / "" when
	// absent); IP is the first bracketed IP address in it.
	Basic    int    `json:"basic,omitempty"`
	Enhanced string `json:"enhanced,omitempty"`
	IP       string `json:"ip,omitempty"`
	// AADSTS is the Microsoft Entra ID error code found in the input
	// ("AADSTS7000215"), when it holds one instead of an SMTP reply: a
	// token error from an oauth block, or pasted from MSAL or a device.
	AADSTS string `json:"aadsts,omitempty"`
	// CodeList is, for an AADSTS code the knowledge base does not know,
	// Microsoft's list of Entra ID's codes, where it is looked up.
	CodeList string `json:"code_list,omitempty"`

	// Known is true when an Exchange Online entry matched; Entry is it.
	Known bool   `json:"known"`
	Entry *Entry `json:"entry,omitempty"`

	// Category is the entry's, else the generic meaning's.
	Category result.Category `json:"category"`
	// Generic is the RFC meaning of the code (RFC 3463 for an enhanced
	// code, RFC 5321/4954 for a basic one) and GenericSource its RFC.
	Generic       string `json:"generic,omitempty"`
	GenericSource string `json:"generic_source,omitempty"`

	// Candidates are the Exchange Online entries the code may stand for
	// when no entry matched: the entries of a bare basic code ("530"), or
	// those of an enhanced code whose text tells them apart ("5.7.1").
	Candidates []Entry `json:"candidates,omitempty"`
	// Related are, when there are no candidates either, the documented
	// replies of the same family (class and subject): the closest known
	// replies, not the meaning of this one.
	Related []Entry `json:"related,omitempty"`
}

// Understood reports whether anything is known about the input: an
// Exchange Online entry, candidates, or at least the RFC meaning of its
// code. "5.9.9" is none of these.
func (x *Explanation) Understood() bool {
	return x.Known || len(x.Candidates) > 0 || x.Generic != ""
}

// Explain finds the basic code, the enhanced code and any bracketed IP in
// input (a code such as "530" or "5.7.139", or a reply or NDR line pasted
// whole) and explains them. It fails only when input holds no reply code
// at all; a code the knowledge base does not know gets its RFC meaning.
// An input that holds a Microsoft Entra ID error code ("AADSTS7000215",
// or MSAL's message holding one) is explained as a token error.
func Explain(input string) (*Explanation, error) {
	basic, enhanced := ParseCodes(input)
	if code := aadstsCode.FindString(input); code != "" {
		x := &Explanation{Input: input, AADSTS: strings.ToUpper(code), Category: result.Auth}
		if e, ok := ExplainTokenError(input); ok {
			x.Known, x.Entry, x.Category = true, &e, e.Category
			// Of several codes ("AADSTS70002: ... AADSTS7000222: ..."),
			// name the one the entry is about.
			for _, c := range aadstsCode.FindAllString(input, -1) {
				if slices.ContainsFunc(e.Codes, func(k string) bool { return strings.EqualFold(k, c) }) {
					x.AADSTS = strings.ToUpper(c)
					break
				}
			}
			return x, nil
		}
		if enhanced == "" && !smtpReplyStart.MatchString(input) {
			// An HTTP status ("400 (Bad Request)") next to the code is
			// no SMTP reply.
			x.CodeList = entraErrorCodes
			return x, nil
		}
		// An SMTP reply that quotes an unknown AADSTS code: the reply's
		// codes are what can be explained.
	}
	if basic == 0 && enhanced == "" {
		return nil, fmt.Errorf("%q holds no SMTP reply code: give a basic code (530), an enhanced code (5.7.139), the reply text that contains one, or an Entra ID token error code (AADSTS7000215)", input)
	}
	x := &Explanation{Input: input, Basic: basic, Enhanced: enhanced, IP: esmtp.BracketedIP(input)}
	if enhanced != "" {
		if m, ok := genericMeaning(enhanced); ok {
			x.Generic, x.Category, x.GenericSource = m.text, m.cat, m.rfc()
		}
	}
	if x.Generic == "" && basic != 0 {
		if text, cat, source, ok := BasicMeaning(basic); ok {
			x.Generic, x.Category, x.GenericSource = text, cat, source
		}
	}
	if e, ok := Lookup(basic, enhanced, input); ok {
		x.Known, x.Entry, x.Category = true, &e, e.Category
		return x, nil
	}
	x.Candidates = Candidates(basic, enhanced)
	if len(x.Candidates) == 0 && enhanced != "" {
		x.Related = Related(enhanced)
	}
	return x, nil
}

// smtpReplyStart is the start of a pasted SMTP reply: a basic code
// followed by a space or a hyphen.
var smtpReplyStart = regexp.MustCompile(`^\s*[2-5]\d\d[ -]`)

// ParseCodes finds the reply codes in a reply or NDR line: the enhanced
// status code (RFC 3463 section 2: class.subject.detail, class 2, 4 or 5)
// and the basic code (RFC 5321 section 4.2: three digits, 2xx-5xx) written
// before it, or the first basic code when there is no enhanced code.
// Numbers inside words ("S77719"), IP addresses and versions ("TLS 1.2") are
// not codes.
func ParseCodes(text string) (basic int, enhanced string) {
	type number struct {
		s   string
		pos int
	}
	var numbers []number
	for i := 0; i < len(text); {
		if !isDigit(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && (isDigit(text[j]) || text[j] == '.') {
			j++
		}
		s := strings.TrimRight(text[i:j], ".")
		if (i == 0 || !isLetter(text[i-1])) && (j == len(text) || !isLetter(text[j])) {
			numbers = append(numbers, number{s, i})
		}
		i = j
	}
	enhancedAt := len(text)
	for _, n := range numbers {
		if isEnhanced(n.s) {
			enhanced, enhancedAt = n.s, n.pos
			break
		}
	}
	for _, n := range numbers {
		if n.pos >= enhancedAt {
			break
		}
		if code, ok := basicCode(n.s); ok {
			basic = code
			break
		}
	}
	return basic, enhanced
}

func isEnhanced(s string) bool {
	_, ok := esmtp.ParseEnhanced(s)
	return ok
}

func basicCode(s string) (int, bool) {
	if len(s) != 3 || s[0] < '2' || s[0] > '5' {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func isDigit(b byte) bool  { return b >= '0' && b <= '9' }
func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '_' }
