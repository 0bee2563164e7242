package listener

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// heapPeak samples the heap while a test runs and logs the highest
// value at its end: for the record, as the limits are asserted on the
// size of what is recorded, not on the heap or on time.
func heapPeak(t *testing.T) {
	t.Helper()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
		t.Logf("peak heap while the client ran: %.1f MB", float64(peak.Load())/(1<<20))
	})
}

// flood connects, writes what produce gives until the server stops
// reading, and returns the server's last reply lines.
func flood(t *testing.T, addr string, produce func(w io.Writer) error) []string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	var last []string
	read := make(chan struct{})
	go func() {
		defer close(read)
		r := bufio.NewReader(conn)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			last = append(last, strings.TrimRight(line, "\r\n"))
			if len(last) > 8 {
				last = last[1:]
			}
		}
	}()
	produce(conn) // its error is the server closing the connection
	conn.(*net.TCPConn).CloseWrite()
	<-read
	return last
}

// recordSize is the size of a session's record as the JSON report holds
// it.
func recordSize(t *testing.T, s *result.DeviceSession) int {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return len(raw)
}

// The 12 MB of pipelined NOOPs that took an unbounded listener to 3.7 GB:
// the session is ended with 421 4.7.0 once its record reaches the
// budget, and the record stays small and says why.
func TestNOOPFloodIsCutAtTheBudget(t *testing.T) {
	heapPeak(t)
	l, ch := start(t, exchangeOnline())
	last := flood(t, l.Addr(), func(w io.Writer) error {
		if _, err := io.WriteString(w, "EHLO flood\r\n"); err != nil {
			return err
		}
		chunk := []byte(strings.Repeat("NOOP\r\n", 64<<10/6))
		for sent := 0; sent < 12<<20; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return err
			}
		}
		return nil
	})
	s := next(t, ch)
	if !slices.ContainsFunc(last, func(l string) bool { return strings.HasPrefix(l, "421 4.7.0 ") }) {
		t.Errorf("the client's last replies: %q", last)
	}
	if !s.BudgetReached || s.RecordBudget != DefaultRecordBudget || !strings.Contains(s.End, "421 4.7.0") || !strings.Contains(s.End, "budget") {
		t.Errorf("BudgetReached %v, End %q", s.BudgetReached, s.End)
	}
	if n := recordSize(t, s); n > 2*DefaultRecordBudget {
		t.Errorf("the record is %d octets as JSON", n)
	}
	if len(s.Transcript) > DefaultRecordBudget/recordOverhead+closingLines+2 {
		t.Errorf("%d transcript lines, %d omitted", len(s.Transcript), s.OmittedLines)
	}
	if tail := s.Transcript[len(s.Transcript)-1].Text; !strings.Contains(tail, "budget") {
		t.Errorf("the transcript does not say why the session ended: %q", tail)
	}
	if len(s.Rejections) == 0 || s.Rejections[len(s.Rejections)-1].Reply.Codes() != "421 4.7.0" {
		t.Errorf("rejections %+v", s.Rejections)
	}
}

