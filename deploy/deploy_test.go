package deploy_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/smtpdiag/smtpdiag/internal/report/metrics"
	"github.com/smtpdiag/smtpdiag/internal/report/reporttest"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/suite"
	"github.com/smtpdiag/smtpdiag/runner"
)

// object is one document of a manifest file, decoded strictly into its
// Kubernetes API type: an unknown or misspelt field, or a value of the
// wrong type, is an error, as kubectl apply --validate=strict makes it.
type object struct {
	file string
	kind string
	obj  any
}

// kinds maps each kind the manifests may hold to its API version and type.
var kinds = map[string]struct {
	apiVersion string
	new        func() any
}{
	"ConfigMap":  {"v1", func() any { return &corev1.ConfigMap{} }},
	"Service":    {"v1", func() any { return &corev1.Service{} }},
	"Deployment": {"apps/v1", func() any { return &appsv1.Deployment{} }},
	"CronJob":    {"batch/v1", func() any { return &batchv1.CronJob{} }},
	"Job":        {"batch/v1", func() any { return &batchv1.Job{} }},
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

func loadManifests(t *testing.T) []object {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in kubernetes/ (%v)", err)
	}
	var out []object
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range docSeparator.Split(string(b), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
				t.Errorf("%s, document %d: %v", f, i+1, err)
				continue
			}
			k, ok := kinds[tm.Kind]
			if !ok {
				t.Errorf("%s, document %d: kind %q is not one the test knows", f, i+1, tm.Kind)
				continue
			}
			if tm.APIVersion != k.apiVersion {
				t.Errorf("%s: %s has apiVersion %q, want %q", f, tm.Kind, tm.APIVersion, k.apiVersion)
			}
			obj := k.new()
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Errorf("%s: %s: %v", f, tm.Kind, err)
				continue
			}
			out = append(out, object{file: f, kind: tm.Kind, obj: obj})
		}
	}
	return out
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func cronJobs(objs []object) map[string]*batchv1.CronJob {
	out := map[string]*batchv1.CronJob{}
	for _, o := range objs {
		if cj, ok := o.obj.(*batchv1.CronJob); ok {
			out[cj.Name] = cj
		}
	}
	return out
}

// imageUID reads the user of the image from the passwd file that
// scripts/container.sh copies into it, and checks that the Containerfile
// runs as that user, numerically.
func imageUID(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "scripts", "container", "passwd"))
	if err != nil {
		t.Fatal(err)
	}
	var uid int64 = -1
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) == 7 && f[0] == "smtpdiag" {
			uid, _ = strconv.ParseInt(f[2], 10, 64)
		}
	}
	if uid <= 0 {
		t.Fatalf("no non-root user smtpdiag in scripts/container/passwd")
	}
	cf, err := os.ReadFile(filepath.Join("..", "scripts", "container", "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("\nUSER %d:%d\n", uid, uid); !strings.Contains(string(cf), want) {
		t.Errorf("the Containerfile has no %q", strings.TrimSpace(want))
	}
	if !regexp.MustCompile(`(?m)^FROM scratch$`).Match(cf) || regexp.MustCompile(`(?m)^RUN `).Match(cf) {
		t.Errorf("the Containerfile must build FROM scratch with no RUN step")
	}
	return uid
}

var cronField = regexp.MustCompile(`^[0-9*/,\-]+$`)

