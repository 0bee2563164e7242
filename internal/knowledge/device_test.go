package knowledge

import (
	"strings"
	"testing"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

func TestCertificateRefusal(t *testing.T) {
	for _, tc := range []struct {
		alert, err, want string
	}{
		{"unknown_ca", "remote error: tls: unknown_ca (the client's alert 48, sent in a plaintext record; crypto/tls reported: local error: tls: bad record MAC)", "unknown CA"},
		{"", "remote error: tls: unknown certificate authority", "unknown CA"},
		{"", "remote error: tls: bad certificate", "bad certificate"},
		{"certificate_expired", "", "certificate expired"},
		{"handshake_failure", "remote error: tls: handshake failure", ""},
		{"", "local error: tls: bad record MAC", ""},
	} {
		s := &result.DeviceSession{HandshakeAlert: tc.alert, HandshakeError: tc.err}
		if got := certificateRefusal(s); got != tc.want {
			t.Errorf("certificateRefusal(%q, %q) = %q, want %q", tc.alert, tc.err, got, tc.want)
		}
	}
}

// Only expectations the device reached choose the advice; when it
// reached none, the diagnosis says where it stopped.
func TestExpectationDiagnosisSkipsUnreached(t *testing.T) {
	from := "admin@contoso.com"
	reached := &result.DeviceSession{MailFrom: &from, LastStep: "MAIL FROM", EndedBy: result.EndedByDevice}
	failures := []result.Failure{
		{Expectation: "mail_from", Message: "mail_from: expected MAIL FROM:<scanner@contoso.com>, the device sent MAIL FROM:<admin@contoso.com>"},
		{Expectation: "message_size", Message: "message_size: expected < 10MB, but the device ended the session after MAIL FROM; it never sent a message"},
	}
	if d := DiagnoseDevice("copier", reached, failures); d.Step != result.StepMail || d.Summary != failures[0].Message {
		t.Errorf("a wrong sender: %+v", d)
	}
	stopped := &result.DeviceSession{LastStep: "AUTH", EndedBy: result.EndedByDevice,
		Auth: []result.AuthAttempt{{Mechanism: "LOGIN", User: "u", AfterTLS: true, Reply: esmtp.Reply{Code: 235}}}}
	d := DiagnoseDevice("copier", stopped, failures[1:])
	if d.Category != result.Configuration || !strings.Contains(d.Meaning, "the device ended the session after AUTH") ||
		strings.Contains(d.Fix, "resolution") {
		t.Errorf("a connection test: %+v", d)
	}
}

func TestDeviceNoSMTP(t *testing.T) {
	d := DeviceNoSMTP("0.0.0.0:2525", 3)
	if d.Category != result.Network || d.Summary != "no device spoke SMTP to 0.0.0.0:2525 (3 connections without EHLO or HELO, or refused)" {
		t.Errorf("%+v", d)
	}
}
