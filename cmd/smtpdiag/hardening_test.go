package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingListener accepts connections on 127.0.0.1 and counts them; it
// answers each with a banner and closes it, so that a client that got
// there would go on and be seen.
type countingListener struct {
	net.Listener
	accepted atomic.Int32
	wg       sync.WaitGroup
}

func listen(t *testing.T) *countingListener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: l}
	cl.wg.Add(1)
	go func() {
		defer cl.wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			cl.accepted.Add(1)
			conn.Write([]byte("554 5.7.1 this listener must never be reached\r\n"))
			conn.Close()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		cl.wg.Wait()
	})
	return cl
}

func (cl *countingListener) port() string {
	return fmt.Sprint(cl.Addr().(*net.TCPAddr).Port)
}

// runCLI runs the CLI in-process and returns its exit code and output.
func runCLI(dir string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	wd, _ := os.Getwd()
	os.Chdir(dir)
	defer os.Chdir(wd)
	code = run(args, env{
		stdout:  &out,
		stderr:  &errOut,
		environ: []string{"HOME=" + dir},
		getenv:  func(string) string { return "" },
	})
	return code, out.String(), errOut.String()
}

// positioned matches the first line of a diagnostic with a position.
var positioned = regexp.MustCompile(`(?m)^[^\s:]+\.hcl:\d+:\d+: Error: `)

// TestHostileSuitesSendNothing runs `smtpdiag run` on every hostile suite
// of internal/suite/testdata/hostile, each with a probe check appended
// that points at a listener: every run must exit 2 with a positioned
// diagnostic and no crash, and the listener must see no connection. Then
// all of them at once next to a valid suite: still exit 2, still nothing.
func TestHostileSuitesSendNothing(t *testing.T) {
	cl := listen(t)
	corpus, err := filepath.Glob(filepath.Join("..", "..", "internal", "suite", "testdata", "hostile", "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(corpus) < 30 {
		t.Fatalf("found %d hostile suites, want at least 30", len(corpus))
	}
	probe := fmt.Sprintf("\nendpoint \"listener_probe\" {\n  host = \"127.0.0.1\"\n  port = %s\n  tls  = \"none\"\n}\nsmtp \"listener probe\" {\n  endpoint  = endpoint.listener_probe\n  mail_from = \"a@contoso.com\"\n  rcpt_to   = [\"b@contoso.com\"]\n}\n", cl.port())
	all := t.TempDir()
	for _, path := range corpus {
		name := filepath.Base(path)
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, probe...)
		dir := t.TempDir()
		for _, d := range []string{dir, all} {
			if err := os.WriteFile(filepath.Join(d, name), src, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Run(strings.TrimSuffix(name, ".hcl"), func(t *testing.T) {
			code, stdout, stderr := runCLI(dir, "run", "--no-color", name)
			assertRejected(t, code, stdout, stderr)
		})
	}
	valid := fmt.Sprintf("endpoint \"e\" {\n  host = \"127.0.0.1\"\n  port = %s\n  tls  = \"none\"\n}\nsmtp \"valid\" { endpoint = endpoint.e }\n", cl.port())
	if err := os.WriteFile(filepath.Join(all, "aaa_valid.hcl"), []byte(valid), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(all, "run", "--no-color", "--parallel", "8", ".")
	assertRejected(t, code, stdout, stderr)
	if n := cl.accepted.Load(); n != 0 {
		t.Errorf("the listener saw %d connections", n)
	}
}

func assertRejected(t *testing.T, code int, stdout, stderr string) {
	t.Helper()
	if code != exitUsage {
		t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%.2000s", code, exitUsage, stdout, stderr)
	}
	if !positioned.MatchString(stderr) {
		t.Errorf("no positioned diagnostic:\n%.2000s", stderr)
	}
	for _, crash := range []string{"panic", "goroutine ", "internal error"} {
		if strings.Contains(stderr, crash) {
			t.Errorf("stderr mentions %q:\n%.2000s", crash, stderr)
		}
	}
	if stdout != "" {
		t.Errorf("something ran:\n%s", stdout)
	}
}

// authServer is an SMTP server on 127.0.0.1 that offers AUTH PLAIN LOGIN
// CRAM-MD5 XOAUTH2 without TLS and accepts one user with one password and
// one token. A rejection echoes what the client sent, as a careless or
// hostile server might, so that the client's masking of what servers send
// back is tested too.
type authServer struct {
	user, password, token string
	l                     net.Listener
	wg                    sync.WaitGroup
	dataCommands          atomic.Int32
}

func startAuthServer(t *testing.T, user, password, token string) *authServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &authServer{user: user, password: password, token: token, l: l}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				s.serve(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		s.wg.Wait()
	})
	return s
}

func (s *authServer) port() string { return fmt.Sprint(s.l.Addr().(*net.TCPAddr).Port) }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func unb64(s string) string {
	b, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	return string(b)
}

func (s *authServer) serve(conn net.Conn) {
	r := bufio.NewReader(conn)
	say := func(lines ...string) { conn.Write([]byte(strings.Join(lines, "\r\n") + "\r\n")) }
	read := func() string {
		line, _ := r.ReadString('\n')
		return strings.TrimRight(line, "\r\n")
	}
	verdict := func(ok bool, echoed string) {
		if ok {
			say("235 2.7.0 Authentication successful")
			return
		}
		say("535-5.7.8 Authentication unsuccessful, you sent "+echoed, "535 5.7.8 ("+unb64(echoed)+")")
	}
	say("220 secrets.test ESMTP")
	for {
		line := read()
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			say("250-secrets.test Hello [127.0.0.1]", "250-PIPELINING", "250 AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2")
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			switch mech {
			case "PLAIN":
				verdict(unb64(ir) == "\x00"+s.user+"\x00"+s.password, ir)
			case "LOGIN":
				say("334 VXNlcm5hbWU6")
				user := read()
				say("334 UGFzc3dvcmQ6")
				pass := read()
				verdict(unb64(user) == s.user && unb64(pass) == s.password, pass)
			case "CRAM-MD5":
				challenge := "<4711.1700000000@secrets.test>"
				say("334 " + b64(challenge))
				resp := read()
				h := hmac.New(md5.New, []byte(s.password))
				h.Write([]byte(challenge))
				verdict(unb64(resp) == s.user+" "+hex.EncodeToString(h.Sum(nil)), resp)
			case "XOAUTH2":
				if unb64(ir) == "user="+s.user+"\x01auth=Bearer "+s.token+"\x01\x01" {
					verdict(true, "")
					continue
				}
				say("334 " + b64(`{"status":"401","schemes":"bearer","scope":"https://outlook.office.com/SMTP.Send","echo":"`+ir+`"}`))
				read()
				verdict(false, ir)
			default:
				say("504 5.7.4 Unrecognized authentication type")
			}
		case "MAIL":
			say("250 2.1.0 Sender OK")
		case "RCPT":
			say("250 2.1.5 Recipient OK")
		case "RSET":
			say("250 2.0.0 Resetting")
		case "DATA", "BDAT":
			s.dataCommands.Add(1)
			say("554 5.7.1 no mail in this test")
		case "QUIT":
			say("221 2.0.0 Service closing transmission channel")
			return
		default:
			say("502 5.5.2 Command not recognized")
			if line == "" {
				return
			}
		}
	}
}

