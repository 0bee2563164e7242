package reporttest

import (
	"slices"
	"time"
	"unicode/utf8"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// UnsafeRunes are characters no output may carry as themselves: C0 and C1
// controls, DEL, a bidirectional override and an isolate, zero-width
// characters and the byte order mark, a line separator, and the
// noncharacters XML 1.0 does not allow. Each reporter's test plants them
// with HostileText and checks that none comes out.
var UnsafeRunes = []rune{
	0x00, 0x07, 0x08, 0x0b, 0x0c, 0x1b, 0x7f, 0x85, 0x9b,
	0x202e, 0x2066, 0x200b, 0x200d, 0xfeff, 0x2028, 0xfffe, 0xffff,
}

// HostileText holds every rune of UnsafeRunes and a byte that is not
// UTF-8, between ordinary words.
func HostileText() string {
	s := "hostile"
	for _, r := range UnsafeRunes {
		s += string(r) + "x"
	}
	return s + "\xff end"
}

// HostileResults returns one suite whose every server-supplied and
// suite-supplied text (names, reply lines, EHLO extensions, certificate
// subject and issuer, fault bytes, the diagnosis, the transcript, the
// check's path and the suite's decision on the ways to send) is
// HostileText.
func HostileResults() []*result.Suite {
	h := HostileText()
	reply := &esmtp.Reply{Code: 550, Enhanced: "5.7.1", Lines: []string{h}}
	conv := &result.Conversation{
		Host: "mx." + h, Port: 25, TLSMode: "starttls", RemoteAddr: "192.0.2.1:25", Started: Start,
		EHLOBeforeTLS: esmtp.ParseEHLO([]string{"STARTTLS", h}),
		EHLOAfterTLS:  esmtp.ParseEHLO([]string{h}),
		TLS: &result.TLSInfo{Version: "1.3", CipherSuite: h, ServerName: h, VerifyError: h,
			Chain: []result.Certificate{{Subject: "CN=" + h, Issuer: "CN=" + h, DNSNames: []string{h},
				SerialNumber: h, SHA256: h, NotBefore: Start, NotAfter: Start.Add(24 * time.Hour)}}},
		Steps: []result.StepRecord{
			{Step: result.StepConnect},
			{Step: result.StepBanner, Reply: &esmtp.Reply{Code: 220, Lines: []string{h}}},
			{Step: result.StepMail, Command: "MAIL FROM:<" + h + ">", Reply: reply},
			{Step: result.StepQuit, Command: "QUIT", Fault: &result.Fault{Kind: result.FaultMalformed, Message: h, Bytes: h}},
		},
		Transcript: []result.TranscriptLine{
			{Direction: result.Server, Text: h},
			{Direction: result.Client, Text: h},
			{Direction: result.TLSEvent, Text: h},
		},
	}
	check := &result.Check{
		Index: 0, Label: h, Kind: "smtp", Endpoint: h, Target: h, Status: result.Failed, Attempts: 1,
		Failures:     []result.Failure{{Expectation: "step", Message: h}},
		Diagnosis:    &result.Diagnosis{Category: result.Policy, Summary: h, Meaning: h, Fix: h, Setting: h, Source: h, Code: "550 5.7.1"},
		Conversation: conv, Started: Start, Duration: time.Second,
		Lookups:    []result.Lookup{{Name: h, Type: "A", Server: "192.0.2.53:53", Transport: "udp", Rcode: "NOERROR", Answers: []string{h}, Started: Start}},
		Blocklists: []result.Listing{{Zone: h, IP: "192.0.2.1", Query: h, Status: result.Listed, Codes: []string{"127.0.0.2"}, Lists: []string{h}, Reason: h}},
	}
	check.Path = h
	paths := &result.PathDecision{Subject: h, Basis: h, Summary: h, Paths: []result.PathVerdict{
		{Path: h, Name: h, Short: h, Usable: h, Recipients: h, Reasons: []string{h}, Needs: []string{h}, Sources: []string{h}},
	}}
	return []*result.Suite{{Name: h, Description: h, Path: "suites/" + h + ".hcl", Started: Start, Duration: time.Second,
		Checks: []*result.Check{check}, Paths: paths}}
}

// Unsafe returns the first rune of UnsafeRunes in s, or the first byte
// that is not UTF-8 (as utf8.RuneError), and whether there is one.
func Unsafe(s string) (rune, bool) {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return r, true
			}
		}
		if slices.Contains(UnsafeRunes, r) {
			return r, true
		}
	}
	return 0, false
}

// HostileProbes returns what a probe of one hostile server found: the
// conversation of HostileResults, certificate subject and issuer
// included.
func HostileProbes() []*result.Probe {
	conv := HostileResults()[0].Checks[0].Conversation
	h := HostileText()
	return []*result.Probe{{
		Target: "127.0.0.1:25", Host: "127.0.0.1", Port: 25, TLSMode: "starttls", Problem: h,
		Banner: h, BannerHost: h, EHLOBeforeTLS: conv.EHLOBeforeTLS, EHLOAfterTLS: conv.EHLOAfterTLS,
		TLS: conv.TLS, ClientIP: h, Conversation: conv, Timings: map[string]float64{"connect": 1},
		Diagnosis: &result.Diagnosis{Category: result.Network, Meaning: h, Fix: h, Source: h},
	}}
}

// Interrupted returns Results as a run that SIGTERM ended: the second
// suite's hostile check was canceled while it ran and one more check was
// never started.
func Interrupted() []*result.Suite {
	suites := Results()
	s := suites[1]
	s.Interrupted = "the run was interrupted (SIGTERM)"
	hostile := s.Checks[2]
	hostile.Conversation.Steps = append(hostile.Conversation.Steps, result.StepRecord{Step: result.StepQuit,
		Fault: &result.Fault{Kind: result.FaultCanceled, Message: "canceled"}})
	s.Checks = append(s.Checks, &result.Check{Index: 3, Label: "not started", Kind: "smtp", Status: result.Skipped,
		Error: "not run: the run was interrupted (SIGTERM)", Started: Start})
	return suites
}
