package smtpclient

import (
	"errors"
	"syscall"
)

// isRefused reports whether err says that the server refused the
// connection: ECONNREFUSED, or on Windows WSAECONNREFUSED. Go's
// syscall.ECONNREFUSED is a number of Go's own on Windows, which no system
// call returns, so errors.Is with it alone never matches there.
func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, errConnRefused)
}

// isReset reports whether err says that the peer reset the connection:
// ECONNRESET, or on Windows WSAECONNRESET.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, errConnReset)
}

// isBroken reports whether err says that the connection was reset or
// broken under a read or write: a reset, EPIPE or ECONNABORTED (on Windows
// WSAECONNABORTED, which is what a reset during a write gives there).
func isBroken(err error) bool {
	return isReset(err) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, errConnAborted)
}
