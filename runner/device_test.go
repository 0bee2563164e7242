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
	r := DeviceNoShow(copierBlock(t), "0.0.0.0:2525", time.Now(), 5*time.Minute, 0)
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
