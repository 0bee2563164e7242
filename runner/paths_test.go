package runner

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/smtpclient"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// TestPathIDsAreTheKnowledgeBases: the decoder's list of the paths a
// check may prove (it cannot import the knowledge base) is the knowledge
// base's, in its order.
func TestPathIDsAreTheKnowledgeBases(t *testing.T) {
	var ids []string
	for _, p := range knowledge.Paths() {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids, suite.PathIDs) {
		t.Errorf("suite.PathIDs %v, knowledge.Paths() %v", suite.PathIDs, ids)
	}
}

// recordingConverse answers every plan with conv(p) and records the
// first recipient of each plan it saw.
type recordingConverse struct {
	mu   sync.Mutex
	seen []string
	conv func(smtpclient.Plan) *result.Conversation
}

func (r *recordingConverse) converse(_ context.Context, p smtpclient.Plan) *result.Conversation {
	r.mu.Lock()
	r.seen = append(r.seen, p.RcptTo[0])
	r.mu.Unlock()
	return r.conv(p)
}

// TestDisabledCheckIsSkippedWithoutTraffic: a check its suite disabled
// (enabled = false) is a skipped result with its label, kind, path, line
// and the reason, and no conversation is held for it; a dnsbl check that
// would look up its client IP is skipped too, and says so. The checks
// around them run.
func TestDisabledCheckIsSkippedWithoutTraffic(t *testing.T) {
	off := check("oauth", func(c *suite.SMTPCheck) {
		*c = suite.SMTPCheck{Label: "oauth", Path: "oauth", Disabled: `enabled = var.client_id != ""`}
		c.DeclRange.Start.Line = 12
	})
	on := check("basic", func(c *suite.SMTPCheck) { c.Path = "basic_auth" })
	dns := &suite.DNSCheck{Label: "mx record", Disabled: "enabled = var.check_mx"}
	dnsbl := &suite.DNSBLCheck{Label: "egress", ClientIPOf: "oauth"}
	s := &suite.Suite{Name: "migration", Path: "m.hcl", Checks: []*suite.SMTPCheck{off, on},
		DNSChecks: []*suite.DNSCheck{dns}, DNSBLChecks: []*suite.DNSBLCheck{dnsbl}}
	rec := &recordingConverse{conv: func(smtpclient.Plan) *result.Conversation { return okConversation() }}
	// A lookup would go to a resolv.conf that does not exist and error.
	res := Run(context.Background(), []*suite.Suite{s}, Options{Converse: rec.converse, ResolvConf: "/nonexistent/resolv.conf"}, nil)[0]

	if !slices.Equal(rec.seen, []string{"basic@contoso.com"}) {
		t.Errorf("conversations held for %v, want only the enabled check's", rec.seen)
	}
	byLabel := map[string]*result.Check{}
	for _, c := range res.Checks {
		byLabel[c.Label] = c
	}
	o := byLabel["oauth"]
	if o.Status != result.Skipped || o.Error != `not tested: enabled = var.client_id != ""` || o.Kind != "smtp" ||
		o.Path != "oauth" || o.Line != 12 || o.Conversation != nil || o.Attempts != 0 || o.Index != 0 {
		t.Errorf("disabled check: %+v", o)
	}
	if b := byLabel["basic"]; b.Status != result.Passed || b.Path != "basic_auth" {
		t.Errorf("enabled check: %s, path %q", b.Status, b.Path)
	}
	if d := byLabel["mx record"]; d.Status != result.Skipped || d.Kind != "dns" || d.Error != "not tested: enabled = var.check_mx" || len(d.Lookups) != 0 {
		t.Errorf("disabled dns check: %+v", d)
	}
	if d := byLabel["egress"]; d.Status != result.Skipped || d.Kind != "dnsbl" ||
		d.Error != `not tested: it looks up the client IP of the smtp check "oauth", which is not tested (enabled = var.client_id != "")` {
		t.Errorf("dnsbl check of a disabled smtp check: %s %q", d.Status, d.Error)
	}
	if c := res.Counts(); c.Passed != 1 || c.Skipped != 3 {
		t.Errorf("counts %+v", c)
	}
}

