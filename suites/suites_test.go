// Package suites_test checks the ready-made suites: each one decodes with
// the real Microsoft defaults (as `smtpdiag validate` would in CI), and
// each one is run against the Exchange-Online-like simulator on loopback,
// where it must pass, and must fail, with the right diagnosis, when the
// simulator plays the problem the suite is meant to catch.
package suites_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/simulator"
	"github.com/smtpdiag/smtpdiag/internal/suite"
	"github.com/smtpdiag/smtpdiag/runner"
)

// identity are the values a user must give (no defaults): tenant domain,
// device identity, recipients, IPs.
var identity = map[string][]string{
	"m365-smtp-auth.hcl":       {"domain=contoso.com", "username=scanner@contoso.com", "password=not-used", `recipients=["helpdesk@contoso.com"]`},
	"m365-direct-send.hcl":     {"domain=contoso.com", "sender=scanner@contoso.com", "internal_recipient=helpdesk@contoso.com", "external_recipient=someone@fabrikam.com"},
	"m365-relay-connector.hcl": {"domain=contoso.com", "connector_ip=203.0.113.5", "sender=scanner@contoso.com", "external_recipient=partner@fabrikam.com"},
	"mx-vs-auth.hcl":           {"domain=contoso.com", "sender=scanner@contoso.com", "internal_recipient=helpdesk@contoso.com"},
	"basic-auth-readiness.hcl": {"username=scanner@contoso.com", "password=not-used"},
	"isp-cutover.hcl":          {"domain=contoso.com", "egress_ip=203.0.113.5"},
}

func suiteFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no suites: %v", err)
	}
	sort.Strings(files)
	return files
}

func load(t *testing.T, file string, vars []string) (*suite.Suite, string) {
	t.Helper()
	l := suite.NewLoader(suite.Options{Vars: vars, Environ: []string{}})
	s, diags := l.LoadFile(file)
	if diags.HasErrors() {
		var b bytes.Buffer
		_ = l.WriteDiagnostics(&b, diags, false, 100)
		return nil, b.String()
	}
	return s, ""
}

// TestSuitesValidateWithMicrosoftDefaults decodes every suite with only the
// identity variables set: hosts and ports are Microsoft's.
func TestSuitesValidateWithMicrosoftDefaults(t *testing.T) {
	for _, file := range suiteFiles(t) {
		t.Run(file, func(t *testing.T) {
			vars, ok := identity[file]
			if !ok {
				t.Fatalf("%s has no identity values in this test (and no run against the simulator)", file)
			}
			s, problems := load(t, file, vars)
			if s == nil {
				t.Fatalf("does not validate:\n%s", problems)
			}
			for _, c := range s.Checks {
				host := c.Endpoint.Host
				if host != "smtp.office365.com" && host != "contoso-com.mail.protection.outlook.com" {
					t.Errorf("check %q: default host %q", c.Label, host)
				}
				if c.Endpoint.Port != 25 && c.Endpoint.Port != 587 {
					t.Errorf("check %q: default port %d", c.Label, c.Endpoint.Port)
				}
				if c.Endpoint.CAFile != "" {
					t.Errorf("check %q: a ca_file by default", c.Label)
				}
			}
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(src, []byte("# ")) || !bytes.Contains(src, []byte("When to use it:")) {
				t.Errorf("%s: no header comment saying when to use it", file)
			}
			if !bytes.Contains(src, []byte("https://")) {
				t.Errorf("%s: names no source", file)
			}
		})
	}
}

// TestSuitesRequireIdentity: without the tenant's values a suite does not
// run against contoso.com by accident.
func TestSuitesRequireIdentity(t *testing.T) {
	for _, file := range suiteFiles(t) {
		if s, _ := load(t, file, nil); s != nil {
			t.Errorf("%s validates without the identity variables", file)
		}
	}
}

// sim is the simulator the run tests share, and the -var values that point
// a suite at it.
type sim struct {
	*simulator.Simulator
	vars   []string
	closed string // a loopback port nothing listens on
}

