package result

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// PathDecision says which of the ways to send through Microsoft 365 are
// open: for a device, from what it was seen to do (smtpdiag listen); for
// a suite, from the outcome of each path's check (smtpdiag run).
type PathDecision struct {
	// Subject is whom the decision of a suite is about: the mailbox its
	// checks sign in or send as ("scanner@contoso.com"); "" when no check
	// names one, and for a device, which its check's label names.
	Subject string `json:"subject,omitempty"`
	// Basis is what the verdicts rest on: the device's offer ("TLS 1.2
	// with ECDHE and AUTH LOGIN only"), or the run.
	Basis string `json:"basis"`
	// Summary is the decision in one line: "...: OAuth is out; HVE, the
	// ACS relay, Direct Send or a connector remain".
	Summary string        `json:"summary"`
	Paths   []PathVerdict `json:"paths"`
}

// PathVerdict is the verdict on one path.
type PathVerdict struct {
	// Path is the path's id (basic_auth, oauth, hve, acs_relay,
	// direct_send, connector); Name its full name, Short its name in a
	// sentence.
	Path  string `json:"path"`
	Name  string `json:"name"`
	Short string `json:"short"`
	// Usable is "yes", "maybe" (it depends on what the evidence does not
	// show) or "no".
	Usable string `json:"usable"`
	// Recipients is whom the path reaches: "internal" or "any".
	Recipients string `json:"recipients,omitempty"`
	// Reasons are one sentence each, the deciding one first.
	Reasons []string `json:"reasons"`
	// Needs are what else the path needs (a static IP, an Entra app...).
	Needs []string `json:"needs,omitempty"`
	// Sources are the pages the facts behind the reasons come from.
	Sources []string `json:"sources,omitempty"`
}

// Column is the path's short name as a table entry: "the ACS relay"
// becomes "ACS relay", "a connector" "Connector".
func (p PathVerdict) Column() string {
	short := p.Short
	for _, article := range []string{"the ", "a ", "an "} {
		short = strings.TrimPrefix(short, article)
	}
	r, size := utf8.DecodeRuneInString(short)
	return string(unicode.ToUpper(r)) + short[size:]
}

// PathsTitle is the heading every report gives a decision about who (a
// device check's label, a suite's subject, else the suite's name), made
// safe for its output by the caller: "Ways scanner@contoso.com can send
// after the Basic auth switch-off".
func PathsTitle(who string) string {
	return "Ways " + who + " can send after the Basic auth switch-off"
}

// PathsSubject is whom s's decision is about: its subject, else the
// suite's name.
func (s *Suite) PathsSubject() string {
	if s.Paths != nil && s.Paths.Subject != "" {
		return s.Paths.Subject
	}
	return s.Name
}
