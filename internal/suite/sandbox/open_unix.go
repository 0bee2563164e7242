//go:build unix

package sandbox

import (
	"os"
	"syscall"
)

// openNoBlock opens path for reading without blocking: opening a FIFO
// for reading otherwise waits for a writer. Reads of a regular file do
// not block either way.
func openNoBlock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
