package smtpclient

import (
	"net"
	"syscall"
)

// quickAck asks the kernel to acknowledge what arrives on conn at once
// instead of delaying the ACK (TCP_QUICKACK). Linux leaves quick-ack mode on
// its own when traffic looks interactive, so the client sets it again before
// every reply it waits for.
//
// Why it matters: a server that writes its reply in pieces with Nagle's
// algorithm on (Postfix, for one, after the TLS 1.3 handshake: the session
// tickets, then the EHLO reply) holds the second piece back until the first
// is acknowledged, and a delayed ACK takes up to 40 ms. That time would be
// added to the step and shown as the server's. Errors are ignored: the
// option only affects timing.
func quickAck(conn net.Conn) {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
