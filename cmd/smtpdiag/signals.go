package main

import (
	"os"
	"syscall"
)

// stopSignals end a run the way Ctrl-C does: SIGTERM is what CI runners,
// timeout(1) and service managers send, SIGHUP what a closed terminal or
// SSH session sends. On Windows only os.Interrupt is ever delivered.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// signalName names a signal the way CI logs do ("SIGTERM").
func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}
