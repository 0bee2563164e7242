//go:build unix

package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startCLI runs the CLI as a subprocess with args (testscript.Main runs it
// when the test binary is called "smtpdiag"); exited receives its end.
func startCLI(t *testing.T, dir string, args ...string) (cmd *exec.Cmd, stdout, stderr *bytes.Buffer, exited chan error) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "smtpdiag")
	if err := os.Symlink(self, bin); err != nil {
		t.Fatal(err)
	}
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	cmd = exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited = make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return cmd, stdout, stderr, exited
}

// waitExit waits up to 10 s for the subprocess, killing it after that.
func waitExit(t *testing.T, cmd *exec.Cmd, exited chan error) error {
	t.Helper()
	select {
	case err := <-exited:
		return err
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Fatal("still running 10s after Ctrl-C")
		return nil
	}
}

// TestInterrupt runs the CLI against a server that accepts the connection
// and never greets, and sends a signal while the check waits for the
// banner, 30 s from its timeout: Ctrl-C twice, SIGTERM (CI runners,
// timeout(1)) and SIGHUP (a closed terminal). The check must end at once
// as canceled, the summary and the JUnit and JSON files must be written in
// full and say the run was interrupted by that signal (a second Ctrl-C
// must not cut them short), the report files of an earlier run must be
// gone, and the exit code must say that a check did not pass.
func TestInterrupt(t *testing.T) {
	for _, tc := range []struct {
		sig   syscall.Signal
		name  string
		times int
	}{
		{syscall.SIGINT, "SIGINT", 2},
		{syscall.SIGTERM, "SIGTERM", 1},
		{syscall.SIGHUP, "SIGHUP", 1},
	} {
		t.Run(tc.name, func(t *testing.T) { interrupt(t, tc.sig, tc.name, tc.times) })
	}
}