// secretForms lists every form in which secret may leak: as is, in
// base64 at each of the three alignments it can have inside a longer
// base64 string (the part that depends on the secret alone), and the whole
// PLAIN and XOAUTH2 strings in base64.
func secretForms(user, secret string) []string {
	forms := []string{secret, b64(secret), strings.TrimRight(b64(secret), "=")}
	for k := range 3 {
		enc := b64(strings.Repeat("\x00", k) + secret)
		// Skip the quantum that mixes in the prefix and the last one,
		// which mixes in whatever follows.
		if inner := enc[4 : len(enc)-4]; len(inner) >= 8 {
			forms = append(forms, inner)
		}
	}
	forms = append(forms,
		b64("\x00"+user+"\x00"+secret),
		b64(user+"\x00"+user+"\x00"+secret),
		b64("user="+user+"\x01auth=Bearer "+secret+"\x01\x01"),
	)
	return forms
}

// TestSecretsInEveryOutput runs a suite per AUTH mechanism (PLAIN, LOGIN,
// CRAM-MD5, XOAUTH2) with a check that authenticates and one that is
// refused (so that its transcript and diagnosis are printed), through
// every output: the summary, -v, JUnit, JSON and the HTML and Markdown
// reports. No form of the password, the wrong password or the token may
// appear in any of them.
func TestSecretsInEveryOutput(t *testing.T) {
	const (
		user     = "scanner@contoso.com"
		password = "Corr3ct-H0rse-Battery-St4ple"
		wrong    = "Wr0ng-Guess-Kangaroo-Pl4tform"
		token    = "eyJ0eXAiOiJKV1QiLCJub25jZSI6InNlY3JldC10b2tlbi12YWx1ZSJ9"
		badToken = "eyJhbGciOiJub25lIn0.ZXhwaXJlZC1zZWNyZXQtdG9rZW4"
	)
	srv := startAuthServer(t, user, password, token)
	var forbidden []string
	for _, s := range []string{password, wrong, token, badToken} {
		forbidden = append(forbidden, secretForms(user, s)...)
	}
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"} {
		t.Run(mech, func(t *testing.T) {
			good, bad, field := "var.password", "var.wrong", "password"
			if mech == "XOAUTH2" {
				good, bad, field = "var.token", "var.bad_token", "token"
			}
			suite := fmt.Sprintf(`suite { name = "secrets %[1]s" }
variable "password" {
  sensitive = true
  default   = %[2]q
}
variable "wrong" {
  sensitive = true
  default   = %[3]q
}
variable "token" {
  sensitive = true
  default   = %[4]q
}
variable "bad_token" {
  sensitive = true
  default   = %[5]q
}
endpoint "e" {
  host    = "127.0.0.1"
  port    = %[6]s
  tls     = "none"
  timeout = "5s"
}
smtp "%[1]s accepted" {
  endpoint = endpoint.e
  auth {
    username  = %[7]q
    %[8]s = %[9]s
    mechanism = %[1]q
  }
  mail_from = %[7]q
  rcpt_to   = ["helpdesk@contoso.com"]
  expect { auth = 235 }
}
smtp "%[1]s refused" {
  endpoint = endpoint.e
  auth {
    username  = %[7]q
    %[8]s = %[10]s
    mechanism = %[1]q
  }
  expect { auth = 235 }
}
`, mech, password, wrong, token, badToken, srv.port(), user, field, good, bad)
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "secrets.hcl"), []byte(suite), 0o644); err != nil {
				t.Fatal(err)
			}
			var outputs []string
			for _, args := range [][]string{
				{"run", "--no-color", "secrets.hcl"},
				{"run", "--no-color", "-v", "--junit", "out.xml", "--json", "out.json", "--report", "out.html", "secrets.hcl"},
				{"run", "--no-color", "-v", "--report", "out.md", "secrets.hcl"},
			} {
				code, stdout, stderr := runCLI(dir, args...)
				if code != exitFailed {
					t.Fatalf("%v: exit %d, want %d\n%s\n%s", args, code, exitFailed, stdout, stderr)
				}
				outputs = append(outputs, stdout, stderr)
			}
			for _, f := range []string{"out.xml", "out.json", "out.html", "out.md"} {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				outputs = append(outputs, string(b))
			}
			all := strings.Join(outputs, "\n")
			// The run did authenticate, was refused and masked the exchange.
			for _, want := range []string{"PASS", mech + " accepted", "FAIL", mech + " refused", "535", "C: AUTH " + mech} {
				if !strings.Contains(all, want) {
					t.Errorf("the outputs lack %q", want)
				}
			}
			for _, form := range forbidden {
				if i := strings.Index(all, form); i >= 0 {
					t.Errorf("the outputs hold %q: ...%s...", form, all[max(0, i-80):min(len(all), i+len(form)+40)])
				}
			}
			if n := srv.dataCommands.Load(); n != 0 {
				t.Errorf("the server got %d DATA commands", n)
			}
		})
	}
}

