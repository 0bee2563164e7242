package assertions

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// started is the fixed start of every test conversation.
var started = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// builder assembles a Conversation step by step; every step takes 10ms.
type builder struct {
	c        result.Conversation
	afterTLS bool
}

func newConversation() *builder {
	return &builder{c: result.Conversation{
		Host: "127.0.0.1", Port: 2525, TLSMode: "starttls",
		Started: started,
	}}
}

func (b *builder) add(step result.Step, command string, r *esmtp.Reply, f *result.Fault) *builder {
	start := time.Duration(len(b.c.Steps)) * 10 * time.Millisecond
	b.c.Steps = append(b.c.Steps, result.StepRecord{
		Step: step, Command: command, AfterTLS: b.afterTLS,
		Reply: r, Fault: f, Start: start, Duration: 10 * time.Millisecond,
	})
	b.c.Duration = start + 10*time.Millisecond
	return b
}

// step records a step answered with a reply in rendered form.
func (b *builder) step(step result.Step, command, r string) *builder {
	return b.add(step, command, reply(r), nil)
}

// fault records a step that ended without a reply.
func (b *builder) fault(step result.Step, command string, kind result.FaultKind, message string) *builder {
	return b.add(step, command, nil, &result.Fault{Kind: kind, Message: message})
}

func (b *builder) connect() *builder {
	b.c.RemoteAddr, b.c.LocalAddr = "127.0.0.1:2525", "127.0.0.1:40000"
	return b.add(result.StepConnect, "", nil, nil)
}

func (b *builder) banner() *builder {
	return b.step(result.StepBanner, "", "220 mx.example.test ESMTP ready")
}

// ehlo records an accepted EHLO and its extension lines before or after
// TLS, echoing the client IP the way Exchange Online does.
func (b *builder) ehlo(extensions ...string) *builder {
	r := reply("250 mx.example.test Hello [192.0.2.1]")
	r.Lines = append(r.Lines, extensions...)
	if extensions == nil {
		extensions = []string{}
	}
	if b.afterTLS {
		b.c.EHLOAfterTLS = esmtp.ParseEHLO(extensions)
	} else {
		b.c.EHLOBeforeTLS = esmtp.ParseEHLO(extensions)
	}
	b.c.ClientIP = "192.0.2.1"
	return b.add(result.StepEHLO, "EHLO client.example.test", r, nil)
}

// startTLS records STARTTLS, a completed handshake with a verified
// certificate, and switches to steps inside TLS.
func (b *builder) startTLS() *builder {
	b.step(result.StepStartTLS, "STARTTLS", "220 2.0.0 SMTP server ready")
	b.handshake(true, "")
	return b
}

// handshake records the TLS step and session; verifyError is "" for a
// chain that verified.
func (b *builder) handshake(verified bool, verifyError string) *builder {
	b.c.TLS = &result.TLSInfo{
		Version: "1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ServerName: "mx.example.test",
		Chain: []result.Certificate{{
			Subject: "CN=mx.example.test", Issuer: "CN=Test CA",
			NotBefore: started.AddDate(0, -1, 0), NotAfter: started.Add(9*24*time.Hour + 5*time.Hour),
		}},
		Verified: verified, VerifyError: verifyError,
	}
	b.add(result.StepTLS, "", nil, nil)
	b.afterTLS = true
	return b
}

func (b *builder) rcpt(to, r string) *builder {
	return b.step(result.StepRcpt, "RCPT TO:<"+to+">", r)
}

func (b *builder) quit() *builder {
	return b.step(result.StepQuit, "QUIT", "221 2.0.0 Service closing transmission channel")
}

func (b *builder) build() *result.Conversation { return &b.c }

// Extension lines as smtp.office365.com sends them (reference/m365-facts.md).
var (
	beforeTLS = []string{"SIZE 157286400", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS", "8BITMIME"}
	afterTLS  = []string{"SIZE 157286400", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "AUTH LOGIN XOAUTH2", "8BITMIME"}
	mxPlain   = []string{"SIZE 157286400", "PIPELINING", "8BITMIME"}
)

// submission is a conversation with everything up to AUTH done: connect,
// banner, EHLO, STARTTLS, handshake, EHLO again.
func submission() *builder {
	return newConversation().connect().banner().ehlo(beforeTLS...).startTLS().ehlo(afterTLS...)
}

// delivered is a complete, successful submission of one message to two
// recipients.
func delivered() *builder {
	return submission().
		step(result.StepAuth, "AUTH LOGIN ****", "235 2.7.0 Authentication successful").
		step(result.StepMail, "MAIL FROM:<scanner@example.test>", "250 2.1.0 Sender OK").
		rcpt("a@example.test", "250 2.1.5 Recipient OK").
		rcpt("b@example.test", "250 2.1.5 Recipient OK").
		step(result.StepData, "DATA", "354 Start mail input; end with <CRLF>.<CRLF>").
		step(result.StepMessage, "", "250 2.0.0 OK <id@example.test> [Hostname=mx]").
		quit()
}

const banned = "550 5.7.606 Access denied, banned sending IP [192.0.2.1]"

func ptr[T any](v T) *T { return &v }

func pat(s string) *Pattern { p := MustParsePattern(s); return &p }

func pats(ss ...string) []Pattern {
	out := make([]Pattern, len(ss))
	for i, s := range ss {
		out[i] = MustParsePattern(s)
	}
	return out
}

func comparison(s string) *Comparison {
	c, err := ParseComparison(s)
	if err != nil {
		panic(err)
	}
	return &c
}

func step(message string) result.Failure {
	return result.Failure{Expectation: "step", Message: message}
}

// failure makes the Failure of an attribute whose message carries its name.
func failure(message string) result.Failure {
	name, _, _ := strings.Cut(message, ":")
	name, _, _ = strings.Cut(name, " ")
	return result.Failure{Expectation: name, Message: message}
}

type evaluateTest struct {
	name   string
	expect *Expect
	conv   *result.Conversation
	want   []result.Failure
}

func runEvaluateTests(t *testing.T, tests []evaluateTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(tt.expect, tt.conv)
			if !equalFailures(got, tt.want) {
				t.Errorf("Evaluate:\n got %s\nwant %s", formatFailures(got), formatFailures(tt.want))
			}
		})
	}
}

func equalFailures(a, b []result.Failure) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func formatFailures(fs []result.Failure) string {
	if len(fs) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n  [%s] %s", f.Expectation, f.Message)
	}
	return b.String()
}