// TestManifests decodes every manifest strictly, and checks each CronJob
// for what running smtpdiag needs: the image's non-root user and a
// restricted pod (Pod Security Standards, restricted), the suites and the
// metrics where the arguments say, a push of the metrics file smtpdiag
// writes, and exit codes handled as smtpdiag defines them.
func TestManifests(t *testing.T) {
	objs := loadManifests(t)
	uid := imageUID(t)
	cjs := cronJobs(objs)
	for _, name := range []string{"smtpdiag", "smtpdiag-fleet"} {
		if cjs[name] == nil {
			t.Errorf("no CronJob %s", name)
		}
	}
	configMaps := map[string]*corev1.ConfigMap{}
	for _, o := range objs {
		if cm, ok := o.obj.(*corev1.ConfigMap); ok {
			configMaps[cm.Name] = cm
		}
	}

	for name, cj := range cjs {
		t.Run(name, func(t *testing.T) {
			fields := strings.Fields(cj.Spec.Schedule)
			if len(fields) != 5 {
				t.Errorf("schedule %q: want five cron fields", cj.Spec.Schedule)
			}
			for _, f := range fields {
				if !cronField.MatchString(f) {
					t.Errorf("schedule %q: bad field %q", cj.Spec.Schedule, f)
				}
			}
			if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
				t.Errorf("concurrencyPolicy %q, want Forbid: two runs at once would double the traffic", cj.Spec.ConcurrencyPolicy)
			}
			job := cj.Spec.JobTemplate.Spec
			if job.ActiveDeadlineSeconds == nil {
				t.Fatalf("no activeDeadlineSeconds")
			}
			pod := job.Template.Spec
			if pod.RestartPolicy != corev1.RestartPolicyNever {
				t.Errorf("restartPolicy %q, want Never (podFailurePolicy needs it)", pod.RestartPolicy)
			}
			sc := pod.SecurityContext
			if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != uid ||
				sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("pod securityContext must be runAsNonRoot, runAsUser %d (the image's user) and seccomp RuntimeDefault", uid)
			}
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Errorf("automountServiceAccountToken must be false: smtpdiag never talks to the API server")
			}
			volumes := map[string]corev1.Volume{}
			for _, v := range pod.Volumes {
				volumes[v.Name] = v
			}
			var sd, push *corev1.Container
			for i := range pod.Containers {
				c := &pod.Containers[i]
				switch c.Name {
				case "smtpdiag":
					sd = c
				case "push":
					push = c
				default:
					t.Errorf("unexpected container %s", c.Name)
				}
				csc := c.SecurityContext
				if csc == nil || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation ||
					csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem ||
					csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
					t.Errorf("container %s: securityContext must forbid privilege escalation, drop ALL capabilities and make the root read-only", c.Name)
				}
				if c.Resources.Limits.Memory().IsZero() {
					t.Errorf("container %s: no memory limit", c.Name)
				}
				for _, m := range c.VolumeMounts {
					if _, ok := volumes[m.Name]; !ok {
						t.Errorf("container %s mounts %s, which the pod does not have", c.Name, m.Name)
					}
				}
			}
			if sd == nil || push == nil {
				t.Fatalf("want the containers smtpdiag and push")
			}
			if !strings.HasSuffix(strings.SplitN(sd.Image, ":", 2)[0], "/smtpdiag") {
				t.Errorf("image %q: want the smtpdiag image scripts/container.sh builds", sd.Image)
			}
			if len(sd.Command) != 0 {
				t.Errorf("the smtpdiag container sets command %v: the image has no shell, and its entrypoint is smtpdiag", sd.Command)
			}
			if len(sd.Args) == 0 || sd.Args[0] != "run" {
				t.Fatalf("args %v: want smtpdiag run", sd.Args)
			}
			metricsPath := flagValue(sd.Args, "--metrics")
			if metricsPath == "" {
				t.Fatalf("args %v: no --metrics", sd.Args)
			}
			mounts := mountsOf(sd)
			metricsVol := volumeFor(mounts, metricsPath)
			if metricsVol == "" || volumes[metricsVol].EmptyDir == nil {
				t.Errorf("--metrics %s is not on an emptyDir mounted in the smtpdiag container", metricsPath)
			}
			if volumeFor(mountsOf(push), metricsPath) != metricsVol {
				t.Errorf("the push container does not mount %s where smtpdiag writes it", metricsVol)
			}
			script := strings.Join(push.Args, "\n")
			if !strings.Contains(script, "@"+metricsPath) || !strings.Contains(script, "until [ -s "+metricsPath+" ]") {
				t.Errorf("the push script does not wait for and push %s:\n%s", metricsPath, script)
			}
			if !strings.Contains(script, "-X PUT") {
				t.Errorf("the push script must PUT (replace the group), so that removed checks disappear")
			}
			// Every path argument of smtpdiag is on a mounted volume (the
			// root file system is read-only), and /tmp is writable.
			for _, a := range sd.Args[1:] {
				if strings.HasPrefix(a, "/") && volumeFor(mounts, a) == "" {
					t.Errorf("argument %s is on no volume", a)
				}
			}
			if v := volumeFor(mounts, "/tmp/x"); v == "" || volumes[v].EmptyDir == nil {
				t.Errorf("no emptyDir at /tmp (the root file system is read-only)")
			}
			suitesVol := volumeFor(mounts, "/suites/x.hcl")
			if !slices.Contains(sd.Args, "/suites") || suitesVol == "" || volumes[suitesVol].ConfigMap == nil {
				t.Errorf("want the suites from a ConfigMap at /suites, and run /suites")
			} else if cm := configMaps[volumes[suitesVol].ConfigMap.Name]; cm == nil {
				t.Errorf("ConfigMap %s is not among the manifests", volumes[suitesVol].ConfigMap.Name)
			}
			// Exit codes 1 and 2 end the job (or index) without a retry.
			if job.PodFailurePolicy == nil || len(job.PodFailurePolicy.Rules) == 0 {
				t.Fatalf("no podFailurePolicy")
			}
			rule := job.PodFailurePolicy.Rules[0]
			if rule.OnExitCodes == nil || rule.OnExitCodes.ContainerName == nil || *rule.OnExitCodes.ContainerName != "smtpdiag" ||
				rule.OnExitCodes.Operator != batchv1.PodFailurePolicyOnExitCodesOpIn || !slices.Equal(rule.OnExitCodes.Values, []int32{1, 2}) {
				t.Errorf("the first podFailurePolicy rule must match the smtpdiag container's exit codes 1 and 2")
			}
			indexed := job.CompletionMode != nil && *job.CompletionMode == batchv1.IndexedCompletion
			want := batchv1.PodFailurePolicyActionFailJob
			if indexed {
				want = batchv1.PodFailurePolicyActionFailIndex
				if job.BackoffLimitPerIndex == nil {
					t.Errorf("FailIndex needs backoffLimitPerIndex")
				}
			}
			if rule.Action != want {
				t.Errorf("podFailurePolicy action %s, want %s", rule.Action, want)
			}
			if indexed {
				checkShards(t, job, sd, push)
			} else if envValue(sd, "SMTPDIAG_SHARD") != "" {
				t.Errorf("SMTPDIAG_SHARD set outside an Indexed Job")
			}
		})
	}
}

