package smtpclient

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/pki"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// fixedNow is the injected clock: offsets are then all zero and the Date
// header is known.
var fixedNow = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

func clock() time.Time { return fixedNow }

func ptr[T any](v T) *T { return &v }

// stepList renders the steps as "connect banner ehlo ...".
func stepList(conv *result.Conversation) string {
	var names []string
	for _, s := range conv.Steps {
		names = append(names, string(s.Step))
	}
	return strings.Join(names, " ")
}

// transcriptText renders the transcript without offsets, one "dir: text" a line.
func transcriptText(conv *result.Conversation) string {
	var b strings.Builder
	for _, l := range conv.Transcript {
		b.WriteString(string(l.Direction) + ": " + l.Text + "\n")
	}
	return b.String()
}

func basePlan(port int) Plan {
	return Plan{
		Host:              "127.0.0.1",
		Port:              port,
		TLS:               StartTLS,
		Helo:              "scanner01.contoso.example",
		Timeout:           5 * time.Second,
		ServerName:        "mail.example.test",
		VerifyCertificate: true,
		Now:               clock,
	}
}

func TestConverseStartTLSAuth(t *testing.T) {
	p := newPKI(t)
	be := &backend{mechanisms: []string{"PLAIN", "LOGIN"}}
	port := startServer(t, be, serverOptions{cert: &p.cert})
	plan := basePlan(port)
	plan.RootCAs = p.ca.Pool()
	plan.Auth = &Auth{Username: testUser, Password: testPassword}
	plan.MailFrom = ptr(testUser)
	plan.RcptTo = []string{"helpdesk@contoso.example"}

	conv := Converse(context.Background(), plan)

	if got, want := stepList(conv), "connect banner ehlo starttls tls ehlo auth mail rcpt rset quit"; got != want {
		t.Fatalf("steps = %q, want %q\n%s", got, want, transcriptText(conv))
	}
	if stop := conv.Stop(); stop != nil {
		t.Fatalf("stopped at %s: %s", stop.Step, stop.Outcome())
	}
	for i, s := range conv.Steps {
		wantAfter := i > 4 // everything after the handshake
		if s.AfterTLS != wantAfter {
			t.Errorf("step %d (%s) AfterTLS = %v, want %v", i, s.Step, s.AfterTLS, wantAfter)
		}
	}
	auth := conv.StepsOf(result.StepAuth)[0]
	if auth.Command != "AUTH PLAIN ****" || auth.Reply.Code != 235 || auth.Reply.Enhanced != "2.0.0" {
		t.Errorf("auth step = %q %v", auth.Command, auth.Reply)
	}
	if !slices.Contains(conv.EHLOBeforeTLS.Lines(), "STARTTLS") || slices.ContainsFunc(conv.EHLOBeforeTLS.Lines(), isAuthLine) {
		t.Errorf("EHLO before TLS = %q, want STARTTLS and no AUTH", conv.EHLOBeforeTLS)
	}
	if !slices.Contains(conv.EHLOAfterTLS.Lines(), "AUTH PLAIN LOGIN") || slices.Contains(conv.EHLOAfterTLS.Lines(), "STARTTLS") {
		t.Errorf("EHLO after TLS = %q", conv.EHLOAfterTLS)
	}
	tlsInfo := conv.TLS
	if tlsInfo == nil {
		t.Fatal("no TLS info")
	}
	if tlsInfo.Version != "1.3" || !strings.HasPrefix(tlsInfo.CipherSuite, "TLS_") || !tlsInfo.Verified || tlsInfo.VerifyError != "" ||
		tlsInfo.ServerName != "mail.example.test" {
		t.Errorf("TLS = %+v", tlsInfo)
	}
	if len(tlsInfo.Chain) != 2 {
		t.Fatalf("chain has %d certificates, want 2", len(tlsInfo.Chain))
	}
	leaf := tlsInfo.Chain[0]
	sum := sha256.Sum256(p.cert.Leaf.Raw)
	if leaf.SHA256 != hex.EncodeToString(sum[:]) || !slices.Equal(leaf.DNSNames, []string{"mail.example.test"}) ||
		!slices.Equal(leaf.IPAddresses, []string{"127.0.0.1"}) || leaf.Subject != "CN=mail.example.test" ||
		!strings.Contains(leaf.Issuer, "CN=smtpdiag test CA") || !leaf.NotAfter.Equal(p.cert.Leaf.NotAfter) {
		t.Errorf("leaf = %+v", leaf)
	}
	if conv.RemoteAddr != "127.0.0.1:"+strconv.Itoa(port) || !strings.HasPrefix(conv.LocalAddr, "127.0.0.1:") {
		t.Errorf("addresses %q %q", conv.RemoteAddr, conv.LocalAddr)
	}
	if conv.DataSent {
		t.Error("DataSent without a message")
	}
	authed, rcpts, dataCalls, _ := be.snapshot()
	if !slices.Equal(authed, []string{"PLAIN"}) || !slices.Equal(rcpts, plan.RcptTo) || dataCalls != 0 {
		t.Errorf("backend saw auth %q rcpts %q data %d", authed, rcpts, dataCalls)
	}
	transcript := transcriptText(conv)
	for _, want := range []string{
		"*: connecting to 127.0.0.1:" + strconv.Itoa(port) + "\n",
		"TLS: handshake started, server name mail.example.test\n",
		"TLS: TLS 1.3 " + tlsInfo.CipherSuite + ", server name mail.example.test, certificate verified\n",
		"C: AUTH PLAIN ****\nS: 235 2.0.0 Authentication succeeded\n",
		"C: QUIT\nS: 221 2.0.0 Bye\n",
	} {
		if !strings.Contains(transcript, want) {
			t.Errorf("transcript lacks %q:\n%s", want, transcript)
		}
	}
	if conv.Started != fixedNow || conv.Duration != 0 {
		t.Errorf("started %v duration %v, want the injected clock", conv.Started, conv.Duration)
	}
}