func TestEvaluateDefaultRule(t *testing.T) {
	runEvaluateTests(t, []evaluateTest{
		{name: "delivered", conv: delivered().build()},
		{
			name: "mail refused",
			conv: submission().step(result.StepMail, "MAIL FROM:<s@example.test>", "530 5.7.57 Client not authenticated to send mail").quit().build(),
			want: []result.Failure{step("unexpected 530 5.7.57 Client not authenticated to send mail at MAIL")},
		},
		{
			name: "connection refused",
			conv: newConversation().fault(result.StepConnect, "", result.FaultRefused, "connection refused").build(),
			want: []result.Failure{step("connect: connection refused (127.0.0.1:2525)")},
		},
		{
			name: "connect fault already naming the address",
			conv: newConversation().fault(result.StepConnect, "", result.FaultTimeout, "dial tcp 127.0.0.1:2525: i/o timeout").build(),
			want: []result.Failure{step("connect: dial tcp 127.0.0.1:2525: i/o timeout")},
		},
		{
			name: "one of two recipients refused",
			conv: submission().
				step(result.StepMail, "MAIL FROM:<s@example.test>", "250 2.1.0 Sender OK").
				rcpt("a@example.test", "550 5.1.1 User unknown").
				rcpt("b@example.test", "250 2.1.5 Recipient OK").
				step(result.StepRset, "RSET", "250 2.0.0 OK").quit().build(),
			want: []result.Failure{step("unexpected 550 5.1.1 User unknown at RCPT 1 (<a@example.test>)")},
		},
		{
			name: "single recipient refused",
			conv: submission().
				step(result.StepMail, "MAIL FROM:<s@example.test>", "250 2.1.0 Sender OK").
				rcpt("a@example.test", banned).quit().build(),
			want: []result.Failure{step("unexpected " + banned + " at RCPT")},
		},
		{
			name: "HELO after a refused EHLO",
			conv: func() *result.Conversation {
				b := newConversation().connect().banner().
					step(result.StepEHLO, "EHLO client.example.test", "502 5.5.2 Command not recognized").
					step(result.StepEHLO, "HELO client.example.test", "250 mx.example.test").
					step(result.StepMail, "MAIL FROM:<s@example.test>", "250 OK").quit()
				b.c.UsedHELO = true
				return b.build()
			}(),
		},
		{
			name: "HELO refused too",
			conv: func() *result.Conversation {
				b := newConversation().connect().banner().
					step(result.StepEHLO, "EHLO client.example.test", "502 5.5.2 Command not recognized").
					step(result.StepEHLO, "HELO client.example.test", "554 5.7.1 Go away").quit()
				b.c.UsedHELO = true
				return b.build()
			}(),
			want: []result.Failure{step("unexpected 554 5.7.1 Go away at HELO")},
		},
		{
			name: "QUIT refused and closed",
			conv: submission().step(result.StepQuit, "QUIT", "500 5.5.1 what").build(),
		},
		{
			name: "QUIT fault",
			conv: submission().fault(result.StepQuit, "QUIT", result.FaultClosed, "connection reset by peer").build(),
		},
		{
			name: "STARTTLS not advertised",
			conv: newConversation().connect().banner().ehlo(mxPlain...).
				fault(result.StepStartTLS, "", result.FaultNotAdvertised, "STARTTLS not advertised").quit().build(),
			want: []result.Failure{step("starttls: STARTTLS not advertised")},
		},
		{
			name: "banner refused",
			conv: newConversation().connect().step(result.StepBanner, "", "554 5.7.1 No SMTP service here").quit().build(),
			want: []result.Failure{step("unexpected 554 5.7.1 No SMTP service here at banner")},
		},
		{
			name: "message refused",
			conv: submission().step(result.StepMail, "MAIL FROM:<s@example.test>", "250 OK").
				rcpt("a@example.test", "250 OK").
				step(result.StepData, "DATA", "354 go ahead").
				step(result.StepMessage, "", "550 5.7.1 Message rejected\nas spam").quit().build(),
			want: []result.Failure{step("unexpected 550 5.7.1 Message rejected as spam at end of DATA")},
		},
		{
			name: "fault message on several lines",
			conv: submission().fault(result.StepAuth, "AUTH LOGIN ****", result.FaultMalformed, "malformed reply\n  from server").build(),
			want: []result.Failure{step("auth: malformed reply from server")},
		},
		{name: "no steps", conv: newConversation().build(), want: []result.Failure{step("no step was recorded")}},
		{name: "no conversation", want: []result.Failure{step("no conversation was recorded")}},
	})
}

func TestEvaluateConnect(t *testing.T) {
	refused := newConversation().fault(result.StepConnect, "", result.FaultRefused, "connection refused").build()
	runEvaluateTests(t, []evaluateTest{
		{name: "true holds", expect: &Expect{Connect: ptr(true)}, conv: delivered().build()},
		{
			name: "true fails", expect: &Expect{Connect: ptr(true)}, conv: refused,
			want: []result.Failure{failure("connect: expected a connection, got connection refused (127.0.0.1:2525)")},
		},
		{name: "false holds on a blocked port", expect: &Expect{Connect: ptr(false)}, conv: refused},
		{
			name: "false fails", expect: &Expect{Connect: ptr(false)}, conv: delivered().build(),
			want: []result.Failure{failure("connect: expected the connection to fail, connected to 127.0.0.1:2525")},
		},
		{
			name: "not reached", expect: &Expect{Connect: ptr(true)}, conv: newConversation().build(),
			want: []result.Failure{step("no step was recorded"), failure("connect: not reached: the conversation had no connect step")},
		},
		{
			name: "implicit TLS certificate fault is still a connection", expect: &Expect{Connect: ptr(true)},
			conv: implicitCertificateFault(),
			want: []result.Failure{step("tls: x509: certificate has expired")},
		},
		{
			name: "implicit TLS certificate fault anticipated", expect: &Expect{Connect: ptr(true), CertificateValid: ptr(false)},
			conv: implicitCertificateFault(),
		},
		{
			name: "implicit TLS handshake failure is no connection", expect: &Expect{Connect: ptr(true)}, conv: implicitHandshakeFailure(),
			want: []result.Failure{failure("connect: expected a connection, got TLS handshake failed: tls: first record does not look like a TLS handshake")},
		},
		{name: "implicit TLS handshake failure proves connect = false", expect: &Expect{Connect: ptr(false)}, conv: implicitHandshakeFailure()},
		{
			name: "implicit TLS handshake failure not anticipated", expect: &Expect{Banner: pat("220")}, conv: implicitHandshakeFailure(),
			want: []result.Failure{
				step("tls: TLS handshake failed: tls: first record does not look like a TLS handshake"),
				failure("banner: not reached: stopped at tls (TLS handshake failed: tls: first record does not look like a TLS handshake)"),
			},
		},
		{
			name: "implicit TLS connect = false fails", expect: &Expect{Connect: ptr(false)},
			conv: func() *result.Conversation {
				b := newConversation()
				b.c.TLSMode = "implicit"
				return b.connect().handshake(true, "").banner().ehlo(afterTLS...).quit().build()
			}(),
			want: []result.Failure{failure("connect: expected the connection to fail, connected to 127.0.0.1:2525")},
		},
	})
}

