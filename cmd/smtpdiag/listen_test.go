package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// The device acceptance tests: `smtpdiag listen` runs in-process on a
// loopback port the system picks, and real clients play the device:
// swaks (with OpenSSL) and Go's crypto/tls with restricted versions and
// cipher suites.

const devicePassword = "Copier-Pa55word!"

// copierSuite is the device block, listening on loopback.
const copierSuite = `suite { name = "contoso: reception copier" }
device "reception copier" {
  listen      = "127.0.0.1:0"
  hostname    = "smtp.office365.com"
  certificate = "auto"
  require_tls = true
  accept_auth = true
  auth_mechanisms = ["LOGIN", "PLAIN", "XOAUTH2"]
  expect {
    starttls            = true
    tls_version         = ">= 1.2"
    offers_tls_versions = ["1.2"]
    ecdhe               = true
    auth_mechanism      = "LOGIN"
    auth_user           = "scanner@contoso.com"
    mail_from           = "scanner@contoso.com"
    rcpt_count          = ">= 1"
    message_size        = "< 10MB"
  }
  timeout = "30s"
}
`

// lockedBuffer collects a command's output and reports the listening
// address once stderr names it.
type lockedBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string
	sent bool
}

var waitingOn = regexp.MustCompile(`waiting on (\S+) until`)

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if m := waitingOn.FindSubmatch(b.buf.Bytes()); m != nil && !b.sent && b.addr != nil {
		b.sent = true
		b.addr <- string(m[1])
	}
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// listenRun is one `smtpdiag listen` running in-process.
type listenRun struct {
	addr           string
	dir            string
	stdout, stderr *lockedBuffer
	code           chan int
}

// startListen writes the suite to a temporary directory and runs listen
// there with args (the suite file is appended).
func startListen(t *testing.T, suiteSrc string, args ...string) *listenRun {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "copier.hcl")
	if err := os.WriteFile(path, []byte(suiteSrc), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &listenRun{dir: dir, stdout: &lockedBuffer{}, stderr: &lockedBuffer{addr: make(chan string, 1)}, code: make(chan int, 1)}
	e := env{stdout: r.stdout, stderr: r.stderr, environ: []string{}, getenv: func(string) string { return "" }}
	argv := []string{"listen"}
	for _, a := range args {
		// Report files go to the test's directory.
		if strings.HasPrefix(a, "out.") {
			a = filepath.Join(dir, a)
		}
		argv = append(argv, a)
	}
	argv = append(argv, path)
	go func() { r.code <- run(argv, e) }()
	select {
	case r.addr = <-r.stderr.addr:
	case code := <-r.code:
		t.Fatalf("listen ended with %d before listening:\n%s", code, r.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("listen did not start:\n%s", r.stderr.String())
	}
	return r
}

// wait returns listen's exit code.
func (r *listenRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.code:
		return code
	case <-time.After(60 * time.Second):
		t.Fatalf("listen did not end:\nstdout:\n%s\nstderr:\n%s", r.stdout.String(), r.stderr.String())
		return -1
	}
}

