package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parseMetrics reads a --metrics file back with the Prometheus text parser.
func parseMetrics(t *testing.T, b []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the metrics do not parse: %v\n%s", err, b)
	}
	return families
}

// gaugeValue returns the value of the series of name whose labels include
// want.
func gaugeValue(families map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	for _, m := range families[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
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

// TestDemoMetrics: demo --metrics writes a file the Prometheus parser
// reads, with one success series per check and counts that match the
// demo's own closing line.
func TestDemoMetrics(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCLI(dir, "demo", "--no-color", "--metrics", "smtpdiag.prom")
	if code != exitPassed {
		t.Fatalf("demo exit %d\n%s\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "smtpdiag.prom"))
	if err != nil {
		t.Fatal(err)
	}
	families := parseMetrics(t, b)
	passed, _ := gaugeValue(families, "smtpdiag_run_checks", map[string]string{"status": "passed"})
	failed, _ := gaugeValue(families, "smtpdiag_run_checks", map[string]string{"status": "failed"})
	skipped, _ := gaugeValue(families, "smtpdiag_run_checks", map[string]string{"status": "skipped"})
	total := int(passed + failed + skipped)
	if want := fmt.Sprintf("all %d checks behaved as expected (%d failed on purpose", total, int(failed)); !strings.Contains(stdout, want) ||
		!strings.Contains(stdout, fmt.Sprintf("%d not tested on purpose", int(skipped))) {
		t.Errorf("the metrics count %v passed, %v failed and %v skipped; the demo says:\n%s", passed, failed, skipped, stdout)
	}
	// A check that was not tested has no success series.
	if n := len(families["smtpdiag_check_success"].GetMetric()); n != int(passed+failed) {
		t.Errorf("%d smtpdiag_check_success series, want %d", n, int(passed+failed))
	}
	if v, ok := gaugeValue(families, "smtpdiag_tls_version", map[string]string{"endpoint": "submission"}); !ok || v < 1.2 {
		t.Errorf("smtpdiag_tls_version of a submission check = %v (found %v), want 1.2 or 1.3", v, ok)
	}
	if _, ok := gaugeValue(families, "smtpdiag_build_info", map[string]string{"version": version()}); !ok {
		t.Errorf("no smtpdiag_build_info{version=%q}", version())
	}
	if st, err := os.Stat(filepath.Join(dir, "smtpdiag.prom")); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v (%v), want 0644 for node_exporter to read it", st.Mode().Perm(), err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// TestBadMetricsPathSendsNothing: a --metrics path that cannot be written
// is a usage error before any traffic, like every other output.
func TestBadMetricsPathSendsNothing(t *testing.T) {
	cl := listen(t)
	dir := t.TempDir()
	suite := fmt.Sprintf("endpoint \"e\" {\n  host = \"127.0.0.1\"\n  port = %s\n  tls  = \"none\"\n}\nsmtp \"c\" { endpoint = endpoint.e }\n", cl.port())
	if err := os.WriteFile(filepath.Join(dir, "s.hcl"), []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "textfile"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"textfile", "cannot write textfile: it is a directory"},
		{filepath.Join("missing", "smtpdiag.prom"), "directory missing does not exist"},
	} {
		code, stdout, stderr := runCLI(dir, "run", "--no-color", "--metrics", tc.path, "s.hcl")
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("--metrics %s: exit %d, stderr %q, want 2 and %q\n%s", tc.path, code, stderr, tc.want, stdout)
		}
	}
	if n := cl.accepted.Load(); n != 0 {
		t.Errorf("the server saw %d connections", n)
	}
}