// implicitCertificateFault is a port 465 conversation whose certificate
// did not verify, with verification required.
func implicitCertificateFault() *result.Conversation {
	b := newConversation()
	b.c.TLSMode = "implicit"
	b.connect()
	b.c.TLS = &result.TLSInfo{Version: "1.3", VerifyError: "x509: certificate has expired"}
	return b.fault(result.StepTLS, "", result.FaultCertificate, "x509: certificate has expired").build()
}

// implicitHandshakeFailure is a port 465 conversation with a server that
// does not speak TLS there.
func implicitHandshakeFailure() *result.Conversation {
	b := newConversation()
	b.c.TLSMode = "implicit"
	return b.connect().fault(result.StepTLS, "", result.FaultTLSHandshake,
		"TLS handshake failed: tls: first record does not look like a TLS handshake").build()
}

func TestEvaluateReplyPatterns(t *testing.T) {
	authFailed := submission().step(result.StepAuth, "AUTH LOGIN ****",
		"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.").quit().build()
	heloFallback := func() *result.Conversation {
		b := newConversation().connect().banner().
			step(result.StepEHLO, "EHLO client.example.test", "500 5.5.1 Unrecognized command").
			step(result.StepEHLO, "HELO client.example.test", "250 mx.example.test").quit()
		b.c.UsedHELO = true
		return b.build()
	}()
	runEvaluateTests(t, []evaluateTest{
		{name: "banner holds", expect: &Expect{Banner: pat("220")}, conv: delivered().build()},
		{
			name: "banner fails without a second report", expect: &Expect{Banner: pat("220")},
			conv: newConversation().connect().step(result.StepBanner, "", "554 5.7.1 Go away").quit().build(),
			want: []result.Failure{failure(`banner: expected "220", got 554 5.7.1 Go away`)},
		},
		{
			name: "banner refusal anticipated", expect: &Expect{Banner: pat("554 5.7.1")},
			conv: newConversation().connect().step(result.StepBanner, "", "554 5.7.1 Go away").quit().build(),
		},
		{
			name: "banner timeout", expect: &Expect{Banner: pat("220")},
			conv: newConversation().connect().fault(result.StepBanner, "", result.FaultTimeout, "timeout waiting for the banner").build(),
			want: []result.Failure{failure(`banner: expected "220", got timeout waiting for the banner`)},
		},
		{name: "ehlo holds on the last EHLO", expect: &Expect{EHLO: pat("250 Hello [192.0.2.1]")}, conv: delivered().build()},
		{name: "ehlo holds on HELO after a refused EHLO", expect: &Expect{EHLO: pat("250")}, conv: heloFallback},
		{
			name: "ehlo judged on HELO, not the refused EHLO", expect: &Expect{EHLO: pat("5xx")}, conv: heloFallback,
			want: []result.Failure{failure(`ehlo: expected "5xx", got 250 mx.example.test`)},
		},
		{name: "auth holds", expect: &Expect{Auth: pat("235")}, conv: delivered().build()},
		{
			name: "auth fails", expect: &Expect{Auth: pat("235")}, conv: authFailed,
			want: []result.Failure{failure(`auth: expected "235", got 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.`)},
		},
		{name: "auth refusal expected", expect: &Expect{Auth: pat("535 5.7.139")}, conv: authFailed},
		{
			name: "auth not in the conversation", expect: &Expect{Auth: pat("235")},
			conv: submission().step(result.StepMail, "MAIL FROM:<s@example.test>", "250 OK").quit().build(),
			want: []result.Failure{failure("auth: not reached: the conversation had no AUTH step")},
		},
		{
			name: "QUIT fault is not a stop", expect: &Expect{Auth: pat("235")},
			conv: submission().step(result.StepMail, "MAIL FROM:<s@example.test>", "250 OK").
				fault(result.StepQuit, "QUIT", result.FaultClosed, "connection reset by peer").build(),
			want: []result.Failure{failure("auth: not reached: the conversation had no AUTH step")},
		},
		{name: "mail holds", expect: &Expect{Mail: pat("250 2.1.0")}, conv: delivered().build()},
		{
			name: "mail fails", expect: &Expect{Mail: pat("250")},
			conv: submission().step(result.StepMail, "MAIL FROM:<s@example.test>", "530 5.7.57 Client not authenticated to send mail").quit().build(),
			want: []result.Failure{failure(`mail: expected "250", got 530 5.7.57 Client not authenticated to send mail`)},
		},
		{
			name: "mail timeout", expect: &Expect{Mail: pat("250")},
			conv: submission().fault(result.StepMail, "MAIL FROM:<s@example.test>", result.FaultTimeout, "timeout after 30s").build(),
			want: []result.Failure{failure(`mail: expected "250", got timeout after 30s`)},
		},
	})
}

func TestEvaluateRcpt(t *testing.T) {
	mixed := submission().
		step(result.StepMail, "MAIL FROM:<s@example.test>", "250 2.1.0 Sender OK").
		rcpt("a@example.test", "250 2.1.5 Recipient OK").
		rcpt("b@example.test", "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)").
		step(result.StepRset, "RSET", "250 2.0.0 Resetting").quit().build()
	bannedOnly := submission().
		step(result.StepMail, "MAIL FROM:<s@example.test>", "250 2.1.0 Sender OK").
		rcpt("a@example.test", banned).quit().build()
	runEvaluateTests(t, []evaluateTest{
		{name: "one pattern, every RCPT", expect: &Expect{Rcpt: pats("250")}, conv: delivered().build()},
		{name: "refusal expected", expect: &Expect{Rcpt: pats("550 5.7.606")}, conv: bannedOnly},
		{name: "refusal expected by range", expect: &Expect{Rcpt: pats("550 5.7.606-649 banned")}, conv: bannedOnly},
		{
			name: "one RCPT refused", expect: &Expect{Rcpt: pats("250")}, conv: bannedOnly,
			want: []result.Failure{failure(`rcpt: expected "250", got ` + banned)},
		},
		{
			name: "second of two refused", expect: &Expect{Rcpt: pats("2xx")}, conv: mixed,
			want: []result.Failure{failure(`rcpt 2 (<b@example.test>): expected "2xx", got 550 5.4.1 Recipient address rejected: Access denied. AS(201806281)`)},
		},
		{name: "list in order", expect: &Expect{Rcpt: pats("250", "550 5.4.1")}, conv: mixed},
		{
			name: "list in the wrong order", expect: &Expect{Rcpt: pats("550 5.4.1", "250")}, conv: mixed,
			want: []result.Failure{
				failure(`rcpt 1 (<a@example.test>): expected "550 5.4.1", got 250 2.1.5 Recipient OK`),
				failure(`rcpt 2 (<b@example.test>): expected "250", got 550 5.4.1 Recipient address rejected: Access denied. AS(201806281)`),
			},
		},
		{
			name: "more patterns than RCPTs", expect: &Expect{Rcpt: pats("250", "250", "250")}, conv: delivered().build(),
			want: []result.Failure{failure(`rcpt 3: expected "250", but only 2 RCPT commands were sent`)},
		},
		{
			name: "fewer patterns than RCPTs", expect: &Expect{Rcpt: pats("250", "250")},
			conv: submission().step(result.StepMail, "MAIL FROM:<s@example.test>", "250 OK").
				rcpt("a@example.test", "250 OK").rcpt("b@example.test", "250 OK").rcpt("c@example.test", "250 OK").
				step(result.StepRset, "RSET", "250 OK").quit().build(),
			want: []result.Failure{failure("rcpt: 2 patterns for 3 RCPT commands: give one pattern for every RCPT or one per recipient")},
		},
		{
			name: "RCPT timeout stops the rest", expect: &Expect{Rcpt: pats("250", "250")},
			conv: submission().step(result.StepMail, "MAIL FROM:<s@example.test>", "250 OK").
				fault(result.StepRcpt, "RCPT TO:<a@example.test>", result.FaultTimeout, "timeout after 30s").build(),
			want: []result.Failure{
				failure(`rcpt 1 (<a@example.test>): expected "250", got timeout after 30s`),
				failure("rcpt 2: not reached: stopped at rcpt (timeout after 30s)"),
			},
		},
		{
			name: "not reached", expect: &Expect{Rcpt: pats("250")},
			conv: submission().step(result.StepMail, "MAIL FROM:<s@example.test>", "530 5.7.57 Client not authenticated to send mail").quit().build(),
			want: []result.Failure{
				step("unexpected 530 5.7.57 Client not authenticated to send mail at MAIL"),
				failure("rcpt: not reached: stopped at mail (530 5.7.57 Client not authenticated to send mail)"),
			},
		},
	})
}

