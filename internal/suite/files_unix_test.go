//go:build unix

package suite

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// loadWithin loads paths in the background and fails the test when that
// takes more than five seconds: a loader that reads a FIFO blocks until
// someone writes to it. unblock, when not nil, is called after a timeout
// so that the goroutine can end.
func loadWithin(t *testing.T, opts Options, paths []string, unblock func()) hcl.Diagnostics {
	t.Helper()
	done := make(chan hcl.Diagnostics, 1)
	go func() {
		_, diags := NewLoader(opts).LoadPaths(paths)
		done <- diags
	}()
	select {
	case diags := <-done:
		return diags
	case <-time.After(5 * time.Second):
		if unblock != nil {
			unblock()
		}
		t.Fatalf("loading %v still blocks after 5s", paths)
		return nil
	}
}

// unblockFIFO opens a FIFO for writing and closes it, which ends a read
// that waits on it.
func unblockFIFO(path string) func() {
	return func() {
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	}
}

// TestSpecialSuiteFilesRefused: a suite file or -var-file that is a FIFO,
// or a committed symlink to /dev/stdin or a device, is refused at once
// with the reason, instead of blocking (or reading a device) until
// killed.
func TestSpecialSuiteFilesRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.hcl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	stdin := filepath.Join(dir, "stdin.hcl")
	if err := os.Symlink("/dev/stdin", stdin); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.hcl")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.hcl")
	if err := os.WriteFile(good, []byte(`variable "v" { default = "x" }`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		opts  Options
		paths []string
		want  string
	}{
		{"suite FIFO", Options{Environ: []string{}}, []string{fifo}, "Cannot read suite file"},
		{"suite symlink to /dev/stdin", Options{Environ: []string{}}, []string{stdin}, "Cannot read suite file"},
		{"suite symlink to /dev/zero", Options{Environ: []string{}}, []string{zero}, "Cannot read suite file"},
		{"var-file FIFO", Options{Environ: []string{}, VarFiles: []string{fifo}}, []string{good}, "Cannot read variables file"},
		{"var-file symlink to /dev/stdin", Options{Environ: []string{}, VarFiles: []string{stdin}}, []string{good}, "Cannot read variables file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			diags := loadWithin(t, tc.opts, tc.paths, unblockFIFO(fifo))
			text := diags.Error()
			if !diags.HasErrors() || !strings.Contains(text, tc.want) || !strings.Contains(text, "not a regular file") {
				t.Errorf("want %q and \"not a regular file\", got %v", tc.want, diags)
			}
		})
	}
	// A directory scan meets the FIFO too.
	diags := loadWithin(t, Options{Environ: []string{}}, []string{dir}, unblockFIFO(fifo))
	if !strings.Contains(diags.Error(), "not a regular file") {
		t.Errorf("directory scan: %v", diags)
	}
}