// A flood of messages with 255 KB header sections (1.7 GB unbounded):
// each message's header fields are kept up to maxHeaderBytes, and past
// the budget the session is ended.
func TestHeaderFloodIsCutAtTheBudget(t *testing.T) {
	heapPeak(t)
	l, ch := start(t, Config{})
	var header strings.Builder
	for i := 0; header.Len() < 255<<10; i++ {
		fmt.Fprintf(&header, "X-Filler-%d: %s\r\n", i, strings.Repeat("h", 990))
	}
	conn, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	r := bufio.NewReader(conn)
	reply := func() string {
		for {
			line, err := r.ReadString('\n')
			if err != nil || len(line) < 4 || line[3] != '-' {
				return line
			}
		}
	}
	reply() // greeting
	fmt.Fprintf(conn, "EHLO flood\r\n")
	reply()
	accepted, last := 0, ""
	for accepted < 1000 {
		fmt.Fprintf(conn, "MAIL FROM:<flood@example.test>\r\n")
		if last = reply(); !strings.HasPrefix(last, "250") {
			break
		}
		fmt.Fprintf(conn, "RCPT TO:<a@example.test>\r\nDATA\r\n")
		reply()
		reply()
		io.WriteString(conn, header.String()+"\r\nbody\r\n.\r\n")
		if last = reply(); !strings.HasPrefix(last, "250") {
			break
		}
		accepted++
	}
	if !strings.HasPrefix(last, "421 4.7.0 ") {
		t.Errorf("after %d messages: %q", accepted, last)
	}
	s := next(t, ch)
	if !s.BudgetReached || !strings.Contains(s.End, "421 4.7.0") {
		t.Errorf("BudgetReached %v, End %q", s.BudgetReached, s.End)
	}
	if accepted >= 1000 || len(s.Messages) != accepted || accepted == 0 {
		t.Errorf("%d messages accepted, %d recorded", accepted, len(s.Messages))
	}
	for i, m := range s.Messages {
		kept := 0
		for _, h := range m.Headers {
			kept += len(h.Name) + len(h.Value)
		}
		if kept > maxHeaderBytes || !m.HeadersCut || m.Size < 255<<10 {
			t.Errorf("message %d: %d octets of header fields kept, cut %v, size %d", i+1, kept, m.HeadersCut, m.Size)
		}
	}
	if n := recordSize(t, s); n > 2*DefaultRecordBudget {
		t.Errorf("the record is %d octets as JSON", n)
	}
	t.Logf("%d messages accepted before 421 4.7.0; record %d octets", accepted, recordSize(t, s))
}

// Beyond MaxSessions a client gets 421 4.3.2 and is recorded as refused,
// not dropped; it is no test of a device.
func TestTooManySessionsAreRefusedAndRecorded(t *testing.T) {
	l, ch := start(t, Config{MaxSessions: 2})
	var open []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", l.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		bufio.NewReader(c).ReadString('\n')
		open = append(open, c)
	}
	replies := dialScript(t, l.Addr())
	if len(replies) != 1 || !strings.HasPrefix(replies[0], "421 4.3.2 ") {
		t.Fatalf("the third session got %q", replies)
	}
	s := next(t, ch)
	if !strings.Contains(s.Refused, "too many sessions at once") || !strings.Contains(s.NotTested(), "refused with 421 4.3.2") {
		t.Errorf("Refused %q, NotTested %q", s.Refused, s.NotTested())
	}
	for _, c := range open {
		c.Close()
	}
	for i := 0; i < 2; i++ {
		if s := next(t, ch); s.NotTested() == "" || s.Refused != "" {
			t.Errorf("a connection without SMTP: NotTested %q, Refused %q", s.NotTested(), s.Refused)
		}
	}
}

