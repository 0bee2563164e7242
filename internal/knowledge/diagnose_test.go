package knowledge_test

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/conversation"
	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/simulator"
	"github.com/smtpdiag/smtpdiag/internal/smtpclient"
)

// m365EHLO is what smtp.office365.com and the MX endpoints advertise before
// STARTTLS (m365-facts.md section 6).
var m365EHLO = []string{"SIZE 157286400", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS", "8BITMIME", "BINARYMIME", "CHUNKING", "SMTPUTF8"}

func reply(code int, enhanced string, lines ...string) *conversation.Reply {
	return &conversation.Reply{Code: code, Enhanced: enhanced, Lines: lines}
}

func ok(step conversation.Step) conversation.StepRecord {
	return conversation.StepRecord{Step: step, Reply: reply(250, "", "OK")}
}

func fault(step conversation.Step, kind conversation.FaultKind, msg string) conversation.StepRecord {
	return conversation.StepRecord{Step: step, Fault: &conversation.Fault{Kind: kind, Message: msg}}
}

var tlsSession = &conversation.TLSInfo{Version: "1.2", Verified: true}

func TestDiagnose(t *testing.T) {
	tests := []struct {
		name string
		conv conversation.Conversation
		// want: category, then substrings of Meaning and Fix.
		category      knowledge.Category
		meaning, fix  string
		step          conversation.Step
		code, ip, src string
	}{
		{
			name: "connection refused on port 25: ISP blocks outbound 25",
			conv: conversation.Conversation{Host: "contoso-com.mail.protection.outlook.com", Port: 25, Steps: []conversation.StepRecord{
				fault(conversation.StepConnect, conversation.FaultRefused, "connection refused")}},
			category: knowledge.Network, meaning: "block outbound port 25", fix: "Ask the ISP", step: conversation.StepConnect,
		},
		{
			name: "a non-Microsoft server that wants STARTTLS first",
			conv: conversation.Conversation{Host: "127.0.0.1", Port: 5587, Steps: []conversation.StepRecord{
				{Step: conversation.StepConnect}, ok(conversation.StepBanner), ok(conversation.StepEHLO),
				{Step: conversation.StepMail, Reply: reply(530, "5.7.0", "Must issue a STARTTLS command first")}}},
			category: knowledge.TLS, meaning: "requires STARTTLS", fix: "Enable STARTTLS", step: conversation.StepMail, code: "530 5.7.0",
		},
		{
			name: "connect timeout on port 25",
			conv: conversation.Conversation{Host: "203.0.113.9", Port: 25, Steps: []conversation.StepRecord{
				fault(conversation.StepConnect, conversation.FaultTimeout, "no connection within 30s")}},
			category: knowledge.Network, meaning: "(timeout). Many ISPs block outbound port 25", fix: "smtp.office365.com:587", step: conversation.StepConnect,
		},
		{
			name: "connect timeout on 587",
			conv: conversation.Conversation{Host: "smtp.office365.com", Port: 587, Steps: []conversation.StepRecord{
				fault(conversation.StepConnect, conversation.FaultTimeout, "no connection within 30s")}},
			category: knowledge.Network, meaning: "block outbound port 587", fix: "firewall",
		},
		{
			name: "port 465 on smtp.office365.com is not supported",
			conv: conversation.Conversation{Host: "smtp.office365.com", Port: 465, TLSMode: "implicit", Steps: []conversation.StepRecord{
				fault(conversation.StepConnect, conversation.FaultTimeout, "no connection within 30s")}},
			category: knowledge.Configuration, meaning: "does not offer SMTP on port 465", fix: "port 587 with STARTTLS", step: conversation.StepConnect,
		},
		{
			name: "port 465 on smtp.office365.com with STARTTLS: no banner",
			conv: conversation.Conversation{Host: "SMTP.Office365.com.", Port: 465, Steps: []conversation.StepRecord{
				{Step: conversation.StepConnect},
				fault(conversation.StepBanner, conversation.FaultTimeout, "no reply within 30s")}},
			category: knowledge.Configuration, meaning: "port 465", fix: "does not support SMTP AUTH client submission", step: conversation.StepBanner,
		},
		{
			name: "no greeting: an implicit-TLS port spoken to in plain text",
			conv: conversation.Conversation{Host: "mail.fabrikam.test", Port: 4465, TLSMode: "starttls", Steps: []conversation.StepRecord{
				{Step: conversation.StepConnect},
				fault(conversation.StepBanner, conversation.FaultTimeout, "no banner within 15s")}},
			category: knowledge.Network, meaning: "expects implicit TLS", fix: "tls = \"implicit\"", step: conversation.StepBanner,
		},
		{
			name: "STARTTLS not advertised",
			conv: conversation.Conversation{Host: "smtp.office365.com", Port: 587, EHLOBeforeTLS: []string{"SIZE 157286400", "PIPELINING"}, Steps: []conversation.StepRecord{
				{Step: conversation.StepConnect}, {Step: conversation.StepBanner, Reply: reply(220, "", "ready")}, ok(conversation.StepEHLO),
				fault(conversation.StepStartTLS, conversation.FaultNotAdvertised, "server does not advertise STARTTLS")}},
			category: knowledge.TLS, meaning: "did not advertise STARTTLS", fix: "strip STARTTLS", step: conversation.StepStartTLS,
		},
		{
			name: "handshake failure with a protocol-version alert",
			conv: conversation.Conversation{Host: "smtp.office365.com", Port: 587, Steps: []conversation.StepRecord{
				{Step: conversation.StepConnect}, ok(conversation.StepEHLO), {Step: conversation.StepStartTLS, Reply: reply(220, "2.0.0", "SMTP server ready")},
				fault(conversation.StepTLS, conversation.FaultTLSHandshake, "TLS handshake failed: remote error: tls: protocol version not supported")}},
			category: knowledge.TLS, meaning: "requires TLS 1.2 or newer", fix: "firmware", step: conversation.StepTLS, src: "https://aka.ms/smtp_auth_tls",
		},
		{
			name: "handshake failure without a version alert: cipher suites",
			conv: conversation.Conversation{Host: "smtp.office365.com", Port: 587, Steps: []conversation.StepRecord{
				fault(conversation.StepTLS, conversation.FaultTLSHandshake, "TLS handshake failed: remote error: tls: handshake failure")}},
			category: knowledge.TLS, meaning: "UNVERIFIED", fix: "ECDHE",
		},
		{
			name: "implicit TLS against a plain SMTP port",
			conv: conversation.Conversation{Host: "mail.fabrikam.test", Port: 587, TLSMode: "implicit", Steps: []conversation.StepRecord{
				fault(conversation.StepTLS, conversation.FaultTLSHandshake, "TLS handshake failed: tls: first record does not look like a TLS handshake")}},
			category: knowledge.Configuration, meaning: "answered in plain text", fix: "STARTTLS",
		},
		{
			name: "AUTH not advertised before STARTTLS on smtp.office365.com is expected",
			conv: conversation.Conversation{Host: "smtp.office365.com", Port: 587, TLSMode: "none", EHLOBeforeTLS: m365EHLO, Steps: []conversation.StepRecord{
				{Step: conversation.StepConnect}, ok(conversation.StepEHLO),
				fault(conversation.StepAuth, conversation.FaultNotAdvertised, "server does not advertise AUTH (without TLS)")}},
			category: knowledge.TLS, meaning: "advertises AUTH only after STARTTLS", fix: "STARTTLS first", step: conversation.StepAuth,
		},
		{
			name: "AUTH on the tenant MX endpoint",
			conv: conversation.Conversation{Host: "contoso-com.mail.protection.outlook.com", Port: 25, TLS: tlsSession,
				EHLOBeforeTLS: m365EHLO, EHLOAfterTLS: m365EHLO[:4], Steps: []conversation.StepRecord{
					{Step: conversation.StepConnect}, ok(conversation.StepEHLO), ok(conversation.StepEHLO),
					fault(conversation.StepAuth, conversation.FaultNotAdvertised, "server does not advertise AUTH")}},
			category: knowledge.Configuration, meaning: "is an MX endpoint", fix: "smtp.office365.com port 587", step: conversation.StepAuth,
		},
		{
			name: "AUTH on an mx.microsoft endpoint on another port",
			conv: conversation.Conversation{Host: "contoso-com.a-v1.mx.microsoft", Port: 2525, TLS: tlsSession, Steps: []conversation.StepRecord{
				fault(conversation.StepAuth, conversation.FaultNotAdvertised, "server does not advertise AUTH")}},
			category: knowledge.Configuration, meaning: "is an MX endpoint", fix: "Direct Send reaches internal recipients only",
		},
		{
			name: "AUTH on port 25 where no EHLO offered AUTH",
			conv: conversation.Conversation{Host: "mail.fabrikam.test", Port: 25, TLS: tlsSession, EHLOBeforeTLS: m365EHLO, EHLOAfterTLS: []string{"SIZE 1000"},
				Steps: []conversation.StepRecord{fault(conversation.StepAuth, conversation.FaultNotAdvertised, "server does not advertise AUTH")}},
			category: knowledge.Configuration, meaning: "is an MX endpoint",
		},
		{
			name: "AUTH not advertised on 587 elsewhere",
			conv: conversation.Conversation{Host: "mail.fabrikam.test", Port: 587, TLS: tlsSession,
				Steps: []conversation.StepRecord{fault(conversation.StepAuth, conversation.FaultNotAdvertised, "server does not advertise AUTH")}},
			category: knowledge.Auth, meaning: "did not advertise AUTH",
		},
		{
			name: "no AUTH mechanism in common",
			conv: conversation.Conversation{Host: "smtp.office365.com", Port: 587, TLS: tlsSession,
				Steps: []conversation.StepRecord{fault(conversation.StepAuth, conversation.FaultUnsupported, "no AUTH mechanism in common: the server offers LOGIN XOAUTH2")}},
			category: knowledge.Auth, meaning: "no AUTH mechanism in common", fix: "LOGIN",
		},
		{
			name: "a rejected RCPT is explained from the knowledge base with its IP",
			conv: conversation.Conversation{Host: "contoso-com.mail.protection.outlook.com", Port: 25, Steps: []conversation.StepRecord{
				{Step: conversation.StepConnect}, ok(conversation.StepEHLO), ok(conversation.StepMail),
				{Step: conversation.StepRcpt, Reply: reply(550, "5.7.606", "Access denied, banned sending IP [203.0.113.5]. AS(1430)")},
				ok(conversation.StepRcpt), ok(conversation.StepRset)}},
			category: knowledge.Reputation, meaning: "Microsoft's block list", fix: "sender.office.com",
			step: conversation.StepRcpt, code: "550 5.7.606", ip: "203.0.113.5",
		},
		{
			name: "an unknown enhanced code gets its RFC 3463 meaning",
			conv: conversation.Conversation{Host: "mx.fabrikam.test", Port: 25, Steps: []conversation.StepRecord{
				{Step: conversation.StepRcpt, Reply: reply(550, "5.1.1", "User unknown")}}},
			category: knowledge.Recipient, meaning: "RFC 3463 5.1.1: permanent failure: bad destination mailbox address", step: conversation.StepRcpt,
			code: "550 5.1.1", src: "https://www.rfc-editor.org/rfc/rfc3463#section-3",
		},
		{
			name: "a reply without an enhanced code gets its RFC 5321 meaning",
			conv: conversation.Conversation{Host: "mx.fabrikam.test", Port: 25, Steps: []conversation.StepRecord{
				{Step: conversation.StepConnect}, {Step: conversation.StepBanner, Reply: reply(554, "", "No SMTP service here")}}},
			category: knowledge.Policy, meaning: "RFC 5321: 554 transaction failed", step: conversation.StepBanner, code: "554",
		},
		{
			name: "an AUTH rejection on an MX endpoint",
			conv: conversation.Conversation{Host: "contoso-com.mail.protection.outlook.com", Port: 25, Steps: []conversation.StepRecord{
				{Step: conversation.StepAuth, Reply: reply(504, "5.7.4", "Unrecognized authentication type")}}},
			category: knowledge.Configuration, meaning: "never offers AUTH", step: conversation.StepAuth,
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
	c := conversation.Conversation{Host: "smtp.office365.com", Port: 587, Steps: []conversation.StepRecord{
		{Step: conversation.StepConnect}, {Step: conversation.StepBanner, Reply: reply(220, "", "ready")}, ok(conversation.StepEHLO),
		{Step: conversation.StepQuit, Reply: reply(221, "2.0.0", "Service closing transmission channel")}}}
	if d := knowledge.Diagnose(&c); d != nil {
		t.Fatalf("diagnosis for a clean conversation: %+v", d)
	}
}

func TestDiagnoseUnverifiedEntryIsMarked(t *testing.T) {
	c := conversation.Conversation{Host: "smtp.office365.com", Port: 587, Steps: []conversation.StepRecord{
		{Step: conversation.StepEHLO, Reply: reply(421, "4.7.66", "TLS 1.0 and 1.1 are not supported.")}}}
	d := knowledge.Diagnose(&c)
	if d == nil || d.Category != knowledge.TLS || !strings.Contains(d.Meaning, "UNVERIFIED") {
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
		if d == nil || d.Category != knowledge.TLS || d.Step != conversation.StepTLS || !strings.Contains(d.Meaning, "protocol version") {
			t.Fatalf("diagnosis %+v for %+v", d, c.Stop())
		}
	})
	t.Run("plaintext AUTH", func(t *testing.T) {
		c := smtpclient.Converse(context.Background(), smtpclient.Plan{Host: host, Port: port, TLS: smtpclient.NoTLS, Timeout: 10 * time.Second,
			Auth: &smtpclient.Auth{Username: "scanner@contoso.com", Password: "demo-password"}})
		d := knowledge.Diagnose(c)
		// Host is 127.0.0.1, so this is the generic reading, not the
		// smtp.office365.com one; the fault is the same.
		if d == nil || d.Category != knowledge.Auth || d.Step != conversation.StepAuth {
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
		if d == nil || d.Category != knowledge.Network || d.Step != conversation.StepConnect || !strings.Contains(d.Meaning, "No SMTP server answered") {
			t.Fatalf("diagnosis %+v", d)
		}
	})
}