func isAuthLine(l string) bool { return strings.HasPrefix(l, "AUTH") }

func TestConverseAuthMechanisms(t *testing.T) {
	p := newPKI(t)
	all := []string{"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"}
	tests := []struct {
		name      string
		offered   []string
		auth      Auth
		wantMech  string // what the backend saw succeed; "" for none
		wantCmd   string
		wantReply string
	}{
		{"PLAIN", all, Auth{Username: testUser, Password: testPassword, Mechanism: "PLAIN"}, "PLAIN", "AUTH PLAIN ****", "235 2.0.0 Authentication succeeded"},
		{"LOGIN", all, Auth{Username: testUser, Password: testPassword, Mechanism: "login"}, "LOGIN", "AUTH LOGIN", "235 2.0.0 Authentication succeeded"},
		{"CRAM-MD5", all, Auth{Username: testUser, Password: testPassword, Mechanism: "CRAM-MD5"}, "CRAM-MD5", "AUTH CRAM-MD5", "235 2.0.0 Authentication succeeded"},
		{"XOAUTH2", all, Auth{Username: testUser, Token: testToken, Mechanism: "XOAUTH2"}, "XOAUTH2", "AUTH XOAUTH2 ****", "235 2.0.0 Authentication succeeded"},
		{"best without token", all, Auth{Username: testUser, Password: testPassword}, "CRAM-MD5", "AUTH CRAM-MD5", "235 2.0.0 Authentication succeeded"},
		{"best with token", all, Auth{Username: testUser, Password: testPassword, Token: testToken}, "XOAUTH2", "AUTH XOAUTH2 ****", "235 2.0.0 Authentication succeeded"},
		{"Exchange Online offer", []string{"LOGIN", "XOAUTH2"}, Auth{Username: testUser, Password: testPassword}, "LOGIN", "AUTH LOGIN", "235 2.0.0 Authentication succeeded"},
		{"wrong password", all, Auth{Username: testUser, Password: "wrong", Mechanism: "LOGIN"}, "", "AUTH LOGIN", "535 5.7.3 Authentication unsuccessful"},
		{"wrong token", all, Auth{Username: testUser, Token: "expired"}, "", "AUTH XOAUTH2 ****", "535 5.7.3 Authentication unsuccessful"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{mechanisms: tt.offered}
			plan := basePlan(startServer(t, be, serverOptions{cert: &p.cert}))
			plan.RootCAs = p.ca.Pool()
			plan.Auth = &tt.auth
			conv := Converse(context.Background(), plan)
			auths := conv.StepsOf(result.StepAuth)
			if len(auths) != 1 {
				t.Fatalf("steps %q\n%s", stepList(conv), transcriptText(conv))
			}
			if auths[0].Command != tt.wantCmd || auths[0].Reply == nil || auths[0].Reply.String() != tt.wantReply {
				t.Errorf("auth = %q %v, want %q %q\n%s", auths[0].Command, auths[0].Reply, tt.wantCmd, tt.wantReply, transcriptText(conv))
			}
			authed, _, _, _ := be.snapshot()
			if tt.wantMech == "" && len(authed) != 0 || tt.wantMech != "" && !slices.Equal(authed, []string{tt.wantMech}) {
				t.Errorf("backend authenticated %q, want %q", authed, tt.wantMech)
			}
			wantSteps := "connect banner ehlo starttls tls ehlo auth quit"
			if got := stepList(conv); got != wantSteps {
				t.Errorf("steps = %q, want %q", got, wantSteps)
			}
			if tt.name == "wrong token" {
				want := `*: XOAUTH2 error from the server: {"status":"401","schemes":"bearer","scope":"https://outlook.office.com/SMTP.Send"}` + "\nC: \nS: 535 5.7.3 Authentication unsuccessful\n"
				if !strings.Contains(transcriptText(conv), want) {
					t.Errorf("transcript lacks %q:\n%s", want, transcriptText(conv))
				}
			}
		})
	}
}