func interrupt(t *testing.T, sig syscall.Signal, name string, times int) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		accepted <- c
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())

	dir := t.TempDir()
	suiteFile := filepath.Join(dir, "silent.hcl")
	if err := os.WriteFile(suiteFile, []byte(fmt.Sprintf(`suite {
  name     = "interrupted"
  parallel = 1
}
endpoint "silent" {
  host    = "127.0.0.1"
  port    = %s
  tls     = "none"
  timeout = "30s"
}
smtp "never greets" {
  endpoint  = endpoint.silent
  mail_from = "scanner@contoso.com"
  rcpt_to   = ["helpdesk@contoso.com"]
}
smtp "never starts" {
  endpoint = endpoint.silent
}
`, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	junitFile := filepath.Join(dir, "junit.xml")
	jsonFile := filepath.Join(dir, "results.json")
	// What an earlier run left, which CI must never take for this run's.
	for _, f := range []string{junitFile, jsonFile} {
		if err := os.WriteFile(f, []byte("stale results of an earlier run"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd, stdout, stderr, exited := startCLI(t, dir, "run", "--no-color", "--junit", junitFile, "--json", jsonFile, suiteFile)

	select {
	case c := <-accepted:
		defer c.Close()
	case err := <-exited:
		t.Fatalf("exited before connecting: %v\n%s%s", err, stdout, stderr)
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Fatal("no connection within 10s")
	}
	sent := time.Now()
	for range times {
		if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitErr := waitExit(t, cmd, exited)
	if d := time.Since(sent); d > 5*time.Second {
		t.Errorf("took %v to stop after %s", d, name)
	}
	var ee *exec.ExitError
	switch {
	case waitErr == nil:
		t.Errorf("exit code 0 after an interrupted check\n%s", stdout)
	case !errors.As(waitErr, &ee):
		t.Fatal(waitErr)
	case ee.ExitCode() != 1:
		t.Errorf("exit status %v, want exit code 1\n%s%s", ee, stdout, stderr)
	}
	out := stdout.String()
	if !strings.Contains(out, "never greets") || !strings.Contains(out, "cancel") ||
		!strings.Contains(out, "interrupted: the run was interrupted ("+name+"); 2 checks did not finish") {
		t.Errorf("summary does not report the interruption:\n%s", out)
	}
	data, err := os.ReadFile(junitFile)
	if err != nil {
		t.Fatalf("no JUnit file after %s: %v", name, err)
	}
	for _, want := range []string{`name="never greets"`, "</testsuites>", `name="interrupted" value="the run was interrupted (` + name + `)`,
		`<skipped message="not run: the run was interrupted (` + name + `)">`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("JUnit file lacks %s:\n%s", want, data)
		}
	}
	data, err = os.ReadFile(jsonFile)
	if err != nil || !strings.Contains(string(data), `"interrupted": "the run was interrupted (`+name+`)"`) {
		t.Errorf("JSON file (%v):\n%s", err, data)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("a temporary file was left behind: %s", e.Name())
		}
	}
}

// TestStaleReportsRemovedWhenKilled: a run killed outright (SIGKILL, which
// no handler sees) leaves no report file of an earlier run behind.
func TestStaleReportsRemovedWhenKilled(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- c
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	dir := t.TempDir()
	suiteFile := filepath.Join(dir, "silent.hcl")
	if err := os.WriteFile(suiteFile, []byte(fmt.Sprintf(`endpoint "silent" {
  host = "127.0.0.1"
  port = %s
  tls  = "none"
}
smtp "never greets" {
  endpoint = endpoint.silent
}
`, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	junitFile := filepath.Join(dir, "junit.xml")
	if err := os.WriteFile(junitFile, []byte("<testsuites>stale</testsuites>"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, _, _, exited := startCLI(t, dir, "run", "--junit", junitFile, suiteFile)
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("no connection within 10s")
	}
	cmd.Process.Kill()
	<-exited
	if _, err := os.Stat(junitFile); err == nil {
		t.Error("the earlier run's JUnit file is still there after a killed run")
	}
}

// TestLoadingRefusesSpecialFiles: a -var-file or suite file that is a
// FIFO, or a committed symlink to /dev/stdin with a terminal or pipe
// behind it that never ends, is refused at once with exit code 2 and the
// reason, instead of blocking `run` or `validate` until it is killed.
// Nothing is sent and no report is written. (It replaces
// TestInterruptWhileLoading, which blocked loading with a FIFO -var-file
// to press Ctrl-C during it: loading no longer blocks on anything.)
func TestLoadingRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "vars.hcl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	// Nobody writes to the FIFO: a reader would wait for a writer forever.
	suiteFile := filepath.Join(dir, "suite.hcl")
	if err := os.WriteFile(suiteFile, []byte(`suite { name = "never runs" }
variable "host" {
  type    = string
  default = "127.0.0.1"
}
endpoint "e" {
  host = var.host
  port = 9
  tls  = "none"
}
smtp "c" {
  endpoint = endpoint.e
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	stdinLink := filepath.Join(dir, "committed.hcl")
	if err := os.Symlink("/dev/stdin", stdinLink); err != nil {
		t.Fatal(err)
	}
	junitFile := filepath.Join(dir, "junit.xml")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"run with a FIFO -var-file", []string{"run", "-var-file", fifo, "--junit", junitFile, suiteFile}, "Cannot read variables file"},
		{"validate a FIFO suite file", []string{"validate", fifo}, "Cannot read suite file"},
		{"validate a symlink to /dev/stdin", []string{"validate", stdinLink}, "Cannot read suite file"},
		{"run a symlink to /dev/stdin", []string{"run", "--junit", junitFile, stdinLink}, "Cannot read suite file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			self, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			bin := filepath.Join(t.TempDir(), "smtpdiag")
			if err := os.Symlink(self, bin); err != nil {
				t.Fatal(err)
			}
			// Standard input is a pipe nobody writes to, as in a CI job
			// or a terminal nobody types in.
			stdinR, stdinW, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdinW.Close()
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, tc.args...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = stdinR, &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			stdinR.Close()
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			var waitErr error
			select {
			case waitErr = <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-exited
				t.Fatalf("still loading after 10s\n%s%s", stdout.String(), stderr.String())
			}
			var ee *exec.ExitError
			if !errors.As(waitErr, &ee) || ee.ExitCode() != exitUsage {
				t.Errorf("exit %v, want exit code %d\n%s%s", waitErr, exitUsage, stdout.String(), stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) || !strings.Contains(stderr.String(), "not a regular file") {
				t.Errorf("stderr does not give the reason:\n%s", stderr.String())
			}
			if strings.Contains(stderr.String(), "goroutine ") {
				t.Errorf("a stack trace:\n%s", stderr.String())
			}
			if _, err := os.Stat(junitFile); err == nil {
				t.Errorf("a JUnit file was written for a run refused while loading")
			}
		})
	}
}