// TestBadOutputPathsSendNothing: an output path that is a directory, in a
// directory that does not exist, or in one that cannot be written is a
// usage error before any traffic, for run and listen alike.
func TestBadOutputPathsSendNothing(t *testing.T) {
	cl := listen(t)
	dir := t.TempDir()
	suite := fmt.Sprintf("endpoint \"e\" {\n  host = \"127.0.0.1\"\n  port = %s\n  tls  = \"none\"\n}\nsmtp \"c\" { endpoint = endpoint.e }\n", cl.port())
	if err := os.WriteFile(filepath.Join(dir, "s.hcl"), []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"adir", "report.html"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	locked := filepath.Join(dir, "locked")
	if err := os.Mkdir(locked, 0o555); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		flag, path, want string
	}{
		{"--junit", "adir", "cannot write adir: it is a directory"},
		{"--json", "missing/out.json", "directory missing does not exist"},
		{"--report", "report.html", "cannot write report.html: it is a directory"},
	}
	// root may write anywhere; the permission case only means something
	// for other users.
	if os.Geteuid() != 0 {
		cases = append(cases, struct{ flag, path, want string }{"--junit", "locked/junit.xml", "cannot write locked/junit.xml: permission denied"})
	}
	for _, tc := range cases {
		code, stdout, stderr := runCLI(dir, "run", "--no-color", tc.flag, tc.path, "s.hcl")
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s %s: exit %d, stderr %q, want 2 and %q\n%s", tc.flag, tc.path, code, stderr, tc.want, stdout)
		}
	}
	if n := cl.accepted.Load(); n != 0 {
		t.Errorf("the server saw %d connections", n)
	}
}
