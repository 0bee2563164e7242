package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
		"--junit", "out.xml", "--json", "out.json", "--report", "out.html")
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
		"X-Mailer: swaks", "1 passed, 0 failed")
	mustContain(t, "stderr", r.stderr.String(), "connection from 127.0.0.1 (session 1)", "certificate ECDSA P-256, SHA-256 ")
	report := r.file(t, "out.html")
	mustContain(t, "report", report, "Device session", "ClientHello", "offers up to TLS 1.2", "TLS_ECDHE_")
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
	eml, err := os.ReadFile(filepath.Join(keep, "session-1-message-1.eml"))
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
