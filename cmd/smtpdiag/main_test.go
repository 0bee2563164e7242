package main

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/jstemmer/go-junit-report/v2/junit"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smtpdiag/smtpdiag/internal/oauth/idptest"
	"github.com/smtpdiag/smtpdiag/internal/simulator"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"smtpdiag": func() {
			os.Exit(run(os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ(), getenv: os.Getenv}))
		},
	})
}

// TestScripts runs the end-to-end scenarios in testdata/script: the real
// CLI as a subprocess against an in-process simulator whose addresses are
// exported as SUBMISSION_HOST/PORT, MX_HOST/PORT and CA_FILE.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			sim, err := simulator.Start(simulator.Options{})
			if err != nil {
				return err
			}
			e.Defer(func() { sim.Close() })
			ca, err := sim.WriteCAFile(e.WorkDir)
			if err != nil {
				return err
			}
			subHost, subPort, _ := net.SplitHostPort(sim.SubmissionAddr)
			mxHost, mxPort, _ := net.SplitHostPort(sim.MXAddr)
			e.Setenv("SUBMISSION_HOST", subHost)
			e.Setenv("SUBMISSION_PORT", subPort)
			e.Setenv("MX_HOST", mxHost)
			e.Setenv("MX_PORT", mxPort)
			e.Setenv("CA_FILE", ca)
			e.Setenv("NO_COLOR", "")
			// A port nothing listens on, for connect = false checks.
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			_, closed, _ := net.SplitHostPort(l.Addr().String())
			l.Close()
			e.Setenv("CLOSED_PORT", closed)
			e.Values["sim"] = sim
			return nil
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"exits":      cmdExits,
			"junit":      cmdJUnit,
			"sim-data":   cmdSimData,
			"oauth-cert": cmdOAuthCert,
		},
	})
}

// exits N cmd args...: runs cmd and requires exit code N; its output can
// be inspected with stdout/stderr afterwards.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// junit FILE key=value...: parses a JUnit file and checks totals
// (tests, failures, errors, skipped, suites) and test cases
// ("case:LABEL=passed|failed|error|skipped").
func cmdJUnit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: junit FILE key=value...")
	}
	var doc junit.Testsuites
	if err := xml.Unmarshal([]byte(ts.ReadFile(args[0])), &doc); err != nil {
		ts.Fatalf("junit: %s is not JUnit XML: %v", args[0], err)
	}
	cases := map[string]string{}
	totals := map[string]int{"suites": len(doc.Suites)}
	for _, s := range doc.Suites {
		totals["tests"] += s.Tests
		totals["failures"] += s.Failures
		totals["errors"] += s.Errors
		totals["skipped"] += s.Skipped
		if len(s.Testcases) != s.Tests {
			ts.Fatalf("junit: suite %q says tests=%d but has %d test cases", s.Name, s.Tests, len(s.Testcases))
		}
		for _, c := range s.Testcases {
			status := "passed"
			switch {
			case c.Failure != nil:
				status = "failed"
			case c.Error != nil:
				status = "error"
			case c.Skipped != nil:
				status = "skipped"
			}
			cases[c.Name] = status
		}
	}
	for _, kv := range args[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			ts.Fatalf("junit: bad check %q", kv)
		}
		if label, isCase := strings.CutPrefix(k, "case:"); isCase {
			if got, found := cases[label]; !found || got != v {
				ts.Fatalf("junit: test case %q is %q, want %q (cases: %v)", label, got, v, cases)
			}
			continue
		}
		want, err := strconv.Atoi(v)
		if err != nil {
			ts.Fatalf("junit: bad number in %q", kv)
		}
		if got, found := totals[k]; !found || got != want {
			ts.Fatalf("junit: %s = %d, want %d", k, got, want)
		}
	}
}

// sim-data N: the simulator saw exactly N DATA/BDAT commands.
func cmdSimData(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: sim-data N")
	}
	sim := ts.Value("sim").(*simulator.Simulator)
	got := fmt.Sprint(sim.DataCommands())
	if (got == args[0]) == neg {
		ts.Fatalf("simulator saw %s DATA commands, want %s%s", got, map[bool]string{true: "not ", false: ""}[neg], args[0])
	}
}

// oauth-cert NAME: writes NAME.crt and NAME.key, a new self-signed
// certificate and its RSA key, as an app registration's certificate
// credential.
func cmdOAuthCert(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: oauth-cert NAME")
	}
	c, err := idptest.NewCertificate(args[0])
	if err != nil {
		ts.Fatalf("oauth-cert: %v", err)
	}
	for ext, pem := range map[string][]byte{".crt": c.CertPEM, ".key": c.KeyPEM} {
		if err := os.WriteFile(ts.MkAbs(args[0]+ext), pem, 0o600); err != nil {
			ts.Fatalf("oauth-cert: %v", err)
		}
	}
}
