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

// TestInterrupt runs the CLI as a subprocess against a server that accepts
// the connection and never greets, and sends it Ctrl-C (SIGINT) while the
// check waits for the banner, 30 s from its timeout. The check must end at
// once as canceled, the summary and the JUnit file must still be written,
// and the exit code must say that a check did not pass.
func TestInterrupt(t *testing.T) {
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
	if err := os.WriteFile(suiteFile, []byte(fmt.Sprintf(`suite { name = "interrupted" }
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
`, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "smtpdiag") // testscript.Main runs the CLI under this name
	if err := os.Symlink(self, bin); err != nil {
		t.Fatal(err)
	}
	junitFile := filepath.Join(dir, "junit.xml")
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "run", "--no-color", "--junit", junitFile, suiteFile)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	select {
	case c := <-accepted:
		defer c.Close()
	case err := <-exited:
		t.Fatalf("exited before connecting: %v\n%s%s", err, stdout.String(), stderr.String())
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("no connection within 10s")
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	select {
	case waitErr = <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running 10s after Ctrl-C\n%s", stdout.String())
	}
	if d := time.Since(sent); d > 5*time.Second {
		t.Errorf("took %v to stop after Ctrl-C", d)
	}
	var ee *exec.ExitError
	if code := 0; waitErr != nil {
		if !errors.As(waitErr, &ee) {
			t.Fatal(waitErr)
		}
		code = ee.ExitCode()
		if code != 1 {
			t.Errorf("exit code %d, want 1\n%s%s", code, stdout.String(), stderr.String())
		}
	} else {
		t.Errorf("exit code 0 after an interrupted check\n%s", stdout.String())
	}
	if out := stdout.String(); !strings.Contains(out, "never greets") || !strings.Contains(out, "cancel") {
		t.Errorf("summary does not report the canceled check:\n%s", out)
	}
	data, err := os.ReadFile(junitFile)
	if err != nil {
		t.Fatalf("no JUnit file after Ctrl-C: %v", err)
	}
	if !strings.Contains(string(data), `name="never greets"`) {
		t.Errorf("JUnit file lacks the check:\n%s", data)
	}
}