func (r *listenRun) file(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// requireSwaks skips the test when swaks is not installed.
func requireSwaks(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("swaks")
	if err != nil {
		t.Skip("swaks is not installed (Debian package swaks); skipping the swaks device test")
	}
	return path
}

// swaks runs swaks against addr and returns its combined output.
func swaks(t *testing.T, bin, addr string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	argv := append([]string{"--server", addr, "--helo", "copier01.contoso.com",
		"--from", "scanner@contoso.com", "--to", "helpdesk@contoso.com"}, args...)
	out, _ := exec.CommandContext(ctx, bin, argv...).CombinedOutput()
	return string(out)
}

// assertNoPassword fails when the device's password, or its base64 form
// alone or in an AUTH PLAIN response, shows anywhere.
func assertNoPassword(t *testing.T, where string, text string) {
	t.Helper()
	for _, secret := range []string{devicePassword, base64.StdEncoding.EncodeToString([]byte(devicePassword)),
		base64.StdEncoding.EncodeToString([]byte("\x00scanner@contoso.com\x00" + devicePassword))} {
		if strings.Contains(text, secret) {
			t.Errorf("%s shows the password (%q)", where, secret)
		}
	}
}

// mustContain fails for each wanted string missing from text.
func mustContain(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

func TestListenSwaksTLS12LoginPasses(t *testing.T) {
	bin := requireSwaks(t)
	r := startListen(t, copierSuite, "--once", "--listen", "127.0.0.1:0",
		"--junit", "out.xml", "--json", "out.json", "--report", "out.html", "--metrics", "out.prom")
	out := swaks(t, bin, r.addr, "--tls", "--tls-protocol", "tlsv1_2",
		"--auth", "LOGIN", "--auth-user", "scanner@contoso.com", "--auth-password", devicePassword)
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nswaks:\n%s", code, r.stdout.String(), out)
	}
	stdout := r.stdout.String()
	mustContain(t, "stdout", stdout, "✓ PASS  contoso: reception copier › reception copier",
		"ClientHello:   offers up to TLS 1.2 (no supported_versions extension);", "ECDHE offered",
		"AUTH:          LOGIN as scanner@contoso.com, inside TLS (password not recorded): 235 2.7.0 Authentication successful",
		"envelope:      MAIL FROM:<scanner@contoso.com>, RCPT TO: helpdesk@contoso.com",
		"X-Mailer: swaks", "1 passed, 0 failed",
		// Which ways it can send after the Basic auth switch-off: it used
		// AUTH LOGIN inside TLS 1.2 with ECDHE.
		"Ways reception copier can send after the Basic auth switch-off\n",
		"  no     Basic auth ", "  maybe  OAuth       ", "It used AUTH LOGIN, and OAuth needs AUTH XOAUTH2")
	mustContain(t, "stderr", r.stderr.String(), "connection from 127.0.0.1 (session 1)", "certificate ECDSA P-256, SHA-256 ")
	report := r.file(t, "out.html")
	mustContain(t, "report", report, "Device session", "ClientHello", "offers up to TLS 1.2", "TLS_ECDHE_",
		"Ways to send after the Basic auth switch-off")
	mustContain(t, "metrics", r.file(t, "out.prom"),
		`smtpdiag_check_success{check="reception copier",endpoint="",suite="contoso: reception copier"} 1`)
	var doc struct {
		Suites []struct {
			Checks []struct {
				Kind   string `json:"kind"`
				Status string `json:"status"`
				Device struct {
					ClientHello struct {
						Versions     []string `json:"versions"`
						CipherSuites []string `json:"cipher_suites"`
						ECDHE        bool     `json:"ecdhe"`
					} `json:"client_hello"`
					Auth []struct {
						Mechanism string `json:"mechanism"`
						User      string `json:"user"`
					} `json:"auth"`
				} `json:"device"`
			} `json:"checks"`
		} `json:"suites"`
	}
	if err := json.Unmarshal([]byte(r.file(t, "out.json")), &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Suites[0].Checks[0]
	if c.Kind != "device" || c.Status != "passed" || fmt.Sprint(c.Device.ClientHello.Versions) != "[1.2 1.1 1.0]" ||
		!c.Device.ClientHello.ECDHE || len(c.Device.ClientHello.CipherSuites) == 0 || c.Device.Auth[0].User != "scanner@contoso.com" {
		t.Errorf("JSON check = %+v", c)
	}
	for name, text := range map[string]string{"stdout": stdout, "stderr": r.stderr.String(), "JUnit": r.file(t, "out.xml"),
		"JSON": r.file(t, "out.json"), "report": report} {
		assertNoPassword(t, name, text)
	}
}

func TestListenSwaksTLS10FailsWithDiagnosis(t *testing.T) {
	bin := requireSwaks(t)
	r := startListen(t, copierSuite, "--once", "--listen", "127.0.0.1:0", "--junit", "out.xml", "--report", "out.md")
	// Debian's OpenSSL refuses TLS 1.0 at its default security level;
	// SECLEVEL=0 lets it offer TLS 1.0, as an old device does.
	out := swaks(t, bin, r.addr, "--tls", "--tls-protocol", "tlsv1", "--tls-cipher", "DEFAULT:@SECLEVEL=0",
		"--auth", "LOGIN", "--auth-user", "scanner@contoso.com", "--auth-password", devicePassword)
	code := r.wait(t)
	if !strings.Contains(out, "TLS started with cipher TLSv1:") {
		t.Skipf("swaks/OpenSSL could not be forced to TLS 1.0 here (the Go client test covers it):\n%s", out)
	}
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s", code, r.stdout.String())
	}
	stdout := r.stdout.String()
	mustContain(t, "stdout", stdout,
		"✗ FAIL  contoso: reception copier › reception copier  ",
		"  tls_version: expected >= 1.2, the device negotiated TLS 1.0; its ClientHello offers TLS 1.0\n",
		"offers_tls_versions: expected the device to offer TLS 1.2; its ClientHello offers TLS 1.0",
		"auth_mechanism: expected AUTH LOGIN, but not reached: the listener ended the session with 421 4.7.66 at EHLO copier01.contoso.com",
		"diagnosis: tls: the device offers only TLS 1.0",
		"TLS 1.0 and 1.1 are unsupported since October 2020 and disabled on the default endpoints since February 2022",
		"Update the device firmware", "smtp-legacy.office365.com", "relay on the local network",
		"Set-TransportConfig -AllowLegacyTLSClients $true",
		"S: 421 4.7.66 TLS 1.0 and 1.1 are not supported.")
	mustContain(t, "JUnit", r.file(t, "out.xml"), `type="tls"`, "tls_version: expected &gt;= 1.2, the device negotiated TLS 1.0")
	mustContain(t, "report", r.file(t, "out.md"), "**Device session**", "- **ClientHello:** offers up to TLS 1.0 (no supported\\_versions extension);")
	assertNoPassword(t, "stdout", stdout)
}

func TestListenSwaksPlaintextGetsSTARTTLSRequired(t *testing.T) {
	bin := requireSwaks(t)
	r := startListen(t, copierSuite, "--once", "--listen", "127.0.0.1:0")
	out := swaks(t, bin, r.addr, "--quit-after", "RCPT")
	if code := r.wait(t); code != 1 {
		t.Fatalf("exit %d\nstdout:\n%s", code, r.stdout.String())
	}
	mustContain(t, "swaks", out, "451 5.7.3 STARTTLS is required to send mail")
	mustContain(t, "stdout", r.stdout.String(),
		"starttls: expected STARTTLS, but the device never sent it (it sent MAIL FROM in plaintext)",
		"rejected: 451 5.7.3 STARTTLS is required to send mail [smtp.office365.com] at MAIL FROM:<scanner@contoso.com>",
		// The rejection above quotes the reply; the diagnosis does not again.
		"diagnosis: tls\n")
}

func TestListenSwaksPlainAuthKeepsMessage(t *testing.T) {
	bin := requireSwaks(t)
	keep := t.TempDir()
	suite := strings.Replace(copierSuite, `auth_mechanism      = "LOGIN"`, `auth_mechanism      = "PLAIN"`, 1)
	r := startListen(t, suite, "--once", "--listen", "127.0.0.1:0", "--keep-message", keep, "--json", "out.json")
	out := swaks(t, bin, r.addr, "--tls", "--auth", "PLAIN", "--auth-user", "scanner@contoso.com",
		"--auth-password", devicePassword, "--header", "Subject: Scan from reception copier", "--body", "scan attached")
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nswaks:\n%s", code, r.stdout.String(), out)
	}
	mustContain(t, "stdout", r.stdout.String(), "AUTH:          PLAIN as scanner@contoso.com", "Subject: Scan from reception copier")
	// Kept files are named per run: RUNID-session-1-message-1.eml.
	kept, _ := filepath.Glob(filepath.Join(keep, "*-session-1-message-1.eml"))
	if len(kept) != 1 {
		t.Fatalf("kept files %v", kept)
	}
	eml, err := os.ReadFile(kept[0])
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "kept message", string(eml), "Subject: Scan from reception copier", "scan attached")
	if strings.Contains(r.file(t, "out.json"), "scan attached") {
		t.Error("the JSON report holds the message body")
	}
	assertNoPassword(t, "JSON", r.file(t, "out.json"))
	assertNoPassword(t, "stdout", r.stdout.String())
}