func TestConverseAuthNotAdvertised(t *testing.T) {
	p := newPKI(t)
	plan := basePlan(startServer(t, &backend{}, serverOptions{cert: &p.cert}))
	plan.RootCAs = p.ca.Pool()
	plan.Auth = &Auth{Username: testUser, Password: testPassword}
	plan.MailFrom = ptr(testUser)
	conv := Converse(context.Background(), plan)
	if got, want := stepList(conv), "connect banner ehlo starttls tls ehlo auth quit"; got != want {
		t.Fatalf("steps = %q, want %q", got, want)
	}
	stop := conv.Stop()
	if stop == nil || stop.Step != result.StepAuth || stop.Fault == nil || stop.Fault.Kind != result.FaultNotAdvertised || stop.Command != "" {
		t.Errorf("stop = %+v", stop)
	}
}

func TestConverseImplicitTLS(t *testing.T) {
	p := newPKI(t)
	be := &backend{mechanisms: []string{"LOGIN"}}
	port := startServer(t, be, serverOptions{cert: &p.cert, implicit: true})
	plan := basePlan(port)
	plan.TLS = Implicit
	plan.ServerName = "" // verify against the IP SAN of 127.0.0.1
	plan.RootCAs = p.ca.Pool()
	plan.Auth = &Auth{Username: testUser, Password: testPassword}
	conv := Converse(context.Background(), plan)
	if got, want := stepList(conv), "connect tls banner ehlo auth quit"; got != want {
		t.Fatalf("steps = %q, want %q\n%s", got, want, transcriptText(conv))
	}
	if conv.Stop() != nil {
		t.Fatalf("stopped: %s", conv.Stop().Outcome())
	}
	for _, s := range conv.Steps {
		if want := s.Step != result.StepConnect && s.Step != result.StepTLS; s.AfterTLS != want {
			t.Errorf("%s AfterTLS = %v", s.Step, s.AfterTLS)
		}
	}
	if conv.EHLOBeforeTLS != nil || !slices.Contains(conv.EHLOAfterTLS.Lines(), "AUTH LOGIN") {
		t.Errorf("EHLO before %q after %q", conv.EHLOBeforeTLS, conv.EHLOAfterTLS)
	}
	if conv.TLS == nil || !conv.TLS.Verified || conv.TLS.ServerName != "127.0.0.1" || conv.TLSMode != "implicit" {
		t.Errorf("TLS = %+v, mode %q", conv.TLS, conv.TLSMode)
	}
}

