package main

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/dns/dnstest"
	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/report/jsonreport"
	"github.com/smtpdiag/smtpdiag/internal/report/summary"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/smtpclient"
	"github.com/smtpdiag/smtpdiag/internal/suite"
	"github.com/smtpdiag/smtpdiag/runner"
)

// fleetT0 is the fake clock's time: the runner's clock stands still, and
// the fake conversations carry times of their own.
var fleetT0 = time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)

// fleetSources are the suites of the merge tests: smtp checks that pass,
// fail with a diagnosed rejection (and its blocklist proof) or are
// retried, dns checks, dnsbl checks that read an smtp check's client IP
// and one that does not, and a suite without checks.
func fleetSources() []suite.Source {
	var out []suite.Source
	add := func(path, src string) { out = append(out, suite.Source{Filename: path, Src: []byte(src)}) }
	for _, tenant := range []string{"contoso", "fabrikam", "northwind"} {
		var b strings.Builder
		fmt.Fprintf(&b, `suite {
  name        = "%s: scan-to-email"
  description = "Fleet suite of %s"
}
endpoint "submission" {
  host = "smtp.%s.test"
  port = 587
}
dns "mx of %s" {
  name = "%s.test"
  type = "MX"
  expect { contains = ["mx.%s.test"] }
}
`, tenant, tenant, tenant, tenant, tenant, tenant)
		for i := range 9 {
			rcpt := fmt.Sprintf("ok%d", i)
			expect := ""
			switch i % 4 {
			case 1:
				rcpt = fmt.Sprintf("banned%d", i)
				expect = "\n  expect { rcpt = 250 }"
			case 3:
				rcpt = fmt.Sprintf("busy%d", i)
				expect = "\n  retry {\n    attempts = 2\n    delay = \"1s\"\n  }"
			}
			fmt.Fprintf(&b, `smtp "device %d" {
  endpoint  = endpoint.submission
  mail_from = "scanner@%s.test"
  rcpt_to   = ["%s@%s.test"]%s
}
`, i, tenant, rcpt, tenant, expect)
			if i%3 == 0 {
				fmt.Fprintf(&b, `dnsbl "egress of device %d" {
  ip    = smtp["device %d"].client_ip
  zones = ["bl.test"]
  expect { listed = false }
}
`, i, i)
			}
		}
		b.WriteString(`dnsbl "lab relay" {
  ip    = "192.0.2.7"
  zones = ["bl.test"]
}
`)
		add("suites/"+tenant+".hcl", b.String())
	}
	add("suites/empty.hcl", `suite { name = "no checks yet" }`)
	// The ways off Basic auth, one check per path but the ACS relay's:
	// OAuth disabled, HVE throttled, the connector refused.
	add("suites/migration.hcl", `suite { name = "contoso: every way off Basic auth" }
variable "client_id" {
  default = ""
}
endpoint "submission" {
  host = "smtp.contoso.test"
  port = 587
}
endpoint "mx" {
  host = "mx.contoso.test"
}
smtp "Basic auth" {
  path      = "basic_auth"
  enabled   = true
  endpoint  = endpoint.submission
  auth {
    username = "scanner@contoso.test"
    password = "Pa55-word"
  }
  mail_from = "scanner@contoso.test"
  rcpt_to   = ["okbasic@contoso.test"]
}
smtp "OAuth" {
  path     = "oauth"
  enabled  = var.client_id != ""
  endpoint = endpoint.submission
}
smtp "HVE" {
  path      = "hve"
  endpoint  = endpoint.submission
  mail_from = "scanner-hve@contoso.test"
  rcpt_to   = ["busyhve@contoso.test"]
}
smtp "Direct Send" {
  path      = "direct_send"
  endpoint  = endpoint.mx
  mail_from = "scanner@contoso.test"
  rcpt_to   = ["okdirect@contoso.test"]
}
smtp "Connector" {
  path      = "connector"
  endpoint  = endpoint.mx
  mail_from = "scanner@contoso.test"
  rcpt_to   = ["bannedconnector@fabrikam.test"]
  expect { rcpt = 250 }
}
`)
	return out
}

