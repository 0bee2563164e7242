package runner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/assertions"
	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/smtpclient"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// loadAsserts decodes src as the runner gets suites from the command line.
func loadAsserts(t *testing.T, opts suite.Options, src string) *suite.Suite {
	t.Helper()
	if opts.Environ == nil {
		opts.Environ = []string{}
	}
	l := suite.NewLoader(opts)
	s, diags := l.LoadSource("asserts.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatalf("suite does not load: %v", diags)
	}
	return s
}

// tlsConversation is a submission conversation with STARTTLS (TLS 1.2)
// whose second EHLO offers SIZE and AUTH LOGIN.
func tlsConversation() *result.Conversation {
	c := conversationWith(
		result.StepRecord{Step: result.StepConnect, Duration: 12 * time.Millisecond},
		step(result.StepBanner, 220, "", "mx ready"),
		step(result.StepEHLO, 250, "", "mx Hello [203.0.113.5]"),
		step(result.StepStartTLS, 220, "2.0.0", "SMTP server ready"),
		result.StepRecord{Step: result.StepTLS},
		step(result.StepEHLO, 250, "", "mx Hello [203.0.113.5]"),
		step(result.StepMail, 250, "2.1.0", "Sender OK"),
		step(result.StepRcpt, 250, "2.1.5", "Recipient OK"),
		step(result.StepRset, 250, "2.0.0", "Resetting"),
		step(result.StepQuit, 221, "2.0.0", "Bye"),
	)
	c.EHLOBeforeTLS = esmtp.ParseEHLO([]string{"PIPELINING", "STARTTLS"})
	c.EHLOAfterTLS = esmtp.ParseEHLO([]string{"SIZE 157286400", "AUTH LOGIN XOAUTH2"})
	c.TLS = &result.TLSInfo{Version: "1.2", CipherSuite: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", Verified: true}
	c.ClientIP = "203.0.113.5"
	return c
}

// TestAssertBlocksAreEvaluated: a true condition passes, a false one
// fails the check with its error_message as an "assert" failure, and one
// that cannot be evaluated fails it with the expression's position.
func TestAssertBlocksAreEvaluated(t *testing.T) {
	s := loadAsserts(t, suite.Options{}, `
variable "min_tls" {
  type    = number
  default = 1.2
}
endpoint "e" {
  host = "127.0.0.1"
}
smtp "holds" {
  endpoint  = endpoint.e
  mail_from = "a@contoso.com"
  rcpt_to   = ["b@contoso.com"]
  assert {
    condition     = result.tls.version >= var.min_tls && contains(result.ehlo.extensions, "SIZE")
    error_message = "TLS below ${var.min_tls} or no SIZE"
  }
  assert {
    condition     = result.client_ip == "203.0.113.5" && contains(result.ehlo.before_tls.extensions, "STARTTLS")
    error_message = "unexpected client IP ${result.client_ip}"
  }
}
smtp "does not hold" {
  endpoint  = endpoint.e
  mail_from = "a@contoso.com"
  rcpt_to   = ["b@contoso.com"]
  assert {
    condition     = contains(result.ehlo.auth_mechanisms, "PLAIN")
    error_message = "AUTH PLAIN is not offered after TLS; offered: ${join(", ", result.ehlo.auth_mechanisms)}"
  }
}
smtp "errs" {
  endpoint  = endpoint.e
  mail_from = "a@contoso.com"
  rcpt_to   = ["b@contoso.com"]
  assert {
    condition     = result.auth.code == 235
    error_message = "no AUTH"
  }
}
`)
	converse := func(context.Context, smtpclient.Plan) *result.Conversation { return tlsConversation() }
	results := Run(context.Background(), []*suite.Suite{s}, Options{Converse: converse}, nil)
	checks := map[string]*result.Check{}
	for _, c := range results[0].Checks {
		checks[c.Label] = c
	}
	if c := checks["holds"]; c.Status != result.Passed {
		t.Errorf("holds: %s %+v", c.Status, c.Failures)
	}
	c := checks["does not hold"]
	if c.Status != result.Failed || len(c.Failures) != 1 || c.Failures[0].Expectation != "assert" ||
		c.Failures[0].Message != "assert: AUTH PLAIN is not offered after TLS; offered: LOGIN, XOAUTH2" {
		t.Errorf("does not hold: %s %+v", c.Status, c.Failures)
	}
	c = checks["errs"]
	if c.Status != result.Failed || len(c.Failures) != 1 || c.Failures[0].Expectation != "assert" ||
		!strings.HasPrefix(c.Failures[0].Message, "assert: asserts.hcl:36:") ||
		!strings.Contains(c.Failures[0].Message, "null") {
		t.Errorf("errs: %s %+v", c.Status, c.Failures)
	}
}

// TestAssertMessageIsMasked: a sensitive value in an error_message is
// masked like every other output.
func TestAssertMessageIsMasked(t *testing.T) {
	s := loadAsserts(t, suite.Options{Vars: []string{"secret=Hunter2-Secret"}}, `
variable "secret" {
  sensitive = true
}
endpoint "e" {
  host = "127.0.0.1"
}
smtp "leaky" {
  endpoint = endpoint.e
  assert {
    condition     = false
    error_message = "the secret is ${var.secret}"
  }
}
`)
	converse := func(context.Context, smtpclient.Plan) *result.Conversation { return okConversation() }
	results := Run(context.Background(), []*suite.Suite{s}, Options{Converse: converse}, nil)
	c := results[0].Checks[0]
	if c.Status != result.Failed || len(c.Failures) != 1 || strings.Contains(c.Failures[0].Message, "Hunter2") {
		t.Errorf("%s %+v", c.Status, c.Failures)
	}
}

// TestPasswordReachesThePlanUnnormalized: a password given in NFD form
// (e + U+0301) reaches the SMTP client's plan byte for byte; cty's NFC
// normalization would turn it into é (U+00E9) and the server would
// answer 535.
func TestPasswordReachesThePlanUnnormalized(t *testing.T) {
	const nfd = "Cafe\u0301-Passw0rd"
	s := loadAsserts(t, suite.Options{Vars: []string{"password=" + nfd}}, `
variable "password" {
  sensitive = true
}
endpoint "e" {
  host = "127.0.0.1"
  tls  = "none"
}
smtp "auth" {
  endpoint = endpoint.e
  auth {
    username = "scanner@contoso.com"
    password = var.password
  }
}
`)
	var plan smtpclient.Plan
	converse := func(_ context.Context, p smtpclient.Plan) *result.Conversation {
		plan = p
		return okConversation()
	}
	Run(context.Background(), []*suite.Suite{s}, Options{Converse: converse}, nil)
	if plan.Auth == nil || plan.Auth.Password != nfd {
		t.Fatalf("the plan's password is %+q, want %+q", plan.Auth.Password, nfd)
	}
}

// TestCheckDeadlinePrecedence: max_duration when set, else the check's
// check_timeout, else the endpoint's, else --check-timeout, else two
// minutes.
func TestCheckDeadlinePrecedence(t *testing.T) {
	max := 7 * time.Second
	ep := &suite.Endpoint{CheckTimeout: 40 * time.Second}
	cases := []struct {
		name string
		c    *suite.SMTPCheck
		cli  time.Duration
		want time.Duration
	}{
		{"max_duration", &suite.SMTPCheck{Endpoint: ep, CheckTimeout: 20 * time.Second, Expect: &assertions.Expect{MaxDuration: &max}}, time.Minute, max},
		{"check's check_timeout", &suite.SMTPCheck{Endpoint: ep, CheckTimeout: 20 * time.Second}, time.Minute, 20 * time.Second},
		{"endpoint's check_timeout", &suite.SMTPCheck{Endpoint: ep}, time.Minute, 40 * time.Second},
		{"--check-timeout", &suite.SMTPCheck{Endpoint: &suite.Endpoint{}}, time.Minute, time.Minute},
		{"default", &suite.SMTPCheck{Endpoint: &suite.Endpoint{}}, 0, DefaultCheckTimeout},
	}
	for _, tc := range cases {
		if got := checkDeadline(suite.Check{SMTP: tc.c}, Options{CheckTimeout: tc.cli}); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestForceMechanismReachesThePlan: auth { force_mechanism = true } is
// passed to the SMTP client, which then sends the mechanism even when the
// server does not offer it.
func TestForceMechanismReachesThePlan(t *testing.T) {
	s := loadAsserts(t, suite.Options{}, `
endpoint "e" {
  host = "127.0.0.1"
  tls  = "none"
}
smtp "forced" {
  endpoint = endpoint.e
  auth {
    username        = "scanner@contoso.com"
    password        = "Some-Password"
    mechanism       = "PLAIN"
    force_mechanism = true
  }
}
smtp "offered only" {
  endpoint = endpoint.e
  auth {
    username  = "scanner@contoso.com"
    password  = "Some-Password"
    mechanism = "PLAIN"
  }
}
`)
	for i, want := range []bool{true, false} {
		plan, err := planFor(s.Checks[i], Options{})
		if err != nil || plan.Auth == nil || plan.Auth.Force != want || plan.Auth.Mechanism != "PLAIN" {
			t.Errorf("%s: %+v, %v; want Force %v", s.Checks[i].Label, plan.Auth, err, want)
		}
	}
}