// checkShards: completions, parallelism and the N of SMTPDIAG_SHARD agree,
// the index comes from the pod's completion-index annotation, defined
// before SMTPDIAG_SHARD (Kubernetes expands $(VAR) only from variables
// listed earlier), and for every index smtpdiag's own parser reads a
// distinct shard, 1 to N.
func checkShards(t *testing.T, job batchv1.JobSpec, sd, push *corev1.Container) {
	t.Helper()
	if job.Completions == nil || job.Parallelism == nil || *job.Completions != *job.Parallelism {
		t.Fatalf("an Indexed Job of shards wants completions = parallelism")
	}
	n := int(*job.Completions)
	for _, c := range []*corev1.Container{sd, push} {
		i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "SHARD_INDEX" })
		if i < 0 || c.Env[i].ValueFrom == nil || c.Env[i].ValueFrom.FieldRef == nil ||
			c.Env[i].ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
			t.Errorf("container %s: SHARD_INDEX must come from the job-completion-index annotation", c.Name)
		}
		if c == sd {
			j := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "SMTPDIAG_SHARD" })
			if j < 0 || j < i {
				t.Errorf("SMTPDIAG_SHARD must be set after SHARD_INDEX")
			}
		}
	}
	tmpl := envValue(sd, "SMTPDIAG_SHARD")
	if !strings.Contains(tmpl, "$(SHARD_INDEX)") {
		t.Fatalf("SMTPDIAG_SHARD %q does not use $(SHARD_INDEX)", tmpl)
	}
	seen := map[int]bool{}
	for i := 0; i < n; i++ {
		v := strings.ReplaceAll(tmpl, "$(SHARD_INDEX)", strconv.Itoa(i))
		sh, err := runner.ParseShard(v)
		if err != nil {
			t.Errorf("pod %d: SMTPDIAG_SHARD=%s: %v", i, v, err)
			continue
		}
		if sh.Count != n || sh.Index != i+1 || seen[sh.Index] {
			t.Errorf("pod %d: SMTPDIAG_SHARD=%s is shard %s, want %d/%d", i, v, sh, i+1, n)
		}
		seen[sh.Index] = true
	}
	if _, err := runner.ParseShard(strings.ReplaceAll(tmpl, "$(SHARD_INDEX)", strconv.Itoa(n))); err == nil {
		t.Errorf("index %d, past the last pod, is a shard too: N in SMTPDIAG_SHARD is not the completions", n)
	}
	if !strings.Contains(strings.Join(push.Args, "\n"), "/shard/$shard") {
		t.Errorf("the push of an Indexed Job must go to a group of its own shard")
	}
}

func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

