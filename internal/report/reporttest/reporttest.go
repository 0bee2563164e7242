// Package reporttest builds the hand-made run results that the reporters'
// golden tests render: every verdict, an Exchange Online rejection with its
// diagnosis, a hostile server, and a secret the runner failed to mask. The
// clock is fixed, so rendered output is byte-for-byte stable.
package reporttest

import (
	"encoding/base64"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// Secret is the password planted, unmasked, in a reply, a failure message,
// a diagnosis and the transcript (plain and in base64), as if the runner's
// own masking had missed it.
const Secret = "S3cr3t-p@ss"

// User is the AUTH user name that goes with Secret.
const User = "scanner@contoso.com"

// HostileBanner is the text of a banner from a server that tries to run
// script in an HTML viewer, recolour a terminal, cut a C string short, break
// UTF-8 and close an XML CDATA section.
const HostileBanner = "<script>alert(1)</script> \x1b[31mSERVICE\x1b[0m busy\x00 \xff\xfe ]]> end"

// Start is the fixed time the run began.
var Start = time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)

// Redactor masks Secret the way the runner would for a suite whose check
// authenticates as User with it.
func Redactor() *redact.Redactor {
	return redact.New(Secret).WithAuth(User, Secret)
}

// SecretForms lists the forms of Secret that must never appear in output:
// itself and the base64 encodings an AUTH LOGIN exchange carries it in.
func SecretForms() []string {
	return []string{
		Secret,
		base64.StdEncoding.EncodeToString([]byte(Secret)),
		base64.RawStdEncoding.EncodeToString([]byte(Secret)),
	}
}

// Counts are the verdicts of Results.
var Counts = result.Counts{Passed: 1, Failed: 2, Errored: 1, Skipped: 1}

