package runner

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	mdns "github.com/miekg/dns"

	"github.com/smtpdiag/smtpdiag/assertions"
	"github.com/smtpdiag/smtpdiag/internal/dns/dnstest"
	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/smtpclient"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// noResolvConf is a resolv.conf that does not exist: a test that forgot
// to name its resolver fails instead of asking the machine's.
const noResolvConf = "/nonexistent/smtpdiag-test/resolv.conf"

// testZone starts a DNS server on 127.0.0.1 for contoso.test: an MX, SPF
// and DMARC, a DNSBL zone listing 127.0.0.2 and 127.0.0.11, and a PTR.
func testZone(t *testing.T) *dnstest.Server {
	t.Helper()
	srv, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	srv.MustAdd(
		"contoso.test. 300 IN MX 10 mx.contoso.test.",
		"mx.contoso.test. 300 IN A 127.0.0.1",
		`contoso.test. 300 IN TXT "v=spf1 ip4:127.0.0.1 include:spf.contoso.test ~all"`,
		`spf.contoso.test. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"`,
		`_dmarc.contoso.test. 300 IN TXT "v=DMARC1; p=quarantine"`,
		"null.test. 300 IN MX 0 .",
		"2.0.0.127.zen.spamhaus.org. 300 IN A 127.0.0.2",
		`2.0.0.127.zen.spamhaus.org. 300 IN TXT "SBL test entry"`,
		"11.0.0.127.zen.spamhaus.org. 300 IN A 127.0.0.11",
		`11.0.0.127.zen.spamhaus.org. 300 IN TXT "https://check.spamhaus.org/query/ip/127.0.0.11"`,
		"4.3.2.1.zen.spamhaus.org. 300 IN A 127.0.0.4",
		"2.0.0.127.secretdqskey42.zen.dq.spamhaus.net. 300 IN A 127.0.0.2",
		"1.0.0.127.in-addr.arpa. 300 IN PTR mx.contoso.test.",
	)
	srv.SetRcode("broken.test", mdns.RcodeServerFailure)
	return srv
}

func mxCheck(label, domain string, mods ...func(*suite.SMTPCheck)) *suite.SMTPCheck {
	return check(label, append([]func(*suite.SMTPCheck){func(c *suite.SMTPCheck) {
		c.Endpoint = &suite.Endpoint{Name: "mx", MX: domain, Port: 25, TLS: suite.TLSStartTLS, Timeout: time.Second, VerifyCertificate: true}
	}}, mods...)...)
}

func TestMXEndpointIsResolvedBeforeConnecting(t *testing.T) {
	srv := testZone(t)
	var mu sync.Mutex
	plans := map[string]smtpclient.Plan{}
	converse := func(_ context.Context, p smtpclient.Plan) *result.Conversation {
		mu.Lock()
		plans[p.RcptTo[0]] = p
		mu.Unlock()
		c := okConversation()
		c.Started = time.Now()
		c.Transcript = []result.TranscriptLine{{Offset: 0, Direction: result.Note, Text: "connected to 127.0.0.1:25"}}
		return c
	}
	withName := mxCheck("own name", "contoso.test", func(c *suite.SMTPCheck) { c.Endpoint.ServerName = "smtp.contoso.test" })
	s := &suite.Suite{Name: "mx", Checks: []*suite.SMTPCheck{mxCheck("x", "contoso.test."), withName}}
	res := Run(context.Background(), []*suite.Suite{s}, Options{Converse: converse, Resolver: srv.Addr, ResolvConf: noResolvConf, Parallel: 1}, nil)
	r := res[0].Checks[0]
	if r.Status != result.Passed {
		t.Fatalf("status %s: %v", r.Status, r.Failures)
	}
	if p := plans["x@contoso.com"]; len(plans) != 2 || p.Host != "127.0.0.1" || p.ServerName != "mx.contoso.test" {
		t.Fatalf("plans = %+v", plans)
	}
	if p := plans["own name@contoso.com"]; p.ServerName != "smtp.contoso.test" {
		t.Errorf("server_name was overridden: %q", p.ServerName)
	}
	if r.Target != "mx.contoso.test:25" || r.Conversation.Host != "mx.contoso.test" || r.Resolver != srv.Addr {
		t.Errorf("target %q host %q resolver %q", r.Target, r.Conversation.Host, r.Resolver)
	}
	lines := r.TranscriptLines()
	var texts []string
	for _, l := range lines {
		texts = append(texts, string(l.Direction)+" "+l.Text)
	}
	joined := strings.Join(texts, "\n")
	if !strings.HasPrefix(joined, "* DNS MX contoso.test. @"+srv.Addr+"/udp: NOERROR, 1 record") ||
		!strings.Contains(joined, "* DNS A mx.contoso.test. @") || !strings.HasSuffix(joined, "* connected to 127.0.0.1:25") {
		t.Errorf("transcript:\n%s", joined)
	}
	if len(r.Lookups) != 3 {
		t.Errorf("lookups = %+v", r.Lookups)
	}
	for i := 1; i < len(lines); i++ {
		if lines[i].Offset < lines[i-1].Offset {
			t.Errorf("transcript offsets go back at line %d: %v", i, lines)
		}
	}
}

