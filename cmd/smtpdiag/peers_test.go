package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// defaultPeersEnv is where scripts/peers.sh up writes the addresses of the
// peers; SMTPDIAG_PEERS_ENV names another file.
const defaultPeersEnv = "/run/smtpdiag-peers/env"

// peers are the real servers scripts/peers.sh starts on loopback: Postfix
// as an MX, a submission service, an implicit-TLS service and a relay
// that trusts client certificates, with Dovecot SASL behind the two
// submission services.
type peers struct {
	MX, Submission, SMTPS string // host:port
	Relay                 string // host:port: relays for a client certificate of the test CA
	ClientCert, ClientKey string // that certificate and its key (PEM files)
	DNS                   string // rbldnsd, host:port (UDP)
	CA                    string // PEM of the test CA that issued Postfix's certificate
	MailLog               string // Postfix's maillog_file
	User, Password        string // the test mailbox
}

// loadPeers reads the env file peers.sh writes (KEY=VALUE lines); every
// value it lacks keeps the script's default, so that a missing file still
// leads to a clear "not running" skip rather than an obscure failure.
func loadPeers() peers {
	p := peers{
		MX:         "127.0.0.1:2525",
		Submission: "127.0.0.1:5587",
		SMTPS:      "127.0.0.1:4465",
		Relay:      "127.0.0.1:2526",
		ClientCert: "/run/smtpdiag-peers/client.pem",
		ClientKey:  "/run/smtpdiag-peers/client.key",
		DNS:        "127.0.0.1:5354",
		CA:         "/run/smtpdiag-peers/ca.pem",
		MailLog:    "/var/log/smtpdiag-postfix.log",
		User:       "scanner@contoso.test",
		Password:   "peers-scan-2026",
	}
	path := os.Getenv("SMTPDIAG_PEERS_ENV")
	if path == "" {
		path = defaultPeersEnv
	}
	f, err := os.Open(path)
	if err != nil {
		return p
	}
	defer f.Close()
	fields := map[string]*string{
		"SMTPDIAG_PEERS_MX":          &p.MX,
		"SMTPDIAG_PEERS_SUBMISSION":  &p.Submission,
		"SMTPDIAG_PEERS_SMTPS":       &p.SMTPS,
		"SMTPDIAG_PEERS_RELAY":       &p.Relay,
		"SMTPDIAG_PEERS_CLIENT_CERT": &p.ClientCert,
		"SMTPDIAG_PEERS_CLIENT_KEY":  &p.ClientKey,
		"SMTPDIAG_PEERS_DNS":         &p.DNS,
		"SMTPDIAG_PEERS_CA":          &p.CA,
		"SMTPDIAG_PEERS_MAILLOG":     &p.MailLog,
		"SMTPDIAG_PEERS_USER":        &p.User,
		"SMTPDIAG_PEERS_PASSWORD":    &p.Password,
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if dst := fields[k]; ok && dst != nil && v != "" {
			*dst = v
		}
	}
	return p
}

// answering returns an error naming the first service that does not
// accept a TCP connection.
func (p peers) answering() error {
	for _, addr := range []string{p.MX, p.Submission, p.SMTPS, p.Relay} {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return err
		}
		c.Close()
	}
	return nil
}

