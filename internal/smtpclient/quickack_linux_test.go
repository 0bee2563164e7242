package smtpclient

import (
	"context"
	"net"
	"syscall"
	"testing"
)

// quickAckMode reports whether the kernel acknowledges at once on conn
// (TCP_QUICKACK reads 1) or delays its ACKs (0).
func quickAckMode(t *testing.T, conn net.Conn) int {
	t.Helper()
	rc, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		v, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK)
	}); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}

// TestQuickAckWhileWaitingForReplies checks that the client waits for every
// reply with delayed ACKs off. Linux turns them on as soon as the client
// sends a command right after a reply (interactive traffic), which is what
// every SMTP step does; a server that writes its reply in two pieces with
// Nagle's algorithm on then holds the second one back for up to 40 ms.
func TestQuickAckWhileWaitingForReplies(t *testing.T) {
	port := script(t, "220 mx.contoso.example ESMTP\r\n", []exchange{
		{"EHLO scanner01.contoso.example", "250-mx.contoso.example\r\n250 PIPELINING\r\n", ""},
		{"MAIL FROM:<scanner@contoso.example>", "250 2.1.0 Sender OK\r\n", ""},
		{"RCPT TO:<helpdesk@contoso.example>", "250 2.1.5 Recipient OK\r\n", ""},
		{"QUIT", "221 2.0.0 Bye\r\n", ""},
	})
	plan := basePlan(port)
	plan.TLS = NoTLS
	c := NewClient(plan)
	if err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	steps := []struct {
		name string
		run  func() error
	}{
		{"banner", c.Banner},
		{"EHLO", c.Hello},
		{"MAIL", func() error { return c.Mail("scanner@contoso.example") }},
		{"RCPT", func() error { return c.Rcpt("helpdesk@contoso.example") }},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := quickAckMode(t, c.raw); got != 1 {
			t.Errorf("after the reply to %s, TCP_QUICKACK = %d, want 1: the reply was awaited with delayed ACKs", s.name, got)
		}
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
}

// TestQuickAckOverTLS: the same after STARTTLS, where the replies are read
// through the TLS connection.
func TestQuickAckOverTLS(t *testing.T) {
	p := newPKI(t)
	be := &backend{mechanisms: []string{"PLAIN"}}
	port := startServer(t, be, serverOptions{cert: &p.cert})
	plan := basePlan(port)
	plan.RootCAs = p.ca.Pool()
	c := NewClient(plan)
	if err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, s := range []struct {
		name string
		run  func() error
	}{{"banner", c.Banner}, {"EHLO", c.Hello}, {"STARTTLS", c.StartTLS}, {"EHLO after TLS", c.Hello}} {
		if err := s.run(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	if got := quickAckMode(t, c.raw); got != 1 {
		t.Errorf("after the reply to EHLO over TLS, TCP_QUICKACK = %d, want 1", got)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
}

// TestQuickAck checks the option itself on a connection that the kernel
// has put into delayed-ACK mode.
func TestQuickAck(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		s, err := l.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		buf := make([]byte, 64)
		for {
			n, err := s.Read(buf)
			if err != nil {
				return
			}
			s.Write(buf[:n])
		}
	}()
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 64)
	// A reply followed at once by a command: interactive traffic.
	for range 3 {
		if _, err := conn.Write([]byte("NOOP\r\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	if got := quickAckMode(t, conn); got != 0 {
		t.Skipf("before quickAck, TCP_QUICKACK = %d: this kernel did not enter delayed-ACK mode, so the test cannot tell", got)
	}
	quickAck(conn)
	if got := quickAckMode(t, conn); got != 1 {
		t.Errorf("after quickAck, TCP_QUICKACK = %d, want 1", got)
	}
}