func TestEvaluateData(t *testing.T) {
	transaction := func() *builder {
		return submission().step(result.StepMail, "MAIL FROM:<s@example.test>", "250 OK").rcpt("a@example.test", "250 OK")
	}
	runEvaluateTests(t, []evaluateTest{
		{name: "final reply holds", expect: &Expect{Data: pat("250 2.0.0")}, conv: delivered().build()},
		{
			name: "final reply refused", expect: &Expect{Data: pat("250")},
			conv: transaction().step(result.StepData, "DATA", "354 go ahead").
				step(result.StepMessage, "", "550 5.7.1 Message rejected as spam").quit().build(),
			want: []result.Failure{failure(`data: expected "250", got 550 5.7.1 Message rejected as spam`)},
		},
		{
			name: "DATA refused and expected", expect: &Expect{Data: pat("554 5.5.1")},
			conv: transaction().step(result.StepData, "DATA", "554 5.5.1 No valid recipients").quit().build(),
		},
		{
			name: "DATA refused", expect: &Expect{Data: pat("250")},
			conv: transaction().step(result.StepData, "DATA", "554 5.5.1 No valid recipients").quit().build(),
			want: []result.Failure{failure(`data: expected "250", got 554 5.5.1 No valid recipients`)},
		},
		{
			name: "RSET instead of DATA", expect: &Expect{Data: pat("250")},
			conv: transaction().step(result.StepRset, "RSET", "250 OK").quit().build(),
			want: []result.Failure{failure("data: not reached: RSET was sent instead of DATA (the check has no message)")},
		},
		{
			name: "every RCPT refused", expect: &Expect{Data: pat("250"), Rcpt: pats("250")},
			conv: submission().step(result.StepMail, "MAIL FROM:<s@example.test>", "250 OK").
				rcpt("a@example.test", banned).quit().build(),
			want: []result.Failure{
				failure(`rcpt: expected "250", got ` + banned),
				failure("data: not reached: stopped at rcpt (" + banned + ")"),
			},
		},
		{
			name: "message step missing after 354", expect: &Expect{Data: pat("250")},
			conv: transaction().step(result.StepData, "DATA", "354 go ahead").build(),
			want: []result.Failure{failure("data: not reached: the conversation had no message step")},
		},
	})
}

func TestEvaluateStartTLS(t *testing.T) {
	notAdvertised := newConversation().connect().banner().ehlo(mxPlain...).
		fault(result.StepStartTLS, "", result.FaultNotAdvertised, "STARTTLS not advertised").quit().build()
	certificateFault := func() *result.Conversation {
		b := newConversation().connect().banner().ehlo(beforeTLS...).
			step(result.StepStartTLS, "STARTTLS", "220 2.0.0 SMTP server ready")
		b.c.TLS = &result.TLSInfo{Version: "1.2", Verified: false, VerifyError: "x509: certificate signed by unknown authority"}
		return b.fault(result.StepTLS, "", result.FaultCertificate, "x509: certificate signed by unknown authority").build()
	}
	runEvaluateTests(t, []evaluateTest{
		{name: "true holds", expect: &Expect{StartTLS: ptr(true)}, conv: delivered().build()},
		{
			name: "true, not advertised", expect: &Expect{StartTLS: ptr(true)}, conv: notAdvertised,
			want: []result.Failure{failure("starttls: STARTTLS was not advertised")},
		},
		{name: "false holds and anticipates the stop", expect: &Expect{StartTLS: ptr(false)}, conv: notAdvertised},
		{
			name: "false, advertised", expect: &Expect{StartTLS: ptr(false)}, conv: delivered().build(),
			want: []result.Failure{failure("starttls: STARTTLS was advertised")},
		},
		{
			name: "STARTTLS refused", expect: &Expect{StartTLS: ptr(true)},
			conv: newConversation().connect().banner().ehlo(beforeTLS...).
				step(result.StepStartTLS, "STARTTLS", "454 4.7.0 TLS not available due to temporary reason").quit().build(),
			want: []result.Failure{failure("starttls: expected STARTTLS to succeed, got 454 4.7.0 TLS not available due to temporary reason")},
		},
		{
			name: "handshake failed", expect: &Expect{StartTLS: ptr(true)},
			conv: newConversation().connect().banner().ehlo(beforeTLS...).
				step(result.StepStartTLS, "STARTTLS", "220 2.0.0 SMTP server ready").
				fault(result.StepTLS, "", result.FaultTLSHandshake, "TLS handshake failed: remote error: tls: protocol version not supported").build(),
			want: []result.Failure{failure("starttls: expected a TLS session, got TLS handshake failed: remote error: tls: protocol version not supported")},
		},
		{
			name: "certificate fault is not anticipated by starttls", expect: &Expect{StartTLS: ptr(true)}, conv: certificateFault(),
			want: []result.Failure{step("tls: x509: certificate signed by unknown authority")},
		},
		{name: "certificate fault anticipated", expect: &Expect{StartTLS: ptr(true), CertificateValid: ptr(false)}, conv: certificateFault()},
		{
			name: "certificate fault judged by certificate_valid", expect: &Expect{CertificateValid: ptr(true)}, conv: certificateFault(),
			want: []result.Failure{failure("certificate_valid: expected a valid certificate, got x509: certificate signed by unknown authority")},
		},
		{
			name: "certificate fault with no session recorded", expect: &Expect{CertificateValid: ptr(true)},
			conv: func() *result.Conversation {
				c := certificateFault()
				c.TLS = nil
				return c
			}(),
			want: []result.Failure{failure("certificate_valid: expected a valid certificate, got x509: certificate signed by unknown authority")},
		},
		{
			name: "HELO offers no STARTTLS", expect: &Expect{StartTLS: ptr(true)},
			conv: func() *result.Conversation {
				b := newConversation().connect().banner().
					step(result.StepEHLO, "EHLO client.example.test", "502 5.5.2 Command not recognized").
					step(result.StepEHLO, "HELO client.example.test", "250 mx.example.test").
					fault(result.StepStartTLS, "", result.FaultNotAdvertised, "STARTTLS not advertised").quit()
				b.c.UsedHELO = true
				return b.build()
			}(),
			want: []result.Failure{failure("starttls: STARTTLS was not advertised (HELO was used, so the server offered no extensions)")},
		},
		{
			name: "advertised but tls = none", expect: &Expect{StartTLS: ptr(true)},
			conv: func() *result.Conversation {
				b := newConversation().connect().banner().ehlo(beforeTLS...).quit()
				b.c.TLSMode = "none"
				return b.build()
			}(),
			want: []result.Failure{failure(`starttls: STARTTLS was advertised but not used (tls = "none")`)},
		},
		{
			name: "not reached", expect: &Expect{StartTLS: ptr(false)},
			conv: newConversation().connect().fault(result.StepBanner, "", result.FaultClosed, "connection closed by the server").build(),
			want: []result.Failure{
				step("banner: connection closed by the server"),
				failure("starttls: not reached: stopped at banner (connection closed by the server)"),
			},
		},
		{
			name: "implicit TLS", expect: &Expect{StartTLS: ptr(true)},
			conv: func() *result.Conversation {
				b := newConversation().connect().banner().ehlo(afterTLS...).quit()
				b.c.TLSMode = "implicit"
				return b.build()
			}(),
			want: []result.Failure{failure("starttls: not applicable: the endpoint uses implicit TLS, which needs no STARTTLS (use tls_version or certificate_valid)")},
		},
	})
}