func TestMXEndpointFailures(t *testing.T) {
	srv := testZone(t)
	var calls atomic.Int32
	converse := func(context.Context, smtpclient.Plan) *result.Conversation {
		calls.Add(1)
		return okConversation()
	}
	s := &suite.Suite{Name: "mx", Checks: []*suite.SMTPCheck{
		mxCheck("null", "null.test"), mxCheck("missing", "missing.test"), mxCheck("broken", "broken.test"),
	}}
	res := Run(context.Background(), []*suite.Suite{s}, Options{Converse: converse, Resolver: srv.Addr, ResolvConf: noResolvConf}, nil)
	want := map[string]string{
		"null":    "mx: null.test publishes a null MX (RFC 7505): it accepts no mail",
		"missing": "mx: missing.test does not exist (NXDOMAIN)",
		"broken":  "mx: MX lookup for broken.test failed: MX broken.test.: SERVFAIL from " + srv.Addr,
	}
	for _, r := range res[0].Checks {
		if r.Status != result.Failed || r.FirstFailure() != want[r.Label] || r.Diagnosis == nil || r.Diagnosis.Category != "dns" {
			t.Errorf("%s: %s %q %+v", r.Label, r.Status, r.FirstFailure(), r.Diagnosis)
		}
		if r.Conversation != nil || len(r.TranscriptLines()) == 0 || r.Target != "MX "+r.Label+".test" {
			t.Errorf("%s: conversation %v, transcript %v, target %q", r.Label, r.Conversation, r.TranscriptLines(), r.Target)
		}
	}
	if !strings.Contains(res[0].Checks[0].Diagnosis.Meaning, "accepts no mail at all") {
		t.Errorf("null MX diagnosis: %+v", res[0].Checks[0].Diagnosis)
	}
	if calls.Load() != 0 {
		t.Errorf("%d conversations held without an MX host", calls.Load())
	}
}

func TestNoResolverAtAll(t *testing.T) {
	s := &suite.Suite{Name: "mx", Checks: []*suite.SMTPCheck{mxCheck("x", "contoso.test")},
		DNSChecks: []*suite.DNSCheck{{Label: "d", Name: "contoso.test", Type: "MX"}}}
	res := Run(context.Background(), []*suite.Suite{s}, Options{Converse: func(context.Context, smtpclient.Plan) *result.Conversation {
		t.Fatal("conversation without a resolved host")
		return nil
	}, ResolvConf: noResolvConf}, nil)
	for _, r := range res[0].Checks {
		if r.Status != result.Errored || !strings.Contains(r.Error, "no system resolver") {
			t.Errorf("%s: %s %q", r.Label, r.Status, r.Error)
		}
	}
	res = Run(context.Background(), []*suite.Suite{s}, Options{Resolver: "dns.example", ResolvConf: noResolvConf}, nil)
	if r := res[0].Checks[1]; r.Status != result.Errored || !strings.Contains(r.Error, "--resolver") {
		t.Errorf("bad --resolver: %s %q", r.Status, r.Error)
	}
}

func dnsCheck(label, name, typ string, e *assertions.DNSExpect) *suite.DNSCheck {
	return &suite.DNSCheck{Label: label, Name: name, Type: typ, Expect: e}
}