// TestPeers runs the scenarios in testdata/peers: the real CLI as a
// subprocess against Postfix and Dovecot on 127.0.0.1, started by
// scripts/peers.sh. It skips, saying how to start them, when they do not
// answer.
func TestPeers(t *testing.T) {
	p := loadPeers()
	if err := p.answering(); err != nil {
		t.Skipf("peers not running: start them with sudo scripts/peers.sh up (%v)", err)
	}
	// The peers answer, so what follows must work: a missing CA or an
	// unreadable log is a broken set-up, not a reason to skip.
	if _, err := os.Stat(p.CA); err != nil {
		t.Fatalf("the peers answer but their CA is missing: %v (run sudo scripts/peers.sh up again)", err)
	}
	if f, err := os.Open(p.MailLog); err != nil {
		t.Fatalf("the peers answer but Postfix's log cannot be read: %v", err)
	} else {
		f.Close()
	}
	mxHost, mxPort, _ := net.SplitHostPort(p.MX)
	_, subPort, _ := net.SplitHostPort(p.Submission)
	_, smtpsPort, _ := net.SplitHostPort(p.SMTPS)
	_, relayPort, _ := net.SplitHostPort(p.Relay)
	key, err := os.ReadFile(p.ClientKey)
	if err != nil {
		t.Fatalf("the peers answer but the client key is missing: %v (run sudo scripts/peers.sh up again)", err)
	}
	// A line of the key's base64 body: no output may hold it.
	var keyLine string
	for _, l := range strings.Split(string(key), "\n") {
		if len(l) > 40 && !strings.HasPrefix(l, "-----") {
			keyLine = l
			break
		}
	}
	if keyLine == "" {
		t.Fatalf("%s holds no PEM key", p.ClientKey)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/peers",
		Setup: func(e *testscript.Env) error {
			e.Setenv("PEERS_HOST", mxHost)
			e.Setenv("MX_PORT", mxPort)
			e.Setenv("SUBMISSION_PORT", subPort)
			e.Setenv("SMTPS_PORT", smtpsPort)
			e.Setenv("RELAY_PORT", relayPort)
			e.Setenv("CLIENT_CERT", p.ClientCert)
			e.Setenv("CLIENT_KEY", p.ClientKey)
			e.Setenv("CLIENT_DIR", filepath.Dir(p.ClientCert))
			e.Setenv("CLIENT_KEY_LINE", regexp.QuoteMeta(keyLine))
			e.Setenv("CA_FILE", p.CA)
			e.Setenv("PEERS_USER", p.User)
			e.Setenv("PEERS_PASSWORD", p.Password)
			// The forms in which a password could leak on the wire: AUTH
			// LOGIN's base64 of the password, AUTH PLAIN's of the whole
			// initial response (RFC 4616); quoted for grep and stdout.
			e.Setenv("PEERS_PASSWORD_B64", regexp.QuoteMeta(base64.StdEncoding.EncodeToString([]byte(p.Password))))
			e.Setenv("PEERS_PLAIN_B64", regexp.QuoteMeta(base64.StdEncoding.EncodeToString([]byte("\x00"+p.User+"\x00"+p.Password))))
			// A tag for this script's envelope addresses, so that its
			// lines in the shared mail log are its own even when scripts
			// run in parallel.
			e.Setenv("RUNID", strings.ToLower(rand.Text()[:10]))
			e.Setenv("NO_COLOR", "")
			info, err := os.Stat(p.MailLog)
			if err != nil {
				return err
			}
			e.Values["maillog"] = maillogFrom{path: p.MailLog, offset: info.Size(), mx: p.MX}
			return nil
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"exits":         cmdExits,
			"junit":         cmdJUnit,
			"maillog-count": cmdMaillogCount,
		},
	})
}

// TestPeersDNS checks the zones rbldnsd serves for the DNS checks: a
// DNSBL shaped like Spamhaus ZEN and a domain with MX, A, SPF and DMARC
// records. Every query goes to rbldnsd on loopback.
func TestPeersDNS(t *testing.T) {
	p := loadPeers()
	if err := p.answering(); err != nil {
		t.Skipf("peers not running: start them with sudo scripts/peers.sh up (%v)", err)
	}
	r := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", p.DNS)
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Like the SMTP services: not running is a skip, not a failure.
	if err := udpAnswers(p.DNS); errors.Is(err, syscall.ECONNREFUSED) {
		t.Skipf("rbldnsd not running: start it with sudo scripts/peers.sh up (%v)", err)
	}
	host := func(n string) ([]string, error) { return r.LookupHost(ctx, n) }
	txt := func(n string) ([]string, error) { return r.LookupTXT(ctx, n) }
	lookups := []struct {
		name     string
		lookup   func(string) ([]string, error)
		question string
		want     string
	}{
		// RFC 5782 section 5: 127.0.0.2 is every DNSBL's test entry.
		{"SBL-like test entry", host, "2.0.0.127.zen.peers.test.", "127.0.0.2"},
		{"SBL-like reason", txt, "2.0.0.127.zen.peers.test.", "127.0.0.2 is listed in the SBL-like test zone: https://check.spamhaus.org/results?query=127.0.0.2"},
		{"PBL-like entry", host, "99.2.0.192.zen.peers.test.", "127.0.0.11"},
		{"A", host, "contoso.test.", "127.0.0.1"},
		{"SPF", txt, "contoso.test.", "v=spf1 ip4:127.0.0.1 include:spf.peers.test ~all"},
		{"DMARC", txt, "_dmarc.contoso.test.", "v=DMARC1; p=reject"},
		{"MX target", host, "mx.peers.test.", "127.0.0.1"},
	}
	for _, l := range lookups {
		got, err := l.lookup(l.question)
		if err != nil || len(got) != 1 || got[0] != l.want {
			t.Errorf("%s: %s = %q, %v; want %q", l.name, l.question, got, err, l.want)
		}
	}
	mx, err := r.LookupMX(ctx, "contoso.test.")
	if err != nil || len(mx) != 1 || mx[0].Host != "mx.peers.test." || mx[0].Pref != 10 {
		t.Errorf("MX contoso.test = %v, %v; want 10 mx.peers.test.", mx, err)
	}
	// RFC 5782 section 5: 127.0.0.1 must never be listed.
	var dnsErr *net.DNSError
	if _, err := r.LookupHost(ctx, "1.0.0.127.zen.peers.test."); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("1.0.0.127.zen.peers.test: %v, want NXDOMAIN", err)
	}
}

