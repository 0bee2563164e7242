package runner

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/simulator"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// startSimulator runs the Exchange-Online-like simulator for one test and
// returns it with the path of its CA file.
func startSimulator(t *testing.T) (*simulator.Simulator, string) {
	t.Helper()
	sim, err := simulator.Start(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	ca, err := sim.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return sim, ca
}

func port(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

// loadSuite decodes a suite from source, failing the test on any
// diagnostic.
func loadSuite(t *testing.T, name, src string) *suite.Suite {
	t.Helper()
	s, diags := suite.NewLoader(suite.Options{Environ: []string{}}).LoadSource(filepath.Join(t.TempDir(), name), []byte(src))
	if diags.HasErrors() {
		t.Fatalf("suite does not load: %s\n%s", diags.Error(), src)
	}
	return s
}

// loadSuiteSource is a suite of n checks of three kinds against the
// simulator: a submission with STARTTLS and AUTH LOGIN, an MX recipient
// refused as a banned IP next to one accepted, and an MX relay denial.
// Every check names its own recipients, so that a reply attributed to the
// wrong conversation would show.
func loadSuiteSource(sim *simulator.Simulator, ca string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `suite {
  name = "load"
}
variable "password" {
  sensitive = true
  default   = "demo-password"
}
endpoint "submission" {
  host        = "127.0.0.1"
  port        = %s
  ca_file     = %q
  server_name = "localhost"
  timeout     = "20s"
}
endpoint "mx" {
  host        = "127.0.0.1"
  port        = %s
  ca_file     = %q
  server_name = "localhost"
  timeout     = "20s"
}
`, port(sim.SubmissionAddr), ca, port(sim.MXAddr), ca)
	for i := range n {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, `smtp "check %d" {
  endpoint = endpoint.submission
  auth {
    username  = "scanner@contoso.com"
    password  = var.password
    mechanism = "LOGIN"
  }
  mail_from = "scanner@contoso.com"
  rcpt_to   = ["u%d@contoso.com"]
  expect {
    starttls = true
    auth     = 235
    rcpt     = "250"
  }
}
`, i, i)
		case 1:
			fmt.Fprintf(&b, `smtp "check %d" {
  endpoint  = endpoint.mx
  mail_from = "sender@example.net"
  rcpt_to   = ["blocked%d@contoso.com", "u%d@contoso.com"]
  expect {
    rcpt = ["550 5.7.606", "250"]
  }
}
`, i, i, i)
		case 2:
			fmt.Fprintf(&b, `smtp "check %d" {
  endpoint  = endpoint.mx
  mail_from = "sender@example.net"
  rcpt_to   = ["u%d@fabrikam.com"]
  expect {
    rcpt = "550 5.7.64"
  }
}
`, i, i)
		}
	}
	return b.String()
}

// TestLoad runs 1,000 checks against the in-process simulator, 64 at a
// time: every check must pass, with every reply in the conversation of
// the check whose recipient it names, and no DATA anywhere. It logs the
// process's peak RSS (test binary and simulator together); bench/load.sh
// measures the CLI alone.
func TestLoad(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 150
	}
	sim, ca := startSimulator(t)
	s := loadSuite(t, "load.hcl", loadSuiteSource(sim, ca, n))
	if len(s.Checks) != n {
		t.Fatalf("suite has %d checks", len(s.Checks))
	}
	start := time.Now()
	results := Run(context.Background(), []*suite.Suite{s}, Options{Parallel: 64}, nil)
	elapsed := time.Since(start)

	if c := result.Tally(results); c.Passed != n {
		t.Errorf("tally %+v, want %d passed", c, n)
	}
	for i, r := range results[0].Checks {
		if r.Status != result.Passed {
			t.Errorf("%s: %s: %v", r.Label, r.Status, r.Failures)
			continue
		}
		rcpts := r.Conversation.StepsOf(result.StepRcpt)
		own := fmt.Sprintf("u%d@", i)
		if !strings.Contains(rcpts[len(rcpts)-1].Command, own) {
			t.Errorf("%s: last RCPT %q is not its own", r.Label, rcpts[len(rcpts)-1].Command)
		}
		if i%3 == 1 && !strings.Contains(rcpts[0].Reply.Text(), "[127.0.0.1]") {
			t.Errorf("%s: first RCPT reply %v", r.Label, rcpts[0].Reply)
		}
	}
	if got := sim.DataCommands(); got != 0 {
		t.Errorf("the simulator saw %d DATA commands", got)
	}
	t.Logf("%d checks, parallel 64: %v (%.1f checks/s); peak RSS of the test process %s",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), peakRSS())
}

// peakRSS reads the process's high-water mark of resident memory from
// /proc/self/status (Linux), or says it is unknown.
func peakRSS() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// TestCAFileReadAtLoad: the certificates of ca_file are those read when the
// suite was loaded. A file removed (or replaced) afterwards changes nothing,
// and a suite of many checks does not read it once per check.
func TestCAFileReadAtLoad(t *testing.T) {
	sim, ca := startSimulator(t)
	s := loadSuite(t, "ca.hcl", loadSuiteSource(sim, ca, 3))
	if err := os.Remove(ca); err != nil {
		t.Fatal(err)
	}
	results := Run(context.Background(), []*suite.Suite{s}, Options{Parallel: 3}, nil)
	for _, r := range results[0].Checks {
		if r.Status != result.Passed {
			t.Errorf("%s: %s %v %s", r.Label, r.Status, r.Failures, r.Error)
			continue
		}
		if tls := r.Conversation.TLS; tls == nil || !tls.Verified {
			t.Errorf("%s: the certificate was not verified against the ca_file read at load: %+v", r.Label, tls)
		}
	}
}