func TestDNSChecks(t *testing.T) {
	srv := testZone(t)
	cmp := func(s string) *assertions.Comparison {
		c, err := assertions.ParseComparison(s)
		if err != nil {
			t.Fatal(err)
		}
		return &c
	}
	str := func(s string) *string { return &s }
	yes := true
	checks := []*suite.DNSCheck{
		dnsCheck("mx", "contoso.test", "MX", &assertions.DNSExpect{Contains: []string{"mx.contoso.test"}, Count: cmp("1")}),
		dnsCheck("default", "contoso.test", "A", nil),
		dnsCheck("spf", "contoso.test", "TXT", &assertions.DNSExpect{SPFIncludes: []string{"spf.contoso.test"},
			SPFAllows: []string{"127.0.0.1", "192.0.2.7", "203.0.113.9"}}),
		dnsCheck("dmarc", "contoso.test", "TXT", &assertions.DNSExpect{DMARCPolicy: str("reject")}),
		dnsCheck("fcrdns", "127.0.0.1", "PTR", &assertions.DNSExpect{ForwardConfirmed: &yes, Contains: []string{"mx.contoso.test"}}),
		dnsCheck("servfail", "broken.test", "A", &assertions.DNSExpect{Count: cmp("0")}),
		dnsCheck("nxdomain expected", "nothing.contoso.test", "A", &assertions.DNSExpect{Rcode: str("NXDOMAIN")}),
	}
	s := &suite.Suite{Name: "dns", DNSChecks: checks}
	res := Run(context.Background(), []*suite.Suite{s}, Options{Resolver: srv.Addr, ResolvConf: noResolvConf}, nil)
	got := map[string]*result.Check{}
	for _, r := range res[0].Checks {
		got[r.Label] = r
		if r.Kind != "dns" || r.Conversation != nil || r.Resolver != srv.Addr || len(r.Lookups) == 0 {
			t.Errorf("%s: kind %q resolver %q lookups %d", r.Label, r.Kind, r.Resolver, len(r.Lookups))
		}
	}
	for label, want := range map[string]result.Status{"mx": result.Passed, "fcrdns": result.Passed, "nxdomain expected": result.Passed,
		"default": result.Failed, "spf": result.Failed, "dmarc": result.Failed, "servfail": result.Failed} {
		if got[label].Status != want {
			t.Errorf("%s: %s, want %s (%v)", label, got[label].Status, want, got[label].Failures)
		}
	}
	if f := got["spf"].Failures; len(f) != 1 ||
		f[0].Message != "spf_allows: the SPF record of contoso.test does not allow 203.0.113.9: softfail (matched ~all)" {
		t.Errorf("spf failures = %+v", f)
	}
	if d := got["spf"].Diagnosis; d == nil || d.Category != "policy" || !strings.Contains(d.Fix, "include:spf.protection.outlook.com") {
		t.Errorf("spf diagnosis = %+v", d)
	}
	if spf := got["spf"].DNS.SPF; len(spf) != 3 || spf[1].Mechanism != "include:spf.contoso.test → ip4:192.0.2.0/24" {
		t.Errorf("spf verdicts = %+v", spf)
	}
	if f := got["dmarc"].FirstFailure(); f != "dmarc_policy: expected p=reject, got p=quarantine; record: v=DMARC1; p=quarantine" {
		t.Errorf("dmarc: %q", f)
	}
	if f := got["servfail"].FirstFailure(); !strings.HasPrefix(f, "lookup: A broken.test.: SERVFAIL") || got["servfail"].Diagnosis.Category != "dns" {
		t.Errorf("servfail: %q", f)
	}
	if got["default"].FirstFailure() != "lookup: no A records for contoso.test (NOERROR)" {
		t.Errorf("default: %q", got["default"].FirstFailure())
	}
	if lines := got["mx"].TranscriptLines(); len(lines) != 2 || lines[0].Direction != result.Note ||
		!strings.Contains(lines[1].Text, "IN\tMX\t10 mx.contoso.test.") {
		t.Errorf("mx transcript = %+v", lines)
	}
}

func TestDNSTimeout(t *testing.T) {
	srv := testZone(t)
	srv.Silence("slow.test")
	c := dnsCheck("slow", "slow.test", "A", nil)
	c.Timeout = 200 * time.Millisecond
	res := Run(context.Background(), []*suite.Suite{{Name: "t", DNSChecks: []*suite.DNSCheck{c}}},
		Options{Resolver: srv.Addr, ResolvConf: noResolvConf}, nil)
	r := res[0].Checks[0]
	if r.Status != result.Failed || !strings.Contains(r.FirstFailure(), "no answer from "+srv.Addr+" within 200ms") {
		t.Fatalf("%s %q", r.Status, r.FirstFailure())
	}
}

