package runner

import (
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/assertions"
	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

func strPtr(s string) *string { return &s }

func copierBlock(t *testing.T) *suite.Device {
	t.Helper()
	cmp, err := assertions.ParseComparison(">= 1.2")
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	return &suite.Device{Label: "reception copier", RequireTLS: true, AcceptAuth: true,
		Expect: &assertions.DeviceExpect{StartTLS: &yes, TLSVersion: &cmp, AuthUser: strPtr("scanner@contoso.com")}}
}

func TestDeviceResultDiagnoses(t *testing.T) {
	modern := &result.ClientHello{Versions: []string{"1.3", "1.2"}, CipherSuites: []string{"TLS_AES_128_GCM_SHA256"}, ECDHE: true}
	for _, tc := range []struct {
		name     string
		session  result.DeviceSession
		status   result.Status
		category result.Category
		summary  string // a substring of the diagnosis summary
		more     string // a substring of its meaning or fix
	}{
		{"passes", result.DeviceSession{StartTLS: true, ClientHello: modern, TLS: &result.DeviceTLS{Version: "1.3"},
			Auth: []result.AuthAttempt{{Mechanism: "LOGIN", User: "scanner@contoso.com", AfterTLS: true}}},
			result.Passed, "", "", ""},
		{"TLS 1.0 only", result.DeviceSession{StartTLS: true,
			ClientHello: &result.ClientHello{Versions: []string{"1.0"}, CipherSuites: []string{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"}, ECDHE: true},
			TLS:         &result.DeviceTLS{Version: "1.0"},
			Rejections:  []result.Rejection{{Command: "EHLO copier", Reply: esmtp.Reply{Code: 421, Enhanced: "4.7.66", Lines: []string{"TLS 1.0 and 1.1 are not supported."}}}}},
			result.Failed, result.TLS, "the device offers only TLS 1.0", "smtp-legacy.office365.com"},
		{"TLS 1.1 and RSA only", result.DeviceSession{StartTLS: true,
			ClientHello: &result.ClientHello{Versions: []string{"1.1", "1.0"}, CipherSuites: []string{"TLS_RSA_WITH_AES_128_CBC_SHA"}},
			TLS:         &result.DeviceTLS{Version: "1.1"}},
			result.Failed, result.TLS, "only TLS 1.1, 1.0 and no ECDHE cipher suite", "UNVERIFIED"},
		{"RSA key exchange only", result.DeviceSession{StartTLS: true,
			ClientHello: &result.ClientHello{Versions: []string{"1.2", "1.1", "1.0"}, CipherSuites: []string{"TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"}},
			TLS:         &result.DeviceTLS{Version: "1.2"},
			Auth:        []result.AuthAttempt{{Mechanism: "LOGIN", User: "scanner@contoso.com", AfterTLS: true}}},
			result.Failed, result.TLS, "no ECDHE cipher suite (only RSA key exchange and DHE)", "UNVERIFIED"},
		{"plaintext", result.DeviceSession{MailFrom: strPtr("scanner@contoso.com"),
			Rejections: []result.Rejection{{Command: "MAIL FROM:<scanner@contoso.com>", Reply: esmtp.Reply{Code: 451, Enhanced: "5.7.3", Lines: []string{"STARTTLS is required to send mail [smtp.office365.com]"}}}}},
			result.Failed, result.TLS, "451 5.7.3 STARTTLS is required to send mail [smtp.office365.com] at MAIL FROM:<scanner@contoso.com>", "STARTTLS"},
		{"no AUTH", result.DeviceSession{StartTLS: true, ClientHello: modern, TLS: &result.DeviceTLS{Version: "1.3"},
			MailFrom:   strPtr("scanner@contoso.com"),
			Rejections: []result.Rejection{{Command: "MAIL FROM:<scanner@contoso.com>", Reply: esmtp.Reply{Code: 530, Enhanced: "5.7.57", Lines: []string{"Client not authenticated to send mail."}}}}},
			result.Failed, result.Auth, "530 5.7.57", "user name and password"},
		{"certificate refused", result.DeviceSession{StartTLS: true, ClientHello: modern, HandshakeError: "remote error: tls: bad certificate"},
			result.Failed, result.TLS, "refused the listener's certificate", "switch off certificate verification"},
		{"implicit TLS", result.DeviceSession{ImplicitTLS: true, ClientHello: modern},
			result.Failed, result.Configuration, "implicit TLS", "port 587"},
		{"wrong user", result.DeviceSession{StartTLS: true, ClientHello: modern, TLS: &result.DeviceTLS{Version: "1.3"},
			Auth: []result.AuthAttempt{{Mechanism: "LOGIN", User: "admin@contoso.com", AfterTLS: true}}},
			result.Failed, result.Auth, "auth_user: expected scanner@contoso.com", "full address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.session
			s.Listen = "127.0.0.1:2525"
			d := copierBlock(t)
			ecdhe := true
			d.Expect.ECDHE = &ecdhe
			r := DeviceResult(d, &s, "reception copier", 0)
			if r.Status != tc.status || r.Kind != "device" || r.Device != &s || r.Target != "127.0.0.1:2525" {
				t.Fatalf("status %s kind %q target %q; failures %v", r.Status, r.Kind, r.Target, r.Failures)
			}
			if tc.status == result.Passed {
				if r.Diagnosis != nil {
					t.Fatalf("a passing session has a diagnosis: %+v", r.Diagnosis)
				}
				return
			}
			diag := r.Diagnosis
			if diag == nil || diag.Category != tc.category || !strings.Contains(diag.Summary, tc.summary) ||
				!strings.Contains(diag.Meaning+" "+diag.Fix, tc.more) {
				t.Fatalf("diagnosis = %+v", diag)
			}
		})
	}
}

func TestDeviceNoShow(t *testing.T) {
	r := DeviceNoSMTP(copierBlock(t), "0.0.0.0:2525", time.Now(), 5*time.Minute, 0, 0)
	if r.Status != result.Failed || r.FirstFailure() != "connect: no device connected to 0.0.0.0:2525 within 5m0s" ||
		r.Diagnosis == nil || r.Diagnosis.Category != result.Network {
		t.Fatalf("result = %+v", r)
	}
}

func TestDeviceOutcomeCutShort(t *testing.T) {
	s := &result.DeviceSession{StartTLS: true, TLS: &result.DeviceTLS{Version: "1.0"},
		Rejections: []result.Rejection{{Command: "EHLO copier", Reply: esmtp.Reply{Code: 421, Enhanced: "4.7.66", Lines: []string{"TLS 1.0 and 1.1 are not supported."}}}}}
	if o := DeviceOutcome(s); o.CutShort != "the listener ended the session with 421 4.7.66 at EHLO copier" {
		t.Fatalf("CutShort = %q", o.CutShort)
	}
	s = &result.DeviceSession{StartTLS: true, HandshakeError: "EOF"}
	if o := DeviceOutcome(s); o.CutShort != "the TLS handshake failed" {
		t.Fatalf("CutShort = %q", o.CutShort)
	}
}

// fullBlock expects everything of a scan to e-mail.
func fullBlock(t *testing.T) *suite.Device {
	t.Helper()
	d := copierBlock(t)
	rcpt, err := assertions.ParseComparison(">= 1")
	if err != nil {
		t.Fatal(err)
	}
	size, err := assertions.ParseSizeComparison("< 10MB")
	if err != nil {
		t.Fatal(err)
	}
	d.Expect.AuthMechanism = strPtr("LOGIN")
	d.Expect.MailFrom = strPtr("scanner@contoso.com")
	d.Expect.RcptCount = &rcpt
	d.Expect.MessageSize = &size
	return d
}

// modernSession is a device that did everything right up to AUTH.
func modernSession() result.DeviceSession {
	return result.DeviceSession{Listen: "127.0.0.1:2525", SentHello: true, Helo: "copier", StartTLS: true,
		ClientHello: &result.ClientHello{Versions: []string{"1.3", "1.2"}, CipherSuites: []string{"TLS_AES_128_GCM_SHA256"}, ECDHE: true},
		TLS:         &result.DeviceTLS{Version: "1.3"},
		Auth: []result.AuthAttempt{{Mechanism: "LOGIN", User: "scanner@contoso.com", AfterTLS: true,
			Reply: esmtp.Reply{Code: 235, Enhanced: "2.7.0", Lines: []string{"Authentication successful"}}}},
		LastStep: "AUTH", EndedBy: result.EndedByDevice, End: "QUIT"}
}

func diagnosisText(d *result.Diagnosis) string {
	if d == nil {
		return ""
	}
	return strings.Join([]string{d.Summary, d.Meaning, d.Fix, d.Setting}, "\n")
}

// A connection test ends after AUTH: the expectations on the sender, the
// recipients and the message say the device never got there, and the
// diagnosis gives no advice meant for another fault (Send As).
func TestDeviceResultConnectionTest(t *testing.T) {
	s := modernSession()
	r := DeviceResult(fullBlock(t), &s, "reception copier", 0)
	var msgs []string
	for _, f := range r.Failures {
		msgs = append(msgs, f.Message)
	}
	want := []string{
		"mail_from: expected MAIL FROM:<scanner@contoso.com>, but the device ended the session after AUTH; it never sent MAIL FROM",
		"rcpt_count: expected >= 1, but the device ended the session after AUTH; it never sent RCPT TO",
		"message_size: expected < 10MB, but the device ended the session after AUTH; it never sent a message",
	}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
	text := diagnosisText(r.Diagnosis)
	for _, wrong := range []string{"Send As", "SendAs", "5.7.60", "scan resolution"} {
		if strings.Contains(text, wrong) {
			t.Errorf("the diagnosis of a connection test advises on %q:\n%s", wrong, text)
		}
	}
	if !strings.Contains(text, "connection test") || !strings.Contains(text, "real scan") {
		t.Errorf("diagnosis:\n%s", text)
	}
}

// A device that closes the connection in the middle of the message is
// told so, without the advice for a scan that is too large.
func TestDeviceResultClosedMidMessage(t *testing.T) {
	s := modernSession()
	s.MailFrom, s.Recipients = strPtr("scanner@contoso.com"), []string{"helpdesk@contoso.com"}
	s.LastStep, s.EndedInMessage, s.PartialOctets, s.End = "DATA", true, 4096, "the device closed the connection"
	r := DeviceResult(fullBlock(t), &s, "reception copier", 0)
	if r.Status != result.Failed || r.FirstFailure() !=
		"message_size: expected < 10MB, but the device closed the connection during the message, after 4096 octets of it; no message arrived whole" {
		t.Fatalf("failures %v", r.Failures)
	}
	text := diagnosisText(r.Diagnosis)
	if strings.Contains(text, "scan resolution") || !strings.Contains(text, "during the message") || r.Diagnosis.Category != result.Network {
		t.Errorf("diagnosis:\n%s", text)
	}
}

// mail_from holds for every message of the session, not only the last.
func TestDeviceResultMailFromEveryMessage(t *testing.T) {
	s := modernSession()
	s.MailFrom, s.Recipients, s.LastStep = strPtr("scanner@contoso.com"), []string{"a@contoso.com", "b@contoso.com"}, "the message"
	s.Messages = []result.Message{
		{From: "admin@contoso.com", To: []string{"a@contoso.com"}, Size: 100},
		{From: "scanner@contoso.com", To: []string{"b@contoso.com"}, Size: 100},
	}
	r := DeviceResult(fullBlock(t), &s, "reception copier", 0)
	if r.Status != result.Failed || len(r.Failures) != 1 ||
		r.Failures[0].Message != "mail_from: expected MAIL FROM:<scanner@contoso.com>, the device sent message 1 with MAIL FROM:<admin@contoso.com>" {
		t.Fatalf("failures %v", r.Failures)
	}
	if !strings.Contains(diagnosisText(r.Diagnosis), "5.7.60") && !strings.Contains(diagnosisText(r.Diagnosis), "Send As") {
		t.Errorf("a wrong sender gets the Send As diagnosis: %s", diagnosisText(r.Diagnosis))
	}
}

// Credentials sent before STARTTLS, refused: the diagnosis says so (fix:
// STARTTLS), not "no user name sent".
func TestDeviceResultCredentialsInClear(t *testing.T) {
	s := result.DeviceSession{Listen: "127.0.0.1:2525", SentHello: true, Helo: "copier", LastStep: "AUTH", EndedBy: result.EndedByDevice,
		Auth: []result.AuthAttempt{{Mechanism: "LOGIN", User: "scanner@contoso.com", InClear: true,
			Reply: esmtp.Reply{Code: 504, Enhanced: "5.7.4", Lines: []string{"Unrecognized authentication type"}}}},
		Rejections: []result.Rejection{{Command: "AUTH LOGIN", Reply: esmtp.Reply{Code: 504, Enhanced: "5.7.4", Lines: []string{"Unrecognized authentication type"}}},
			{Command: "****", Reply: esmtp.Reply{Code: 500, Enhanced: "5.3.3", Lines: []string{"Unrecognized command '****'"}}}}}
	r := DeviceResult(fullBlock(t), &s, "reception copier", 0)
	d := r.Diagnosis
	if d == nil || d.Category != result.TLS || d.Summary != "the device sent its credentials without TLS (AUTH LOGIN as scanner@contoso.com, before STARTTLS)" ||
		!strings.Contains(d.Fix, "Enable STARTTLS") {
		t.Fatalf("diagnosis %+v", d)
	}
	for _, f := range r.Failures {
		if strings.Contains(f.Message, "no user name") {
			t.Errorf("failure %q", f.Message)
		}
	}
}

// A TLS 1.3 refusal of the certificate, read from the plaintext alert.
func TestDeviceResultCertificateRefusedUnderTLS13(t *testing.T) {
	s := modernSession()
	s.TLS, s.Auth, s.LastStep = nil, nil, "STARTTLS"
	s.HandshakeError = "remote error: tls: unknown_ca (the client's alert 48, sent in a plaintext record; crypto/tls reported: local error: tls: bad record MAC)"
	s.HandshakeAlert = "unknown_ca"
	r := DeviceResult(copierBlock(t), &s, "reception copier", 0)
	if d := r.Diagnosis; d == nil || d.Summary != "the device refused the listener's certificate (unknown CA)" ||
		strings.Contains(d.Fix, "Update the device firmware") || !strings.Contains(d.Meaning, "bad record MAC") {
		t.Fatalf("diagnosis %+v", d)
	}
}

// A session cut at the budget says so.
func TestDeviceResultBudget(t *testing.T) {
	s := modernSession()
	s.BudgetReached, s.RecordBudget = true, 256<<10
	s.Rejections = []result.Rejection{{Command: "NOOP", Reply: esmtp.Reply{Code: 421, Enhanced: "4.7.0", Lines: []string{"Too much in one session, closing transmission channel"}}}}
	r := DeviceResult(copierBlock(t), &s, "reception copier", 0)
	if r.Status != result.Failed || r.Diagnosis == nil || !strings.Contains(r.Diagnosis.Summary, "more than the listener records (256 KiB)") {
		t.Fatalf("result %+v", r.Diagnosis)
	}
}

// TestDeviceResultPaths: every judged device session, passed or failed,
// carries the decision on which ways it can send after the Basic auth
// switch-off, from what it offered.
func TestDeviceResultPaths(t *testing.T) {
	usable := func(r *result.Check) map[string]string {
		if r.Paths == nil {
			t.Fatalf("%s: no path decision", r.Label)
		}
		out := map[string]string{}
		for _, p := range r.Paths.Paths {
			out[p.Path] = p.Usable
		}
		return out
	}
	modern := result.DeviceSession{StartTLS: true,
		ClientHello: &result.ClientHello{Versions: []string{"1.3", "1.2"}, CipherSuites: []string{"TLS_AES_128_GCM_SHA256"}, ECDHE: true},
		TLS:         &result.DeviceTLS{Version: "1.3"},
		Auth:        []result.AuthAttempt{{Mechanism: "LOGIN", User: "scanner@contoso.com", AfterTLS: true}}}
	r := DeviceResult(copierBlock(t), &modern, "modern copier", 0)
	got := usable(r)
	if got["basic_auth"] != "no" || got["oauth"] != "maybe" || got["hve"] != "yes" {
		t.Errorf("modern copier: %v", got)
	}
	if !strings.Contains(r.Paths.Summary, "AUTH LOGIN") {
		t.Errorf("summary %q does not name what decided it", r.Paths.Summary)
	}
	old := result.DeviceSession{StartTLS: true,
		ClientHello: &result.ClientHello{Versions: []string{"1.0"}, CipherSuites: []string{"TLS_RSA_WITH_AES_128_CBC_SHA"}},
		TLS:         &result.DeviceTLS{Version: "1.0"}}
	r = DeviceResult(copierBlock(t), &old, "old copier", 0)
	if r.Status != result.Failed {
		t.Errorf("TLS 1.0 copier status %s", r.Status)
	}
	got = usable(r)
	for _, p := range []string{"basic_auth", "oauth", "acs_relay"} {
		if got[p] != "no" {
			t.Errorf("TLS 1.0 copier: %s is %q, want no (its endpoint documents TLS 1.2 or newer)", p, got[p])
		}
	}
	// HVE's pages name no minimum TLS version (UNVERIFIED in the data).
	if got["hve"] != "maybe" {
		t.Errorf("TLS 1.0 copier: hve is %q, want maybe", got["hve"])
	}
}
