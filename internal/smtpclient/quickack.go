package smtpclient

import "net"

// quickAckConn is the TCP connection under TLS: it asks for quick ACKs
// (quickAck) before every read, so that the handshake and every reply
// after it are awaited with delayed ACKs off.
type quickAckConn struct{ net.Conn }

func (c quickAckConn) Read(p []byte) (int, error) {
	quickAck(c.Conn)
	return c.Conn.Read(p)
}
