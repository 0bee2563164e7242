package runner

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/assertions"
	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/smtpclient"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// script makes a Converse function that answers each plan from a table of
// replies keyed by the plan's first recipient.
func conversationWith(steps ...result.StepRecord) *result.Conversation {
	return &result.Conversation{Host: "127.0.0.1", Port: 25, Steps: steps}
}

func step(s result.Step, code int, enhanced, text string) result.StepRecord {
	return result.StepRecord{Step: s, Reply: &esmtp.Reply{Code: code, Enhanced: enhanced, Lines: []string{text}}}
}

func okConversation() *result.Conversation {
	return conversationWith(
		result.StepRecord{Step: result.StepConnect},
		step(result.StepBanner, 220, "", "mx ready"),
		step(result.StepEHLO, 250, "", "mx Hello [127.0.0.1]"),
		step(result.StepMail, 250, "2.1.0", "Sender OK"),
		step(result.StepRcpt, 250, "2.1.5", "Recipient OK"),
		step(result.StepRset, 250, "2.0.0", "Resetting"),
		step(result.StepQuit, 221, "2.0.0", "Bye"),
	)
}

func check(label string, mods ...func(*suite.SMTPCheck)) *suite.SMTPCheck {
	from := "scanner@contoso.com"
	c := &suite.SMTPCheck{
		Label:    label,
		Endpoint: &suite.Endpoint{Name: "mx", Host: "127.0.0.1", Port: 25, TLS: suite.TLSNone, Timeout: time.Second},
		MailFrom: &from,
		RcptTo:   []string{label + "@contoso.com"},
		Retry:    suite.Retry{Attempts: 1},
	}
	for _, m := range mods {
		m(c)
	}
	return c
}

func TestRunEmitsChecksInSuiteOrderDespiteParallelism(t *testing.T) {
	var checks []*suite.SMTPCheck
	for _, l := range []string{"slow", "fast1", "fast2", "fast3", "fast4"} {
		checks = append(checks, check(l))
	}
	s := &suite.Suite{Name: "order", Path: "order.hcl", Checks: checks}
	var running, peak atomic.Int32
	converse := func(ctx context.Context, p smtpclient.Plan) *result.Conversation {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		// Hold every check until two have been seen at once, so that the
		// proof of parallelism does not depend on goroutine scheduling.
		for deadline := time.Now().Add(5 * time.Second); peak.Load() < 2 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		if strings.HasPrefix(p.RcptTo[0], "slow") {
			time.Sleep(100 * time.Millisecond)
		}
		return okConversation()
	}
	var mu sync.Mutex
	var order []string
	results := Run(context.Background(), []*suite.Suite{s}, Options{Parallel: 3, Converse: converse}, func(ev result.Event) {
		if ev.Kind == result.CheckFinished {
			mu.Lock()
			order = append(order, ev.Check.Label)
			mu.Unlock()
		}
	})
	if got := strings.Join(order, ","); got != "slow,fast1,fast2,fast3,fast4" {
		t.Fatalf("events in order %s", got)
	}
	if peak.Load() > 3 {
		t.Fatalf("%d checks ran at once, want at most 3", peak.Load())
	}
	if peak.Load() < 2 {
		t.Fatalf("checks did not run in parallel (peak %d)", peak.Load())
	}
	if c := results[0].Counts(); c.Passed != 5 || c.Failed != 0 {
		t.Fatalf("counts %+v", c)
	}
}

func TestRetryOnlyTemporaryFailures(t *testing.T) {
	busy := func() *result.Conversation {
		return conversationWith(
			result.StepRecord{Step: result.StepConnect},
			step(result.StepBanner, 220, "", "ready"),
			step(result.StepEHLO, 250, "", "hello"),
			step(result.StepMail, 250, "2.1.0", "Sender OK"),
			step(result.StepRcpt, 451, "4.7.500", "Server busy. Please try again later from [192.0.2.1]"),
			step(result.StepQuit, 221, "", "bye"),
		)
	}
	denied := func() *result.Conversation {
		c := busy()
		c.Steps[4] = step(result.StepRcpt, 550, "5.7.606", "Access denied, banned sending IP [192.0.2.1]")
		return c
	}
	for _, tc := range []struct {
		name         string
		conv         []func() *result.Conversation
		wantAttempts int
		wantStatus   result.Status
		wantSleeps   int
	}{
		{"temporary then success", []func() *result.Conversation{busy, okConversation}, 2, result.Passed, 1},
		{"temporary every time", []func() *result.Conversation{busy, busy, busy}, 3, result.Failed, 2},
		{"permanent is not retried", []func() *result.Conversation{denied}, 1, result.Failed, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls, sleeps := 0, 0
			converse := func(context.Context, smtpclient.Plan) *result.Conversation {
				c := tc.conv[calls]()
				calls++
				return c
			}
			c := check("x", func(c *suite.SMTPCheck) { c.Retry = suite.Retry{Attempts: 3, Delay: time.Hour} })
			res := Run(context.Background(), []*suite.Suite{{Name: "r", Checks: []*suite.SMTPCheck{c}}}, Options{
				Converse:   converse,
				ResolvConf: noResolvConf,
				Sleep: func(_ context.Context, d time.Duration) error {
					if d != time.Hour {
						t.Errorf("slept %v, want the retry delay", d)
					}
					sleeps++
					return nil
				},
			}, nil)
			got := res[0].Checks[0]
			if got.Attempts != tc.wantAttempts || got.Status != tc.wantStatus || sleeps != tc.wantSleeps {
				t.Fatalf("attempts %d status %s sleeps %d; want %d %s %d", got.Attempts, got.Status, sleeps, tc.wantAttempts, tc.wantStatus, tc.wantSleeps)
			}
		})
	}
}