// goDevice submits a scan the way a device with the given TLS settings
// would, and returns the client's error (nil for a complete submission).
func goDevice(addr string, cfg *tls.Config) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("copier01.contoso.com"); err != nil {
		return err
	}
	if err := c.StartTLS(cfg); err != nil {
		return err
	}
	if err := c.Auth(smtp.PlainAuth("", "scanner@contoso.com", devicePassword, "127.0.0.1")); err != nil {
		return err
	}
	if err := c.Mail("scanner@contoso.com"); err != nil {
		return err
	}
	if err := c.Rcpt("helpdesk@contoso.com"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	fmt.Fprint(w, "Subject: scan\r\n\r\nbody\r\n")
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

var plainSuite = strings.Replace(copierSuite, `auth_mechanism      = "LOGIN"`, `auth_mechanism      = "PLAIN"`, 1)

func TestListenGoClientTLS10FailsWithDiagnosis(t *testing.T) {
	r := startListen(t, plainSuite, "--once", "--listen", "127.0.0.1:0", "--report", "out.html")
	err := goDevice(r.addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10})
	if err == nil || !strings.Contains(err.Error(), "4.7.66") {
		t.Errorf("device error = %v, want the 421 4.7.66 refusal", err)
	}
	if code := r.wait(t); code != 1 {
		t.Fatalf("exit %d\nstdout:\n%s", code, r.stdout.String())
	}
	mustContain(t, "stdout", r.stdout.String(),
		"tls_version: expected >= 1.2, the device negotiated TLS 1.0; its ClientHello offers TLS 1.0",
		"diagnosis: tls: the device offers only TLS 1.0", "smtp-legacy.office365.com")
	mustContain(t, "report", r.file(t, "out.html"), "ClientHello", "offers TLS 1.0;")
}

