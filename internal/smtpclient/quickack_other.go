//go:build !linux

package smtpclient

import "net"

// quickAck is Linux's TCP_QUICKACK; other systems keep their ACK timing.
func quickAck(net.Conn) {}