// Results returns two suites: "contoso: scan-to-email" with a passing and a
// failing (550 5.7.606) check, and "fabrikam: lab relay" with an errored, a
// skipped and a hostile-banner check. Every call returns fresh values.
func Results() []*result.Suite {
	ms := time.Millisecond
	at := func(d time.Duration) time.Time { return Start.Add(d) }

	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	pass := &result.Check{
		Index: 0, Label: "device can submit through smtp.office365.com", Kind: "smtp",
		Endpoint: "submission", Target: "smtp.office365.com:587",
		Status: result.Passed, Attempts: 1,
		Started: at(0), Duration: 1234 * ms,
		Conversation: &result.Conversation{
			Host: "smtp.office365.com", Port: 587, TLSMode: "starttls",
			RemoteAddr: "198.51.100.7:587", LocalAddr: "10.0.0.20:50123",
			Started: at(0), Duration: 1230 * ms,
			Steps: []result.StepRecord{
				{Step: result.StepConnect, Start: 0, Duration: 40 * ms},
				{Step: result.StepBanner, Reply: &esmtp.Reply{Code: 220, Lines: []string{"AM0PR01CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready"}}, Start: 40 * ms, Duration: 60 * ms},
				{Step: result.StepEHLO, Command: "EHLO scanner01.contoso.com", Reply: &esmtp.Reply{Code: 250, Lines: []string{"AM0PR01CA0001.outlook.office365.com Hello [203.0.113.5]", "SIZE 157286400", "PIPELINING", "STARTTLS"}}, Start: 100 * ms, Duration: 50 * ms},
				{Step: result.StepStartTLS, Command: "STARTTLS", Reply: &esmtp.Reply{Code: 220, Enhanced: "2.0.0", Lines: []string{"SMTP server ready"}}, Start: 150 * ms, Duration: 30 * ms},
				{Step: result.StepTLS, AfterTLS: true, Start: 180 * ms, Duration: 120 * ms},
				{Step: result.StepEHLO, Command: "EHLO scanner01.contoso.com", AfterTLS: true, Reply: &esmtp.Reply{Code: 250, Lines: []string{"AM0PR01CA0001.outlook.office365.com Hello [203.0.113.5]", "SIZE 157286400", "PIPELINING", "AUTH LOGIN XOAUTH2"}}, Start: 300 * ms, Duration: 50 * ms},
				{Step: result.StepAuth, Command: "AUTH LOGIN", AfterTLS: true, Reply: &esmtp.Reply{Code: 235, Enhanced: "2.7.0", Lines: []string{"Authentication successful"}}, Start: 350 * ms, Duration: 400 * ms},
				{Step: result.StepMail, Command: "MAIL FROM:<scanner@contoso.com>", AfterTLS: true, Reply: &esmtp.Reply{Code: 250, Enhanced: "2.1.0", Lines: []string{"Sender OK"}}, Start: 750 * ms, Duration: 200 * ms},
				{Step: result.StepRcpt, Command: "RCPT TO:<helpdesk@contoso.com>", AfterTLS: true, Reply: &esmtp.Reply{Code: 250, Enhanced: "2.1.5", Lines: []string{"Recipient OK"}}, Start: 950 * ms, Duration: 200 * ms},
				{Step: result.StepRset, Command: "RSET", AfterTLS: true, Reply: &esmtp.Reply{Code: 250, Enhanced: "2.0.0", Lines: []string{"Resetting"}}, Start: 1150 * ms, Duration: 40 * ms},
				{Step: result.StepQuit, Command: "QUIT", AfterTLS: true, Reply: &esmtp.Reply{Code: 221, Enhanced: "2.0.0", Lines: []string{"Service closing transmission channel"}}, Start: 1190 * ms, Duration: 40 * ms},
			},
			EHLOBeforeTLS: esmtp.ParseEHLO([]string{"SIZE 157286400", "PIPELINING", "STARTTLS"}),
			EHLOAfterTLS:  esmtp.ParseEHLO([]string{"SIZE 157286400", "PIPELINING", "AUTH LOGIN XOAUTH2"}),
			TLS: &result.TLSInfo{
				Version: "1.3", CipherSuite: "TLS_AES_256_GCM_SHA384", ServerName: "smtp.office365.com", Verified: true,
				Chain: []result.Certificate{{
					Subject: "CN=outlook.com,O=Microsoft Corporation,L=Redmond,ST=Washington,C=US", Issuer: "CN=DigiCert Cloud Services CA-1,O=DigiCert Inc,C=US",
					DNSNames: []string{"*.office365.com", "outlook.com"}, SerialNumber: "0a1b2c3d",
					NotBefore: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 6, 30, 23, 59, 59, 0, time.UTC),
					SHA256: "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592",
				}},
			},
			ClientIP: "203.0.113.5",
			Transcript: []result.TranscriptLine{
				{Offset: 0, Direction: result.Note, Text: "connecting to smtp.office365.com:587 (198.51.100.7)"},
				{Offset: 40 * ms, Direction: result.Server, Text: "220 AM0PR01CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready"},
				{Offset: 100 * ms, Direction: result.Client, Text: "EHLO scanner01.contoso.com"},
				{Offset: 150 * ms, Direction: result.Client, Text: "STARTTLS"},
				{Offset: 180 * ms, Direction: result.TLSEvent, Text: "TLS 1.3 TLS_AES_256_GCM_SHA384, certificate verified for smtp.office365.com"},
				{Offset: 350 * ms, Direction: result.Client, Text: "AUTH LOGIN"},
				{Offset: 400 * ms, Direction: result.Server, Text: "334 VXNlcm5hbWU6"},
				{Offset: 400 * ms, Direction: result.Client, Text: b64(User)},
				{Offset: 450 * ms, Direction: result.Server, Text: "334 UGFzc3dvcmQ6"},
				{Offset: 450 * ms, Direction: result.Client, Text: b64(Secret)},
				{Offset: 750 * ms, Direction: result.Server, Text: "235 2.7.0 Authentication successful"},
				{Offset: 1190 * ms, Direction: result.Client, Text: "QUIT"},
			},
		},
	}

	banned := "Access denied, banned sending IP [192.0.2.1] (session " + Secret + ")"
	fail := &result.Check{
		Index: 1, Label: "relay from scanner", Kind: "smtp",
		Endpoint: "mx", Target: "contoso-com.mail.protection.outlook.com:25",
		Status: result.Failed, Attempts: 1,
		Started: at(0), Duration: 1200 * ms,
		Failures: []result.Failure{
			{Expectation: "rcpt", Message: `rcpt: expected "250", got 550 5.7.606 ` + banned},
			{Expectation: "no", Message: `no: 550 5.7.606 ` + banned + ` matched "550 5.7.606-649"`},
		},
		Diagnosis: &result.Diagnosis{
			Category: result.Reputation,
			Summary:  "550 5.7.606 " + banned + " at RCPT",
			Meaning:  "The sending IP is on Microsoft's block list.",
			Fix:      "Request delisting at https://sender.office.com/ (one address and IP per visit; takes up to 24 hours) and find out why the IP was listed.",
			Source:   "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/non-delivery-reports-in-exchange-online",
			IP:       "192.0.2.1",
		},
		Conversation: &result.Conversation{
			Host: "contoso-com.mail.protection.outlook.com", Port: 25, TLSMode: "starttls",
			RemoteAddr: "198.51.100.25:25",
			Started:    at(0), Duration: 1190 * ms,
			Steps: []result.StepRecord{
				{Step: result.StepConnect, Duration: 30 * ms},
				{Step: result.StepBanner, Reply: &esmtp.Reply{Code: 220, Lines: []string{"BN1PEPF0000.mail.protection.outlook.com Microsoft ESMTP MAIL Service ready"}}, Start: 30 * ms, Duration: 50 * ms},
				{Step: result.StepMail, Command: "MAIL FROM:<scanner@contoso.com>", Reply: &esmtp.Reply{Code: 250, Enhanced: "2.1.0", Lines: []string{"Sender OK"}}, Start: 80 * ms, Duration: 100 * ms},
				{Step: result.StepRcpt, Command: "RCPT TO:<helpdesk@contoso.com>", Reply: &esmtp.Reply{Code: 550, Enhanced: "5.7.606", Lines: []string{banned}}, Start: 180 * ms, Duration: 900 * ms},
				{Step: result.StepQuit, Command: "QUIT", Reply: &esmtp.Reply{Code: 221, Enhanced: "2.0.0", Lines: []string{"Service closing transmission channel"}}, Start: 1080 * ms, Duration: 110 * ms},
			},
			Transcript: []result.TranscriptLine{
				{Offset: 0, Direction: result.Note, Text: "connecting to contoso-com.mail.protection.outlook.com:25 (198.51.100.25)"},
				{Offset: 30 * ms, Direction: result.Server, Text: "220 BN1PEPF0000.mail.protection.outlook.com Microsoft ESMTP MAIL Service ready"},
				{Offset: 180 * ms, Direction: result.Client, Text: "RCPT TO:<helpdesk@contoso.com>"},
				{Offset: 1080 * ms, Direction: result.Server, Text: "550 5.7.606 " + banned},
				{Offset: 1080 * ms, Direction: result.Client, Text: "QUIT"},
			},
		},
	}

	errored := &result.Check{
		Index: 0, Label: "lab CA is trusted", Kind: "smtp",
		Endpoint: "lab", Target: "relay.fabrikam.test:587",
		Status: result.Errored, Error: "ca_file: open lab-ca.pem: no such file or directory",
		Started: at(2 * time.Second),
	}
	skipped := &result.Check{
		Index: 1, Label: "port 25 is blocked by the ISP", Kind: "smtp",
		Endpoint: "direct", Target: "relay.fabrikam.test:25",
		Status:  result.Skipped,
		Started: at(2 * time.Second),
	}
	hostileReply := &esmtp.Reply{Code: 421, Enhanced: "4.3.2", Lines: []string{HostileBanner}}
	hostile := &result.Check{
		Index: 2, Label: "hostile banner", Kind: "smtp",
		Endpoint: "lab", Target: "relay.fabrikam.test:2525",
		Status: result.Failed, Attempts: 3,
		Started: at(2 * time.Second), Duration: 40500 * ms,
		Failures: []result.Failure{
			{Expectation: "step", Message: "unexpected " + hostileReply.String() + " at BANNER"},
		},
		Diagnosis: &result.Diagnosis{
			Category: result.Throttling,
			Summary:  hostileReply.String() + " at BANNER",
			Meaning:  "RFC 3463 4.3.2: system not accepting network messages",
			Fix:      "Read the reply text; the server gave no code Exchange Online documents.",
			Source:   "https://www.rfc-editor.org/rfc/rfc3463#section-3",
		},
		Conversation: &result.Conversation{
			Host: "relay.fabrikam.test", Port: 2525, TLSMode: "none",
			RemoteAddr: "127.0.0.1:2525", LocalAddr: "127.0.0.1:40001",
			Started: at(42 * time.Second), Duration: 500 * ms,
			Steps: []result.StepRecord{
				{Step: result.StepConnect, Duration: 1 * ms},
				{Step: result.StepBanner, Reply: hostileReply, Start: 1 * ms, Duration: 2 * ms},
				{Step: result.StepQuit, Command: "QUIT", Fault: &result.Fault{Kind: result.FaultClosed, Message: "connection closed by the server"}, Start: 3 * ms, Duration: 497 * ms},
			},
			Transcript: []result.TranscriptLine{
				{Offset: 0, Direction: result.Note, Text: "connecting to relay.fabrikam.test:2525 (127.0.0.1)"},
				{Offset: 1 * ms, Direction: result.Server, Text: hostileReply.String()},
				{Offset: 3 * ms, Direction: result.Client, Text: "QUIT"},
				{Offset: 500 * ms, Direction: result.Note, Text: "connection closed by the server"},
			},
		},
	}

	return []*result.Suite{
		{
			Name: "contoso: scan-to-email", Description: "Runs before the ISP cutover on 2026-12-05",
			Path: "suites/contoso.hcl", Started: at(0), Duration: 1250 * ms,
			Checks: []*result.Check{pass, fail},
		},
		{
			Name: "fabrikam: lab relay", Path: "suites/fabrikam.hcl",
			Started: at(2 * time.Second), Duration: 40520 * ms,
			Checks: []*result.Check{errored, skipped, hostile},
		},
	}
}

// Events returns the events a run producing results would emit, in order.
func Events(results []*result.Suite) []result.Event {
	var evs []result.Event
	for _, s := range results {
		n := len(s.Checks)
		evs = append(evs, result.Event{Kind: result.SuiteStarted, Suite: s, Total: n})
		for _, c := range s.Checks {
			evs = append(evs, result.Event{Kind: result.CheckFinished, Suite: s, Check: c, Total: n})
		}
		evs = append(evs, result.Event{Kind: result.SuiteFinished, Suite: s, Total: n})
	}
	return evs
}