// With OneSession the first session to send EHLO is the one tested; any
// other gets 421 4.3.2, at its EHLO or at once.
func TestOneSession(t *testing.T) {
	l, ch := start(t, Config{OneSession: true})
	early, err := net.Dial("tcp", l.Addr()) // connected before anyone sent EHLO
	if err != nil {
		t.Fatal(err)
	}
	defer early.Close()
	early.SetDeadline(time.Now().Add(10 * time.Second))
	earlyReader := bufio.NewReader(early)
	earlyReader.ReadString('\n')

	tested, err := smtp.Dial(l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer tested.Close()
	if err := tested.Hello("copier"); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(early, "EHLO other\r\n")
	if line, _ := earlyReader.ReadString('\n'); !strings.HasPrefix(line, "421 4.3.2 ") {
		t.Errorf("a second session's EHLO got %q", line)
	}
	late := dialScript(t, l.Addr(), "EHLO late")
	if len(late) != 1 || !strings.HasPrefix(late[0], "421 4.3.2 ") {
		t.Errorf("a later session got %q", late)
	}
	for i := 0; i < 2; i++ {
		if s := next(t, ch); !strings.Contains(s.Refused, "another device session") {
			t.Errorf("session %d: Refused %q", s.Number, s.Refused)
		}
	}
	if err := tested.Quit(); err != nil {
		t.Fatal(err)
	}
	if s := next(t, ch); s.NotTested() != "" || s.Helo != "copier" {
		t.Errorf("the tested session: NotTested %q", s.NotTested())
	}
}

// A device that sends AUTH LOGIN before STARTTLS, gets 504 and sends its
// user name and password anyway: the record names the user, says the
// credentials went in clear, and holds no password.
func TestCredentialsBeforeTLSAreRecordedWithoutTheSecret(t *testing.T) {
	l, ch := start(t, exchangeOnline())
	user := base64.StdEncoding.EncodeToString([]byte("scanner@contoso.com"))
	pass := base64.StdEncoding.EncodeToString([]byte(testPassword))
	replies := dialScript(t, l.Addr(), "EHLO copier", "AUTH LOGIN", user, pass, "MAIL FROM:<scanner@contoso.com>", "QUIT")
	for _, r := range replies {
		if strings.Contains(r, pass) || strings.Contains(r, user) {
			t.Errorf("a reply echoes the credentials: %q", r)
		}
	}
	s := next(t, ch)
	if len(s.Auth) != 1 || !s.Auth[0].InClear || s.Auth[0].User != "scanner@contoso.com" || s.Auth[0].Reply.Codes() != "504 5.7.4" {
		t.Fatalf("Auth = %+v", s.Auth)
	}
	for _, r := range s.Rejections {
		if strings.Contains(r.String(), pass) {
			t.Errorf("rejection %q", r)
		}
	}
	assertNoSecret(t, s)
	raw, _ := json.Marshal(s)
	if strings.Contains(string(raw), pass) || strings.Contains(string(raw), strings.TrimRight(pass, "=")) {
		t.Fatalf("the record holds the password's base64:\n%s", raw)
	}
	facts := fmt.Sprint(s.Facts())
	if !strings.Contains(facts, "LOGIN as scanner@contoso.com, before TLS: the device sent its credentials without TLS") {
		t.Errorf("facts: %s", facts)
	}
}

// OpenSSL clients (swaks --tls-verify, curl, Python's default context)
// refuse the self-signed certificate under TLS 1.3 with a plaintext
// unknown_ca alert, which crypto/tls alone reports as "bad record MAC".
func TestCertificateRefusedUnderTLS13(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	l, ch := start(t, exchangeOnline())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, openssl, "s_client", "-connect", l.Addr(), "-starttls", "smtp",
		"-verify_return_error", "-tls1_3", "-servername", "smtp.office365.com")
	cmd.Stdin = strings.NewReader("")
	out, _ := cmd.CombinedOutput()
	s := next(t, ch)
	if !strings.Contains(string(out), "TLSv1.3") && !strings.Contains(string(out), "verify") {
		t.Logf("openssl:\n%s", out)
	}
	if s.HandshakeAlert != "unknown_ca" || !strings.Contains(s.HandshakeError, "unknown_ca") ||
		!strings.Contains(s.HandshakeError, "plaintext") {
		t.Fatalf("HandshakeError %q, HandshakeAlert %q\nopenssl:\n%s", s.HandshakeError, s.HandshakeAlert, out)
	}
}