func envValue(c *corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func mountsOf(c *corev1.Container) map[string]string {
	out := map[string]string{}
	for _, m := range c.VolumeMounts {
		out[m.MountPath] = m.Name
	}
	return out
}

// volumeFor returns the volume mounted at the deepest mount path that
// holds path, "" when none does.
func volumeFor(mounts map[string]string, path string) string {
	best, vol := "", ""
	for mp, name := range mounts {
		if (path == mp || strings.HasPrefix(path, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > len(best) {
			best, vol = mp, name
		}
	}
	return vol
}

// TestSuitesConfigMap loads the ConfigMap's suites the way they appear in
// the pod (each key a symlink into ..data, as the kubelet lays out a
// ConfigMap volume) with smtpdiag's own loader, as run /suites does.
func TestSuitesConfigMap(t *testing.T) {
	var cm *corev1.ConfigMap
	for _, o := range loadManifests(t) {
		if c, ok := o.obj.(*corev1.ConfigMap); ok && c.Name == "smtpdiag-suites" {
			cm = c
		}
	}
	if cm == nil {
		t.Fatal("no ConfigMap smtpdiag-suites")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "..2026_12_05_06_00_00.000000000")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Base(data), filepath.Join(dir, "..data")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	hcl := 0
	for key, src := range cm.Data {
		if strings.HasSuffix(key, ".hcl") {
			hcl++
		}
		if err := os.WriteFile(filepath.Join(data, key), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join("..data", key), filepath.Join(dir, key)); err != nil {
			t.Fatal(err)
		}
	}
	loader := suite.NewLoader(suite.Options{Environ: []string{"SMTP_PASSWORD=not-a-real-password"}})
	suites, diags := loader.LoadPaths([]string{dir})
	if diags.HasErrors() {
		var b bytes.Buffer
		loader.WriteDiagnostics(&b, diags, false, 100)
		t.Fatalf("the ConfigMap's suites do not load:\n%s", b.String())
	}
	if len(suites) != hcl || hcl == 0 {
		t.Errorf("%d suites loaded from %d *.hcl keys", len(suites), hcl)
	}
}

// loadRules parses the alerting rules with Prometheus' own parser, as
// promtool check rules does: unknown fields, invalid PromQL, bad label
// names or templates are errors.
func loadRules(t *testing.T) *rulefmt.RuleGroups {
	t.Helper()
	path := filepath.Join("prometheus", "smtpdiag-alerts.yaml")
	groups, errs := rulefmt.ParseFile(path, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Errorf("%v", err)
	}
	if groups == nil || len(groups.Groups) == 0 {
		t.Fatalf("%s: no rule groups", path)
	}
	return groups
}

var labelRef = regexp.MustCompile(`\$labels\.([A-Za-z_][A-Za-z0-9_]*)`)

// TestAlertRules: every rule is an alert with a severity and a summary,
// uses only metrics smtpdiag writes, and its templates only labels those
// metrics carry (or the Pushgateway's job and shard).
func TestAlertRules(t *testing.T) {
	groups := loadRules(t)
	p := parser.NewParser(parser.Options{})
	seen := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("rule %q is not an alerting rule", r.Expr)
				continue
			}
			seen[r.Alert] = true
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q, want warning or critical", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: want a summary and a description", r.Alert)
			}
			expr, err := p.ParseExpr(r.Expr)
			if err != nil {
				t.Errorf("%s: %v", r.Alert, err)
				continue
			}
			labels := map[string]bool{"job": true, "instance": true, "shard": true}
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				if vs, ok := n.(*parser.VectorSelector); ok {
					if !slices.Contains(metrics.Names(), vs.Name) {
						t.Errorf("%s: smtpdiag writes no metric %s", r.Alert, vs.Name)
					}
					if strings.HasPrefix(vs.Name, "smtpdiag_check_") || strings.HasPrefix(vs.Name, "smtpdiag_tls_") || strings.HasPrefix(vs.Name, "smtpdiag_blocklist_") {
						labels["suite"], labels["check"], labels["endpoint"] = true, true, true
					}
				}
				return nil
			})
			for _, text := range r.Annotations {
				for _, m := range labelRef.FindAllStringSubmatch(text, -1) {
					if !labels[m[1]] {
						t.Errorf("%s: the annotation uses $labels.%s, which %s does not have", r.Alert, m[1], r.Expr)
					}
				}
			}
		}
	}
	for _, want := range []string{"SmtpdiagCheckFailing", "SmtpdiagCertificateExpiresSoon", "SmtpdiagEgressIPListed", "SmtpdiagRunsStale", "SmtpdiagMetricsAbsent"} {
		if !seen[want] {
			t.Errorf("no alert %s", want)
		}
	}
}

