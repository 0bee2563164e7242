package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// checkOutput refuses, before any traffic, an output path that cannot be
// written: a directory, a directory that does not exist, or one this user
// may not create files in (proved by creating and removing a temporary
// file there, as writeFile will).
func checkOutput(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usagef("cannot write %s: it is a directory", path)
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return usagef("cannot write %s: directory %s does not exist", path, dir)
	}
	probe, err := os.CreateTemp(dir, ".smtpdiag-check-*")
	if err != nil {
		return usagef("cannot write %s: %v", path, unwrapPath(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// clearOutputs removes the report files an earlier run left, once the
// suites are valid and before any traffic, so that a run that is killed
// (SIGKILL, a power cut) leaves no file that looks like its result.
func clearOutputs(paths []string) error {
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove the earlier %s: %w", p, err)
		}
	}
	return nil
}

// writeFile writes a report through a temporary file in the same
// directory, renamed into place once complete: a reader never sees half a
// report, and an interrupted write leaves no file at all.
func writeFile(path string, write func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Reports are read by others (CI, a web server): the usual file mode,
	// not CreateTemp's 0600.
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	done = true
	return nil
}

// unwrapPath drops the operation and path a *fs.PathError repeats.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