// TestSuitePaths: after its checks, a suite whose checks prove paths
// holds the decision on them, from each path's outcome: passed is yes,
// failed no with the failure, skipped (with the enabled expression),
// errored or absent maybe; it names the mailbox the Basic auth check
// signs in as. A suite without paths holds none.
func TestSuitePaths(t *testing.T) {
	rejected := conversationWith(
		result.StepRecord{Step: result.StepConnect},
		step(result.StepBanner, 220, "", "mx ready"),
		step(result.StepEHLO, 250, "", "mx Hello [127.0.0.1]"),
		step(result.StepMail, 250, "2.1.0", "Sender OK"),
		step(result.StepRcpt, 550, "5.7.68", "TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources"),
		step(result.StepQuit, 221, "2.0.0", "Bye"),
	)
	rec := &recordingConverse{conv: func(p smtpclient.Plan) *result.Conversation {
		if strings.HasPrefix(p.RcptTo[0], "direct") {
			return rejected
		}
		return okConversation()
	}}
	checks := []*suite.SMTPCheck{
		check("basic", func(c *suite.SMTPCheck) {
			c.Path = "basic_auth"
			c.Auth = &suite.Auth{Username: "scanner@contoso.com", Password: "Pa55-word", Mechanism: "LOGIN"}
		}),
		{Label: "oauth", Path: "oauth", Disabled: `enabled = var.client_id != ""`},
		check("direct", func(c *suite.SMTPCheck) { c.Path = "direct_send" }),
		// No endpoint: the runner's own error.
		check("connector", func(c *suite.SMTPCheck) { c.Path = "connector"; c.Endpoint = nil }),
		check("no path"),
	}
	s := &suite.Suite{Name: "migration", Path: "m.hcl", Checks: checks}
	plain := &suite.Suite{Name: "plain", Path: "p.hcl", Checks: []*suite.SMTPCheck{check("x")}}
	var finished *result.Suite
	results := Run(context.Background(), []*suite.Suite{s, plain}, Options{Converse: rec.converse}, func(ev result.Event) {
		if ev.Kind == result.SuiteFinished && ev.Suite.Name == "migration" {
			finished = ev.Suite
		}
	})
	d := results[0].Paths
	if d == nil || finished == nil || finished.Paths != d {
		t.Fatalf("paths %+v; the SuiteFinished event must carry them", d)
	}
	if results[1].Paths != nil {
		t.Errorf("a suite without paths: %+v", results[1].Paths)
	}
	if d.Subject != "scanner@contoso.com" || !strings.HasPrefix(d.Summary, "this run (this tenant, this machine): Direct Send is out;") {
		t.Errorf("subject %q, summary %q", d.Subject, d.Summary)
	}
	want := map[string]struct{ usable, reason string }{
		"basic_auth":  {"maybe", "Its check passed, so Basic auth works today for this tenant from this machine; after the switch-off: Basic authentication for SMTP AUTH is disabled by default"},
		"oauth":       {"maybe", `It was not tested in this run: its check was skipped (enabled = var.client_id != "").`},
		"hve":         {"maybe", "It was not tested in this run."},
		"acs_relay":   {"maybe", "It was not tested in this run."},
		"direct_send": {"no", "Its check failed: unexpected 550 5.7.68 TenantInboundAttribution"},
		"connector":   {"maybe", `It was not tested in this run: its check could not run (check "connector" has no endpoint).`},
	}
	if len(d.Paths) != len(want) {
		t.Fatalf("%d verdicts", len(d.Paths))
	}
	for _, v := range d.Paths {
		w := want[v.Path]
		if v.Usable != w.usable || len(v.Reasons) == 0 || !strings.HasPrefix(v.Reasons[0], w.reason) {
			t.Errorf("%s: %s %q, want %s %q", v.Path, v.Usable, v.Reasons, w.usable, w.reason)
		}
	}

	// Without a Basic auth or OAuth check that runs, the sender of the
	// Direct Send check names the mailbox; with none, nobody is named.
	s.Checks[0].Disabled = "enabled = false"
	s.Checks[2].MailFrom = ptr("copier@contoso.com")
	if got := pathSubject(s); got != "copier@contoso.com" {
		t.Errorf("subject %q, want the Direct Send sender", got)
	}
	s.Checks[2].Path, s.Checks[3].Path = "", ""
	if got := pathSubject(s); got != "" {
		t.Errorf("subject %q, want none", got)
	}
}

