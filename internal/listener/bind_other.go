//go:build !windows

package listener

import "syscall"

// Elsewhere bind returns the POSIX codes themselves.
const (
	errAccess       = syscall.EACCES
	errAddrInUse    = syscall.EADDRINUSE
	errAddrNotAvail = syscall.EADDRNOTAVAIL
)
