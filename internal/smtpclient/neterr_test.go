package smtpclient

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// TestNetErrors: refused, reset and broken connections are recognised
// from the codes this system's calls return (on Windows the Winsock codes,
// which syscall.ECONNREFUSED and its kin are not), wrapped as the net
// package wraps them.
func TestNetErrors(t *testing.T) {
	wrap := func(call string, errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError(call, errno)}
	}
	for _, tc := range []struct {
		err                    error
		refused, reset, broken bool
	}{
		{wrap("connect", errConnRefused), true, false, false},
		{wrap("connect", syscall.ECONNREFUSED), true, false, false},
		{wrap("read", errConnReset), false, true, true},
		{wrap("read", syscall.ECONNRESET), false, true, true},
		{wrap("write", errConnAborted), false, false, true},
		{wrap("write", syscall.EPIPE), false, false, true},
		{wrap("connect", syscall.ETIMEDOUT), false, false, false},
		{errors.New("connection refused"), false, false, false},
	} {
		if got := isRefused(tc.err); got != tc.refused {
			t.Errorf("isRefused(%v) = %v", tc.err, got)
		}
		if got := isReset(tc.err); got != tc.reset {
			t.Errorf("isReset(%v) = %v", tc.err, got)
		}
		if got := isBroken(tc.err); got != tc.broken {
			t.Errorf("isBroken(%v) = %v", tc.err, got)
		}
	}
}

// TestRefusedPortIsRefused: a connection to a closed port on loopback is a
// refused fault on this system, not a generic network one, so that the
// diagnosis and the retry rules treat it as refused on Windows too.
func TestRefusedPortIsRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var d net.Dialer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = d.DialContext(ctx, "tcp", addr)
	if err == nil {
		t.Skip("something listens on the closed port")
	}
	c := &Client{timeout: 5 * time.Second}
	if f := c.dialFault(ctx, err, addr); f.Kind != result.FaultRefused {
		t.Errorf("dial %s: %v classified as %s, want %s", addr, err, f.Kind, result.FaultRefused)
	}
}