// fleetZone answers the dns and dnsbl checks and the blocklist proof of
// the rejections.
func fleetZone(t *testing.T) *dnstest.Server {
	t.Helper()
	srv, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	srv.MustAdd(
		"contoso.test. 300 IN MX 10 mx.contoso.test.",
		"fabrikam.test. 300 IN MX 10 mx.fabrikam.test.",
		"northwind.test. 300 IN MX 10 mx.elsewhere.test.",
		"3.0.0.127.bl.test. 300 IN A 127.0.0.2",
		`3.0.0.127.bl.test. 300 IN TXT "listed for testing"`,
	)
	return srv
}

// fleetConverse answers each plan from its recipient alone, so that a
// check's result does not depend on which other checks run with it.
func fleetConverse(_ context.Context, p smtpclient.Plan) *result.Conversation {
	rcpt := p.RcptTo[0]
	h := fnv.New32a()
	h.Write([]byte(rcpt))
	n := h.Sum32()
	ms := time.Millisecond
	clientIP := fmt.Sprintf("127.0.0.%d", 1+n%3)
	reply := func(code int, enhanced string, lines ...string) *esmtp.Reply {
		return &esmtp.Reply{Code: code, Enhanced: enhanced, Lines: lines}
	}
	rcptReply := reply(250, "2.1.5", "Recipient OK")
	switch {
	case strings.HasPrefix(rcpt, "banned"):
		rcptReply = reply(550, "5.7.606", "Access denied, banned sending IP ["+clientIP+"]")
	case strings.HasPrefix(rcpt, "busy"):
		rcptReply = reply(451, "4.7.500", "Server busy, please try again later")
	}
	afterTLS := esmtp.ParseEHLO([]string{"SIZE 157286400", "AUTH LOGIN XOAUTH2"})
	if n%2 == 0 {
		afterTLS = esmtp.ParseEHLO([]string{}) // an EHLO that offered nothing
	}
	start := fleetT0.Add(time.Duration(n%5000) * ms)
	return &result.Conversation{
		Host: p.Host, Port: p.Port, TLSMode: string(p.TLS),
		RemoteAddr: "192.0.2.25:587", LocalAddr: fmt.Sprintf("10.0.0.%d:%d", n%7, 40000+n%1000),
		Started: start, Duration: time.Duration(100+n%400) * ms,
		Steps: []result.StepRecord{
			{Step: result.StepConnect, Duration: 3 * ms},
			{Step: result.StepBanner, Reply: reply(220, "", "mx.test Microsoft ESMTP MAIL Service ready"), Start: 3 * ms, Duration: 5 * ms},
			{Step: result.StepEHLO, Command: "EHLO " + p.Helo, Reply: reply(250, "", "mx.test Hello ["+clientIP+"]", "STARTTLS"), Start: 8 * ms, Duration: 4 * ms},
			{Step: result.StepStartTLS, Command: "STARTTLS", Reply: reply(220, "2.0.0", "SMTP server ready"), Start: 12 * ms, Duration: 2 * ms},
			{Step: result.StepTLS, AfterTLS: true, Start: 14 * ms, Duration: 20 * ms},
			{Step: result.StepEHLO, Command: "EHLO " + p.Helo, AfterTLS: true, Reply: reply(250, "", "mx.test Hello ["+clientIP+"]"), Start: 34 * ms, Duration: 4 * ms},
			{Step: result.StepMail, Command: "MAIL FROM:<" + *p.MailFrom + ">", AfterTLS: true, Reply: reply(250, "2.1.0", "Sender OK"), Start: 38 * ms, Duration: 3 * ms},
			{Step: result.StepRcpt, Command: "RCPT TO:<" + rcpt + ">", AfterTLS: true, Reply: rcptReply, Start: 41 * ms, Duration: 3 * ms},
			{Step: result.StepQuit, Command: "QUIT", AfterTLS: true, Reply: reply(221, "2.0.0", "Bye"), Start: 44 * ms, Duration: 2 * ms},
		},
		EHLOBeforeTLS: esmtp.ParseEHLO([]string{"STARTTLS"}),
		EHLOAfterTLS:  afterTLS,
		TLS: &result.TLSInfo{Version: "1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ServerName: p.Host, Verified: n%3 != 0,
			VerifyError: map[bool]string{true: "x509: certificate signed by unknown authority"}[n%3 == 0],
			Chain: []result.Certificate{{Subject: "CN=" + p.Host, Issuer: "CN=Test CA", DNSNames: []string{p.Host}, SerialNumber: "0a",
				NotBefore: fleetT0.AddDate(0, -1, 0), NotAfter: fleetT0.AddDate(0, 0, int(n%90)), SHA256: "00ff"}}},
		ClientIP: clientIP,
		Transcript: []result.TranscriptLine{
			{Offset: 0, Direction: result.Note, Text: "connecting to " + p.Host},
			{Offset: 3 * ms, Direction: result.Server, Text: "220 mx.test Microsoft ESMTP MAIL Service ready"},
			{Offset: 41 * ms, Direction: result.Client, Text: "RCPT TO:<" + rcpt + ">"},
			{Offset: 44 * ms, Direction: result.Server, Text: rcptReply.String()},
		},
	}
}