func TestEvaluateTLSSession(t *testing.T) {
	plain := func() *result.Conversation {
		b := newConversation().connect().banner().ehlo(mxPlain...).quit()
		b.c.TLSMode = "none"
		return b.build()
	}()
	unverified := func() *result.Conversation {
		// verify_certificate = false: the problem is recorded, the
		// conversation goes on.
		b := newConversation().connect().banner().ehlo(beforeTLS...).
			step(result.StepStartTLS, "STARTTLS", "220 2.0.0 ready").
			handshake(false, "x509: certificate is valid for other.example.test, not mx.example.test").
			ehlo(afterTLS...).quit()
		return b.build()
	}()
	expired := func() *result.Conversation {
		c := delivered().build()
		c.TLS.Chain[0].NotAfter = started.Add(-36 * time.Hour)
		return c
	}()
	runEvaluateTests(t, []evaluateTest{
		{name: "version holds", expect: &Expect{TLSVersion: comparison(">= 1.2")}, conv: delivered().build()},
		{
			name: "version fails", expect: &Expect{TLSVersion: comparison("= 1.2")}, conv: delivered().build(),
			want: []result.Failure{failure(`tls_version: expected "= 1.2", got 1.3`)},
		},
		{
			name: "old version", expect: &Expect{TLSVersion: comparison(">= 1.2")},
			conv: func() *result.Conversation { c := delivered().build(); c.TLS.Version = "1.0"; return c }(),
			want: []result.Failure{failure(`tls_version: expected ">= 1.2", got 1.0`)},
		},
		{
			name: "unknown version", expect: &Expect{TLSVersion: comparison(">= 1.2")},
			conv: func() *result.Conversation { c := delivered().build(); c.TLS.Version = "SSLv3"; return c }(),
			want: []result.Failure{failure(`tls_version: expected ">= 1.2", got unknown version "SSLv3"`)},
		},
		{
			name: "version without TLS", expect: &Expect{TLSVersion: comparison(">= 1.2")}, conv: plain,
			want: []result.Failure{failure(`tls_version: not reached: the conversation did not use TLS (tls = "none")`)},
		},
		{
			name: "version when STARTTLS was missing", expect: &Expect{TLSVersion: comparison(">= 1.2")},
			conv: newConversation().connect().banner().ehlo(mxPlain...).
				fault(result.StepStartTLS, "", result.FaultNotAdvertised, "STARTTLS not advertised").quit().build(),
			want: []result.Failure{
				step("starttls: STARTTLS not advertised"),
				failure("tls_version: not reached: stopped at starttls (STARTTLS not advertised)"),
			},
		},
		{name: "valid holds", expect: &Expect{CertificateValid: ptr(true)}, conv: delivered().build()},
		{name: "invalid holds with verification off", expect: &Expect{CertificateValid: ptr(false)}, conv: unverified},
		{
			name: "valid fails with verification off", expect: &Expect{CertificateValid: ptr(true)}, conv: unverified,
			want: []result.Failure{failure("certificate_valid: expected a valid certificate, got x509: certificate is valid for other.example.test, not mx.example.test")},
		},
		{
			name: "invalid fails", expect: &Expect{CertificateValid: ptr(false)}, conv: delivered().build(),
			want: []result.Failure{failure("certificate_valid: expected a certificate that does not verify, but it verified (CN=mx.example.test)")},
		},
		{name: "days left hold", expect: &Expect{CertificateDaysLeft: comparison(">= 9")}, conv: delivered().build()},
		{
			name: "days left fail", expect: &Expect{CertificateDaysLeft: comparison(">= 14")}, conv: delivered().build(),
			want: []result.Failure{failure(`certificate_days_left: expected ">= 14", got 9 (expires 2026-11-29T15:00:00Z)`)},
		},
		{
			name: "expired", expect: &Expect{CertificateDaysLeft: comparison("> 0")}, conv: expired,
			want: []result.Failure{failure(`certificate_days_left: expected "> 0", got -2 (expired 2026-11-18T22:00:00Z)`)},
		},
		{
			name: "days left without TLS", expect: &Expect{CertificateDaysLeft: comparison(">= 14")}, conv: plain,
			want: []result.Failure{failure(`certificate_days_left: not reached: the conversation did not use TLS (tls = "none")`)},
		},
		{
			name: "days left without a start time", expect: &Expect{CertificateDaysLeft: comparison(">= 14")},
			conv: func() *result.Conversation { c := delivered().build(); c.Started = time.Time{}; return c }(),
			want: []result.Failure{failure("certificate_days_left: the conversation has no start time to count from")},
		},
		{
			name: "days left without a chain", expect: &Expect{CertificateDaysLeft: comparison(">= 14")},
			conv: func() *result.Conversation { c := delivered().build(); c.TLS.Chain = nil; return c }(),
			want: []result.Failure{failure("certificate_days_left: the server presented no certificate")},
		},
	})
}