func TestDNSBLAfterTheSMTPCheckItReads(t *testing.T) {
	srv := testZone(t)
	var smtpDone atomic.Bool
	converse := func(_ context.Context, p smtpclient.Plan) *result.Conversation {
		time.Sleep(50 * time.Millisecond)
		c := okConversation()
		if p.RcptTo[0] == "seen@contoso.com" {
			c.ClientIP = "127.0.0.2"
		}
		smtpDone.Store(true)
		return c
	}
	at := func(line int) hcl.Range { return hcl.Range{Start: hcl.Pos{Line: line, Byte: line * 100}} }
	yes := true
	smtpSeen := check("seen")
	smtpSeen.DeclRange = at(5)
	smtpBlind := check("blind")
	smtpBlind.DeclRange = at(6)
	listed := &suite.DNSBLCheck{Label: "listed", ClientIPOf: "seen", Zones: []string{"zen.spamhaus.org"},
		Expect: &assertions.DNSBLExpect{Listed: &yes}, DeclRange: at(1)}
	noIP := &suite.DNSBLCheck{Label: "no ip", ClientIPOf: "blind", Zones: []string{"zen.spamhaus.org"}, DeclRange: at(2)}
	clean := &suite.DNSBLCheck{Label: "clean", IP: "127.0.0.1", Zones: []string{"zen.spamhaus.org", "bl.spamcop.net"}, DeclRange: at(3)}
	pbl := &suite.DNSBLCheck{Label: "pbl", IP: "127.0.0.11", DeclRange: at(4)}
	s := &suite.Suite{Name: "bl", Checks: []*suite.SMTPCheck{smtpSeen, smtpBlind}, DNSBLChecks: []*suite.DNSBLCheck{listed, noIP, clean, pbl}}
	var order []string
	res := Run(context.Background(), []*suite.Suite{s}, Options{Converse: converse, Resolver: srv.Addr, ResolvConf: noResolvConf, Parallel: 2},
		func(ev result.Event) {
			if ev.Kind == result.CheckFinished {
				order = append(order, ev.Check.Label)
			}
		})
	if strings.Join(order, ",") != "listed,no ip,clean,pbl,seen,blind" {
		t.Errorf("emitted %v, want file order", order)
	}
	got := map[string]*result.Check{}
	for _, r := range res[0].Checks {
		got[r.Label] = r
	}
	if r := got["listed"]; r.Status != result.Passed || r.Target != "127.0.0.2" || len(r.Blocklists) != 1 || r.Blocklists[0].Reason != "SBL test entry" {
		t.Errorf("listed: %s %q %+v %v", r.Status, r.Target, r.Blocklists, r.Failures)
	}
	if r := got["no ip"]; r.Status != result.Failed || !strings.Contains(r.FirstFailure(), `ip: no IP to look up: the smtp check "blind" reported no client IP`) {
		t.Errorf("no ip: %s %q", r.Status, r.FirstFailure())
	}
	if r := got["clean"]; r.Status != result.Passed || len(r.Blocklists) != 2 || r.Kind != "dnsbl" {
		t.Errorf("clean: %s %+v", r.Status, r.Blocklists)
	}
	r := got["pbl"]
	if r.Status != result.Failed || len(r.Blocklists) != 3 || r.Diagnosis == nil || r.Diagnosis.Category != "reputation" ||
		!strings.Contains(r.Diagnosis.Meaning, "Spamhaus PBL (Spamhaus-maintained") || !strings.Contains(r.Diagnosis.Fix, "https://www.spamhaus.org/lookup/") {
		t.Errorf("pbl: %s %+v %+v", r.Status, r.Blocklists, r.Diagnosis)
	}
	if !strings.HasPrefix(r.FirstFailure(), "listed: expected 127.0.0.11 on no blocklist, but zen.spamhaus.org: listed in Spamhaus PBL") {
		t.Errorf("pbl failure: %q", r.FirstFailure())
	}
}

func TestDQSKeyIsMaskedEverywhere(t *testing.T) {
	srv := testZone(t)
	const key = "secretdqskey42"
	c := &suite.DNSBLCheck{Label: "dqs", IP: "127.0.0.2", Zones: []string{"zen.spamhaus.org"}, DQSKey: key}
	res := Run(context.Background(), []*suite.Suite{{Name: "d", DNSBLChecks: []*suite.DNSBLCheck{c}, Sensitive: []string{key}, Redactor: redact.New(key)}},
		Options{Resolver: srv.Addr, ResolvConf: noResolvConf}, nil)
	r := res[0].Checks[0]
	if r.Status != result.Failed || r.Blocklists[0].Status != result.Listed {
		t.Fatalf("%s %+v", r.Status, r.Blocklists)
	}
	var asked bool
	for _, q := range srv.Queries() {
		asked = asked || strings.Contains(q, key+".zen.dq.spamhaus.net")
	}
	out, _ := json.Marshal(res)
	var transcript strings.Builder
	for _, l := range r.TranscriptLines() {
		transcript.WriteString(l.Text)
	}
	if !asked || strings.Contains(string(out), key) || strings.Contains(transcript.String(), key) {
		t.Errorf("asked the DQS zone: %v; key in JSON: %v; in transcript: %v", asked,
			strings.Contains(string(out), key), strings.Contains(transcript.String(), key))
	}
}