func TestListenGoClientRSAOnlyFailsECDHE(t *testing.T) {
	r := startListen(t, plainSuite, "--once", "--listen", "127.0.0.1:0")
	err := goDevice(r.addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_CBC_SHA}})
	if err != nil {
		t.Errorf("device error = %v; the listener accepts RSA key exchange to record it", err)
	}
	if code := r.wait(t); code != 1 {
		t.Fatalf("exit %d\nstdout:\n%s", code, r.stdout.String())
	}
	mustContain(t, "stdout", r.stdout.String(),
		"ecdhe: expected an ECDHE cipher suite, but the device offers only TLS_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_AES_128_CBC_SHA",
		"diagnosis: tls: the device offers no ECDHE cipher suite (only RSA key exchange)", "UNVERIFIED")
}

func TestListenEachSessionIsATestCase(t *testing.T) {
	r := startListen(t, plainSuite, "--listen", "127.0.0.1:0", "--timeout", "2s", "--junit", "out.xml")
	if err := goDevice(r.addr, &tls.Config{InsecureSkipVerify: true}); err != nil {
		t.Fatal(err)
	}
	if err := goDevice(r.addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Fatal("a TLS 1.1 device was not refused")
	}
	if code := r.wait(t); code != 1 {
		t.Fatalf("exit %d\nstdout:\n%s", code, r.stdout.String())
	}
	junit := r.file(t, "out.xml")
	mustContain(t, "JUnit", junit, `tests="2"`, `failures="1"`,
		`<testcase name="reception copier #1 (127.0.0.1)"`, `<testcase name="reception copier #2 (127.0.0.1)"`)
	mustContain(t, "stdout", r.stdout.String(), "1 passed, 1 failed")
}

