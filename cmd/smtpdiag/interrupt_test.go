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

// TestInterruptWhileLoading presses Ctrl-C while the suites are still being
// read (a -var-file that is a pipe nobody writes to): nothing has been sent
// and no check has started, so the process ends at once, by the signal, and
// writes no report.
func TestInterruptWhileLoading(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "vars.hcl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
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
	junitFile := filepath.Join(dir, "junit.xml")
	cmd, stdout, stderr, exited := startCLI(t, dir, "run", "-var-file", fifo, "--junit", junitFile, suiteFile)
	// Open the write end so that the reader blocks on data, not on open;
	// keep it open and silent until the process has gone.
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	time.Sleep(200 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitErr := waitExit(t, cmd, exited)
	var ee *exec.ExitError
	if !errors.As(waitErr, &ee) {
		t.Fatalf("exit %v, want death by SIGINT\n%s%s", waitErr, stdout, stderr)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Errorf("exit status %v, want death by SIGINT\n%s%s", ee, stdout, stderr)
	}
	if _, err := os.Stat(junitFile); err == nil {
		t.Errorf("a JUnit file was written for a run interrupted before any check")
	}
}
