package asserts

import (
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

func reply(code int, enhanced string, lines ...string) *esmtp.Reply {
	return &esmtp.Reply{Code: code, Enhanced: enhanced, Lines: lines}
}

// fullSMTP is an smtp check's result with every part filled in: an mx
// endpoint's lookups, STARTTLS with a certificate, AUTH, two RCPTs, a
// message.
func fullSMTP() *result.Check {
	started := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	conv := &result.Conversation{
		Host: "mx.contoso.com", Port: 25, TLSMode: "starttls",
		RemoteAddr: "192.0.2.1:25", LocalAddr: "192.0.2.99:51000",
		Started: started, Duration: 1500 * time.Millisecond,
		Steps: []result.StepRecord{
			{Step: result.StepConnect, Duration: 20 * time.Millisecond},
			{Step: result.StepBanner, Reply: reply(220, "", "mx.contoso.com ready"), Start: 20 * time.Millisecond, Duration: 30 * time.Millisecond},
			{Step: result.StepEHLO, Command: "EHLO scanner", Reply: reply(250, "", "mx.contoso.com Hello [203.0.113.5]", "STARTTLS")},
			{Step: result.StepStartTLS, Command: "STARTTLS", Reply: reply(220, "2.0.0", "ready")},
			{Step: result.StepTLS, Duration: 40 * time.Millisecond},
			{Step: result.StepEHLO, Command: "EHLO scanner", AfterTLS: true, Reply: reply(250, "", "mx.contoso.com Hello [203.0.113.5]", "SIZE 157286400", "AUTH LOGIN XOAUTH2")},
			{Step: result.StepAuth, Command: "AUTH LOGIN ****", AfterTLS: true, Reply: reply(235, "2.7.0", "Authentication successful")},
			{Step: result.StepMail, AfterTLS: true, Reply: reply(250, "2.1.0", "Sender OK")},
			{Step: result.StepRcpt, AfterTLS: true, Reply: reply(250, "2.1.5", "Recipient OK")},
			{Step: result.StepRcpt, AfterTLS: true, Reply: reply(550, "5.4.1", "Recipient address rejected")},
			{Step: result.StepData, AfterTLS: true, Reply: reply(354, "", "Go ahead")},
			{Step: result.StepMessage, AfterTLS: true, Reply: reply(250, "2.0.0", "Queued")},
			{Step: result.StepQuit, AfterTLS: true, Reply: reply(221, "2.0.0", "Bye")},
		},
		EHLOBeforeTLS: esmtp.ParseEHLO([]string{"STARTTLS"}),
		EHLOAfterTLS:  esmtp.ParseEHLO([]string{"SIZE 157286400", "AUTH LOGIN XOAUTH2"}),
		TLS: &result.TLSInfo{Version: "1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ServerName: "mx.contoso.com", Verified: true,
			Chain: []result.Certificate{{Subject: "CN=mx.contoso.com", Issuer: "CN=Lab CA", DNSNames: []string{"mx.contoso.com"},
				NotBefore: started.AddDate(0, -1, 0), NotAfter: started.AddDate(0, 0, 30), SHA256: "ab", SerialNumber: "1"}}},
		ClientIP: "203.0.113.5",
		DataSent: true,
	}
	return &result.Check{Kind: "smtp", Label: "full", Endpoint: "mx", Target: "mx.contoso.com:25", Status: result.Passed,
		Attempts: 1, Started: started, Conversation: conv,
		Lookups: []result.Lookup{{Name: "contoso.com.", Type: "MX", Server: "127.0.0.1:53", Transport: "udp", Rcode: "NOERROR",
			Answers: []string{"contoso.com.\t3600\tIN\tMX\t0 mx.contoso.com."}}}}
}

// TestValueHasTheResultType: the object built from a full result, and
// from an empty one (a check that never connected), has exactly the
// type the decoder checks conditions against.
func TestValueHasTheResultType(t *testing.T) {
	for name, res := range map[string]*result.Check{
		"smtp":       fullSMTP(),
		"smtp empty": {Kind: "smtp"},
		"dns": {Kind: "dns", Resolver: "127.0.0.1:53", DNS: &result.DNSOutcome{Name: "contoso.com", Type: "TXT", Rcode: "NOERROR",
			Records: []string{"v=spf1 include:spf.protection.outlook.com -all"}, SPFRecord: "v=spf1 include:spf.protection.outlook.com -all",
			SPFIncludes: []string{"spf.protection.outlook.com"}, SPF: []result.SPFVerdict{{IP: "203.0.113.5", Result: "fail", Mechanism: "-all"}}}},
		"dns empty": {Kind: "dns"},
	} {
		v := Value(res)
		if want := suite.ResultType(res.Kind); !v.Type().Equals(want) {
			t.Errorf("%s: type %#v, want %#v", name, v.Type(), want)
		}
		if !v.IsWhollyKnown() {
			t.Errorf("%s: not wholly known", name)
		}
	}
	v := Value(fullSMTP())
	get := func(path ...any) cty.Value {
		x := v
		for _, step := range path {
			switch s := step.(type) {
			case string:
				x = x.GetAttr(s)
			case int:
				x = x.Index(cty.NumberIntVal(int64(s)))
			}
		}
		return x
	}
	for _, tc := range []struct {
		got  cty.Value
		want cty.Value
	}{
		{get("tls", "version"), cty.MustParseNumberVal("1.3")},
		{get("tls", "certificate", "days_left"), cty.NumberIntVal(30)},
		{get("ehlo", "extensions", 0), cty.StringVal("SIZE")},
		{get("ehlo", "before_tls", "extensions", 0), cty.StringVal("STARTTLS")},
		{get("ehlo", "auth_mechanisms", 1), cty.StringVal("XOAUTH2")},
		{get("ehlo", "greeting"), cty.StringVal("mx.contoso.com Hello [203.0.113.5]")},
		{get("rcpt", 1, "enhanced"), cty.StringVal("5.4.1")},
		{get("rcpt", 1, "line"), cty.StringVal("550 5.4.1 Recipient address rejected")},
		{get("auth", "code"), cty.NumberIntVal(235)},
		{get("timings", "banner"), cty.MustParseNumberVal("0.03")},
		{get("timings", "mail"), cty.NumberIntVal(0)},
		{get("stopped_at"), cty.StringVal("")},
		{get("client_ip"), cty.StringVal("203.0.113.5")},
		{get("lookups", 0, "type"), cty.StringVal("MX")},
		{get("steps", 6, "command"), cty.StringVal("AUTH LOGIN ****")},
	} {
		if !tc.got.RawEquals(tc.want) {
			t.Errorf("got %#v, want %#v", tc.got, tc.want)
		}
	}
	empty := Value(&result.Check{Kind: "smtp"})
	if !empty.GetAttr("tls").IsNull() || !empty.GetAttr("banner").IsNull() || !empty.GetAttr("timings").GetAttr("connect").IsNull() {
		t.Errorf("an empty result has a TLS session, a banner or a connect time: %#v", empty)
	}
}

// load decodes a suite with an smtp check and a dns check, with the
// given assert blocks.
func load(t *testing.T, smtpAsserts, dnsAsserts string) (smtp, dns suite.Check) {
	t.Helper()
	l := suite.NewLoader(suite.Options{Environ: []string{}, Vars: []string{"secret=Top-Secret-Value"}})
	s, diags := l.LoadSource("a.hcl", []byte(`
variable "secret" {
  sensitive = true
}
endpoint "e" {
  host = "127.0.0.1"
}
smtp "s" {
  endpoint = endpoint.e
`+smtpAsserts+`
}
dns "d" {
  name = "contoso.com"
  type = "TXT"
`+dnsAsserts+`
}
`))
	if diags.HasErrors() {
		t.Fatalf("%v", diags)
	}
	return suite.Check{SMTP: s.Checks[0]}, suite.Check{DNS: s.DNSChecks[0]}
}

// TestApply: a true condition changes nothing, a false one fails the
// check with its error_message, one that errs fails it with the
// position, and a sensitive value in a message is masked.
func TestApply(t *testing.T) {
	red := redact.New("Top-Secret-Value")
	dnsResult := func() *result.Check {
		return &result.Check{Kind: "dns", Status: result.Passed, DNS: &result.DNSOutcome{Name: "contoso.com", Type: "TXT", Records: []string{"v=spf1 -all"}}}
	}
	smtpResult := func() *result.Check { c := fullSMTP(); return c }

	c, d := load(t, `assert {
    condition     = result.tls.version >= 1.2
    error_message = "too old"
  }`, `assert {
    condition     = contains(result.records, "v=spf1 -all")
    error_message = "no SPF"
  }`)
	for name, tc := range map[string]struct {
		c   suite.Check
		res *result.Check
	}{"smtp": {c, smtpResult()}, "dns": {d, dnsResult()}} {
		Apply(tc.c, tc.res, red)
		if tc.res.Status != result.Passed || len(tc.res.Failures) != 0 {
			t.Errorf("%s, true: %s %+v", name, tc.res.Status, tc.res.Failures)
		}
	}

	never := `assert {
    condition     = false
    error_message = "never holds, ${var.secret}"
  }`
	c, d = load(t, never, never)
	for name, tc := range map[string]struct {
		c   suite.Check
		res *result.Check
	}{"smtp": {c, smtpResult()}, "dns": {d, dnsResult()}} {
		Apply(tc.c, tc.res, red)
		if tc.res.Status != result.Failed || len(tc.res.Failures) != 1 || tc.res.Failures[0].Expectation != "assert" ||
			tc.res.Failures[0].Message != "assert: never holds, ****" {
			t.Errorf("%s, false: %s %+v", name, tc.res.Status, tc.res.Failures)
		}
	}

	c, _ = load(t, `assert {
    condition     = result.tls.cipher == "x"
    error_message = "no TLS"
  }`, "")
	res := smtpResult()
	res.Conversation.TLS = nil
	Apply(c, res, red)
	if res.Status != result.Failed || len(res.Failures) != 1 ||
		!strings.HasPrefix(res.Failures[0].Message, "assert: a.hcl:11:") || !strings.Contains(res.Failures[0].Message, "null") {
		t.Errorf("erring condition: %s %+v", res.Status, res.Failures)
	}

	// A skipped check is left alone; a failed one gets the failure too.
	skipped := &result.Check{Kind: "smtp", Status: result.Skipped}
	Apply(c, skipped, red)
	if len(skipped.Failures) != 0 {
		t.Errorf("skipped: %+v", skipped.Failures)
	}
	failed := smtpResult()
	failed.Conversation.TLS = nil
	failed.Status = result.Failed
	failed.Failures = []result.Failure{{Expectation: "starttls", Message: "starttls: not advertised"}}
	Apply(c, failed, red)
	if failed.Status != result.Failed || len(failed.Failures) != 2 {
		t.Errorf("failed: %s %+v", failed.Status, failed.Failures)
	}
}

// TestMisspeltResultAttributeIsALoadError: an attribute the result
// object does not have is found when the suite is loaded (validate), with
// a suggestion.
func TestMisspeltResultAttributeIsALoadError(t *testing.T) {
	l := suite.NewLoader(suite.Options{Environ: []string{}, Validate: true})
	_, diags := l.LoadSource("m.hcl", []byte(`endpoint "e" { host = "127.0.0.1" }
smtp "s" {
  endpoint = endpoint.e
  assert {
    condition     = result.tls.versoin >= 1.2
    error_message = "x"
  }
}
`))
	if !diags.HasErrors() || !strings.Contains(diags.Error(), `m.hcl:5,`) || !strings.Contains(diags.Error(), `Did you mean "version"?`) {
		t.Errorf("%v", diags)
	}
}
