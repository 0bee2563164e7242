// Command minimal is the benchmark's yardstick: the smallest Go program
// that holds the conversation smtpdiag's benchmark check holds (STARTTLS
// with certificate verification, AUTH, MAIL, RCPT, RSET, QUIT, no DATA),
// written with net/smtp and nothing else: no reporting, no pipelining, no
// transcript. It prints nothing and exits 1 when any conversation failed.
//
// With -quickack it waits for every reply with delayed ACKs off
// (TCP_QUICKACK, Linux), as smtpdiag does. Without it, a server that
// writes a reply in two pieces with Nagle's algorithm on (Postfix after
// the TLS 1.3 handshake) can hold the second piece for up to 40 ms, in
// some runs and not others.
//
//	minimal -addr 127.0.0.1:5587 -ca ca.pem -server-name mx.peers.test \
//	        -user scanner@contoso.test -pass secret -mech PLAIN \
//	        -from scanner@contoso.test -to helpdesk@contoso.test -n 200 -parallel 16
package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"sync"
	"sync/atomic"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:587", "server host:port")
	caFile := flag.String("ca", "", "PEM file of the CA that issued the server's certificate")
	serverName := flag.String("server-name", "localhost", "TLS server name to verify")
	helo := flag.String("helo", "localhost", "EHLO name")
	user := flag.String("user", "", "AUTH user name")
	pass := flag.String("pass", "", "AUTH password")
	mech := flag.String("mech", "PLAIN", "AUTH mechanism: PLAIN or LOGIN")
	from := flag.String("from", "", "MAIL FROM address")
	to := flag.String("to", "", "RCPT TO address")
	n := flag.Int("n", 1, "conversations to hold")
	parallel := flag.Int("parallel", 1, "conversations at once")
	quick := flag.Bool("quickack", false, "wait for replies with TCP_QUICKACK set (Linux)")
	flag.Parse()

	roots := x509.NewCertPool()
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil || !roots.AppendCertsFromPEM(pem) {
			fmt.Fprintf(os.Stderr, "minimal: no CA certificate in %s\n", *caFile)
			os.Exit(2)
		}
	}
	cfg := &tls.Config{ServerName: *serverName, RootCAs: roots}
	var auth func() smtp.Auth
	switch *mech {
	case "PLAIN":
		// PlainAuth refuses to authenticate to any host but the one it is
		// given, which net/smtp takes from the dialed address.
		host, _, _ := net.SplitHostPort(*addr)
		auth = func() smtp.Auth { return smtp.PlainAuth("", *user, *pass, host) }
	case "LOGIN":
		auth = func() smtp.Auth { return &loginAuth{user: *user, pass: *pass} }
	default:
		fmt.Fprintf(os.Stderr, "minimal: unknown mechanism %s\n", *mech)
		os.Exit(2)
	}

	var failed atomic.Int32
	var wg sync.WaitGroup
	sem := make(chan struct{}, *parallel)
	for range *n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := converse(*addr, *helo, *quick, cfg, auth, *from, *to); err != nil {
				failed.Add(1)
				fmt.Fprintln(os.Stderr, "minimal:", err)
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		os.Exit(1)
	}
}

func converse(addr, helo string, quick bool, cfg *tls.Config, auth func() smtp.Auth, from, to string) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	if quick {
		conn = quickAckConn{conn.(*net.TCPConn)}
	}
	host, _, _ := net.SplitHostPort(addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Hello(helo); err != nil {
		return err
	}
	if err := c.StartTLS(cfg); err != nil {
		return err
	}
	if err := c.Auth(auth()); err != nil {
		return err
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	if err := c.Reset(); err != nil {
		return err
	}
	return c.Quit()
}

// quickAckConn sets TCP_QUICKACK before every read.
type quickAckConn struct{ *net.TCPConn }

func (c quickAckConn) Read(p []byte) (int, error) {
	quickAck(c.TCPConn)
	return c.TCPConn.Read(p)
}

// loginAuth is the LOGIN mechanism, which net/smtp lacks: the user name,
// then the password, each answering a challenge.
type loginAuth struct {
	user, pass string
	round      int
}

func (a *loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) { return "LOGIN", nil, nil }

func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.round++
	switch a.round {
	case 1:
		return []byte(a.user), nil
	case 2:
		return []byte(a.pass), nil
	}
	return nil, errors.New("unexpected challenge")
}