// fleetRun runs the suites, or one shard of them, with the fake clock
// and conversations.
func fleetRun(suites []*suite.Suite, zone string, shard runner.Shard) []*result.Suite {
	return runner.Run(context.Background(), suites, runner.Options{
		Now:        func() time.Time { return fleetT0 },
		Converse:   fleetConverse,
		Sleep:      func(context.Context, time.Duration) error { return nil },
		Resolver:   zone,
		ResolvConf: "/nonexistent/smtpdiag-test/resolv.conf",
		Helo:       "scanner.test",
		Shard:      shard,
	}, nil)
}

func loadFleet(t *testing.T) []*suite.Suite {
	t.Helper()
	suites, diags := suite.NewLoader(suite.Options{Environ: []string{}}).LoadSources(fleetSources())
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return suites
}

// fixReportClock makes the evidence report's date a constant.
func fixReportClock(t *testing.T) {
	old := reportClock
	reportClock = func() time.Time { return fleetT0.Add(time.Hour) }
	t.Cleanup(func() { reportClock = old })
}

func quietEnv(stdout, stderr *bytes.Buffer, vars map[string]string) env {
	return env{stdout: stdout, stderr: stderr, environ: []string{}, getenv: func(k string) string { return vars[k] }}
}

// TestMergeEqualsUnshardedRun is the promise of merge: for N = 1, 2, 3
// and 7, the JUnit, JSON and evidence reports (HTML and Markdown) merged
// from the N shards' JSON are byte for byte those of one unsharded run of
// the same suites, and merge prints the summary's failure details and
// closing line as run does, and exits 1 as run does.
func TestMergeEqualsUnshardedRun(t *testing.T) {
	fixReportClock(t)
	zone := fleetZone(t)
	suites := loadFleet(t)
	dir := t.TempDir()
	red := runner.Redactor(suites...)

	full := fleetRun(suites, zone.Addr, runner.Shard{})
	c := result.Tally(full)
	if c.Passed == 0 || c.Failed == 0 || c.Skipped == 0 || c.Total() != 3*(1+9+3+1)+5 {
		t.Fatalf("the unsharded run's counts %+v do not exercise merging", c)
	}
	if len(full) != 5 || len(full[3].Checks) != 0 {
		t.Fatalf("the suite without checks is missing from the unsharded run")
	}
	// The migration suite's decision rests on all five of its checks: yes,
	// maybe (disabled, no check, and Basic auth that passes but is off by
	// default after the switch-off), no.
	migration := full[4].Paths
	if migration == nil || migration.Subject != "scanner@contoso.test" ||
		migration.Summary != "this run (this tenant, this machine): HVE and a connector are out; maybe Basic auth, OAuth or the ACS relay; Direct Send remains" {
		t.Fatalf("the unsharded run's decision on the ways to send: %+v", migration)
	}
	partial := false
	want := map[string][]byte{}
	for _, ext := range []string{"html", "md"} {
		f := runFlags{junit: filepath.Join(dir, "full.xml"), json: filepath.Join(dir, "full.json"), report: filepath.Join(dir, "full."+ext)}
		if err := f.check(); err != nil {
			t.Fatal(err)
		}
		if err := writeReportFiles(full, f, red); err != nil {
			t.Fatal(err)
		}
		want[ext] = readFile(t, f.report)
	}
	want["xml"], want["json"] = readFile(t, filepath.Join(dir, "full.xml")), readFile(t, filepath.Join(dir, "full.json"))
	var sum bytes.Buffer
	summary.New(&sum, summary.Options{Redactor: red}).Finish(full)

	for _, n := range []int{1, 2, 3, 7} {
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) {
			var shards []string
			left := 0
			for k := 1; k <= n; k++ {
				sh := runner.Shard{Index: k, Count: n}
				part := fleetRun(suites, zone.Addr, sh)
				left += len(suites) - len(part)
				checkShardPart(t, part, sh)
				for _, s := range part {
					if s.Path == "suites/migration.hcl" && (s.Paths == nil || s.Paths.Summary != migration.Summary) {
						partial = true // what merge has to decide again
					}
				}
				f := runFlags{json: filepath.Join(dir, fmt.Sprintf("shard-%d-of-%d.json", k, n))}
				f.fleet.shard = sh
				f.fleet.describe(suites)
				if err := writeReportFiles(part, f, red); err != nil {
					t.Fatal(err)
				}
				shards = append(shards, f.json)
			}
			if n == 7 && left == 0 {
				t.Errorf("no shard of 7 left a suite out: the test does not cover it")
			}
			for _, ext := range []string{"html", "md"} {
				out := filepath.Join(dir, fmt.Sprintf("merged-%d", n))
				var stdout, stderr bytes.Buffer
				args := append([]string{"merge", "--junit", out + ".xml", "--json", out + ".json", "--report", out + "." + ext}, shards...)
				if code := run(args, quietEnv(&stdout, &stderr, nil)); code != exitFailed {
					t.Fatalf("merge exited %d, want 1 like the run: %s", code, stderr.String())
				}
				for _, got := range []struct{ kind, path string }{{"xml", out + ".xml"}, {"json", out + ".json"}, {ext, out + "." + ext}} {
					if b := readFile(t, got.path); !bytes.Equal(b, want[got.kind]) {
						t.Errorf("merged %s differs from the unsharded run's:\n%s", got.kind, whereDiffer(b, want[got.kind]))
					}
				}
				if stdout.String() != sum.String() {
					t.Errorf("merge printed\n%s\nwant the run's summary\n%s", stdout.String(), sum.String())
				}
			}
		})
	}
	if !partial {
		t.Error("no shard decided on only part of the migration suite's paths: the test does not cover merging them")
	}
	if !strings.Contains(sum.String(), "Ways scanner@contoso.test can send after the Basic auth switch-off") {
		t.Errorf("the run's summary has no matrix of the ways to send:\n%s", sum.String())
	}
}