func startSimulator(t *testing.T) *sim {
	t.Helper()
	s, err := simulator.Start(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ca, err := s.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	subHost, subPort, _ := net.SplitHostPort(s.SubmissionAddr)
	mxHost, mxPort, _ := net.SplitHostPort(s.MXAddr)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, closed, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return &sim{Simulator: s, closed: closed, vars: []string{
		"submission_host=" + subHost, "submission_port=" + subPort,
		"mx_host=" + mxHost, "mx_port=" + mxPort,
		"ca_file=" + ca, "device_helo=scanner01.contoso.com",
	}}
}

// want is the expected verdict of one check; for a failure, the diagnosis
// category and a substring of the diagnosis or the first failure.
type want struct {
	status   runner.Status
	category knowledge.Category
	evidence string
}

func pass() want { return want{status: runner.Passed} }
func fail(cat knowledge.Category, evidence string) want {
	return want{status: runner.Failed, category: cat, evidence: evidence}
}

func TestSuitesAgainstSimulator(t *testing.T) {
	s := startSimulator(t)
	// Only the variables a suite declares may be set.
	declared := func(file string, vars []string) []string {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range vars {
			name, _, _ := strings.Cut(v, "=")
			if bytes.Contains(src, []byte(`variable "`+name+`"`)) {
				out = append(out, v)
			}
		}
		return out
	}
	tests := []struct {
		name string
		file string
		vars []string // on top of the simulator's
		want map[string]want
	}{
		{"submission works", "m365-smtp-auth.hcl",
			[]string{"domain=contoso.com", "username=scanner@contoso.com", "password=demo-password",
				`recipients=["helpdesk@contoso.com", "partner@fabrikam.com"]`},
			map[string]want{
				"smtp.office365.com offers STARTTLS, TLS 1.2+ and AUTH only inside TLS": pass(),
				"mailbox signs in and its sender and recipients are accepted":           pass(),
			}},
		{"SMTP AUTH disabled for the mailbox", "m365-smtp-auth.hcl",
			[]string{"domain=contoso.com", "username=disabled@contoso.com", "password=demo-password", `recipients=["helpdesk@contoso.com"]`},
			map[string]want{
				"smtp.office365.com offers STARTTLS, TLS 1.2+ and AUTH only inside TLS": pass(),
				"mailbox signs in and its sender and recipients are accepted":           fail(knowledge.Auth, "535 5.7.139"),
			}},
		{"wrong password", "m365-smtp-auth.hcl",
			[]string{"domain=contoso.com", "username=scanner@contoso.com", "password=wrong", `recipients=["helpdesk@contoso.com"]`},
			map[string]want{
				"smtp.office365.com offers STARTTLS, TLS 1.2+ and AUTH only inside TLS": pass(),
				"mailbox signs in and its sender and recipients are accepted":           fail(knowledge.Auth, "535 5.7.3"),
			}},
		{"direct send works", "m365-direct-send.hcl",
			[]string{"domain=contoso.com", "sender=scanner@contoso.com", "internal_recipient=helpdesk@contoso.com", "external_recipient=someone@fabrikam.com"},
			map[string]want{
				"internal recipient is accepted without AUTH":                  pass(),
				"external recipient is refused (Direct Send is internal only)": pass(),
			}},
		{"direct send from a banned IP", "m365-direct-send.hcl",
			[]string{"domain=contoso.com", "sender=scanner@contoso.com", "internal_recipient=blocked@contoso.com", "external_recipient=someone@fabrikam.com"},
			map[string]want{
				"internal recipient is accepted without AUTH":                  fail(knowledge.Reputation, "550 5.7.606"),
				"external recipient is refused (Direct Send is internal only)": pass(),
			}},
		{"relay without a matching connector", "m365-relay-connector.hcl",
			// The simulator has no connectors: it refuses every external
			// recipient with 5.7.64, which is what the suite must catch.
			[]string{"domain=contoso.com", "connector_ip=127.0.0.1", "sender=scanner@contoso.com", "external_recipient=partner@fabrikam.com"},
			map[string]want{
				"the MX endpoint sees the connector IP":               pass(),
				"external recipient is relayed through the connector": fail(knowledge.Configuration, "550 5.7.64"),
			}},
		{"relay from another IP than the connector's", "m365-relay-connector.hcl",
			[]string{"domain=contoso.com", "connector_ip=203.0.113.5", "sender=scanner@contoso.com", "external_recipient=helpdesk@contoso.com"},
			map[string]want{
				"the MX endpoint sees the connector IP":               fail("", "203.0.113.5"),
				"external recipient is relayed through the connector": fail("", "203.0.113.5"),
			}},
		{"MX vs AUTH", "mx-vs-auth.hcl",
			[]string{"domain=contoso.com", "sender=scanner@contoso.com", "internal_recipient=helpdesk@contoso.com"},
			map[string]want{
				"MX endpoint offers STARTTLS but never AUTH":             pass(),
				"submission offers AUTH only after STARTTLS":             pass(),
				"MX endpoint accepts an internal recipient without AUTH": pass(),
				"submission refuses MAIL FROM without AUTH (530 5.7.57)": pass(),
			}},
		{"Basic auth still works", "basic-auth-readiness.hcl",
			[]string{"username=scanner@contoso.com", "password=demo-password"},
			map[string]want{
				"AUTH LOGIN and XOAUTH2 are offered after STARTTLS":                      pass(),
				"Basic auth (AUTH LOGIN with the password) still works for this mailbox": pass(),
			}},
		{"Basic auth switched off", "basic-auth-readiness.hcl",
			[]string{"username=disabled@contoso.com", "password=demo-password"},
			map[string]want{
				"AUTH LOGIN and XOAUTH2 are offered after STARTTLS":                      pass(),
				"Basic auth (AUTH LOGIN with the password) still works for this mailbox": fail(knowledge.Auth, "5.7.139"),
			}},
		{"cutover line is ready", "isp-cutover.hcl",
			[]string{"domain=contoso.com", "egress_ip=127.0.0.1"},
			map[string]want{
				"outbound port 25 reaches the MX endpoint":     pass(),
				"outbound port 587 reaches smtp.office365.com": pass(),
				"MX endpoint sees the new egress IP":           pass(),
				"smtp.office365.com sees the new egress IP":    pass(),
			}},
		{"cutover line blocks port 25", "isp-cutover.hcl",
			[]string{"domain=contoso.com", "egress_ip=127.0.0.1", "mx_port=" + s.closed},
			map[string]want{
				"outbound port 25 reaches the MX endpoint":     fail(knowledge.Network, "No SMTP server answered"),
				"outbound port 587 reaches smtp.office365.com": pass(),
				"MX endpoint sees the new egress IP":           fail(knowledge.Network, "refused"),
				"smtp.office365.com sees the new egress IP":    pass(),
			}},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			covered[tc.file] = true
			// The test's own values come last, so that they win.
			vars := append(declared(tc.file, s.vars), tc.vars...)
			st, problems := load(t, tc.file, vars)
			if st == nil {
				t.Fatalf("does not decode:\n%s", problems)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			results := runner.Run(ctx, []*suite.Suite{st}, runner.Options{Timeout: 10 * time.Second}, nil)
			if len(results) != 1 || len(results[0].Checks) != len(tc.want) {
				t.Fatalf("ran %d suites; want %d checks", len(results), len(tc.want))
			}
			for _, c := range results[0].Checks {
				w, ok := tc.want[c.Label]
				if !ok {
					t.Errorf("unexpected check %q", c.Label)
					continue
				}
				if c.Status != w.status {
					t.Errorf("%q: %s, want %s (%s)", c.Label, c.Status, w.status, c.FirstFailure())
					continue
				}
				if w.status != runner.Failed {
					continue
				}
				evidence := c.FirstFailure()
				if d := c.Diagnosis; d != nil {
					evidence += " | " + d.Summary + " | " + d.Meaning
				}
				if w.category != "" && (c.Diagnosis == nil || c.Diagnosis.Category != w.category) {
					t.Errorf("%q: diagnosis %+v, want category %s", c.Label, c.Diagnosis, w.category)
				}
				if !strings.Contains(evidence, w.evidence) {
					t.Errorf("%q: %q does not mention %q", c.Label, evidence, w.evidence)
				}
			}
		})
	}
	for _, file := range suiteFiles(t) {
		if !covered[file] {
			t.Errorf("%s is not run against the simulator", file)
		}
	}
	if n := s.DataCommands(); n != 0 {
		t.Errorf("the suites sent DATA %d times; none has a message block", n)
	}
}

// TestClientRepoExampleValidates: the example config repo's suites decode
// with its variable file, as its CI's validate step does.
func TestClientRepoExampleValidates(t *testing.T) {
	dir := filepath.Join("..", "examples", "client-repo")
	l := suite.NewLoader(suite.Options{
		VarFiles: []string{filepath.Join(dir, "smtpdiag.vars.hcl")},
		Environ:  []string{"SMTP_PASSWORD=validate-only"},
	})
	suites, diags := l.LoadPaths([]string{filepath.Join(dir, "suites")})
	if diags.HasErrors() || len(suites) != 2 {
		var b bytes.Buffer
		_ = l.WriteDiagnostics(&b, diags, false, 100)
		t.Fatalf("%d suites; problems:\n%s", len(suites), b.String())
	}
	for _, s := range suites {
		for _, c := range s.Checks {
			if c.Endpoint.Host != "smtp.office365.com" && c.Endpoint.Host != "contoso-com.mail.protection.outlook.com" {
				t.Errorf("%s: check %q goes to %q", s.Path, c.Label, c.Endpoint.Host)
			}
		}
	}
}