func TestConverseTLSVersionBounds(t *testing.T) {
	p := newPKI(t)
	port := startServer(t, &backend{}, serverOptions{cert: &p.cert})
	plan := basePlan(port)
	plan.RootCAs = p.ca.Pool()
	plan.TLSMaxVersion = tls.VersionTLS12
	conv := Converse(context.Background(), plan)
	if conv.TLS == nil || conv.TLS.Version != "1.2" || conv.Stop() != nil {
		t.Errorf("TLS = %+v, stop %v", conv.TLS, conv.Stop())
	}

	// A client that offers only TLS 1.3 to a server that stops at 1.2.
	cert := p.cert
	port = startServer(t, &backend{}, serverOptions{cert: &cert, tlsMax: tls.VersionTLS12})
	plan = basePlan(port)
	plan.RootCAs = p.ca.Pool()
	plan.TLSMinVersion = tls.VersionTLS13
	conv = Converse(context.Background(), plan)
	stop := conv.Stop()
	if stop == nil || stop.Step != result.StepTLS || stop.Fault == nil || stop.Fault.Kind != result.FaultTLSHandshake ||
		!strings.Contains(stop.Fault.Message, "protocol version") {
		t.Fatalf("stop = %+v\n%s", stop, transcriptText(conv))
	}
	if got, want := stepList(conv), "connect banner ehlo starttls tls"; got != want {
		t.Errorf("steps = %q, want %q", got, want)
	}
}

