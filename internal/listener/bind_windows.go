package listener

import "syscall"

// The Winsock error codes bind returns on Windows (WinError.h), where
// syscall.EADDRINUSE and its kin are numbers of Go's own that no system
// call returns.
const (
	errAccess       = syscall.Errno(10013) // WSAEACCES: the port is reserved or excluded
	errAddrInUse    = syscall.Errno(10048) // WSAEADDRINUSE
	errAddrNotAvail = syscall.Errno(10049) // WSAEADDRNOTAVAIL
)