func TestEvaluateExtensions(t *testing.T) {
	mx := newConversation().connect().banner().ehlo(append([]string{"STARTTLS"}, mxPlain...)...).startTLS().ehlo(mxPlain...).quit().build()
	authBefore := newConversation().connect().banner().ehlo("AUTH=LOGIN PLAIN", "STARTTLS").startTLS().ehlo("AUTH PLAIN LOGIN").quit().build()
	runEvaluateTests(t, []evaluateTest{
		{name: "advertises holds", expect: &Expect{Advertises: []string{"PIPELINING", "AUTH LOGIN", "auth xoauth2", "size"}}, conv: delivered().build()},
		{
			name: "advertises fails on the last EHLO", expect: &Expect{Advertises: []string{"STARTTLS", "AUTH PLAIN", "AUTH LOGIN PLAIN"}}, conv: delivered().build(),
			want: []result.Failure{
				failure(`advertises: "STARTTLS" is not in the last EHLO reply (SIZE 157286400, PIPELINING, DSN, ENHANCEDSTATUSCODES, AUTH LOGIN XOAUTH2, 8BITMIME)`),
				failure(`advertises: "AUTH PLAIN" is not in the last EHLO reply (SIZE 157286400, PIPELINING, DSN, ENHANCEDSTATUSCODES, AUTH LOGIN XOAUTH2, 8BITMIME)`),
				failure(`advertises: "AUTH LOGIN PLAIN" is not in the last EHLO reply (SIZE 157286400, PIPELINING, DSN, ENHANCEDSTATUSCODES, AUTH LOGIN XOAUTH2, 8BITMIME)`),
			},
		},
		{
			name: "advertises does not match a prefix", expect: &Expect{Advertises: []string{"SIZ", "AUTH LOG"}}, conv: delivered().build(),
			want: []result.Failure{
				failure(`advertises: "SIZ" is not in the last EHLO reply (SIZE 157286400, PIPELINING, DSN, ENHANCEDSTATUSCODES, AUTH LOGIN XOAUTH2, 8BITMIME)`),
				failure(`advertises: "AUTH LOG" is not in the last EHLO reply (SIZE 157286400, PIPELINING, DSN, ENHANCEDSTATUSCODES, AUTH LOGIN XOAUTH2, 8BITMIME)`),
			},
		},
		{name: "advertises reads the legacy AUTH= form", expect: &Expect{Advertises: []string{"AUTH PLAIN"}},
			conv: newConversation().connect().banner().ehlo("AUTH=PLAIN LOGIN").quit().build()},
		{
			name: "advertises after HELO", expect: &Expect{Advertises: []string{"PIPELINING"}},
			conv: func() *result.Conversation {
				b := newConversation().connect().banner().
					step(result.StepEHLO, "EHLO client.example.test", "502 5.5.2 Command not recognized").
					step(result.StepEHLO, "HELO client.example.test", "250 mx.example.test").quit()
				b.c.UsedHELO = true
				return b.build()
			}(),
			want: []result.Failure{failure(`advertises: "PIPELINING" is not in the last EHLO reply (HELO was used: no extensions)`)},
		},
		{
			name: "advertises empty item", expect: &Expect{Advertises: []string{" "}}, conv: delivered().build(),
			want: []result.Failure{failure(`advertises: an item is empty; write a keyword such as "PIPELINING" or "AUTH LOGIN"`)},
		},
		{
			name: "advertises not reached", expect: &Expect{Advertises: []string{"PIPELINING"}},
			conv: newConversation().fault(result.StepConnect, "", result.FaultRefused, "connection refused").build(),
			want: []result.Failure{
				step("connect: connection refused (127.0.0.1:2525)"),
				failure("advertises: not reached: stopped at connect (connection refused (127.0.0.1:2525))"),
			},
		},
		{name: "not_advertises holds on an MX", expect: &Expect{NotAdvertises: []string{"AUTH"}}, conv: mx},
		{
			name: "not_advertises fails after TLS", expect: &Expect{NotAdvertises: []string{"AUTH", "auth login", "CHUNKING"}}, conv: delivered().build(),
			want: []result.Failure{
				failure(`not_advertises: "AUTH" was advertised after TLS: AUTH LOGIN XOAUTH2`),
				failure(`not_advertises: "auth login" was advertised after TLS: AUTH LOGIN XOAUTH2`),
			},
		},
		{
			name: "not_advertises fails before TLS", expect: &Expect{NotAdvertises: []string{"AUTH LOGIN"}}, conv: authBefore,
			want: []result.Failure{failure(`not_advertises: "AUTH LOGIN" was advertised before TLS: AUTH=LOGIN PLAIN`)},
		},
		{
			name: "not_advertises without TLS", expect: &Expect{NotAdvertises: []string{"PIPELINING"}},
			conv: newConversation().connect().banner().ehlo(mxPlain...).quit().build(),
			want: []result.Failure{failure(`not_advertises: "PIPELINING" was advertised: PIPELINING`)},
		},
		{name: "auth_before_tls false holds", expect: &Expect{AuthBeforeTLS: ptr(false)}, conv: delivered().build()},
		{
			name: "auth_before_tls true fails", expect: &Expect{AuthBeforeTLS: ptr(true)}, conv: delivered().build(),
			want: []result.Failure{failure("auth_before_tls: expected AUTH before TLS, it was not advertised (SIZE 157286400, PIPELINING, DSN, ENHANCEDSTATUSCODES, STARTTLS, 8BITMIME)")},
		},
		{name: "auth_before_tls true holds", expect: &Expect{AuthBeforeTLS: ptr(true)}, conv: authBefore},
		{
			name: "auth_before_tls false fails", expect: &Expect{AuthBeforeTLS: ptr(false)}, conv: authBefore,
			want: []result.Failure{failure("auth_before_tls: expected no AUTH before TLS, got AUTH=LOGIN PLAIN")},
		},
		{
			name: "auth_before_tls with implicit TLS", expect: &Expect{AuthBeforeTLS: ptr(false)},
			conv: func() *result.Conversation {
				b := newConversation().connect().banner().ehlo(afterTLS...).quit()
				b.c.TLSMode = "implicit"
				return b.build()
			}(),
			want: []result.Failure{failure("auth_before_tls: not applicable: with implicit TLS there is no EHLO before TLS")},
		},
		{
			name: "auth_before_tls not reached", expect: &Expect{AuthBeforeTLS: ptr(false)},
			conv: newConversation().connect().banner().step(result.StepEHLO, "EHLO client.example.test", "421 4.3.2 Service not available").build(),
			want: []result.Failure{
				step("unexpected 421 4.3.2 Service not available at EHLO"),
				failure("auth_before_tls: not reached: stopped at ehlo (421 4.3.2 Service not available)"),
			},
		},
	})
}

