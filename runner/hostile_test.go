package runner

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/simulator"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// hostileListener serves every connection on 127.0.0.1 with serve until
// the test ends, and returns its port.
func hostileListener(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				serve(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	return port(l.Addr().String())
}

// hostileSuite is a suite with one check against the hostile port and
// one against the simulator's submission endpoint.
func hostileSuite(sim *simulator.Simulator, ca, hostilePort string) string {
	return fmt.Sprintf(`suite {
  name = "hostile and good"
}
endpoint "hostile" {
  host    = "127.0.0.1"
  port    = %s
  tls     = "none"
  timeout = "1s"
}
endpoint "submission" {
  host        = "127.0.0.1"
  port        = %s
  ca_file     = %q
  server_name = "localhost"
  timeout     = "10s"
}
smtp "hostile server" {
  endpoint  = endpoint.hostile
  mail_from = "scanner@contoso.com"
  rcpt_to   = ["helpdesk@contoso.com"]
}
smtp "good server" {
  endpoint = endpoint.submission
  auth {
    username  = "scanner@contoso.com"
    password  = "demo-password"
    mechanism = "LOGIN"
  }
  mail_from = "scanner@contoso.com"
  rcpt_to   = ["helpdesk@contoso.com"]
  expect {
    starttls = true
    auth     = 235
    rcpt     = "250"
  }
}
`, hostilePort, port(sim.SubmissionAddr), ca)
}

// TestHostileServerDoesNotAffectOthers: a suite with a check against a
// hostile server and one against a good one, run together: the hostile
// check fails within its timeout with the fault in its first failure, and
// the good check passes as if it had run alone.
func TestHostileServerDoesNotAffectOthers(t *testing.T) {
	flood := bytes.Repeat([]byte("250-endless\r\n"), 4096)
	for _, tc := range []struct {
		name    string
		serve   func(net.Conn)
		failure string
	}{
		{"never sends a banner", func(c net.Conn) { c.Read(make([]byte, 1)) }, "no banner within 1s"},
		{"endless continuation", func(c net.Conn) {
			for {
				if _, err := c.Write(flood); err != nil {
					return
				}
			}
		}, "banner: reply longer than 1000 lines"},
		{"drip-feed", func(c net.Conn) {
			for _, b := range []byte("220 mx.example\r\n") {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		}, "no banner within 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, ca := startSimulator(t)
			s := loadSuite(t, "hostile.hcl", hostileSuite(sim, ca, hostileListener(t, tc.serve)))
			start := time.Now()
			results := Run(context.Background(), []*suite.Suite{s}, Options{Parallel: 2}, nil)
			if elapsed := time.Since(start); elapsed > time.Second+2*time.Second {
				t.Errorf("the suite took %v with a 1s step timeout", elapsed)
			}
			hostile, good := results[0].Checks[0], results[0].Checks[1]
			if hostile.Status != result.Failed || !strings.Contains(hostile.FirstFailure(), tc.failure) {
				t.Errorf("hostile check: %s, %q; want failed with %q", hostile.Status, hostile.FirstFailure(), tc.failure)
			}
			if hostile.Diagnosis == nil {
				t.Error("hostile check has no diagnosis")
			}
			if good.Status != result.Passed {
				t.Errorf("good check: %s %v", good.Status, good.Failures)
			}
		})
	}
}

// slowServer answers every command correctly, each after delay: within
// any per-step timeout, but too slow for many steps.
func slowServer(t *testing.T, delay time.Duration) string {
	return hostileListener(t, func(conn net.Conn) {
		r := bufio.NewReader(conn)
		conn.Write([]byte("220 slow.example\r\n"))
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			time.Sleep(delay)
			switch {
			case strings.HasPrefix(line, "EHLO"):
				conn.Write([]byte("250 slow.example\r\n"))
			case strings.HasPrefix(line, "QUIT"):
				conn.Write([]byte("221 bye\r\n"))
				return
			default:
				conn.Write([]byte("250 ok\r\n"))
			}
		}
	})
}

// TestCheckDeadline: a server that answers each of many RCPTs just within
// the per-step timeout cannot hold a check past its deadline; the check
// fails at the step it reached, saying so, and max_duration is that
// deadline when set.
func TestCheckDeadline(t *testing.T) {
	port := slowServer(t, 150*time.Millisecond)
	var rcpts []string
	for i := range 40 {
		rcpts = append(rcpts, fmt.Sprintf("%q", fmt.Sprintf("r%d@contoso.com", i)))
	}
	src := fmt.Sprintf(`endpoint "slow" {
  host    = "127.0.0.1"
  port    = %s
  tls     = "none"
  timeout = "1s"
}
smtp "many slow recipients" {
  endpoint  = endpoint.slow
  mail_from = "scanner@contoso.com"
  rcpt_to   = [%s]
}
smtp "many slow recipients, max_duration" {
  endpoint  = endpoint.slow
  mail_from = "scanner@contoso.com"
  rcpt_to   = [%[2]s]
  expect {
    max_duration = "700ms"
  }
}
`, port, strings.Join(rcpts, ", "))
	s := loadSuite(t, "slow.hcl", src)
	start := time.Now()
	res := Run(context.Background(), []*suite.Suite{s}, Options{CheckTimeout: 1500 * time.Millisecond, ResolvConf: noResolvConf}, nil)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the run took %v; each check's deadline is at most 1.5s", took)
	}
	for i, want := range []string{"the check's deadline of 1.5s passed at RCPT", "the check's deadline of 700ms passed at RCPT"} {
		c := res[0].Checks[i]
		stop := c.Conversation.Stop()
		if c.Status != result.Failed || stop == nil || stop.Fault == nil || stop.Fault.Kind != result.FaultDeadline ||
			!strings.Contains(stop.Fault.Message, want) {
			t.Errorf("%s: status %s, stop %+v\n%s", c.Label, c.Status, stop, c.FirstFailure())
		}
		if c.Diagnosis == nil || !strings.Contains(c.Diagnosis.Meaning, "did not finish within its deadline") {
			t.Errorf("%s: diagnosis %+v", c.Label, c.Diagnosis)
		}
		if n := len(c.Conversation.StepsOf(result.StepRcpt)); n == 0 || n >= 40 {
			t.Errorf("%s: %d RCPTs, want some but not all", c.Label, n)
		}
	}
}
