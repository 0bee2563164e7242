package metrics_test

import (
	"bytes"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/smtpdiag/smtpdiag/internal/report/metrics"
	"github.com/smtpdiag/smtpdiag/internal/report/reporttest"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixture is the run the tests render: the two suites of reporttest.Results
// (every verdict, a TLS 1.3 session with a certificate, a hostile banner)
// and the DNS suite (a dnsbl check with a listed, a clean and an
// inconclusive zone, and an smtp check with the blocklist proof).
func fixture() []*result.Suite {
	return append(reporttest.Results(), reporttest.DNSResults()...)
}

var opts = metrics.Options{Redactor: reporttest.DNSRedactor(), Version: "1.2.3", Now: reporttest.Start.Add(time.Hour)}

func render(t *testing.T, results []*result.Suite, o metrics.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := metrics.Write(&buf, results, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// parse reads the output back with the Prometheus text parser, with the
// legacy (pre-UTF-8) name rules that every node_exporter and Pushgateway
// reads.
func parse(t *testing.T, out []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("the text parser rejects the output: %v\n%s", err, out)
	}
	return families
}

// series finds the sample of a family whose labels are exactly want.
func series(t *testing.T, families map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	t.Helper()
	mf, ok := families[name]
	if !ok {
		return 0, false
	}
	if mf.GetType() != dto.MetricType_GAUGE {
		t.Errorf("%s is a %s, want a gauge", name, mf.GetType())
	}
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if len(got) != len(want) {
			continue
		}
		match := true
		for k, v := range want {
			if got[k] != v {
				match = false
			}
		}
		if match {
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func check(suite, label, endpoint string) map[string]string {
	return map[string]string{"suite": suite, "check": label, "endpoint": endpoint}
}

func with(l map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range l {
		out[a] = b
	}
	return out
}

func TestValues(t *testing.T) {
	families := parse(t, render(t, fixture(), opts))

	pass := check("contoso: scan-to-email", "device can submit through smtp.office365.com", "submission")
	fail := check("contoso: scan-to-email", "relay from scanner", "mx")
	errored := check("fabrikam: lab relay", "lab CA is trusted", "lab")
	skipped := check("fabrikam: lab relay", "port 25 is blocked by the ISP", "direct")
	dnsbl := check("contoso: DNS and blocklists", "egress IP is on no blocklist", "")
	proof := check("contoso: DNS and blocklists", "direct send from the copier", "tenant")
	mx := check("contoso: DNS and blocklists", "MX points at Exchange Online", "")

	// The certificate of the passing check expires 2027-06-30 23:59:59
	// UTC; the conversation started at reporttest.Start, 2026-12-05 06:00.
	notAfter := time.Date(2027, 6, 30, 23, 59, 59, 0, time.UTC)
	days := notAfter.Sub(reporttest.Start).Hours() / 24

	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{metrics.CheckSuccess, pass, 1},
		{metrics.CheckSuccess, fail, 0},
		{metrics.CheckSuccess, errored, 0},
		{metrics.CheckSuccess, mx, 1},
		{metrics.CheckStatus, with(pass, "status", "passed"), 1},
		{metrics.CheckStatus, with(pass, "status", "failed"), 0},
		{metrics.CheckStatus, with(errored, "status", "error"), 1},
		{metrics.CheckStatus, with(skipped, "status", "skipped"), 1},
		{metrics.CheckStatus, with(skipped, "status", "passed"), 0},
		{metrics.CheckDuration, pass, 1.234},
		{metrics.CheckDuration, fail, 1.2},
		{metrics.CheckDuration, skipped, 0},
		{metrics.TLSVersion, pass, 1.3},
		{metrics.CertExpiryDays, pass, days},
		{metrics.CertExpiryTimestamp, pass, float64(notAfter.Unix())},
		{metrics.BlocklistListed, dnsbl, 1},
		{metrics.BlocklistListed, proof, 1},
		{metrics.BlocklistZones, with(dnsbl, "status", "listed"), 1},
		{metrics.BlocklistZones, with(dnsbl, "status", "not listed"), 1},
		{metrics.BlocklistZones, with(dnsbl, "status", "inconclusive"), 1},
		{metrics.BlocklistZones, with(proof, "status", "not listed"), 2},
		{metrics.RunChecks, map[string]string{"status": "passed"}, 3},
		{metrics.RunChecks, map[string]string{"status": "failed"}, 7},
		{metrics.RunChecks, map[string]string{"status": "error"}, 1},
		{metrics.RunChecks, map[string]string{"status": "skipped"}, 1},
		{metrics.RunTimestamp, nil, float64(reporttest.Start.Unix())},
		// From 06:00:00 to the end of the DNS suite (06:01:00 + 3.45 s).
		{metrics.RunDuration, nil, 63.45},
		{metrics.RunInterrupted, nil, 0},
		{metrics.BuildInfo, map[string]string{"version": "1.2.3"}, 1},
	} {
		got, ok := series(t, families, c.name, c.labels)
		if !ok {
			t.Errorf("%s%v: no such series", c.name, c.labels)
			continue
		}
		if math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}

	// What is not known is not made up: no success for a skipped check,
	// no TLS for checks without it, no listing where no zone was asked.
	for _, c := range []struct {
		name   string
		labels map[string]string
	}{
		{metrics.CheckSuccess, skipped},
		{metrics.TLSVersion, fail},
		{metrics.TLSVersion, dnsbl},
		{metrics.CertExpiryDays, fail},
		{metrics.BlocklistListed, pass},
		{metrics.BlocklistListed, mx},
	} {
		if v, ok := series(t, families, c.name, c.labels); ok {
			t.Errorf("%s%v = %v, want no such series", c.name, c.labels, v)
		}
	}

	// Every series of every family is in the documented set.
	for name := range families {
		if !slices.Contains(metrics.Names(), name) {
			t.Errorf("undocumented metric %s", name)
		}
	}
}

// TestLabels: only suite, check and endpoint (and status or version where
// the metric needs it) are labels, and no label value carries a reply text,
// an address or a secret.
func TestLabels(t *testing.T) {
	out := render(t, fixture(), opts)
	families := parse(t, out)
	allowed := map[string]bool{"suite": true, "check": true, "endpoint": true, "status": true, "version": true}
	series := 0
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			series++
			for _, l := range m.GetLabel() {
				if !allowed[l.GetName()] {
					t.Errorf("%s has a label %s", name, l.GetName())
				}
				for _, bad := range []string{"550", "203.0.113.5", "192.0.2.1", "Access denied", "<script>"} {
					if strings.Contains(l.GetValue(), bad) {
						t.Errorf("%s{%s=%q}: a label value holds %q", name, l.GetName(), l.GetValue(), bad)
					}
				}
			}
		}
	}
	for _, form := range append(reporttest.SecretForms(), reporttest.DQSKey) {
		if bytes.Contains(out, []byte(form)) {
			t.Errorf("the output holds the secret %q", form)
		}
	}
	// 12 checks: success (11, not the skipped one), status (48), duration
	// (12), TLS version, expiry days and timestamp (1 each), listed (2),
	// zones (6); per run: checks by status (4), timestamp, duration,
	// interrupted, build info.
	if want := 11 + 48 + 12 + 3 + 2 + 6 + 4 + 4; series != want {
		t.Errorf("%d series, want %d:\n%s", series, want, out)
	}
}

// TestHostileLabels: label values that are not valid UTF-8, hold control
// characters, quotes, backslashes or newlines, or are very long still make
// a file the parser reads back to the same (escaped) values; a secret in a
// suite name is masked; two suites with the same name do not collide.
func TestHostileLabels(t *testing.T) {
	long := strings.Repeat("é", 500)
	results := []*result.Suite{
		{Name: "dup", Path: "a/dup.hcl", Checks: []*result.Check{{Label: "c", Endpoint: "e", Status: result.Passed}}},
		{Name: "dup", Path: "b/dup.hcl", Checks: []*result.Check{{Label: "c", Endpoint: "e", Status: result.Failed}}},
		{Name: "tenant " + reporttest.Secret, Path: "s.hcl", Checks: []*result.Check{
			{Label: "quote \" backslash \\ newline \n bell \a", Endpoint: "bad \xff\xfe utf8", Status: result.Passed},
			{Label: long, Status: result.Passed},
		}},
	}
	out := render(t, results, metrics.Options{Redactor: reporttest.Redactor(), Now: reporttest.Start})
	families := parse(t, out)
	if bytes.Contains(out, []byte(reporttest.Secret)) {
		t.Errorf("the secret is in the output:\n%s", out)
	}
	for _, c := range []struct {
		labels map[string]string
		want   float64
	}{
		{check("dup (a/dup.hcl)", "c", "e"), 1},
		{check("dup (b/dup.hcl)", "c", "e"), 0},
		{check("tenant ****", "quote \" backslash \\ newline \\x0a bell \\x07", "bad \uFFFD utf8"), 1},
		{check("tenant ****", strings.Repeat("é", 200)+"…", ""), 1},
	} {
		got, ok := series(t, families, metrics.CheckSuccess, c.labels)
		if !ok || got != c.want {
			t.Errorf("%v: got %v (found %v), want %v\n%s", c.labels, got, ok, c.want, out)
		}
	}
	// No build info without a version; the run's time is Now without
	// suite starts.
	if _, ok := families[metrics.BuildInfo]; ok {
		t.Errorf("build info without a version")
	}
	if v, _ := series(t, families, metrics.RunTimestamp, nil); v != float64(reporttest.Start.Unix()) {
		t.Errorf("run timestamp %v, want %v", v, reporttest.Start.Unix())
	}
}

// TestEdges: an empty run still says when it ran and that it had no
// checks; an interrupted run says so; an expired certificate has negative
// days; a check whose every zone was inconclusive has no listing verdict.
func TestEdges(t *testing.T) {
	at := reporttest.Start
	empty := parse(t, render(t, nil, metrics.Options{Now: at}))
	for _, st := range []string{"passed", "failed", "error", "skipped"} {
		if v, ok := series(t, empty, metrics.RunChecks, map[string]string{"status": st}); !ok || v != 0 {
			t.Errorf("empty run: %s %s = %v, %v", metrics.RunChecks, st, v, ok)
		}
	}
	if v, _ := series(t, empty, metrics.RunTimestamp, nil); v != float64(at.Unix()) {
		t.Errorf("empty run: timestamp %v", v)
	}

	interrupted := reporttest.Interrupted()
	fam := parse(t, render(t, interrupted, metrics.Options{Now: at}))
	if v, _ := series(t, fam, metrics.RunInterrupted, nil); v != 1 {
		t.Errorf("interrupted run: %s = %v, want 1", metrics.RunInterrupted, v)
	}

	expired := &result.Check{Label: "expired", Endpoint: "e", Status: result.Failed, Started: at,
		Conversation: &result.Conversation{Started: at, TLS: &result.TLSInfo{Version: "1.2",
			Chain: []result.Certificate{{NotAfter: at.Add(-36 * time.Hour)}}}}}
	unsure := &result.Check{Label: "unsure", Kind: "dnsbl", Status: result.Failed, Started: at,
		Blocklists: []result.Listing{{Zone: "zen.spamhaus.org", Status: result.Inconclusive}}}
	fam = parse(t, render(t, []*result.Suite{{Name: "s", Started: at, Checks: []*result.Check{expired, unsure}}}, metrics.Options{Now: at}))
	if v, _ := series(t, fam, metrics.CertExpiryDays, check("s", "expired", "e")); v != -1.5 {
		t.Errorf("expired certificate: %v days, want -1.5", v)
	}
	if v, _ := series(t, fam, metrics.TLSVersion, check("s", "expired", "e")); v != 1.2 {
		t.Errorf("TLS version %v, want 1.2", v)
	}
	if v, ok := series(t, fam, metrics.BlocklistListed, check("s", "unsure", "")); ok {
		t.Errorf("inconclusive zones gave a listing verdict %v", v)
	}
	if v, _ := series(t, fam, metrics.BlocklistZones, with(check("s", "unsure", ""), "status", "inconclusive")); v != 1 {
		t.Errorf("inconclusive zones: %v, want 1", v)
	}
}

// TestRegistry: the registry's own checks (client_golang's pedantic
// registry: names, help, label values, no series twice) pass, and testutil
// counts what the package says it writes.
func TestRegistry(t *testing.T) {
	reg, err := metrics.Registry(fixture(), opts)
	if err != nil {
		t.Fatal(err)
	}
	n, err := testutil.GatherAndCount(reg, metrics.CheckSuccess, metrics.TLSVersion)
	if err != nil {
		t.Fatal(err)
	}
	if n != 11+1 {
		t.Errorf("GatherAndCount = %d, want 12", n)
	}
	lint, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range lint {
		if allowedLint(p.Metric, p.Text) {
			continue
		}
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// allowedLint is the one lint finding the package accepts: the
// certificate's days to expiry are in days, not the base unit seconds,
// because that is the number an alert rule and a person compare ("under 14
// days"); smtpdiag_tls_certificate_expiry_timestamp_seconds is the same
// fact in base units.
func allowedLint(metric, text string) bool {
	return metric == metrics.CertExpiryDays && strings.Contains(text, `use base unit "seconds" instead of "days"`)
}

// TestGolden keeps the whole output for review: go test -update rewrites
// testdata/metrics.golden.prom.
func TestGolden(t *testing.T) {
	got := render(t, fixture(), opts)
	path := filepath.Join("testdata", "metrics.golden.prom")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update after checking the change):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
	// The same input gives the same bytes: families and series are sorted.
	if again := render(t, fixture(), opts); !bytes.Equal(got, again) {
		t.Errorf("two renderings differ")
	}
}

// TestPromtool checks the golden file with promtool check metrics, the
// Prometheus project's own linter, where it is installed (Debian's
// prometheus package); otherwise it skips.
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus); the registry's lint above ran")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(render(t, fixture(), opts))
	out, _ := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		metric, text, _ := strings.Cut(line, " ")
		if line == "" || allowedLint(metric, text) {
			continue
		}
		t.Errorf("promtool check metrics: %s", line)
	}
}

// TestDeps: the writer depends on the results model (and the Prometheus
// client) only, like every reporter.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/smtpdiag/smtpdiag/internal/report/metrics").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	var bad []string
	for _, dep := range strings.Fields(string(out)) {
		for _, no := range []string{
			"github.com/hashicorp/hcl", "github.com/zclconf/go-cty", "github.com/emersion/go-smtp", "github.com/miekg/dns",
			"github.com/smtpdiag/smtpdiag/runner", "github.com/smtpdiag/smtpdiag/internal/suite",
			"github.com/smtpdiag/smtpdiag/internal/listener", "github.com/smtpdiag/smtpdiag/internal/simulator",
			"github.com/smtpdiag/smtpdiag/internal/smtpclient", "github.com/smtpdiag/smtpdiag/internal/smtpd",
		} {
			if dep == no || strings.HasPrefix(dep, no+"/") {
				bad = append(bad, dep)
			}
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("internal/report/metrics depends on %v", bad)
	}
}
