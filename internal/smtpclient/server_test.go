package smtpclient

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/smtpdiag/smtpdiag/internal/pki"
)

// Credentials the test backend accepts.
const (
	testUser     = "scanner@contoso.example"
	testPassword = "S3cr3t-p@ss"
	testToken    = "eyJ0eXAiOiJKV1QiLCJhbGciOi.token-value"
)

// backend is an in-process go-smtp backend that records what it received.
type backend struct {
	mechanisms []string        // offered AUTH mechanisms
	rejectRcpt map[string]bool // recipients answered with 550 5.1.1

	mu        sync.Mutex
	authed    []string // mechanisms that succeeded
	rcpts     []string
	dataCalls int
	messages  [][]byte
}

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{b: b}, nil }

func (b *backend) snapshot() (authed, rcpts []string, dataCalls int, messages [][]byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.authed...), append([]string(nil), b.rcpts...), b.dataCalls, append([][]byte(nil), b.messages...)
}

type session struct{ b *backend }

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error {
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.b.rejectRcpt[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "User unknown"}
	}
	s.b.mu.Lock()
	s.b.rcpts = append(s.b.rcpts, to)
	s.b.mu.Unlock()
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	s.b.mu.Lock()
	s.b.dataCalls++
	s.b.messages = append(s.b.messages, data)
	s.b.mu.Unlock()
	return err
}

func (s *session) AuthMechanisms() []string { return s.b.mechanisms }

func (s *session) Auth(mech string) (sasl.Server, error) {
	succeed := func() error {
		s.b.mu.Lock()
		s.b.authed = append(s.b.authed, mech)
		s.b.mu.Unlock()
		return nil
	}
	check := func(user, pass string) error {
		if user != testUser || pass != testPassword {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 3}, Message: "Authentication unsuccessful"}
		}
		return succeed()
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	case "CRAM-MD5":
		return &cramMD5Server{check: func(user, digest string, challenge []byte) error {
			h := hmac.New(md5.New, []byte(testPassword))
			h.Write(challenge)
			if user != testUser || digest != hex.EncodeToString(h.Sum(nil)) {
				return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad digest"}
			}
			return succeed()
		}}, nil
	case "XOAUTH2":
		return &xoauth2Server{check: func(user, token string) bool {
			return user == testUser && token == testToken && succeed() == nil
		}}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// loginServer is the server side of LOGIN: "Username:", then "Password:".
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

func (s *loginServer) Next(response []byte) ([]byte, bool, error) {
	s.step++
	switch s.step {
	case 1:
		if response != nil {
			return nil, false, errors.New("unexpected initial response")
		}
		return []byte("Username:"), false, nil
	case 2:
		s.user = string(response)
		return []byte("Password:"), false, nil
	}
	return nil, true, s.check(s.user, string(response))
}

// cramMD5Server is the server side of CRAM-MD5 (RFC 2195).
type cramMD5Server struct {
	check     func(user, digest string, challenge []byte) error
	challenge []byte
}

func (s *cramMD5Server) Next(response []byte) ([]byte, bool, error) {
	if s.challenge == nil {
		s.challenge = []byte("<1896.697170952@postoffice.example.net>")
		return s.challenge, false, nil
	}
	user, digest, ok := strings.Cut(string(response), " ")
	if !ok {
		return nil, false, errors.New("malformed CRAM-MD5 response")
	}
	return nil, true, s.check(user, digest, s.challenge)
}

// xoauth2Server is the server side of XOAUTH2 as Exchange Online runs it: a
// bad token gets a 334 JSON error, then 535 after the client's empty line.
type xoauth2Server struct {
	check  func(user, token string) bool
	failed bool
}

func (s *xoauth2Server) Next(response []byte) ([]byte, bool, error) {
	if s.failed {
		return nil, false, &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 3}, Message: "Authentication unsuccessful"}
	}
	parts := strings.Split(string(response), "\x01")
	if len(parts) == 4 && strings.HasPrefix(parts[0], "user=") && strings.HasPrefix(parts[1], "auth=Bearer ") &&
		parts[2] == "" && parts[3] == "" &&
		s.check(strings.TrimPrefix(parts[0], "user="), strings.TrimPrefix(parts[1], "auth=Bearer ")) {
		return nil, true, nil
	}
	s.failed = true
	return []byte(`{"status":"401","schemes":"bearer","scope":"https://outlook.office.com/SMTP.Send"}`), false, nil
}

// serverOptions shapes a test server.
type serverOptions struct {
	cert              *tls.Certificate // STARTTLS (or implicit TLS) certificate; nil: no TLS
	implicit          bool
	tlsMax            uint16 // highest TLS version the server speaks; 0: crypto/tls default
	allowInsecureAuth bool
	clientAuth        tls.ClientAuthType // whether the server asks for a client certificate
}

// startServer runs a go-smtp server on 127.0.0.1 and returns its port.
func startServer(t *testing.T, be *backend, opts serverOptions) int {
	t.Helper()
	s := smtp.NewServer(be)
	s.Domain = "mx.test"
	s.AllowInsecureAuth = opts.allowInsecureAuth
	s.ErrorLog = log.New(io.Discard, "", 0)
	s.ReadTimeout = 5 * time.Second
	s.WriteTimeout = 5 * time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.cert != nil {
		cfg := &tls.Config{Certificates: []tls.Certificate{*opts.cert}, MaxVersion: opts.tlsMax, ClientAuth: opts.clientAuth,
			// No client CA: RequireAndVerifyClientCert refuses every one.
			ClientCAs: x509.NewCertPool()}
		if opts.implicit {
			l = tls.NewListener(l, cfg)
		} else {
			s.TLSConfig = cfg
		}
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// testPKI is a CA and a certificate for mail.example.test and 127.0.0.1.
type testPKI struct {
	ca   *pki.CA
	cert tls.Certificate
}

func newPKI(t *testing.T) testPKI {
	t.Helper()
	ca, err := pki.NewCA("smtpdiag test CA")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(pki.LeafOptions{Names: []string{"mail.example.test", "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	return testPKI{ca: ca, cert: cert}
}

// body returns the message body the backend received (after the blank line).
func body(message []byte) string {
	_, b, _ := bytes.Cut(message, []byte("\r\n\r\n"))
	return string(b)
}