func TestSecretsAreMaskedInResults(t *testing.T) {
	const secret = "S3cr3t-p@ss"
	leaky := func(context.Context, smtpclient.Plan) *result.Conversation {
		c := okConversation()
		// A server that echoes what it was sent, the worst case.
		c.Steps[3] = step(result.StepMail, 550, "5.7.1", "you sent "+secret)
		c.Transcript = append(c.Transcript, result.TranscriptLine{Direction: result.Server, Text: "550 5.7.1 you sent " + secret})
		return c
	}
	c := check("x", func(c *suite.SMTPCheck) {
		c.Auth = &suite.Auth{Username: "u@contoso.com", Password: secret}
		c.Expect = &assertions.Expect{No: []assertions.Pattern{}}
	})
	res := Run(context.Background(), []*suite.Suite{{Name: "s", Checks: []*suite.SMTPCheck{c}, Sensitive: []string{secret}, Redactor: redact.New(secret).WithAuth("u@contoso.com", secret)}},
		Options{Converse: leaky}, nil)
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), secret) {
		t.Fatalf("secret in results: %s", out)
	}
	if !strings.Contains(string(out), "you sent ****") {
		t.Fatalf("masked text missing: %s", out)
	}
}

func TestNoSendDropsTheMessage(t *testing.T) {
	var sawMessage atomic.Bool
	converse := func(_ context.Context, p smtpclient.Plan) *result.Conversation {
		sawMessage.Store(p.Message != nil)
		return okConversation()
	}
	c := check("x", func(c *suite.SMTPCheck) { c.Message = &suite.Message{Subject: "s", Body: "b"} })
	for _, noSend := range []bool{false, true} {
		res := Run(context.Background(), []*suite.Suite{{Name: "s", Checks: []*suite.SMTPCheck{c}}}, Options{Converse: converse, NoSend: noSend}, nil)
		if sawMessage.Load() == noSend {
			t.Fatalf("NoSend=%v: plan had message=%v", noSend, sawMessage.Load())
		}
		if res[0].Checks[0].DataSuppressed != noSend {
			t.Fatalf("NoSend=%v: DataSuppressed=%v", noSend, res[0].Checks[0].DataSuppressed)
		}
	}
}

func TestTimeoutFlagOverridesEndpoints(t *testing.T) {
	var got time.Duration
	converse := func(_ context.Context, p smtpclient.Plan) *result.Conversation {
		got = p.Timeout
		return okConversation()
	}
	Run(context.Background(), []*suite.Suite{{Name: "s", Checks: []*suite.SMTPCheck{check("x")}}}, Options{Converse: converse, Timeout: 7 * time.Second}, nil)
	if got != 7*time.Second {
		t.Fatalf("timeout %v, want 7s", got)
	}
}

func TestFailedCheckGetsDiagnosis(t *testing.T) {
	converse := func(context.Context, smtpclient.Plan) *result.Conversation {
		c := okConversation()
		c.Steps[4] = step(result.StepRcpt, 550, "5.7.606", "Access denied, banned sending IP [192.0.2.1]")
		return c
	}
	res := Run(context.Background(), []*suite.Suite{{Name: "s", Checks: []*suite.SMTPCheck{check("x")}}},
		Options{Converse: converse, ResolvConf: noResolvConf}, nil)
	r := res[0].Checks[0]
	if r.Status != result.Failed || r.Diagnosis == nil {
		t.Fatalf("status %s diagnosis %+v", r.Status, r.Diagnosis)
	}
	if r.Diagnosis.Category != "reputation" || r.Diagnosis.IP != "192.0.2.1" {
		t.Fatalf("diagnosis %+v", r.Diagnosis)
	}
}

func TestNoSendDoesNotJudgeTheDataExpectation(t *testing.T) {
	converse := func(context.Context, smtpclient.Plan) *result.Conversation { return okConversation() }
	data := assertions.MustParsePattern("250")
	c := check("x", func(c *suite.SMTPCheck) {
		c.Message = &suite.Message{Subject: "s", Body: "b"}
		c.Expect = &assertions.Expect{Data: &data}
	})
	for _, tc := range []struct {
		noSend bool
		want   result.Status
	}{{true, result.Passed}, {false, result.Failed}} {
		res := Run(context.Background(), []*suite.Suite{{Name: "s", Checks: []*suite.SMTPCheck{c}}}, Options{Converse: converse, NoSend: tc.noSend}, nil)
		if got := res[0].Checks[0]; got.Status != tc.want {
			t.Fatalf("NoSend=%v: status %s (%v), want %s", tc.noSend, got.Status, got.Failures, tc.want)
		}
	}
	if c.Expect.Data == nil {
		t.Fatal("the suite's expectation was changed")
	}
}
