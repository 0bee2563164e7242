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
	return r
}

// DeviceNoShow is the result of a device block when no device connected
// to listen within waited.
func DeviceNoShow(d *suite.Device, listen string, started time.Time, waited time.Duration, index int) *result.Check {
	msg := fmt.Sprintf("connect: no device connected to %s within %s", listen, waited.Round(time.Second))
	return &result.Check{
		Index:     index,
		Label:     d.Label,
		Kind:      "device",
		Target:    listen,
		Status:    result.Failed,
		Failures:  []result.Failure{{Expectation: "connect", Message: msg}},
		Diagnosis: knowledge.DeviceNoShow(listen),
		Started:   started,
		Duration:  waited,
	}
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
		o.AuthMechanism = s.Auth[n-1].Mechanism
		o.AuthUser = s.Auth[n-1].User
	}
	for _, m := range s.Messages {
		o.MessageSizes = append(o.MessageSizes, m.Size)
	}
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
