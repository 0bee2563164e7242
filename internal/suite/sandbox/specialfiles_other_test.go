//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package sandbox

import "testing"

// specialFiles returns no file where syscall cannot make a fifo and
// /dev/zero may not exist.
func specialFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	return nil
}