// Kept messages are created anew: a file or a symbolic link already
// under the name is never written through, and a directory anyone may
// write to without the sticky bit is refused.
func TestKeepNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{KeepDir: dir, RunID: "run1"}
	l, ch := start(t, cfg)
	if err := os.Symlink(victim, filepath.Join(dir, "run1-session-1-message-1.eml")); err != nil {
		t.Fatal(err)
	}
	if err := send(t, l.Addr(), nil, nil, scanMessage); err != nil {
		t.Fatal(err)
	}
	s := next(t, ch)
	if got, _ := os.ReadFile(victim); string(got) != "precious" {
		t.Fatalf("the symbolic link's target was written: %q", got)
	}
	if len(s.Messages) != 1 || s.Messages[0].File != "" || !strings.Contains(s.Messages[0].KeepError, "never overwrites") {
		t.Fatalf("Messages = %+v", s.Messages)
	}
	// The next message gets a name of its own.
	if err := send(t, l.Addr(), nil, nil, scanMessage); err != nil {
		t.Fatal(err)
	}
	s = next(t, ch)
	if want := filepath.Join(dir, "run1-session-2-message-1.eml"); len(s.Messages) != 1 || s.Messages[0].File != want {
		t.Fatalf("Messages = %+v", s.Messages)
	}
	if st, err := os.Lstat(s.Messages[0].File); err != nil || st.Mode().Perm() != 0o600 || !st.Mode().IsRegular() {
		t.Errorf("kept file: %v %v", st, err)
	}

	open := t.TempDir()
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(Config{Addr: "127.0.0.1:0", KeepDir: open}); err == nil || !strings.Contains(err.Error(), "sticky bit") {
		t.Errorf("Listen with a world-writable KeepDir: %v", err)
	}
	if err := os.Chmod(open, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if err := CheckKeepDir(open); err != nil {
		t.Errorf("a sticky world-writable directory: %v", err)
	}
}

// Each message has its envelope, and the session says where the device
// stopped.
func TestEnvelopePerMessageAndWhereTheDeviceStopped(t *testing.T) {
	l, ch := start(t, Config{})
	c, err := smtp.Dial(l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, from := range []string{"admin@contoso.com", "scanner@contoso.com"} {
		if err := c.Mail(from); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt("helpdesk@contoso.com"); err != nil {
			t.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, scanMessage)
		w.Close()
	}
	if err := c.Mail("scanner@contoso.com"); err != nil {
		t.Fatal(err)
	}
	c.Rcpt("helpdesk@contoso.com")
	w, _ := c.Data()
	io.WriteString(w, "Subject: cut\r\n\r\nhalf a scan")
	c.Close()
	s := next(t, ch)
	var facts []string
	for _, f := range s.Facts() {
		facts = append(facts, f.Name+": "+f.Value)
	}
	joined := strings.Join(facts, "\n")
	for _, want := range []string{"envelope 1: MAIL FROM:<admin@contoso.com>, RCPT TO: helpdesk@contoso.com",
		"envelope 2: MAIL FROM:<scanner@contoso.com>, RCPT TO: helpdesk@contoso.com"} {
		if !strings.Contains(joined, want) {
			t.Errorf("facts lack %q:\n%s", want, joined)
		}
	}
	if !s.EndedInMessage || s.EndedBy != result.EndedByDevice ||
		s.Stopped() != fmt.Sprintf("the device closed the connection during the message, after %d octets of it", s.PartialOctets) {
		t.Errorf("EndedInMessage %v, EndedBy %q, Stopped %q", s.EndedInMessage, s.EndedBy, s.Stopped())
	}
}

// A ClientHello may list 32,000 cipher suites; the record keeps the
// first maxOffered and counts the rest.
func TestHugeClientHelloIsCapped(t *testing.T) {
	names := make([]string, 30000)
	for i := range names {
		names[i] = fmt.Sprintf("0x%04X", i)
	}
	got := capList(names)
	if len(got) != maxOffered+1 || got[maxOffered] != fmt.Sprintf("(%d more)", 30000-maxOffered) || got[0] != "0x0000" {
		t.Fatalf("capList: %d names, last %q", len(got), got[len(got)-1])
	}
	if len(capList(names[:3])) != 3 {
		t.Error("a short list was changed")
	}
}
