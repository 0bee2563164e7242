package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var updateCaseStudy = flag.Bool("update-case-study", false, "rewrite the output blocks of examples/real-world-failure-spamhaus.md from real runs")

// caseStudy is the case study whose output blocks are real runs.
const caseStudy = "../../examples/real-world-failure-spamhaus.md"

// studyBlock is one output block of the case study: the Markdown marks it
// with <!-- output: NAME --> on the line before its fence.
var studyBlock = regexp.MustCompile("(?s)<!-- output: ([a-z-]+) -->\n```\n(.*?)```\n")

// volatile are the parts of a run that change from one run to the next:
// durations, transcript offsets, ephemeral ports, certificate dates and
// DNS timings. They are compared as placeholders.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d+\.\d\ds\b`), "N.NNs"},
	{regexp.MustCompile(`(?m)^\s*\d+ms `), "  Nms "},
	{regexp.MustCompile(`\(\d+ms\)`), "(Nms)"},
	{regexp.MustCompile(`127\.0\.0\.1:\d{5}`), "127.0.0.1:PORT"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`), "TIME"},
}

func normalize(s string) string {
	for _, v := range volatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

// TestCaseStudy reruns what the case study shows and compares its output
// with the blocks in the Markdown (durations, ports and dates aside), so
// that the page's "real output" can never drift from what smtpdiag
// prints. The runs against Postfix need the peers; explain needs nothing.
// go test -run TestCaseStudy -update-case-study rewrites the blocks.
func TestCaseStudy(t *testing.T) {
	doc, err := os.ReadFile(caseStudy)
	if err != nil {
		t.Fatal(err)
	}
	suites, err := filepath.Abs("../../suites")
	if err != nil {
		t.Fatal(err)
	}
	p := loadPeers()
	peersErr := p.answering()
	mxHost, mxPort, _ := strings.Cut(p.MX, ":")
	subHost, subPort, _ := strings.Cut(p.Submission, ":")
	runs := map[string]struct {
		args  []string
		peers bool
		shown string // the command line shown above the output, if any
	}{
		"direct-send": {peers: true, args: []string{"run", "--no-color", filepath.Join(suites, "m365-direct-send.hcl"),
			"--resolver", p.DNS, "-var", "domain=contoso.test", "-var", "sender=scanner@contoso.test",
			"-var", "internal_recipient=spamhaus@contoso.test", "-var", "external_recipient=someone@fabrikam.com",
			"-var", "device_helo=mfp-3rdfloor.contoso.test", "-var", "mx_host=" + mxHost, "-var", "mx_port=" + mxPort,
			"-var", "ca_file=" + p.CA}},
		"explain": {args: []string{"explain", "550 5.7.1 Service unavailable, Client host [203.0.113.77] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/203.0.113.77 AS(1450) [BN8NAM12FT041.eop-nam12.prod.protection.outlook.com]"},
			shown: `$ smtpdiag explain "550 5.7.1 Service unavailable, Client host [203.0.113.77] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/203.0.113.77 AS(1450) [BN8NAM12FT041.eop-nam12.prod.protection.outlook.com]"` + "\n"},
		"smtp-auth": {peers: true, args: []string{"run", "--no-color", filepath.Join(suites, "m365-smtp-auth.hcl"),
			"-var", "domain=contoso.test", "-var", "username=" + p.User, "-var", "password=" + p.Password,
			"-var", "sender=" + p.User, "-var", `recipients=["helpdesk@contoso.test"]`,
			"-var", "device_helo=mfp-3rdfloor.contoso.test", "-var", "submission_host=" + subHost,
			"-var", "submission_port=" + subPort, "-var", "ca_file=" + p.CA}},
	}
	blocks := studyBlock.FindAllSubmatchIndex(doc, -1)
	if len(blocks) != len(runs) {
		t.Fatalf("the case study marks %d output blocks, want %d", len(blocks), len(runs))
	}
	out := append([]byte(nil), doc...)
	// Replace from the end, so that earlier offsets stay valid.
	for i := len(blocks) - 1; i >= 0; i-- {
		b := blocks[i]
		name := string(doc[b[2]:b[3]])
		r, ok := runs[name]
		if !ok {
			t.Fatalf("unknown output block %q", name)
		}
		if r.peers && peersErr != nil {
			t.Logf("%s: peers not running, not checked: start them with sudo scripts/peers.sh up (%v)", name, peersErr)
			continue
		}
		var stdout, stderr bytes.Buffer
		code := run(r.args, env{stdout: &stdout, stderr: &stderr, environ: []string{}, getenv: func(string) string { return "" }})
		if code > 1 || stderr.Len() > 0 {
			t.Fatalf("%s: exit %d\n%s%s", name, code, stdout.String(), stderr.String())
		}
		got := r.shown + stdout.String()
		if normalize(got) == normalize(string(doc[b[4]:b[5]])) {
			continue
		}
		if !*updateCaseStudy {
			t.Errorf("%s: the case study's output differs from a real run (go test -run TestCaseStudy -update-case-study rewrites it): %s\n--- real run\n%s",
				name, firstDifference(normalize(string(doc[b[4]:b[5]])), normalize(got)), got)
			continue
		}
		out = append(out[:b[4]], append([]byte(got), out[b[5]:]...)...)
	}
	if *updateCaseStudy {
		if err := os.WriteFile(caseStudy, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// firstDifference names the first line where want and got differ.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d: the page says %q, the run %q", i+1, wl, gl)
		}
	}
	return "no line differs"
}