// pathSuite is a suite with one check per path, signing in as
// scanner@contoso.com; the check of the path disabled, when not "", is
// disabled by an enabled expression.
func pathSuite(disabled string) *suite.Suite {
	var checks []*suite.SMTPCheck
	for _, p := range suite.PathIDs {
		checks = append(checks, check(p, func(c *suite.SMTPCheck) {
			c.Path = p
			c.Auth = &suite.Auth{Username: "scanner@contoso.com", Password: "Pa55-word"}
			if p == disabled {
				c.Disabled = `enabled = var.client_id != ""`
			}
		}))
	}
	return &suite.Suite{Name: "migration", Path: "suites/migration.hcl", Checks: checks}
}

// TestShardDecidesOnItsChecks: a shard decides on the paths of its own
// checks only, naming the same subject as the whole run, and says which
// paths another shard tests; merge makes the decision again from all of
// them (cmd/smtpdiag's merge test).
func TestShardDecidesOnItsChecks(t *testing.T) {
	s := pathSuite("")
	conv := func(context.Context, smtpclient.Plan) *result.Conversation { return okConversation() }
	full := Run(context.Background(), []*suite.Suite{s}, Options{Converse: conv}, nil)[0]
	// Every check passes: all but Basic auth, off by default after the
	// switch-off, remain.
	if full.Paths == nil || !strings.HasSuffix(full.Paths.Summary, ": maybe Basic auth; OAuth, HVE, the ACS relay, Direct Send or a connector remain") {
		t.Fatalf("the whole run: %+v", full.Paths)
	}
	partial := 0
	for k := 1; k <= 3; k++ {
		part := Run(context.Background(), []*suite.Suite{s}, Options{Converse: conv, Shard: Shard{k, 3}}, nil)
		if len(part) == 0 {
			continue
		}
		p := part[0].Paths
		if p == nil || p.Subject != full.Paths.Subject {
			t.Fatalf("shard %d/3: %+v", k, p)
		}
		tested := 0
		for _, v := range p.Paths {
			if slices.ContainsFunc(v.Reasons, func(r string) bool { return strings.HasPrefix(r, "Its check passed") }) {
				tested++
			} else if v.Usable != "maybe" || v.Reasons[0] != "It was not tested in this run: its check runs in another shard; smtpdiag merge decides on the checks of every shard." {
				t.Errorf("shard %d/3: %s is %s without its check: %q", k, v.Path, v.Usable, v.Reasons)
			}
		}
		if tested != len(part[0].Checks) {
			t.Errorf("shard %d/3 ran %d checks and judges %d paths by a passed check", k, len(part[0].Checks), tested)
		}
		if tested < len(suite.PathIDs) {
			partial++
		}
	}
	if partial == 0 {
		t.Error("no shard of 3 ran only part of the paths: the test proves nothing")
	}
}

func ptr[T any](v T) *T { return &v }

// TestShardSaysADisabledCheckIsSkipped: a shard that does not hold a
// disabled path check says it was skipped, with its enabled expression,
// as the whole run says, not that another shard runs it.
func TestShardSaysADisabledCheckIsSkipped(t *testing.T) {
	s := pathSuite("oauth")
	conv := func(context.Context, smtpclient.Plan) *result.Conversation { return okConversation() }
	want := `It was not tested in this run: its check was skipped (enabled = var.client_id != "").`
	seen := 0
	for k := 1; k <= 3; k++ {
		part := Run(context.Background(), []*suite.Suite{s}, Options{Converse: conv, Shard: Shard{k, 3}}, nil)
		if len(part) == 0 || part[0].Paths == nil {
			continue
		}
		for _, v := range part[0].Paths.Paths {
			if v.Path == "oauth" {
				seen++
				if v.Usable != "maybe" || v.Reasons[0] != want {
					t.Errorf("shard %d/3: oauth %s %q", k, v.Usable, v.Reasons)
				}
			}
		}
	}
	if seen < 2 {
		t.Errorf("only %d shards decided on oauth: the test proves nothing", seen)
	}
}