func TestEvaluateNo(t *testing.T) {
	bannedRcpt := submission().step(result.StepMail, "MAIL FROM:<s@example.test>", "250 OK").rcpt("a@example.test", banned).quit().build()
	runEvaluateTests(t, []evaluateTest{
		{name: "holds", expect: &Expect{No: pats("550 5.7.606-649", "5.7.139")}, conv: delivered().build()},
		{
			// no anticipates nothing: the refused RCPT is reported too.
			name: "fails and does not anticipate the refusal", expect: &Expect{No: pats("5.7.139", "550 5.7.606-649")}, conv: bannedRcpt,
			want: []result.Failure{
				step("unexpected " + banned + " at RCPT"),
				failure(`no: "550 5.7.606-649" matched at RCPT: ` + banned),
			},
		},
		{
			name: "banner and QUIT count", expect: &Expect{No: pats("220 ESMTP", "221")}, conv: delivered().build(),
			want: []result.Failure{
				failure(`no: "220 ESMTP" matched at banner: 220 mx.example.test ESMTP ready`),
				failure(`no: "221" matched at QUIT: 221 2.0.0 Service closing transmission channel`),
			},
		},
		{
			name: "each matching reply once, in step order", expect: &Expect{No: pats("250 2.1.5", "2xx 2.1.x")}, conv: delivered().build(),
			want: []result.Failure{
				failure(`no: "2xx 2.1.x" matched at MAIL: 250 2.1.0 Sender OK`),
				failure(`no: "250 2.1.5" matched at RCPT 1 (<a@example.test>): 250 2.1.5 Recipient OK`),
				failure(`no: "250 2.1.5" matched at RCPT 2 (<b@example.test>): 250 2.1.5 Recipient OK`),
			},
		},
	})
}

func TestEvaluateClientIPAndDurations(t *testing.T) {
	slowBanner := func() *result.Conversation {
		c := delivered().build()
		c.Steps[1].Start, c.Steps[1].Duration = 0, 5*time.Second+400*time.Microsecond
		return c
	}()
	runEvaluateTests(t, []evaluateTest{
		{name: "client_ip holds", expect: &Expect{ClientIP: ptr("192.0.2.1")}, conv: delivered().build()},
		{name: "client_ip in brackets", expect: &Expect{ClientIP: ptr("[192.0.2.1]")}, conv: delivered().build()},
		{
			name: "client_ip IPv6 literal", expect: &Expect{ClientIP: ptr("2001:db8::5")},
			conv: func() *result.Conversation {
				c := delivered().build()
				c.ClientIP = "IPv6:2001:DB8:0::5"
				return c
			}(),
		},
		{
			name: "client_ip mapped IPv4", expect: &Expect{ClientIP: ptr("192.0.2.1")},
			conv: func() *result.Conversation { c := delivered().build(); c.ClientIP = "::ffff:192.0.2.1"; return c }(),
		},
		{
			name: "client_ip differs", expect: &Expect{ClientIP: ptr("203.0.113.5")}, conv: delivered().build(),
			want: []result.Failure{failure("client_ip: expected 203.0.113.5, got 192.0.2.1")},
		},
		{
			name: "client_ip not echoed", expect: &Expect{ClientIP: ptr("203.0.113.5")},
			conv: func() *result.Conversation { c := delivered().build(); c.ClientIP = ""; return c }(),
			want: []result.Failure{failure("client_ip: expected 203.0.113.5, the server did not echo a client IP")},
		},
		{
			name: "client_ip echoed garbage", expect: &Expect{ClientIP: ptr("203.0.113.5")},
			conv: func() *result.Conversation { c := delivered().build(); c.ClientIP = "unknown"; return c }(),
			want: []result.Failure{failure("client_ip: expected 203.0.113.5, got unknown")},
		},
		{
			name: "client_ip expectation is no IP", expect: &Expect{ClientIP: ptr("scanner01")}, conv: delivered().build(),
			want: []result.Failure{failure(`client_ip: "scanner01" is not an IP address`)},
		},
		{
			name: "client_ip not reached", expect: &Expect{ClientIP: ptr("203.0.113.5")},
			conv: newConversation().connect().fault(result.StepBanner, "", result.FaultTimeout, "timeout after 30s").build(),
			want: []result.Failure{
				step("banner: timeout after 30s"),
				failure("client_ip: not reached: stopped at banner (timeout after 30s)"),
			},
		},
		{name: "max_duration holds", expect: &Expect{MaxDuration: ptr(130 * time.Millisecond)}, conv: delivered().build()},
		{
			name: "max_duration fails", expect: &Expect{MaxDuration: ptr(100 * time.Millisecond)}, conv: delivered().build(),
			want: []result.Failure{failure("max_duration: expected at most 100ms, took 130ms")},
		},
		{name: "banner_within holds", expect: &Expect{BannerWithin: ptr(20 * time.Millisecond)}, conv: delivered().build()},
		{
			name: "banner_within fails", expect: &Expect{BannerWithin: ptr(5 * time.Second)}, conv: slowBanner,
			want: []result.Failure{failure("banner_within: expected a banner within 5s, it came after 5.0004s")},
		},
		{
			name: "banner_within fails, rounded", expect: &Expect{BannerWithin: ptr(time.Second)}, conv: slowBanner,
			want: []result.Failure{failure("banner_within: expected a banner within 1s, it came after 5s")},
		},
		{
			// The banner timeout is banner_within's to report, once.
			name: "banner_within on a timeout", expect: &Expect{BannerWithin: ptr(5 * time.Second)},
			conv: newConversation().connect().fault(result.StepBanner, "", result.FaultTimeout, "timeout after 5s").build(),
			want: []result.Failure{failure("banner_within: expected a banner within 5s, got timeout after 5s")},
		},
		{
			// A refusing banner arrives in time but is not anticipated.
			name: "banner_within on a refusal", expect: &Expect{BannerWithin: ptr(5 * time.Second)},
			conv: newConversation().connect().step(result.StepBanner, "", "554 5.7.1 Go away").quit().build(),
			want: []result.Failure{step("unexpected 554 5.7.1 Go away at banner")},
		},
	})
}