func TestBlocklistProofOfARejection(t *testing.T) {
	srv := testZone(t)
	rejected := func(ip string) func(context.Context, smtpclient.Plan) *result.Conversation {
		return func(context.Context, smtpclient.Plan) *result.Conversation {
			c := okConversation()
			c.Steps[4] = step(result.StepRcpt, 550, "5.7.606", "Access denied, banned sending IP ["+ip+"]. To request removal ...")
			return c
		}
	}
	run := func(ip string, opts Options) *result.Check {
		opts.Converse = rejected(ip)
		return Run(context.Background(), []*suite.Suite{{Name: "p", Checks: []*suite.SMTPCheck{check("x")}}}, opts, nil)[0].Checks[0]
	}

	r := run("127.0.0.11", Options{Resolver: srv.Addr, ResolvConf: noResolvConf})
	if r.Status != result.Failed || len(r.Blocklists) != 3 {
		t.Fatalf("%s %+v", r.Status, r.Blocklists)
	}
	want := "Blocklist lookup of 127.0.0.11: zen.spamhaus.org: listed in Spamhaus PBL (Spamhaus-maintained: end-user range " +
		"that should not send directly) (127.0.0.11): https://check.spamhaus.org/query/ip/127.0.0.11; " +
		"b.barracudacentral.org: not listed; bl.spamcop.net: not listed."
	if !strings.HasSuffix(r.Diagnosis.Meaning, want) || r.Diagnosis.Category != "reputation" {
		t.Errorf("meaning = %q\nwant suffix %q", r.Diagnosis.Meaning, want)
	}
	if len(r.Lookups) != 4 {
		t.Errorf("lookups = %d, want A for 3 zones and TXT for the listing", len(r.Lookups))
	}

	// Through the system resolver, a loopback or documentation address is
	// not looked up: no public list can hold it.
	before := len(srv.Queries())
	conf := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(conf, []byte("nameserver 127.0.0.1\n"), 0o644)
	r = run("127.0.0.11", Options{ResolvConf: conf, DNSTimeout: 200 * time.Millisecond})
	if r.Blocklists != nil || len(srv.Queries()) != before {
		t.Errorf("a loopback IP was looked up through the system resolver: %+v", r.Blocklists)
	}

	// A 4.7.500-699 throttling reply names the IP too.
	throttled := func(context.Context, smtpclient.Plan) *result.Conversation {
		c := okConversation()
		c.Steps[4] = step(result.StepRcpt, 451, "4.7.650", "The mail server [127.0.0.2] has been temporarily rate limited due to IP reputation.")
		return c
	}
	r = Run(context.Background(), []*suite.Suite{{Name: "p", Checks: []*suite.SMTPCheck{check("x")}}},
		Options{Converse: throttled, Resolver: srv.Addr, ResolvConf: noResolvConf}, nil)[0].Checks[0]
	if len(r.Blocklists) != 3 || r.Blocklists[0].Status != result.Listed || !strings.Contains(r.Diagnosis.Meaning, "Spamhaus SBL") {
		t.Errorf("4.7.650: %+v %+v", r.Blocklists, r.Diagnosis)
	}

	// A rejection that is not about reputation triggers no lookup.
	notRep := func(context.Context, smtpclient.Plan) *result.Conversation {
		c := okConversation()
		c.Steps[4] = step(result.StepRcpt, 550, "5.1.10", "Recipient not found by SMTP address lookup [127.0.0.2]")
		return c
	}
	r = Run(context.Background(), []*suite.Suite{{Name: "p", Checks: []*suite.SMTPCheck{check("x")}}},
		Options{Converse: notRep, Resolver: srv.Addr, ResolvConf: noResolvConf}, nil)[0].Checks[0]
	if r.Status != result.Failed || r.Blocklists != nil {
		t.Errorf("5.1.10: %s %+v", r.Status, r.Blocklists)
	}
}

func TestPubliclyListable(t *testing.T) {
	for ip, want := range map[string]bool{
		"127.0.0.1": false, "10.1.2.3": false, "192.168.1.1": false, "192.0.2.5": false, "203.0.113.5": false,
		"100.64.0.1": false, "::1": false, "2001:db8::1": false, "fe80::1": false, "::ffff:10.0.0.1": false,
		"1.2.3.4": true, "40.92.0.1": true, "2a01:111::1": true,
	} {
		if got := publiclyListable(mustAddr(t, ip)); got != want {
			t.Errorf("publiclyListable(%s) = %v", ip, got)
		}
	}
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