// checkShardPart checks one shard's results: each check is its shard's,
// keeps its index and line, and a dnsbl check that reads a client IP
// runs next to the smtp check it reads.
func checkShardPart(t *testing.T, part []*result.Suite, sh runner.Shard) {
	t.Helper()
	for _, s := range part {
		if len(s.Checks) == 0 && sh.Index != 1 {
			t.Errorf("shard %s reports %s without any of its checks", sh, s.Path)
		}
		labels := map[string]bool{}
		for _, c := range s.Checks {
			labels[c.Label] = true
			if c.Line == 0 {
				t.Errorf("%s: check %q has no line", s.Path, c.Label)
			}
		}
		for _, c := range s.Checks {
			if dev, ok := strings.CutPrefix(c.Label, "egress of "); ok {
				if !labels[dev] || c.Target == "" || c.Status != result.Passed && !strings.Contains(c.FirstFailure(), "listed") {
					t.Errorf("shard %s, %s: %q ran without %q (%s: %s)", sh, s.Path, c.Label, dev, c.Status, c.FirstFailure())
				}
			} else if c.Kind == "smtp" && runner.ShardOf(s.Path, c.Label, sh.Count) != sh.Index {
				t.Errorf("shard %s ran %q of %s, which is shard %d's", sh, c.Label, s.Path, runner.ShardOf(s.Path, c.Label, sh.Count))
			}
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// whereDiffer shows where two documents part.
func whereDiffer(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-200)
	return fmt.Sprintf("at byte %d:\n--- got\n%s\n--- want\n%s", i, got[from:min(len(got), i+200)], want[from:min(len(want), i+200)])
}

// TestMergeRefusesShardsThatDoNotBelongTogether: a missing or repeated
// shard, shards of different N or of different suites, a duplicated
// check, and files that are not shard reports are usage errors (exit 2)
// that say what is wrong, and no output is written.
func TestMergeRefusesShardsThatDoNotBelongTogether(t *testing.T) {
	fixReportClock(t)
	zone := fleetZone(t)
	suites := loadFleet(t)
	dir := t.TempDir()
	write := func(name string, results []*result.Suite, info *result.Shard) string {
		path := filepath.Join(dir, name)
		file, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		if err := jsonreport.Write(file, results, jsonreport.Options{Version: "test", Shard: info}); err != nil {
			t.Fatal(err)
		}
		return path
	}
	shard := func(k, n int, suites []*suite.Suite) string {
		sh := runner.Shard{Index: k, Count: n}
		return write(fmt.Sprintf("s%d-%d-%d.json", k, n, len(suites)), fleetRun(suites, zone.Addr, sh), sh.Describe(suites, "runner"))
	}
	s12, s22, s13 := shard(1, 2, suites), shard(2, 2, suites), shard(1, 3, suites)
	fewer := shard(2, 2, suites[:2])
	plain := write("plain.json", fleetRun(suites, zone.Addr, runner.Shard{}), nil)

	// A shard whose checks were all also in shard 1.
	dupResults := fleetRun(suites, zone.Addr, runner.Shard{Index: 2, Count: 2})
	first := fleetRun(suites, zone.Addr, runner.Shard{Index: 1, Count: 2})
	dupResults[0].Checks = append(dupResults[0].Checks, first[0].Checks[0])
	dup := write("dup.json", dupResults, runner.Shard{Index: 2, Count: 2}.Describe(suites, "runner"))

	notJSON := filepath.Join(dir, "notes.txt")
	os.WriteFile(notJSON, []byte("hello"), 0o644)
	other := filepath.Join(dir, "other.json")
	os.WriteFile(other, []byte(`{"tool": "something else", "suites": []}`), 0o644)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{s12}, "shard results missing: 2/2 (merge needs all 2)"},
		{[]string{s12, s12, s22}, "shard 1/2 is given twice: "},
		{[]string{s12, s13}, "is shard 1/3 but "},
		{[]string{s12, fewer}, "ran different suites: suites/northwind.hcl is not in "},
		{[]string{s12, dup}, "is in " + s12 + " and in " + dup},
		{[]string{s12, plain}, "holds the results of a run without --shard, which cannot be merged with others"},
		{[]string{s12, notJSON}, notJSON + ": not a JSON report of smtpdiag"},
		{[]string{other}, other + `: not a JSON report of smtpdiag (tool "something else")`},
		{[]string{filepath.Join(dir, "missing.json")}, "cannot read " + filepath.Join(dir, "missing.json") + ": no such file or directory"},
		{nil, "merge needs the JSON files of the shards"},
	} {
		var stdout, stderr bytes.Buffer
		out := filepath.Join(dir, "out.xml")
		args := append([]string{"merge", "--junit", out}, tc.args...)
		if code := run(args, quietEnv(&stdout, &stderr, nil)); code != exitUsage {
			t.Errorf("merge %v exited %d, want 2: %s", tc.args, code, stderr.String())
		}
		if !strings.Contains(stderr.String(), tc.want) || strings.Contains(stderr.String(), "goroutine") {
			t.Errorf("merge %v said %q, want %q", tc.args, stderr.String(), tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("merge %v wrote %s", tc.args, out)
		}
	}

	// The results of an unsharded run merge on their own, as they are.
	var stdout, stderr bytes.Buffer
	if code := run([]string{"merge", "--format", "json", plain}, quietEnv(&stdout, &stderr, nil)); code != exitFailed {
		t.Fatalf("merge of an unsharded run exited %d: %s", code, stderr.String())
	}
	if b := readFile(t, plain); !bytes.Equal(bytes.Replace(stdout.Bytes(), []byte(`"version": "`+version()+`"`), []byte(`"version": "test"`), 1), b) {
		t.Errorf("merge --format json of an unsharded run changed it:\n%s", whereDiffer(stdout.Bytes(), b))
	}
}

// TestMergeOnGitHubActions: under GITHUB_ACTIONS=true merge annotates
// each failed check at its line and appends the job summary to
// $GITHUB_STEP_SUMMARY, after what earlier steps wrote.
func TestMergeOnGitHubActions(t *testing.T) {
	fixReportClock(t)
	zone := fleetZone(t)
	suites := loadFleet(t)
	dir := t.TempDir()
	var shards []string
	for k := 1; k <= 2; k++ {
		sh := runner.Shard{Index: k, Count: 2}
		f := runFlags{json: filepath.Join(dir, fmt.Sprintf("s%d.json", k))}
		f.fleet.shard = sh
		f.fleet.describe(suites)
		if err := writeReportFiles(fleetRun(suites, zone.Addr, sh), f, nil); err != nil {
			t.Fatal(err)
		}
		shards = append(shards, f.json)
	}
	stepSummary := filepath.Join(dir, "step-summary.md")
	os.WriteFile(stepSummary, []byte("earlier step\n"), 0o644)
	vars := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": stepSummary}
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"merge"}, shards...), quietEnv(&stdout, &stderr, vars)); code != exitFailed {
		t.Fatalf("merge exited %d: %s", code, stderr.String())
	}
	var annotations []string
	for _, l := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(l, "::") {
			annotations = append(annotations, l)
		}
	}
	// device 1 of each tenant is rejected (its block starts on line 24).
	if len(annotations) == 0 || !strings.HasPrefix(annotations[0], "::error file=suites/contoso.hcl,line=24,title=contoso%3A scan-to-email › device 1::rcpt: expected \"250\", got 550 5.7.606 Access denied, banned sending IP [127.0.0.") {
		t.Errorf("annotations:\n%s", strings.Join(annotations, "\n"))
	}
	got := string(readFile(t, stepSummary))
	if !strings.HasPrefix(got, "earlier step\n### ❌ smtpdiag: ") || !strings.Contains(got, "| ✗ | device 1 | contoso: scan-to-email | suites/contoso.hcl:24 |") {
		t.Errorf("step summary:\n%s", got)
	}
	if n := strings.Count(got, "| ✗ |"); n != len(annotations) {
		t.Errorf("%d rows in the step summary, %d annotations", n, len(annotations))
	}
	// The ways to send, decided again over both shards' checks.
	if !strings.Contains(got, "\n#### Ways scanner@contoso.test can send after the Basic auth switch-off\n\nthis run (this tenant, this machine): HVE and a connector are out; maybe Basic auth, OAuth or the ACS relay; Direct Send remains\n") ||
		strings.Contains(got, "another shard") {
		t.Errorf("step summary without the merged decision:\n%s", got)
	}

	// Without GITHUB_ACTIONS=true, neither.
	stdout.Reset()
	os.WriteFile(stepSummary, nil, 0o644)
	run(append([]string{"merge"}, shards...), quietEnv(&stdout, &stderr, map[string]string{"GITHUB_STEP_SUMMARY": stepSummary}))
	if strings.Contains(stdout.String(), "::error") || len(readFile(t, stepSummary)) != 0 {
		t.Errorf("annotations or a step summary outside GitHub Actions:\n%s", stdout.String())
	}
}
