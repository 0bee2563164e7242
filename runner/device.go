package runner

import (
	"fmt"
	"time"

	"github.com/smtpdiag/smtpdiag/assertions"
	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// DeviceResult judges one recorded device session against a device
// block: the expectations (assertions.EvaluateDevice) and, when the
// session fails, a diagnosis that names Microsoft's requirement and the
// fix. label names the result (the device block's label, numbered when
// several sessions are judged).
func DeviceResult(d *suite.Device, s *result.DeviceSession, label string, index int) *result.Check {
	r := &result.Check{
		Index:    index,
		Label:    label,
		Kind:     "device",
		Target:   s.Listen,
		Device:   s,
		Attempts: 1,
		Started:  s.Started,
		Duration: s.Duration,
		Status:   result.Passed,
	}
	o := DeviceOutcome(s)
	r.Failures = assertions.EvaluateDevice(d.Expect, o)
	if len(r.Failures) > 0 {
		r.Status = result.Failed
		r.Diagnosis = knowledge.DiagnoseDevice(d.Label, s, r.Failures)
	}
	// What the device offered decides which ways it can still send after
	// the Basic auth switch-off, whether or not it met the expectations.
	r.Paths = knowledge.Decision(knowledge.DecidePaths(knowledge.OfferOf(s)))
	return r
}

// DeviceNoSMTP is the result of a device block when no device session
// was tested within waited, although others connections came: untested
// of them, which never spoke SMTP or were refused (DeviceSession.NotTested).
// With untested 0, no device connected at all.
func DeviceNoSMTP(d *suite.Device, listen string, started time.Time, waited time.Duration, untested, index int) *result.Check {
	msg := fmt.Sprintf("connect: no device connected to %s within %s", listen, waited.Round(time.Second))
	diag := knowledge.DeviceNoShow(listen)
	if untested > 0 {
		msg = fmt.Sprintf("connect: no device spoke SMTP to %s within %s (%d %s without EHLO or HELO, or refused)",
			listen, waited.Round(time.Second), untested, plural(untested, "connection"))
		diag = knowledge.DeviceNoSMTP(listen, untested)
	}
	return &result.Check{
		Index:     index,
		Label:     d.Label,
		Kind:      "device",
		Target:    listen,
		Status:    result.Failed,
		Failures:  []result.Failure{{Expectation: "connect", Message: msg}},
		Diagnosis: diag,
		Started:   started,
		Duration:  waited,
	}
}

// DeviceNotTested is the record of a session Listen does not judge: one
// that is no test of the device (DeviceSession.NotTested: refused, or no
// SMTP at all), or one beyond what a run judges. It is skipped, with why
// as its message.
func DeviceNotTested(s *result.DeviceSession, label, why string, index int) *result.Check {
	return &result.Check{
		Index:    index,
		Label:    label,
		Kind:     "device",
		Target:   s.Listen,
		Device:   s,
		Status:   result.Skipped,
		Error:    "not judged: " + why,
		Started:  s.Started,
		Duration: s.Duration,
	}
}

// plural is word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// DeviceOutcome condenses a session into what the expectations read.
func DeviceOutcome(s *result.DeviceSession) *assertions.DeviceOutcome {
	o := &assertions.DeviceOutcome{
		StartTLS:       s.StartTLS,
		ImplicitTLS:    s.ImplicitTLS,
		HandshakeError: s.HandshakeError,
		MailFrom:       s.MailFrom,
		RcptCount:      len(s.Recipients),
	}
	if h := s.ClientHello; h != nil {
		o.HelloSeen = true
		o.OfferedVersions = h.Versions
		o.OfferedSuites = h.CipherSuites
		o.OffersECDHE = h.ECDHE
	}
	if s.TLS != nil {
		o.TLSVersion = s.TLS.Version
	}
	if n := len(s.Auth); n > 0 {
		a := s.Auth[n-1]
		o.AuthMechanism, o.AuthUser, o.AuthInClear = a.Mechanism, a.User, a.InClear
		if a.Reply.Code != 0 {
			o.AuthReply, o.AuthRefused = a.Reply.String(), a.Reply.Code >= 400
		}
	}
	for _, m := range s.Messages {
		o.MessageSizes = append(o.MessageSizes, m.Size)
		o.MessageFroms = append(o.MessageFroms, m.From)
	}
	o.Stopped, o.EndedInMessage = s.Stopped(), s.EndedInMessage
	for _, rej := range s.Rejections {
		o.Rejections = append(o.Rejections, rej.String())
		if rej.Reply.Code == 421 {
			o.CutShort = fmt.Sprintf("the listener ended the session with %s at %s", rej.Reply.Codes(), rej.Command)
		}
	}
	switch {
	case s.ImplicitTLS:
		o.CutShort = "the device began TLS at once (implicit TLS), so no SMTP followed"
	case s.StartTLS && s.TLS == nil:
		o.CutShort = "the TLS handshake failed"
	}
	return o
}