func TestListenAddressInUse(t *testing.T) {
	first := startListen(t, plainSuite, "--listen", "127.0.0.1:0", "--timeout", "1s")
	second := &lockedBuffer{}
	code := run([]string{"listen", "--listen", first.addr, filepath.Join(first.dir, "copier.hcl")},
		env{stdout: &bytes.Buffer{}, stderr: second, environ: []string{}, getenv: func(string) string { return "" }})
	if code != 2 {
		t.Fatalf("exit %d, want 2:\n%s", code, second.String())
	}
	mustContain(t, "stderr", second.String(), "cannot listen on "+first.addr, "already listens on that port")
	first.wait(t)
}

// The hostile-client tests: whatever a peer sends, smtpdiag listen stays
// bounded, shows no credential, and judges only device sessions. They
// measure sizes of records and reports, not time; the peak heap is
// logged for the record.

// openSuite is a device block without expectations or TLS: any session
// without a rejection passes.
const openSuite = `suite { name = "open" }
device "d" {
  listen      = "127.0.0.1:0"
  require_tls = false
  accept_auth = false
  timeout     = "30s"
}
`

// logHeapPeak samples the heap until the test ends and logs its peak.
func logHeapPeak(t *testing.T) {
	t.Helper()
	var mu sync.Mutex
	var peak uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			mu.Lock()
			peak = max(peak, m.HeapAlloc)
			mu.Unlock()
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
		t.Logf("peak heap of the test process: %.1f MB", float64(peak)/(1<<20))
	})
}

// rawSession is a device speaking SMTP line by line.
type rawSession struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawSession {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	s := &rawSession{t: t, conn: conn, r: bufio.NewReader(conn)}
	return s
}

// reply reads one reply and returns its last line ("" at the end of the
// connection).
func (s *rawSession) reply() string {
	for {
		line, err := s.r.ReadString('\n')
		if err != nil || len(line) < 4 || line[3] != '-' {
			return strings.TrimRight(line, "\r\n")
		}
	}
}

// send writes a line and returns the reply's last line.
func (s *rawSession) send(line string) string {
	fmt.Fprintf(s.conn, "%s\r\n", line)
	return s.reply()
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// 12 MB of pipelined NOOPs took listen to 3.7 GB and wrote a 500 MB JSON
// report; now the session is ended with 421 4.7.0 and the reports stay
// small.
func TestListenHostileNOOPFloodStaysSmall(t *testing.T) {
	logHeapPeak(t)
	r := startListen(t, openSuite, "--once", "--json", "out.json", "--junit", "out.xml")
	s := dialRaw(t, r.addr)
	s.reply()
	var lastReply string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for line := s.reply(); line != ""; line = s.reply() {
			lastReply = line
		}
	}()
	io.WriteString(s.conn, "EHLO flood\r\n")
	chunk := strings.Repeat("NOOP\r\n", 64<<10/6)
	for sent := 0; sent < 12<<20; sent += len(chunk) {
		if _, err := io.WriteString(s.conn, chunk); err != nil {
			break // the listener ended the session
		}
	}
	s.conn.(*net.TCPConn).CloseWrite()
	<-done
	code := r.wait(t)
	jsonSize, junitSize := fileSize(t, filepath.Join(r.dir, "out.json")), fileSize(t, filepath.Join(r.dir, "out.xml"))
	t.Logf("exit %d; last reply %q; JSON %d octets, JUnit %d octets, stdout %d octets", code, lastReply, jsonSize, junitSize, len(r.stdout.String()))
	if !strings.HasPrefix(lastReply, "421 4.7.0 ") {
		t.Errorf("the flood's last reply: %q", lastReply)
	}
	if jsonSize > 1<<20 || junitSize > 1<<20 || len(r.stdout.String()) > 1<<20 {
		t.Errorf("reports too large: JSON %d, JUnit %d, stdout %d octets", jsonSize, junitSize, len(r.stdout.String()))
	}
	mustContain(t, "stdout", r.stdout.String(), "rejected: 421 4.7.0", "record:")
}

