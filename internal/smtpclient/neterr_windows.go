package smtpclient

import "syscall"

// The Winsock error codes that connect, send and recv return on Windows
// (WinError.h), where syscall.ECONNREFUSED and its kin are numbers of Go's
// own.
const (
	errConnAborted = syscall.Errno(10053) // WSAECONNABORTED
	errConnReset   = syscall.Errno(10054) // WSAECONNRESET
	errConnRefused = syscall.Errno(10061) // WSAECONNREFUSED
)