func TestConverseCertificateFailures(t *testing.T) {
	p := newPKI(t)
	other, err := pki.NewCA("some other CA")
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := other.Issue(pki.LeafOptions{Names: []string{"mail.example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	wrongName, err := p.ca.Issue(pki.LeafOptions{Names: []string{"other.example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	notAfter := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	expired, err := p.ca.Issue(pki.LeafOptions{Names: []string{"mail.example.test"}, NotBefore: notAfter.Add(-48 * time.Hour), NotAfter: notAfter})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cert tls.Certificate
		want string
	}{
		{"unknown CA", unknown, "certificate signed by unknown authority (issuer CN=some other CA,O=smtpdiag test CA)"},
		{"wrong name", wrongName, "certificate is valid for other.example.test, not mail.example.test"},
		{"expired", expired, "certificate CN=mail.example.test has expired (not after " + notAfter.UTC().Format(time.RFC3339) + ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/verify", func(t *testing.T) {
			be := &backend{mechanisms: []string{"PLAIN"}}
			plan := basePlan(startServer(t, be, serverOptions{cert: &tt.cert}))
			plan.RootCAs = p.ca.Pool()
			plan.Auth = &Auth{Username: testUser, Password: testPassword}
			conv := Converse(context.Background(), plan)
			if got, want := stepList(conv), "connect banner ehlo starttls tls"; got != want {
				t.Fatalf("steps = %q, want %q\n%s", got, want, transcriptText(conv))
			}
			stop := conv.Stop()
			if stop.Step != result.StepTLS || stop.Fault == nil || stop.Fault.Kind != result.FaultCertificate || stop.Fault.Message != tt.want {
				t.Errorf("stop = %s %+v, want certificate fault %q", stop.Step, stop.Fault, tt.want)
			}
			if conv.TLS == nil || conv.TLS.Verified || conv.TLS.VerifyError != tt.want || len(conv.TLS.Chain) == 0 {
				t.Errorf("TLS = %+v", conv.TLS)
			}
			if authed, _, _, _ := be.snapshot(); len(authed) != 0 {
				t.Errorf("authenticated over an unverified connection: %q", authed)
			}
		})
		t.Run(tt.name+"/record only", func(t *testing.T) {
			plan := basePlan(startServer(t, &backend{}, serverOptions{cert: &tt.cert}))
			plan.RootCAs = p.ca.Pool()
			plan.VerifyCertificate = false
			conv := Converse(context.Background(), plan)
			if got, want := stepList(conv), "connect banner ehlo starttls tls ehlo quit"; got != want {
				t.Fatalf("steps = %q, want %q\n%s", got, want, transcriptText(conv))
			}
			if conv.Stop() != nil {
				t.Errorf("stopped at %s", conv.Stop().Outcome())
			}
			if conv.TLS == nil || conv.TLS.Verified || conv.TLS.VerifyError != tt.want {
				t.Errorf("TLS = %+v", conv.TLS)
			}
			want := "certificate NOT verified: " + tt.want + "\n"
			if !strings.Contains(transcriptText(conv), want) {
				t.Errorf("transcript lacks %q:\n%s", want, transcriptText(conv))
			}
		})
	}
}

func TestConverseRcptRejection(t *testing.T) {
	be := &backend{rejectRcpt: map[string]bool{"gone@contoso.example": true}}
	plan := basePlan(startServer(t, be, serverOptions{}))
	plan.TLS = NoTLS
	plan.MailFrom = ptr("scanner@contoso.example")
	plan.RcptTo = []string{"gone@contoso.example", "helpdesk@contoso.example"}
	plan.Message = &Message{Subject: "test", Body: "hello"}
	conv := Converse(context.Background(), plan)
	if got, want := stepList(conv), "connect banner ehlo mail rcpt rcpt data message quit"; got != want {
		t.Fatalf("steps = %q, want %q\n%s", got, want, transcriptText(conv))
	}
	rcpts := conv.StepsOf(result.StepRcpt)
	if r := rcpts[0].Reply; r.Code != 550 || r.Enhanced != "5.1.1" || r.Text() != "User unknown" || rcpts[0].Command != "RCPT TO:<gone@contoso.example>" {
		t.Errorf("first RCPT = %q %v", rcpts[0].Command, r)
	}
	if r := rcpts[1].Reply; r.Code != 250 {
		t.Errorf("second RCPT = %v", r)
	}
	_, accepted, dataCalls, _ := be.snapshot()
	if !slices.Equal(accepted, []string{"helpdesk@contoso.example"}) || dataCalls != 1 || !conv.DataSent {
		t.Errorf("backend accepted %q, data %d, DataSent %v", accepted, dataCalls, conv.DataSent)
	}
}

func TestConverseNoRecipientAccepted(t *testing.T) {
	be := &backend{rejectRcpt: map[string]bool{"a@contoso.example": true, "b@contoso.example": true}}
	plan := basePlan(startServer(t, be, serverOptions{}))
	plan.TLS = NoTLS
	plan.MailFrom = ptr("scanner@contoso.example")
	plan.RcptTo = []string{"a@contoso.example", "b@contoso.example"}
	plan.Message = &Message{Subject: "test", Body: "hello"}
	conv := Converse(context.Background(), plan)
	if got, want := stepList(conv), "connect banner ehlo mail rcpt rcpt quit"; got != want {
		t.Fatalf("steps = %q, want %q", got, want)
	}
	if _, _, dataCalls, _ := be.snapshot(); dataCalls != 0 || conv.DataSent {
		t.Errorf("data %d, DataSent %v", dataCalls, conv.DataSent)
	}
}

func TestConverseNoDataWithoutMessage(t *testing.T) {
	be := &backend{}
	plan := basePlan(startServer(t, be, serverOptions{}))
	plan.TLS = NoTLS
	plan.MailFrom = ptr("")
	plan.RcptTo = []string{"helpdesk@contoso.example"}
	conv := Converse(context.Background(), plan)
	if got, want := stepList(conv), "connect banner ehlo mail rcpt rset quit"; got != want {
		t.Fatalf("steps = %q, want %q", got, want)
	}
	if conv.Steps[3].Command != "MAIL FROM:<>" {
		t.Errorf("MAIL = %q", conv.Steps[3].Command)
	}
	if _, _, dataCalls, _ := be.snapshot(); dataCalls != 0 || conv.DataSent {
		t.Errorf("data %d, DataSent %v", dataCalls, conv.DataSent)
	}
	if strings.Contains(transcriptText(conv), "DATA") {
		t.Errorf("DATA in the transcript:\n%s", transcriptText(conv))
	}
}

func TestConverseMessage(t *testing.T) {
	be := &backend{}
	plan := basePlan(startServer(t, be, serverOptions{}))
	plan.TLS = NoTLS
	plan.MailFrom = ptr("scanner@contoso.example")
	plan.RcptTo = []string{"helpdesk@contoso.example", "ops@contoso.example"}
	plan.Message = &Message{
		Subject: "Scan from copier ✓",
		Body:    "first line\n.leading dot\n..two dots\n.\nlast line",
		Headers: map[string]string{"X-Check": "cutover\r\nBcc: evil@example.com", "X-A": "a"},
	}
	conv := Converse(context.Background(), plan)
	if got, want := stepList(conv), "connect banner ehlo mail rcpt rcpt data message quit"; got != want {
		t.Fatalf("steps = %q, want %q\n%s", got, want, transcriptText(conv))
	}
	if data := conv.StepsOf(result.StepData)[0]; data.Reply.Code != 354 {
		t.Errorf("DATA reply %v", data.Reply)
	}
	if msg := conv.StepsOf(result.StepMessage)[0]; msg.Reply.Code != 250 || !strings.HasPrefix(msg.Command, "<message: ") {
		t.Errorf("message step %q %v", msg.Command, msg.Reply)
	}
	_, _, _, messages := be.snapshot()
	if len(messages) != 1 {
		t.Fatalf("backend got %d messages", len(messages))
	}
	got := string(messages[0])
	if b := body(messages[0]); b != "first line\r\n.leading dot\r\n..two dots\r\n.\r\nlast line\r\n" {
		t.Errorf("body = %q", b)
	}
	head, _, _ := strings.Cut(got, "\r\n\r\n")
	for _, want := range []string{
		"Date: Fri, 20 Nov 2026 09:30:00 +0000",
		"From: scanner@contoso.example",
		"To: helpdesk@contoso.example, ops@contoso.example",
		"Subject: =?utf-8?q?Scan_from_copier_=E2=9C=93?=",
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: 7bit",
		"X-A: a\r\nX-Check: cutover Bcc: evil@example.com",
	} {
		if !strings.Contains(head, want) {
			t.Errorf("header lacks %q:\n%s", want, head)
		}
	}
	if !strings.Contains(head, "Message-ID: <") || !strings.Contains(head, "@scanner01.contoso.example>") {
		t.Errorf("Message-ID missing:\n%s", head)
	}
	if strings.Contains(head, "\r\nBcc:") {
		t.Errorf("header injection:\n%s", head)
	}
	transcript := transcriptText(conv)
	if !strings.Contains(transcript, "C: ..leading dot\nC: ...two dots\nC: ..\nC: last line\nC: .\nS: 250 2.0.0 OK: queued\n") {
		t.Errorf("transcript does not show the stuffed message:\n%s", transcript)
	}
}