// 1,000 messages with 255 KB header sections took listen to 1.7 GB.
func TestListenHostileHeaderFloodStaysSmall(t *testing.T) {
	logHeapPeak(t)
	r := startListen(t, openSuite, "--once", "--json", "out.json", "--junit", "out.xml")
	var header strings.Builder
	for i := 0; header.Len() < 255<<10; i++ {
		fmt.Fprintf(&header, "X-Filler-%d: %s\r\n", i, strings.Repeat("h", 990))
	}
	s := dialRaw(t, r.addr)
	s.reply()
	s.send("EHLO flood")
	accepted, last := 0, ""
	for accepted < 1000 {
		if last = s.send("MAIL FROM:<flood@example.test>"); !strings.HasPrefix(last, "250") {
			break
		}
		s.send("RCPT TO:<a@example.test>")
		s.send("DATA")
		io.WriteString(s.conn, header.String()+"\r\nbody\r\n.\r\n")
		if last = s.reply(); !strings.HasPrefix(last, "250") {
			break
		}
		accepted++
	}
	s.conn.Close()
	r.wait(t)
	jsonSize, junitSize := fileSize(t, filepath.Join(r.dir, "out.json")), fileSize(t, filepath.Join(r.dir, "out.xml"))
	t.Logf("%d messages accepted, then %q; JSON %d octets, JUnit %d octets", accepted, last, jsonSize, junitSize)
	if !strings.HasPrefix(last, "421 4.7.0 ") || jsonSize > 1<<20 || junitSize > 1<<20 {
		t.Errorf("%d messages, then %q; JSON %d, JUnit %d octets", accepted, last, jsonSize, junitSize)
	}
}

// A connection beyond the listener's limit gets 421 4.3.2 and is listed,
// not silently dropped; connections that never speak SMTP are listed,
// not judged.
func TestListenTooManyConnectionsAreRefused(t *testing.T) {
	r := startListen(t, openSuite, "--timeout", "2s", "--junit", "out.xml")
	var held []*rawSession
	for i := 0; i < 8; i++ {
		s := dialRaw(t, r.addr)
		if g := s.reply(); !strings.HasPrefix(g, "220 ") {
			t.Fatalf("connection %d: %q", i+1, g)
		}
		held = append(held, s)
	}
	extra := dialRaw(t, r.addr)
	if g := extra.reply(); !strings.HasPrefix(g, "421 4.3.2 ") {
		t.Errorf("the ninth connection got %q", g)
	}
	for _, s := range held {
		s.conn.Close()
	}
	if code := r.wait(t); code != 1 {
		t.Errorf("exit %d", code)
	}
	stdout := r.stdout.String()
	mustContain(t, "stdout", stdout, "not judged: refused with 421 4.3.2: too many sessions at once",
		"not judged: a connection without SMTP", "no device spoke SMTP to", "0 passed, 1 failed, 9 skipped")
	mustContain(t, "JUnit", r.file(t, "out.xml"), `skipped="9"`)
}

// A device that sends AUTH LOGIN before STARTTLS, gets 504 and sends its
// user name and password anyway, then "auth<TAB>plain<TAB>blob": no output
// shows the password; the diagnosis says the credentials went in clear.
func TestListenCredentialsBeforeTLSNeverShown(t *testing.T) {
	r := startListen(t, copierSuite, "--once", "--json", "out.json", "--junit", "out.xml", "--report", "out.html", "-v")
	s := dialRaw(t, r.addr)
	s.reply()
	s.send("EHLO copier01.contoso.com")
	for _, line := range []string{"AUTH LOGIN", b64s("scanner@contoso.com"), b64s(devicePassword),
		"auth\tplain\t" + b64s("\x00scanner@contoso.com\x00"+devicePassword)} {
		if reply := s.send(line); strings.Contains(reply, b64s(devicePassword)) {
			t.Errorf("reply %q echoes the password", reply)
		}
	}
	s.send("QUIT")
	if code := r.wait(t); code != 1 {
		t.Errorf("exit %d", code)
	}
	mustContain(t, "stdout", r.stdout.String(), "the device sent its credentials without TLS",
		"LOGIN as scanner@contoso.com, before TLS", "Enable STARTTLS on the device")
	for name, text := range map[string]string{"stdout": r.stdout.String(), "stderr": r.stderr.String(),
		"JUnit": r.file(t, "out.xml"), "JSON": r.file(t, "out.json"), "report": r.file(t, "out.html")} {
		assertNoPassword(t, name, text)
		if strings.Contains(text, strings.TrimRight(b64s(devicePassword), "=")) {
			t.Errorf("%s shows the password's base64", name)
		}
	}
}

