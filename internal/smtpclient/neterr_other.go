//go:build !windows

package smtpclient

import "syscall"

// Elsewhere the system calls return the POSIX codes themselves.
const (
	errConnAborted = syscall.ECONNABORTED
	errConnReset   = syscall.ECONNRESET
	errConnRefused = syscall.ECONNREFUSED
)