// TestAlertsFire evaluates each alert of the form "metric OP number"
// against the metrics smtpdiag writes for a fixture run, and checks that
// exactly the right checks would alert: the failed and errored ones, the
// one whose certificate expires in 10 days, the two whose IP is listed.
func TestAlertsFire(t *testing.T) {
	results := append(reporttest.Results(), reporttest.DNSResults()...)
	// The passing check's certificate expires 10 days after it was seen.
	soon := results[0].Checks[0]
	soon.Conversation.TLS.Chain[0].NotAfter = soon.Conversation.Started.Add(10 * 24 * time.Hour)

	var buf bytes.Buffer
	if err := metrics.Write(&buf, results, metrics.Options{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	tp := expfmt.NewTextParser(model.LegacyValidation)
	families, err := tp.TextToMetricFamilies(&buf)
	if err != nil {
		t.Fatal(err)
	}

	var failing, listed []string
	for _, s := range results {
		for _, c := range s.Checks {
			if c.Status == result.Failed || c.Status == result.Errored {
				failing = append(failing, c.Label)
			}
			if slices.ContainsFunc(c.Blocklists, func(l result.Listing) bool { return l.Status == result.Listed }) {
				listed = append(listed, c.Label)
			}
		}
	}
	want := map[string][]string{
		"SmtpdiagCheckFailing":           failing,
		"SmtpdiagCertificateExpiresSoon": {soon.Label},
		"SmtpdiagEgressIPListed":         listed,
	}

	p := parser.NewParser(parser.Options{})
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			w, ok := want[r.Alert]
			if !ok {
				continue
			}
			delete(want, r.Alert)
			expr, err := p.ParseExpr(r.Expr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := evalComparison(expr, families)
			if err != nil {
				t.Errorf("%s: %v", r.Alert, err)
				continue
			}
			sort.Strings(got)
			sort.Strings(w)
			if !slices.Equal(got, w) {
				t.Errorf("%s (%s) fires for %q, want %q", r.Alert, r.Expr, got, w)
			}
		}
	}
	for name := range want {
		t.Errorf("no rule %s to evaluate", name)
	}
}

// evalComparison evaluates "selector OP number" over the series of one
// scrape and returns the check label of every series that passes.
func evalComparison(expr parser.Expr, families map[string]*dto.MetricFamily) ([]string, error) {
	be, ok := expr.(*parser.BinaryExpr)
	if !ok {
		return nil, fmt.Errorf("%s is not a comparison", expr)
	}
	vs, ok1 := be.LHS.(*parser.VectorSelector)
	num, ok2 := be.RHS.(*parser.NumberLiteral)
	if !ok1 || !ok2 || len(vs.LabelMatchers) != 1 {
		return nil, fmt.Errorf("%s is not metric OP number", expr)
	}
	var cmp func(a, b float64) bool
	switch be.Op.String() {
	case "==":
		cmp = func(a, b float64) bool { return a == b }
	case "<":
		cmp = func(a, b float64) bool { return a < b }
	case ">":
		cmp = func(a, b float64) bool { return a > b }
	default:
		return nil, fmt.Errorf("operator %s", be.Op)
	}
	var out []string
	for _, m := range families[vs.Name].GetMetric() {
		v := m.GetGauge().GetValue()
		if math.IsNaN(v) || !cmp(v, num.Val) {
			continue
		}
		for _, l := range m.GetLabel() {
			if l.GetName() == "check" {
				out = append(out, l.GetValue())
			}
		}
	}
	return out, nil
}

// TestFlagsExist: every flag the CronJobs give smtpdiag is one that
// smtpdiag run takes, as its --help lists them.
func TestFlagsExist(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "smtpdiag")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/smtpdiag").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	help, err := exec.Command(bin, "run", "--help").Output()
	if err != nil {
		t.Fatalf("smtpdiag run --help: %v", err)
	}
	for name, cj := range cronJobs(loadManifests(t)) {
		for _, c := range cj.Spec.JobTemplate.Spec.Template.Spec.Containers {
			if c.Name != "smtpdiag" {
				continue
			}
			for _, a := range c.Args[1:] {
				flag, _, _ := strings.Cut(a, "=")
				if !strings.HasPrefix(flag, "-") {
					continue
				}
				if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(flag) + `( |$)`).Match(help) {
					t.Errorf("%s: smtpdiag run has no flag %s", name, flag)
				}
			}
		}
	}
}

// TestBinaryLeavesThemOut: what these tests import (the Prometheus server
// module, the Kubernetes API types, a YAML decoder) is no part of the
// smtpdiag binary.
func TestBinaryLeavesThemOut(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../cmd/smtpdiag").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, no := range []string{"github.com/prometheus/prometheus", "k8s.io/", "sigs.k8s.io/", "github.com/smtpdiag/smtpdiag/deploy"} {
			if strings.HasPrefix(dep, no) {
				t.Errorf("cmd/smtpdiag depends on %s", dep)
			}
		}
	}
}