func b64s(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// A port scan and a health check before the device do not end --once
// and are not judged.
func TestListenOncePortScanThenDevice(t *testing.T) {
	r := startListen(t, plainSuite, "--once")
	scan, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	scan.Close()
	health := dialRaw(t, r.addr)
	health.reply()
	health.send("QUIT")
	if err := goDevice(r.addr, &tls.Config{InsecureSkipVerify: true}); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s", code, r.stdout.String())
	}
	mustContain(t, "stdout", r.stdout.String(), "✓ PASS  contoso: reception copier › reception copier  ",
		"1 passed, 0 failed, 2 skipped", "not judged: a connection without SMTP")
}

// With --once a second session that sends EHLO while the first is tested
// gets 421 4.3.2 and is listed.
func TestListenOnceSecondSessionRefused(t *testing.T) {
	r := startListen(t, openSuite, "--once")
	first := dialRaw(t, r.addr)
	first.reply()
	second := dialRaw(t, r.addr) // connected before the first sent EHLO
	second.reply()
	first.send("EHLO first")
	if reply := second.send("EHLO second"); !strings.HasPrefix(reply, "421 4.3.2 ") {
		t.Errorf("the second session's EHLO got %q", reply)
	}
	third := dialRaw(t, r.addr) // connected after it
	if greeting := third.reply(); !strings.HasPrefix(greeting, "421 4.3.2 ") {
		t.Errorf("the third session's greeting was %q", greeting)
	}
	first.send("QUIT")
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s", code, r.stdout.String())
	}
	mustContain(t, "stdout", r.stdout.String(), "1 passed, 0 failed, 2 skipped",
		"not judged: refused with 421 4.3.2: another device session was being tested")
}

