package knowledge_test

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/simulator"
	"github.com/smtpdiag/smtpdiag/internal/smtpclient"
)

// m365EHLO is what smtp.office365.com and the MX endpoints advertise before
// STARTTLS (m365-facts.md section 6).
var m365EHLO = esmtp.ParseEHLO([]string{"SIZE 157286400", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS", "8BITMIME", "BINARYMIME", "CHUNKING", "SMTPUTF8"})

func reply(code int, enhanced string, lines ...string) *esmtp.Reply {
	return &esmtp.Reply{Code: code, Enhanced: enhanced, Lines: lines}
}

func ok(step result.Step) result.StepRecord {
	return result.StepRecord{Step: step, Reply: reply(250, "", "OK")}
}

func fault(step result.Step, kind result.FaultKind, msg string) result.StepRecord {
	return result.StepRecord{Step: step, Fault: &result.Fault{Kind: kind, Message: msg}}
}

var tlsSession = &result.TLSInfo{Version: "1.2", Verified: true}

func TestDiagnose(t *testing.T) {
	tests := []struct {
		name string
		conv result.Conversation
		// want: category, then substrings of Meaning and Fix.
		category      result.Category
		meaning, fix  string
		step          result.Step
		code, ip, src string
	}{
		{
			name: "connection refused on port 25: ISP blocks outbound 25",
			conv: result.Conversation{Host: "contoso-com.mail.protection.outlook.com", Port: 25, Steps: []result.StepRecord{
				fault(result.StepConnect, result.FaultRefused, "connection refused")}},
			category: result.Network, meaning: "block outbound port 25", fix: "Ask the ISP", step: result.StepConnect,
		},
		{
			name: "a non-Microsoft server that wants STARTTLS first",
			conv: result.Conversation{Host: "127.0.0.1", Port: 5587, Steps: []result.StepRecord{
				{Step: result.StepConnect}, ok(result.StepBanner), ok(result.StepEHLO),
				{Step: result.StepMail, Reply: reply(530, "5.7.0", "Must issue a STARTTLS command first")}}},
			category: result.TLS, meaning: "requires STARTTLS", fix: "Enable STARTTLS", step: result.StepMail, code: "530 5.7.0",
		},
		{
			name: "a relay refuses the client certificate (TLS 1.3: at the EHLO after the handshake)",
			conv: result.Conversation{Host: "127.0.0.1", Port: 2526, TLS: &result.TLSInfo{Version: "1.3", Verified: true, ClientCertificateRequested: true},
				Steps: []result.StepRecord{{Step: result.StepConnect}, ok(result.StepBanner), ok(result.StepEHLO), ok(result.StepStartTLS), {Step: result.StepTLS},
					fault(result.StepEHLO, result.FaultClientCertificate, "EHLO: the server asked for a client certificate (none was sent) and ended the TLS session: tls: certificate required")}},
			category: result.TLS, meaning: "asked for a TLS client certificate", fix: "client_certificate and client_key", step: result.StepEHLO,
		},
		{
			name: "connect timeout on port 25",
			conv: result.Conversation{Host: "203.0.113.9", Port: 25, Steps: []result.StepRecord{
				fault(result.StepConnect, result.FaultTimeout, "no connection within 30s")}},
			category: result.Network, meaning: "(timeout). Many ISPs block outbound port 25", fix: "smtp.office365.com:587", step: result.StepConnect,
		},
		{
			name: "connect timeout on 587",
			conv: result.Conversation{Host: "smtp.office365.com", Port: 587, Steps: []result.StepRecord{
				fault(result.StepConnect, result.FaultTimeout, "no connection within 30s")}},
			category: result.Network, meaning: "block outbound port 587", fix: "firewall",
		},
		{
			name: "port 465 on smtp.office365.com is not supported",
			conv: result.Conversation{Host: "smtp.office365.com", Port: 465, TLSMode: "implicit", Steps: []result.StepRecord{
				fault(result.StepConnect, result.FaultTimeout, "no connection within 30s")}},
			category: result.Configuration, meaning: "does not offer SMTP on port 465", fix: "port 587 with STARTTLS", step: result.StepConnect,
		},
		{
			name: "port 465 on smtp.office365.com with STARTTLS: no banner",
			conv: result.Conversation{Host: "SMTP.Office365.com.", Port: 465, Steps: []result.StepRecord{
				{Step: result.StepConnect},
				fault(result.StepBanner, result.FaultTimeout, "no reply within 30s")}},
			category: result.Configuration, meaning: "port 465", fix: "does not support SMTP AUTH client submission", step: result.StepBanner,
		},
		{
			name: "no greeting: an implicit-TLS port spoken to in plain text",
			conv: result.Conversation{Host: "mail.fabrikam.test", Port: 4465, TLSMode: "starttls", Steps: []result.StepRecord{
				{Step: result.StepConnect},
				fault(result.StepBanner, result.FaultTimeout, "no banner within 15s")}},
			category: result.Network, meaning: "expects implicit TLS", fix: "tls = \"implicit\"", step: result.StepBanner,
		},
		{
			name: "STARTTLS not advertised",
			conv: result.Conversation{Host: "smtp.office365.com", Port: 587, EHLOBeforeTLS: esmtp.ParseEHLO([]string{"SIZE 157286400", "PIPELINING"}), Steps: []result.StepRecord{
				{Step: result.StepConnect}, {Step: result.StepBanner, Reply: reply(220, "", "ready")}, ok(result.StepEHLO),
				fault(result.StepStartTLS, result.FaultNotAdvertised, "server does not advertise STARTTLS")}},
			category: result.TLS, meaning: "did not advertise STARTTLS", fix: "strip STARTTLS", step: result.StepStartTLS,
		},
		{
			name: "handshake failure with a protocol-version alert",
			conv: result.Conversation{Host: "smtp.office365.com", Port: 587, Steps: []result.StepRecord{
				{Step: result.StepConnect}, ok(result.StepEHLO), {Step: result.StepStartTLS, Reply: reply(220, "2.0.0", "SMTP server ready")},
				fault(result.StepTLS, result.FaultTLSHandshake, "TLS handshake failed: remote error: tls: protocol version not supported")}},
			category: result.TLS, meaning: "requires TLS 1.2 or newer", fix: "firmware", step: result.StepTLS, src: "https://aka.ms/smtp_auth_tls",
		},
		{
			name: "handshake failure without a version alert: cipher suites",
			conv: result.Conversation{Host: "smtp.office365.com", Port: 587, Steps: []result.StepRecord{
				fault(result.StepTLS, result.FaultTLSHandshake, "TLS handshake failed: remote error: tls: handshake failure")}},
			category: result.TLS, meaning: "UNVERIFIED", fix: "ECDHE",
		},
		{
			name: "implicit TLS against a plain SMTP port",
			conv: result.Conversation{Host: "mail.fabrikam.test", Port: 587, TLSMode: "implicit", Steps: []result.StepRecord{
				fault(result.StepTLS, result.FaultTLSHandshake, "TLS handshake failed: tls: first record does not look like a TLS handshake")}},
			category: result.Configuration, meaning: "answered in plain text", fix: "STARTTLS",
		},
		{
			name: "AUTH not advertised before STARTTLS on smtp.office365.com is expected",
			conv: result.Conversation{Host: "smtp.office365.com", Port: 587, TLSMode: "none", EHLOBeforeTLS: m365EHLO, Steps: []result.StepRecord{
				{Step: result.StepConnect}, ok(result.StepEHLO),
				fault(result.StepAuth, result.FaultNotAdvertised, "server does not advertise AUTH (without TLS)")}},
			category: result.TLS, meaning: "advertises AUTH only after STARTTLS", fix: "STARTTLS first", step: result.StepAuth,
		},
		{
			name: "AUTH on the tenant MX endpoint",
			conv: result.Conversation{Host: "contoso-com.mail.protection.outlook.com", Port: 25, TLS: tlsSession,
				EHLOBeforeTLS: m365EHLO, EHLOAfterTLS: m365EHLO[:4], Steps: []result.StepRecord{
					{Step: result.StepConnect}, ok(result.StepEHLO), ok(result.StepEHLO),
					fault(result.StepAuth, result.FaultNotAdvertised, "server does not advertise AUTH")}},
			category: result.Configuration, meaning: "is an MX endpoint", fix: "smtp.office365.com port 587", step: result.StepAuth,
		},
		{
			name: "AUTH on an mx.microsoft endpoint on another port",
			conv: result.Conversation{Host: "contoso-com.a-v1.mx.microsoft", Port: 2525, TLS: tlsSession, Steps: []result.StepRecord{
				fault(result.StepAuth, result.FaultNotAdvertised, "server does not advertise AUTH")}},
			category: result.Configuration, meaning: "is an MX endpoint", fix: "Direct Send reaches internal recipients only",
		},
		{
			name: "AUTH on port 25 where no EHLO offered AUTH",
			conv: result.Conversation{Host: "mail.fabrikam.test", Port: 25, TLS: tlsSession, EHLOBeforeTLS: m365EHLO, EHLOAfterTLS: esmtp.ParseEHLO([]string{"SIZE 1000"}),
				Steps: []result.StepRecord{fault(result.StepAuth, result.FaultNotAdvertised, "server does not advertise AUTH")}},
			category: result.Configuration, meaning: "is an MX endpoint",
		},
		{
			name: "AUTH not advertised on 587 elsewhere",
			conv: result.Conversation{Host: "mail.fabrikam.test", Port: 587, TLS: tlsSession,
				Steps: []result.StepRecord{fault(result.StepAuth, result.FaultNotAdvertised, "server does not advertise AUTH")}},
			category: result.Auth, meaning: "did not advertise AUTH",
		},
		{
			name: "no AUTH mechanism in common",
			conv: result.Conversation{Host: "smtp.office365.com", Port: 587, TLS: tlsSession,
				Steps: []result.StepRecord{fault(result.StepAuth, result.FaultUnsupported, "no AUTH mechanism in common: the server offers LOGIN XOAUTH2")}},
			category: result.Auth, meaning: "no AUTH mechanism in common", fix: "LOGIN",
		},
		{
			name: "a rejected RCPT is explained from the knowledge base with its IP",
			conv: result.Conversation{Host: "contoso-com.mail.protection.outlook.com", Port: 25, Steps: []result.StepRecord{
				{Step: result.StepConnect}, ok(result.StepEHLO), ok(result.StepMail),
				{Step: result.StepRcpt, Reply: reply(550, "5.7.606", "Access denied, banned sending IP [203.0.113.5]. AS(1430)")},
				ok(result.StepRcpt), ok(result.StepRset)}},
			category: result.Reputation, meaning: "Microsoft's block list", fix: "sender.office.com",
			step: result.StepRcpt, code: "550 5.7.606", ip: "203.0.113.5",
		},
		{
			name: "an unknown enhanced code gets its RFC 3463 meaning",
			conv: result.Conversation{Host: "mx.fabrikam.test", Port: 25, Steps: []result.StepRecord{
				{Step: result.StepRcpt, Reply: reply(550, "5.1.1", "User unknown")}}},
			category: result.Recipient, meaning: "RFC 3463 5.1.1: permanent failure: bad destination mailbox address", step: result.StepRcpt,
			code: "550 5.1.1", src: "https://www.rfc-editor.org/rfc/rfc3463#section-3",
		},
		{
			name: "a reply without an enhanced code gets its RFC 5321 meaning",
			conv: result.Conversation{Host: "mx.fabrikam.test", Port: 25, Steps: []result.StepRecord{
				{Step: result.StepConnect}, {Step: result.StepBanner, Reply: reply(554, "", "No SMTP service here")}}},
			category: result.Policy, meaning: "RFC 5321: 554 transaction failed", step: result.StepBanner, code: "554",
		},
		{
			name: "an AUTH rejection on an MX endpoint",
			conv: result.Conversation{Host: "contoso-com.mail.protection.outlook.com", Port: 25, Steps: []result.StepRecord{
				{Step: result.StepAuth, Reply: reply(504, "5.7.4", "Unrecognized authentication type")}}},
			category: result.Configuration, meaning: "never offers AUTH", step: result.StepAuth,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := knowledge.Diagnose(&tc.conv)
			if d == nil {
				t.Fatal("no diagnosis")
			}
			if d.Category != tc.category || !strings.Contains(d.Meaning, tc.meaning) || !strings.Contains(d.Fix, tc.fix) {
				t.Fatalf("diagnosis %+v", d)
			}
			if tc.step != "" && d.Step != tc.step {
				t.Errorf("step %q, want %q", d.Step, tc.step)
			}
			if d.Code != tc.code || d.IP != tc.ip {
				t.Errorf("code %q ip %q, want %q %q", d.Code, d.IP, tc.code, tc.ip)
			}
			if tc.src != "" && d.Source != tc.src {
				t.Errorf("source %q, want %q", d.Source, tc.src)
			}
			if d.Summary == "" || d.Fix == "" {
				t.Errorf("summary or fix missing: %+v", d)
			}
		})
	}
}

func TestDiagnoseNothingToExplain(t *testing.T) {
	c := result.Conversation{Host: "smtp.office365.com", Port: 587, Steps: []result.StepRecord{
		{Step: result.StepConnect}, {Step: result.StepBanner, Reply: reply(220, "", "ready")}, ok(result.StepEHLO),
		{Step: result.StepQuit, Reply: reply(221, "2.0.0", "Service closing transmission channel")}}}
	if d := knowledge.Diagnose(&c); d != nil {
		t.Fatalf("diagnosis for a clean conversation: %+v", d)
	}
}

func TestDiagnoseUnverifiedEntryIsMarked(t *testing.T) {
	c := result.Conversation{Host: "smtp.office365.com", Port: 587, Steps: []result.StepRecord{
		{Step: result.StepMail, Reply: reply(451, "4.7.650", "The mail server [203.0.113.5] has been temporarily rate limited due to IP reputation.")}}}
	d := knowledge.Diagnose(&c)
	if d == nil || d.Category != result.Reputation || !strings.Contains(d.Meaning, "UNVERIFIED") {
		t.Fatalf("diagnosis %+v", d)
	}
}

// The diagnoses of real conversations: the SMTP client against the
// Exchange-Online-like simulator on loopback.
func TestDiagnoseRealConversations(t *testing.T) {
	sim, err := simulator.Start(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	host, portText, _ := net.SplitHostPort(sim.SubmissionAddr)
	port, _ := strconv.Atoi(portText)

	t.Run("TLS 1.1 only client", func(t *testing.T) {
		// The simulator, like Exchange Online, refuses TLS below 1.2.
		c := smtpclient.Converse(context.Background(), smtpclient.Plan{Host: host, Port: port, Timeout: 10 * time.Second,
			TLSMinVersion: tls.VersionTLS10, TLSMaxVersion: tls.VersionTLS11})
		d := knowledge.Diagnose(c)
		if d == nil || d.Category != result.TLS || d.Step != result.StepTLS || !strings.Contains(d.Meaning, "protocol version") {
			t.Fatalf("diagnosis %+v for %+v", d, c.Stop())
		}
	})
	t.Run("plaintext AUTH", func(t *testing.T) {
		c := smtpclient.Converse(context.Background(), smtpclient.Plan{Host: host, Port: port, TLS: smtpclient.NoTLS, Timeout: 10 * time.Second,
			Auth: &smtpclient.Auth{Username: "scanner@contoso.com", Password: "demo-password"}})
		d := knowledge.Diagnose(c)
		// Host is 127.0.0.1, so this is the generic reading, not the
		// smtp.office365.com one; the fault is the same.
		if d == nil || d.Category != result.Auth || d.Step != result.StepAuth {
			t.Fatalf("diagnosis %+v", d)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := l.Addr().(*net.TCPAddr).Port
		l.Close()
		c := smtpclient.Converse(context.Background(), smtpclient.Plan{Host: "127.0.0.1", Port: closed, Timeout: 5 * time.Second})
		d := knowledge.Diagnose(c)
		if d == nil || d.Category != result.Network || d.Step != result.StepConnect || !strings.Contains(d.Meaning, "No SMTP server answered") {
			t.Fatalf("diagnosis %+v", d)
		}
	})
}
