package assertions

import (
	"reflect"
	"strings"
	"testing"
)

func devicePtr[T any](v T) *T { return &v }

func mustComparison(t *testing.T, s string) *Comparison {
	t.Helper()
	c, err := ParseComparison(s)
	if err != nil {
		t.Fatal(err)
	}
	return &c
}

func mustSize(t *testing.T, s string) *SizeComparison {
	t.Helper()
	c, err := ParseSizeComparison(s)
	if err != nil {
		t.Fatal(err)
	}
	return &c
}

// goodSession is a device that does everything smtp.office365.com wants.
func goodSession() *DeviceOutcome {
	return &DeviceOutcome{
		StartTLS:        true,
		HelloSeen:       true,
		OfferedVersions: []string{"1.3", "1.2"},
		OfferedSuites:   []string{"TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
		OffersECDHE:     true,
		TLSVersion:      "1.3",
		AuthMechanism:   "LOGIN",
		AuthUser:        "Scanner@Contoso.com",
		MailFrom:        devicePtr("scanner@contoso.com"),
		RcptCount:       1,
		MessageSizes:    []int64{812345},
	}
}

func fullExpect(t *testing.T) *DeviceExpect {
	return &DeviceExpect{
		StartTLS:          devicePtr(true),
		TLSVersion:        mustComparison(t, ">= 1.2"),
		OffersTLSVersions: []string{"1.2"},
		ECDHE:             devicePtr(true),
		AuthMechanism:     devicePtr("login"),
		AuthUser:          devicePtr("scanner@contoso.com"),
		MailFrom:          devicePtr("scanner@contoso.com"),
		RcptCount:         mustComparison(t, ">= 1"),
		MessageSize:       mustSize(t, "< 10MB"),
	}
}

func TestEvaluateDevicePasses(t *testing.T) {
	if got := EvaluateDevice(fullExpect(t), goodSession()); len(got) != 0 {
		t.Fatalf("failures: %v", got)
	}
	if got := EvaluateDevice(nil, goodSession()); len(got) != 0 {
		t.Fatalf("failures without expect: %v", got)
	}
}

func TestEvaluateDeviceFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(o *DeviceOutcome)
		want   []string // each failure's message, in order
	}{
		{"TLS 1.0 only, refused", func(o *DeviceOutcome) {
			o.OfferedVersions, o.TLSVersion = []string{"1.0"}, "1.0"
			o.AuthMechanism, o.AuthUser, o.MailFrom, o.RcptCount, o.MessageSizes = "", "", nil, 0, nil
			o.CutShort = "the listener ended the session with 421 4.7.66 at EHLO copier"
			o.Rejections = []string{"421 4.7.66 TLS 1.0 and 1.1 are not supported at EHLO copier"}
		}, []string{
			"tls_version: expected >= 1.2, the device negotiated TLS 1.0; its ClientHello offers TLS 1.0",
			"offers_tls_versions: expected the device to offer TLS 1.2; its ClientHello offers TLS 1.0",
			"auth_mechanism: expected AUTH LOGIN, but not reached: the listener ended the session with 421 4.7.66 at EHLO copier",
			"auth_user: expected to authenticate as scanner@contoso.com, but not reached: the listener ended the session with 421 4.7.66 at EHLO copier",
			"mail_from: expected MAIL FROM:<scanner@contoso.com>, but not reached: the listener ended the session with 421 4.7.66 at EHLO copier",
			"rcpt_count: expected >= 1, but not reached: the listener ended the session with 421 4.7.66 at EHLO copier",
			"message_size: expected < 10MB, but not reached: the listener ended the session with 421 4.7.66 at EHLO copier",
			"rejected: 421 4.7.66 TLS 1.0 and 1.1 are not supported at EHLO copier",
		}},
		{"plaintext", func(o *DeviceOutcome) {
			*o = DeviceOutcome{MailFrom: devicePtr("scanner@contoso.com"),
				Rejections: []string{"451 5.7.3 STARTTLS is required to send mail at MAIL FROM:<scanner@contoso.com>"}}
		}, []string{
			"starttls: expected STARTTLS, but the device never sent it (it sent MAIL FROM in plaintext)",
			"tls_version: expected >= 1.2, but the device never started TLS",
			"offers_tls_versions: expected the device to offer TLS 1.2, but it never started TLS",
			"ecdhe: expected an ECDHE cipher suite, but the device never started TLS",
			"auth_mechanism: expected AUTH LOGIN, but the device never sent AUTH",
			"auth_user: expected to authenticate as scanner@contoso.com, but the device never sent AUTH",
			"rcpt_count: expected >= 1, the device gave 0 recipients",
			"message_size: expected < 10MB, but the device sent no message",
			"rejected: 451 5.7.3 STARTTLS is required to send mail at MAIL FROM:<scanner@contoso.com>",
		}},
		{"RSA key exchange only", func(o *DeviceOutcome) {
			o.OffersECDHE = false
			o.OfferedSuites = []string{"TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
				"TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA256"}
			o.TLSVersion = "1.2"
		}, []string{
			"ecdhe: expected an ECDHE cipher suite, but the device offers only TLS_RSA_WITH_AES_128_CBC_SHA, " +
				"TLS_RSA_WITH_AES_256_CBC_SHA, TLS_RSA_WITH_3DES_EDE_CBC_SHA, TLS_RSA_WITH_RC4_128_SHA and 1 more without ECDHE",
		}},
		{"handshake failed", func(o *DeviceOutcome) {
			o.TLSVersion, o.HandshakeError = "", "remote error: tls: bad certificate"
			o.AuthMechanism, o.AuthUser, o.MailFrom, o.RcptCount, o.MessageSizes = "", "", nil, 0, nil
			o.CutShort = "the TLS handshake failed"
		}, []string{
			"starttls: the device sent STARTTLS, but the TLS handshake failed: remote error: tls: bad certificate",
			"tls_version: expected >= 1.2, but no TLS session was established (remote error: tls: bad certificate); its ClientHello offers TLS 1.3 and 1.2",
			"auth_mechanism: expected AUTH LOGIN, but not reached: the TLS handshake failed",
			"auth_user: expected to authenticate as scanner@contoso.com, but not reached: the TLS handshake failed",
			"mail_from: expected MAIL FROM:<scanner@contoso.com>, but not reached: the TLS handshake failed",
			"rcpt_count: expected >= 1, but not reached: the TLS handshake failed",
			"message_size: expected < 10MB, but not reached: the TLS handshake failed",
		}},
		{"wrong identity and a big scan", func(o *DeviceOutcome) {
			o.AuthMechanism, o.AuthUser = "PLAIN", "admin@contoso.com"
			o.MailFrom = devicePtr("copier@contoso.local")
			o.MessageSizes = []int64{1000, 12 << 20}
		}, []string{
			"auth_mechanism: expected AUTH LOGIN, the device used AUTH PLAIN",
			"auth_user: expected scanner@contoso.com, the device authenticated as admin@contoso.com",
			"mail_from: expected MAIL FROM:<scanner@contoso.com>, the device sent MAIL FROM:<copier@contoso.local>",
			"message_size: expected < 10MB, message 2 is 12.0 MB (12582912 octets)",
		}},
		{"implicit TLS", func(o *DeviceOutcome) {
			*o = DeviceOutcome{ImplicitTLS: true, HelloSeen: true, OfferedVersions: []string{"1.2"}, OffersECDHE: true,
				CutShort: "the device began TLS at once (implicit TLS), so no SMTP followed"}
		}, []string{
			"starttls: expected STARTTLS, but the device started TLS at once (implicit TLS, as on port 465)",
			"tls_version: expected >= 1.2, but no TLS session was established (no reason recorded); its ClientHello offers TLS 1.2",
			"auth_mechanism: expected AUTH LOGIN, but not reached: the device began TLS at once (implicit TLS), so no SMTP followed",
			"auth_user: expected to authenticate as scanner@contoso.com, but not reached: the device began TLS at once (implicit TLS), so no SMTP followed",
			"mail_from: expected MAIL FROM:<scanner@contoso.com>, but not reached: the device began TLS at once (implicit TLS), so no SMTP followed",
			"rcpt_count: expected >= 1, but not reached: the device began TLS at once (implicit TLS), so no SMTP followed",
			"message_size: expected < 10MB, but not reached: the device began TLS at once (implicit TLS), so no SMTP followed",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := goodSession()
			tc.change(o)
			var got []string
			for _, f := range EvaluateDevice(fullExpect(t), o) {
				got = append(got, f.Message)
				if !strings.HasPrefix(f.Message, f.Expectation+": ") && !(f.Expectation == "step" && strings.HasPrefix(f.Message, "rejected: ")) {
					t.Errorf("message %q does not start with its expectation %q", f.Message, f.Expectation)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestEvaluateDeviceWithoutExpect(t *testing.T) {
	o := &DeviceOutcome{StartTLS: true, HelloSeen: true, OfferedVersions: []string{"1.2"}, HandshakeError: "tls: no cipher suite supported by both client and server"}
	got := EvaluateDevice(nil, o)
	if len(got) != 1 || got[0].Expectation != "tls" || !strings.Contains(got[0].Message, "no cipher suite supported") {
		t.Fatalf("failures = %v", got)
	}
	o = &DeviceOutcome{Rejections: []string{"530 5.7.57 Client not authenticated to send mail at MAIL FROM:<a@b.c>"}}
	if got := EvaluateDevice(nil, o); len(got) != 1 || got[0].Message != "rejected: 530 5.7.57 Client not authenticated to send mail at MAIL FROM:<a@b.c>" {
		t.Fatalf("failures = %v", got)
	}
	o = &DeviceOutcome{StartTLS: false}
	if got := EvaluateDevice(&DeviceExpect{StartTLS: devicePtr(false)}, o); len(got) != 0 {
		t.Fatalf("starttls = false: %v", got)
	}
	o.StartTLS, o.TLSVersion = true, "1.2"
	if got := EvaluateDevice(&DeviceExpect{StartTLS: devicePtr(false), ECDHE: devicePtr(false)}, o); len(got) != 2 {
		t.Fatalf("starttls = false, ecdhe = false: %v", got)
	}
}

func TestParseSizeComparison(t *testing.T) {
	for _, tc := range []struct {
		in    string
		op    string
		bytes int64
	}{
		{"< 10MB", "<", 10 << 20},
		{"<=512 kb", "<=", 512 << 10},
		{"1048576", "=", 1 << 20},
		{">= 1.5 MiB", ">=", 3 << 19},
		{"== 2G", "=", 2 << 30},
		{"!= 100 B", "!=", 100},
	} {
		c, err := ParseSizeComparison(tc.in)
		if err != nil || c.Op != tc.op || c.Bytes != tc.bytes {
			t.Errorf("ParseSizeComparison(%q) = %+v, %v", tc.in, c, err)
		}
	}
	for _, bad := range []string{"", "<", "< ten MB", "< -1MB", "10 XB"} {
		if _, err := ParseSizeComparison(bad); err == nil {
			t.Errorf("ParseSizeComparison(%q) succeeded", bad)
		}
	}
	c := *mustSize(t, "< 10MB")
	if !c.Holds(10<<20-1) || c.Holds(10<<20) {
		t.Error("< 10MB holds wrongly at the limit")
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{
		1:        "1 octet",
		812:      "812 octets",
		1536:     "1.5 KB (1536 octets)",
		12 << 20: "12.0 MB (12582912 octets)",
	} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// Expectations the device never reached say where it stopped; mail_from
// holds for every message.
func TestEvaluateDeviceWhereTheDeviceStopped(t *testing.T) {
	o := goodSession()
	o.MailFrom, o.RcptCount, o.MessageSizes = nil, 0, nil
	o.Stopped = "the device ended the session after AUTH"
	var got []string
	for _, f := range EvaluateDevice(fullExpect(t), o) {
		got = append(got, f.Message)
	}
	want := []string{
		"mail_from: expected MAIL FROM:<scanner@contoso.com>, but the device ended the session after AUTH; it never sent MAIL FROM",
		"rcpt_count: expected >= 1, but the device ended the session after AUTH; it never sent RCPT TO",
		"message_size: expected < 10MB, but the device ended the session after AUTH; it never sent a message",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	o = goodSession()
	o.MessageFroms = []string{"scanner@contoso.com", "Admin@contoso.com", "SCANNER@contoso.com"}
	o.MessageSizes = []int64{1, 2, 3}
	got = nil
	for _, f := range EvaluateDevice(fullExpect(t), o) {
		got = append(got, f.Message)
	}
	if len(got) != 1 || got[0] != "mail_from: expected MAIL FROM:<scanner@contoso.com>, the device sent message 2 with MAIL FROM:<Admin@contoso.com>" {
		t.Errorf("failures %q", got)
	}

	o = goodSession()
	o.AuthUser, o.AuthRefused, o.AuthReply = "", true, "504 5.7.4 Unrecognized authentication type"
	got = nil
	for _, f := range EvaluateDevice(&DeviceExpect{AuthUser: devicePtr("scanner@contoso.com")}, o) {
		got = append(got, f.Message)
	}
	if len(got) != 1 || got[0] != "auth_user: expected to authenticate as scanner@contoso.com, but the listener refused AUTH LOGIN (504 5.7.4 Unrecognized authentication type) before the device sent a user name" {
		t.Errorf("failures %q", got)
	}
}