// After the deadline no new connection is accepted, and the grace ends
// as soon as the open session ends (not after the full minute).
func TestListenDeadlineStopsAcceptingAndGraceEnds(t *testing.T) {
	r := startListen(t, openSuite, "--timeout", "1s")
	open := dialRaw(t, r.addr)
	open.reply()
	open.send("EHLO device")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(r.stderr.String(), "still open") {
		if time.Now().After(deadline) {
			t.Fatalf("no grace announced:\n%s", r.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c, err := net.DialTimeout("tcp", r.addr, 2*time.Second); err == nil {
		c.Close()
		t.Error("a connection was accepted after the deadline")
	}
	open.send("QUIT")
	select {
	case code := <-r.code:
		if code != 0 {
			t.Errorf("exit %d\nstdout:\n%s", code, r.stdout.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("listen still waited after the open session ended")
	}
}

// swaks --tls-verify (OpenSSL, TLS 1.3) refuses the self-signed
// certificate with a plaintext alert: diagnosed as a refused certificate,
// not as "bad record MAC".
func TestListenSwaksTLS13VerifyRefusal(t *testing.T) {
	bin := requireSwaks(t)
	r := startListen(t, copierSuite, "--once")
	out := swaks(t, bin, r.addr, "--tls", "--tls-verify", "--tls-sni", "smtp.office365.com")
	if code := r.wait(t); code != 1 {
		t.Fatalf("exit %d\nstdout:\n%s", code, r.stdout.String())
	}
	if !strings.Contains(out, "TLS") {
		t.Logf("swaks:\n%s", out)
	}
	mustContain(t, "stdout", r.stdout.String(), "diagnosis: tls: the device refused the listener's certificate (unknown CA)")
	if strings.Contains(r.stdout.String(), "Update the device firmware") {
		t.Errorf("firmware advice for a refused certificate:\n%s", r.stdout.String())
	}
}

// --keep-message never writes through a symbolic link planted under the
// name of a message, and never overwrites.
func TestListenKeepMessageNeverFollowsSymlinks(t *testing.T) {
	bin := requireSwaks(t)
	keep := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"session-1-message-1.eml", "-session-1-message-1.eml"} {
		if err := os.Symlink(victim, filepath.Join(keep, name)); err != nil {
			t.Fatal(err)
		}
	}
	r := startListen(t, plainSuite, "--once", "--keep-message", keep)
	swaks(t, bin, r.addr, "--tls", "--auth", "PLAIN", "--auth-user", "scanner@contoso.com",
		"--auth-password", devicePassword, "--body", "scan attached")
	r.wait(t)
	if got, _ := os.ReadFile(victim); string(got) != "precious" {
		t.Fatalf("--keep-message wrote through a symbolic link: %q", got)
	}
	kept, _ := filepath.Glob(filepath.Join(keep, "?*-session-1-message-1.eml"))
	if len(kept) != 1 {
		t.Fatalf("kept %v", kept)
	}
	if st, err := os.Lstat(kept[0]); err != nil || !st.Mode().IsRegular() {
		t.Fatalf("%s: %v %v", kept[0], st, err)
	}
}

// mail_from is judged for every message, and each message shows its
// envelope.
func TestListenMailFromEveryMessage(t *testing.T) {
	r := startListen(t, plainSuite, "--once")
	c, err := smtp.Dial(r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Hello("copier01.contoso.com")
	if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true}); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", "scanner@contoso.com", devicePassword, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{"admin@contoso.com", "scanner@contoso.com"} {
		c.Mail(from)
		c.Rcpt("helpdesk@contoso.com")
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(w, "Subject: scan\r\n\r\nbody\r\n")
		w.Close()
	}
	c.Quit()
	if code := r.wait(t); code != 1 {
		t.Fatalf("exit %d\nstdout:\n%s", code, r.stdout.String())
	}
	mustContain(t, "stdout", r.stdout.String(),
		"mail_from: expected MAIL FROM:<scanner@contoso.com>, the device sent message 1 with MAIL FROM:<admin@contoso.com>",
		"envelope 1:    MAIL FROM:<admin@contoso.com>, RCPT TO: helpdesk@contoso.com",
		"envelope 2:    MAIL FROM:<scanner@contoso.com>, RCPT TO: helpdesk@contoso.com")
}

// A connection test (EHLO, STARTTLS, AUTH, QUIT) is told where it
// stopped, without Send As advice; a device that closes in the middle of
// the message gets no "lower the scan resolution".
func TestListenUnreachedExpectationsGetNoForeignAdvice(t *testing.T) {
	r := startListen(t, plainSuite, "--once")
	c, err := smtp.Dial(r.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Hello("copier01.contoso.com")
	c.StartTLS(&tls.Config{InsecureSkipVerify: true})
	if err := c.Auth(smtp.PlainAuth("", "scanner@contoso.com", devicePassword, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	r.wait(t)
	stdout := r.stdout.String()
	mustContain(t, "stdout", stdout,
		"mail_from: expected MAIL FROM:<scanner@contoso.com>, but the device ended the session after AUTH; it never sent MAIL FROM")
	for _, wrong := range []string{"Send As", "SendAs", "5.7.60", "scan resolution"} {
		if strings.Contains(stdout, wrong) {
			t.Errorf("a connection test gets advice on %q:\n%s", wrong, stdout)
		}
	}

	r = startListen(t, plainSuite, "--once")
	c, err = smtp.Dial(r.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Hello("copier01.contoso.com")
	c.StartTLS(&tls.Config{InsecureSkipVerify: true})
	c.Auth(smtp.PlainAuth("", "scanner@contoso.com", devicePassword, "127.0.0.1"))
	c.Mail("scanner@contoso.com")
	c.Rcpt("helpdesk@contoso.com")
	w, _ := c.Data()
	fmt.Fprint(w, "Subject: scan\r\n\r\nthe first half of a scan\r\n")
	c.Close()
	r.wait(t)
	stdout = r.stdout.String()
	mustContain(t, "stdout", stdout, "message_size: expected < 10MB, but the device closed the connection during the message")
	if strings.Contains(stdout, "scan resolution") {
		t.Errorf("a broken-off transfer gets the advice for a large scan:\n%s", stdout)
	}
}
