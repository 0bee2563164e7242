//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package sandbox

import (
	"path/filepath"
	"syscall"
	"testing"
)

// specialFiles returns files that are not regular, with what
// readRegularFile must say about them: a fifo in dir, which would block a
// read, and /dev/zero, which never ends. It skips the test where a fifo
// cannot be made.
func specialFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	return map[string]string{
		fifo:        "not a regular file",
		"/dev/zero": "not a regular file",
	}
}