// udpAnswers sends one DNS query (A mx.peers.test) to addr and waits for
// any reply. A refused query (ICMP port unreachable, ECONNREFUSED) means
// that nothing listens there.
func udpAnswers(addr string) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	// RFC 1035 section 4.1: header (ID, RD set, one question), QNAME,
	// QTYPE A, QCLASS IN.
	q := []byte{0x53, 0x44, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		2, 'm', 'x', 5, 'p', 'e', 'e', 'r', 's', 4, 't', 'e', 's', 't', 0,
		0, 1, 0, 1}
	if _, err := c.Write(q); err != nil {
		return err
	}
	_, err = c.Read(make([]byte, 512))
	return err
}

// maillogFrom is Postfix's log file and its size when a script started.
type maillogFrom struct {
	path   string
	offset int64
	mx     string // the mx service, for sentinel
}

// count returns how many lines Postfix logged since the script started
// that match re.
func (m maillogFrom) count(re *regexp.Regexp) (int, error) {
	f, err := os.Open(m.path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := f.Seek(m.offset, io.SeekStart); err != nil {
		return 0, err
	}
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if re.MatchString(sc.Text()) {
			n++
		}
	}
	return n, sc.Err()
}

// sentinel makes Postfix log a line of its own and waits until that line
// is in the file. Every Postfix process sends its log records to one
// postlogd socket, which writes them in the order they arrive; so once
// the sentinel is in the file, so is everything Postfix logged before,
// in particular what cleanup logged for a message before answering the
// end of its DATA.
func (m maillogFrom) sentinel() error {
	tag := "sentinel-" + strings.ToLower(rand.Text()[:10])
	c, err := textproto.Dial("tcp", m.mx)
	if err != nil {
		return err
	}
	defer c.Close()
	// A recipient of a domain the mx does not accept: Postfix logs
	// "NOQUEUE: reject: RCPT ... to=<tag@example.invalid>" and delivers
	// nothing.
	steps := []struct {
		cmd  string
		code int
	}{
		{"", 220},
		{"EHLO " + tag + ".peers.test", 250},
		{"MAIL FROM:<>", 250},
		{"RCPT TO:<" + tag + "@example.invalid>", 5},
		{"QUIT", 221},
	}
	for _, s := range steps {
		if s.cmd != "" {
			if err := c.PrintfLine("%s", s.cmd); err != nil {
				return err
			}
		}
		if _, _, err := c.ReadResponse(s.code); err != nil {
			return fmt.Errorf("sentinel %q: %w", s.cmd, err)
		}
	}
	re := regexp.MustCompile(regexp.QuoteMeta("to=<" + tag + "@example.invalid>"))
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if n, err := m.count(re); err != nil || n > 0 {
			return err
		}
	}
	return fmt.Errorf("the sentinel %s never appeared in %s", tag, m.path)
}

// maillog-count N REGEXP: exactly N lines that Postfix logged since the
// script started match REGEXP. Postfix logs delivery after it has
// answered the client, so a count above zero is waited for (up to 15s);
// for zero, a sentinel line proves that the log has caught up first.
func cmdMaillogCount(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: maillog-count N REGEXP")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil || want < 0 {
		ts.Fatalf("maillog-count: bad count %q", args[0])
	}
	re, err := regexp.Compile(args[1])
	if err != nil {
		ts.Fatalf("maillog-count: %v", err)
	}
	log := ts.Value("maillog").(maillogFrom)
	if want == 0 {
		if err := log.sentinel(); err != nil {
			ts.Fatalf("maillog-count: %v", err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := log.count(re)
		if err != nil {
			ts.Fatalf("maillog-count: %v", err)
		}
		if got >= want || time.Now().After(deadline) {
			if got != want {
				ts.Fatalf("%s: %d lines match %q since the script started, want %d", log.path, got, args[1], want)
			}
			ts.Logf("%s: %d lines match %q", log.path, got, args[1])
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPeersEnvFile checks that the env file peers.sh writes is what
// TestPeers uses, and that a service that does not answer is named in the
// error TestPeers skips with.
func TestPeersEnvFile(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	live, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	env := t.TempDir() + "/env"
	content := fmt.Sprintf("# comment\nSMTPDIAG_PEERS_MX=%s\nSMTPDIAG_PEERS_SUBMISSION=%s\nSMTPDIAG_PEERS_SMTPS=%s\nSMTPDIAG_PEERS_PASSWORD=s3cret\n",
		live.Addr(), closed, live.Addr())
	if err := os.WriteFile(env, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SMTPDIAG_PEERS_ENV", env)
	p := loadPeers()
	if p.Submission != closed || p.Password != "s3cret" || p.User != "scanner@contoso.test" {
		t.Fatalf("loadPeers = %+v", p)
	}
	err = p.answering()
	if err == nil || !strings.Contains(err.Error(), closed) {
		t.Fatalf("answering() = %v, want an error naming %s", err, closed)
	}
}