func TestEvaluateUnanticipatedStop(t *testing.T) {
	mailRefused := submission().
		step(result.StepAuth, "AUTH LOGIN ****", "235 2.7.0 ok").
		step(result.StepMail, "MAIL FROM:<s@example.test>", "550 5.7.60 SMTP; Client does not have permissions to send as this sender").quit().build()
	runEvaluateTests(t, []evaluateTest{
		{
			name: "negative reply at a step without its own expectation", expect: &Expect{StartTLS: ptr(true), Auth: pat("235")}, conv: mailRefused,
			want: []result.Failure{step("unexpected 550 5.7.60 SMTP; Client does not have permissions to send as this sender at MAIL")},
		},
		{name: "negative reply anticipated", expect: &Expect{StartTLS: ptr(true), Mail: pat("550 5.7.60")}, conv: mailRefused},
		{
			name: "fault not anticipated", expect: &Expect{TLSVersion: comparison(">= 1.2")},
			conv: submission().fault(result.StepAuth, "AUTH LOGIN ****", result.FaultClosed, "connection closed by the server").build(),
			want: []result.Failure{step("auth: connection closed by the server")},
		},
		{
			name: "empty expect block is the default rule", expect: &Expect{}, conv: mailRefused,
			want: []result.Failure{step("unexpected 550 5.7.60 SMTP; Client does not have permissions to send as this sender at MAIL")},
		},
		{
			name: "refused RCPT without an rcpt expectation", expect: &Expect{StartTLS: ptr(true)},
			conv: submission().step(result.StepMail, "MAIL FROM:<s@example.test>", "250 OK").
				rcpt("a@example.test", "250 OK").rcpt("b@example.test", "450 4.2.1 try later").
				step(result.StepData, "DATA", "354 go").step(result.StepMessage, "", "250 OK").quit().build(),
			want: []result.Failure{step("unexpected 450 4.2.1 try later at RCPT 2 (<b@example.test>)")},
		},
		{
			// A 250 that came with the 354 was never the message's reply.
			name: "premature reply to the message", expect: &Expect{Data: ptr(MustParsePattern("250"))},
			conv: submission().step(result.StepMail, "MAIL FROM:<s@example.test>", "250 OK").
				rcpt("a@example.test", "250 OK").step(result.StepData, "DATA", "354 go").
				fault(result.StepMessage, "<message: 10 bytes>", result.FaultPremature, "18 bytes arrived together with the 354 reply to DATA, before the message was sent").build(),
			want: []result.Failure{failure("data: expected \"250\", got 18 bytes arrived together with the 354 reply to DATA, before the message was sent")},
		},
		{
			name: "RSET refused", expect: &Expect{Rcpt: pats("250")},
			conv: submission().step(result.StepMail, "MAIL FROM:<s@example.test>", "250 OK").
				rcpt("a@example.test", "250 OK").step(result.StepRset, "RSET", "421 4.4.2 closing").build(),
			want: []result.Failure{step("unexpected 421 4.4.2 closing at RSET")},
		},
	})
}

// TestEvaluateOrder checks that failures come in conversation order, each
// unanticipated step failure ahead of the attributes judged at its step,
// then the conversation-wide attributes, whatever the order of evaluation.
func TestEvaluateOrder(t *testing.T) {
	c := func() *result.Conversation {
		b := newConversation().connect().banner().ehlo(beforeTLS...).
			step(result.StepStartTLS, "STARTTLS", "220 2.0.0 ready")
		b.c.TLS = &result.TLSInfo{
			Version: "1.2", VerifyError: "x509: certificate has expired",
			Chain: []result.Certificate{{Subject: "CN=mx", NotAfter: started.Add(-24 * time.Hour)}},
		}
		b.fault(result.StepTLS, "", result.FaultCertificate, "x509: certificate has expired").quit()
		b.c.Duration = 20 * time.Second
		return b.build()
	}()
	e := &Expect{
		MaxDuration:         ptr(10 * time.Second),
		No:                  pats("221"),
		ClientIP:            ptr("203.0.113.5"),
		NotAdvertises:       []string{"PIPELINING"},
		Advertises:          []string{"AUTH LOGIN"},
		Rcpt:                pats("250"),
		Mail:                pat("250"),
		Auth:                pat("235"),
		CertificateDaysLeft: comparison(">= 14"),
		TLSVersion:          comparison(">= 1.3"),
		StartTLS:            ptr(true),
		EHLO:                pat("250 STARTTLS"),
		Banner:              pat("220 Microsoft"),
		AuthBeforeTLS:       ptr(true),
		BannerWithin:        ptr(5 * time.Millisecond),
	}
	const stopped = "not reached: stopped at tls (x509: certificate has expired)"
	runEvaluateTests(t, []evaluateTest{{
		name: "all at once", expect: e, conv: c,
		want: []result.Failure{
			failure(`banner: expected "220 Microsoft", got 220 mx.example.test ESMTP ready`),
			step("tls: x509: certificate has expired"),
			failure(`tls_version: expected ">= 1.3", got 1.2`),
			failure(`certificate_days_left: expected ">= 14", got -1 (expired 2026-11-19T10:00:00Z)`),
			failure("auth: " + stopped),
			failure("mail: " + stopped),
			failure("rcpt: " + stopped),
			// The EHLO inside TLS was never reached: the one before TLS
			// proves nothing about what the server offers after STARTTLS.
			failure("advertises: " + stopped),
			failure(`not_advertises: "PIPELINING" was advertised: PIPELINING`),
			failure("auth_before_tls: expected AUTH before TLS, it was not advertised (SIZE 157286400, PIPELINING, DSN, ENHANCEDSTATUSCODES, STARTTLS, 8BITMIME)"),
			failure(`no: "221" matched at QUIT: 221 2.0.0 Service closing transmission channel`),
			failure("client_ip: expected 203.0.113.5, got 192.0.2.1"),
			failure("max_duration: expected at most 10s, took 20s"),
			failure("banner_within: expected a banner within 5ms, it came after 20ms"),
		},
	}})
}

// TestEvaluateOrderImplicitTLS checks that with implicit TLS the handshake
// and its attributes come before the banner.
func TestEvaluateOrderImplicitTLS(t *testing.T) {
	b := newConversation()
	b.c.TLSMode = "implicit"
	c := b.connect().handshake(true, "").banner().ehlo(afterTLS...).quit().build()
	c.TLS.Version = "1.2"
	runEvaluateTests(t, []evaluateTest{{
		name:   "tls before banner",
		expect: &Expect{Banner: pat("220 Microsoft"), TLSVersion: comparison(">= 1.3"), Connect: ptr(false)},
		conv:   c,
		want: []result.Failure{
			failure("connect: expected the connection to fail, connected to 127.0.0.1:2525"),
			failure(`tls_version: expected ">= 1.3", got 1.2`),
			failure(`banner: expected "220 Microsoft", got 220 mx.example.test ESMTP ready`),
		},
	}})
}

// TestEvaluateDoesNotChangeTheConversation guards the reporters, which
// render the same record after evaluation.
func TestEvaluateDoesNotChangeTheConversation(t *testing.T) {
	c := delivered().build()
	before := fmt.Sprintf("%+v %+v", *c, *c.TLS)
	Evaluate(&Expect{No: pats("2xx"), Advertises: []string{"AUTH=LOGIN"}, Rcpt: pats("250", "250")}, c)
	if after := fmt.Sprintf("%+v %+v", *c, *c.TLS); after != before {
		t.Errorf("Evaluate changed the conversation:\n%s\n%s", before, after)
	}
}
