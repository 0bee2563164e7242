package summary

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/report/reporttest"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// render plays the fixture's events through a Writer and finishes it.
func render(t *testing.T, opts Options) string {
	t.Helper()
	results := reporttest.Results()
	var out bytes.Buffer
	w := New(&out, opts)
	for _, ev := range reporttest.Events(results) {
		w.Handle(ev)
	}
	w.Finish(results)
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test -update after checking the change):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"plain.golden", Options{}},
		{"color.golden", Options{Color: true}},
		{"verbose.golden", Options{Verbose: true}},
		{"narrow.golden", Options{Width: 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Redactor = reporttest.Redactor()
			golden(t, tc.name, render(t, tc.opts))
		})
	}
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

func TestCheckLines(t *testing.T) {
	out := render(t, Options{Redactor: reporttest.Redactor()})
	got := lines(out)[:5]
	want := []string{
		"✓ PASS  contoso: scan-to-email › device can submit through smtp.office365.com  1.23s",
		`✗ FAIL  contoso: scan-to-email › relay from scanner  1.20s  rcpt: expected "250", got 550 5.7.606 Access denied, banned sending IP [192.0.2.1] (session ****)`,
		"! ERROR fabrikam: lab relay › lab CA is trusted  0.00s  ca_file: open lab-ca.pem: no such file or directory",
		"- SKIP  fabrikam: lab relay › port 25 is blocked by the ISP  0.00s",
		`✗ FAIL  fabrikam: lab relay › hostile banner  40.50s (3 attempts)  unexpected 421 4.3.2 <script>alert(1)</script> \x1b[31mSERVICE\x1b[0m busy\x00 \xff\xfe ]]> end at BANNER`,
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, got[i], want[i])
		}
	}
}

func TestClosingLine(t *testing.T) {
	for _, color := range []bool{false, true} {
		out := render(t, Options{Color: color, Redactor: reporttest.Redactor()})
		l := lines(out)
		if last := l[len(l)-1]; last != "1 passed, 3 failed, 1 skipped" {
			t.Errorf("color=%v: closing line %q", color, last)
		}
		if !strings.HasSuffix(out, "\n\n1 passed, 3 failed, 1 skipped\n") {
			t.Errorf("color=%v: closing line is not alone on its line after a blank one:\n%s", color, out)
		}
	}
	for _, tc := range []struct {
		counts result.Counts
		want   string
	}{
		{result.Counts{Passed: 3}, "3 passed, 0 failed"},
		{result.Counts{}, "0 passed, 0 failed"},
		{result.Counts{Passed: 1, Failed: 2, Skipped: 1}, "1 passed, 2 failed, 1 skipped"},
		{result.Counts{Failed: 1, Errored: 2}, "0 passed, 3 failed"},
	} {
		if got := ClosingLine(tc.counts); got != tc.want {
			t.Errorf("ClosingLine(%+v) = %q, want %q", tc.counts, got, tc.want)
		}
	}
}

// stripOwnSGR removes the colour sequences the Writer itself emits.
func stripOwnSGR(s string) string {
	return strings.NewReplacer(sgrGreen, "", sgrRed, "", sgrYellow, "", sgrBold, "", sgrDim, "", sgrReset, "").Replace(s)
}

func TestColor(t *testing.T) {
	plain := render(t, Options{Redactor: reporttest.Redactor()})
	if strings.Contains(plain, "\x1b") {
		t.Errorf("colour off, but the output holds an ESC byte:\n%q", plain)
	}
	color := render(t, Options{Color: true, Redactor: reporttest.Redactor()})
	for _, want := range []string{sgrGreen + "✓ PASS" + sgrReset, sgrRed + "✗ FAIL" + sgrReset, sgrDim + "     0ms *: connecting"} {
		if !strings.Contains(color, want) {
			t.Errorf("coloured output lacks %q", want)
		}
	}
	if stripOwnSGR(color) != plain {
		t.Errorf("colour changes more than the colours:\n%s\n---\n%s", stripOwnSGR(color), plain)
	}
}

func TestHostileServerText(t *testing.T) {
	for _, opts := range []Options{{}, {Color: true}, {Verbose: true}, {Width: 60}} {
		out := stripOwnSGR(render(t, opts))
		if !utf8.ValidString(out) {
			t.Errorf("%+v: output is not valid UTF-8", opts)
		}
		for _, bad := range []string{"\x1b", "\x00", "\x9b"} {
			if strings.Contains(out, bad) {
				t.Errorf("%+v: output holds %q", opts, bad)
			}
		}
		if !strings.Contains(out, `\x1b[31mSERVICE\x1b[0m busy\x00 \xff\xfe`) {
			t.Errorf("%+v: the hostile banner is not shown escaped:\n%s", opts, out)
		}
	}
}

func TestSecretsMasked(t *testing.T) {
	unmasked := render(t, Options{Verbose: true})
	if !strings.Contains(unmasked, reporttest.Secret) {
		t.Fatal("the fixture does not carry the secret into the output; the masking test would prove nothing")
	}
	for _, opts := range []Options{{}, {Verbose: true}, {Color: true, Verbose: true}, {Width: 70}} {
		opts.Redactor = reporttest.Redactor()
		out := render(t, opts)
		for _, form := range reporttest.SecretForms() {
			if strings.Contains(out, form) {
				t.Errorf("%+v: output holds the secret as %q", opts, form)
			}
		}
		if !strings.Contains(out, redact.Mask) {
			t.Errorf("%+v: output holds no mask", opts)
		}
	}
}

func TestVerbose(t *testing.T) {
	passLine := "✓ PASS  contoso: scan-to-email › device can submit through smtp.office365.com  1.23s\n"
	passTranscript := "         0ms *: connecting to smtp.office365.com:587 (198.51.100.7)\n"
	failTranscript := "    1080ms S: 550 5.7.606 Access denied"

	quiet := render(t, Options{Redactor: reporttest.Redactor()})
	if strings.Contains(quiet, passTranscript) {
		t.Error("without Verbose, a passing check's transcript is shown")
	}
	verbose := render(t, Options{Verbose: true, Redactor: reporttest.Redactor()})
	if !strings.Contains(verbose, passLine+passTranscript) {
		t.Errorf("with Verbose, the passing check's transcript does not follow its line:\n%s", verbose)
	}
	for name, out := range map[string]string{"quiet": quiet, "verbose": verbose} {
		if n := strings.Count(out, failTranscript); n != 1 {
			t.Errorf("%s: the failing check's transcript is shown %d times, want once", name, n)
		}
	}
}

func TestWidth(t *testing.T) {
	const width = 100
	out := render(t, Options{Width: width, Redactor: reporttest.Redactor()})
	checkLines := lines(out)[:5]
	for _, l := range checkLines {
		if utf8.RuneCountInString(l) > width {
			t.Errorf("check line longer than %d columns: %q", width, l)
		}
	}
	if !strings.HasSuffix(checkLines[1], "…") || utf8.RuneCountInString(checkLines[1]) != width {
		t.Errorf("long failure not cut to %d columns: %q (%d)", width, checkLines[1], utf8.RuneCountInString(checkLines[1]))
	}
	// Every line fits, but for a word too long for any line (a URL), which
	// stays whole on its own line; Finish shows every expectation whole,
	// folded under itself.
	for _, l := range lines(out) {
		if utf8.RuneCountInString(l) > width && strings.Contains(strings.TrimSpace(l), " ") &&
			!regexp.MustCompile(`^\s*\S+:?\s+\S+$`).MatchString(l) {
			t.Errorf("line longer than %d columns: %q", width, l)
		}
	}
	unfolded := regexp.MustCompile(`\n {6,}`).ReplaceAllString(out, " ")
	if !strings.Contains(unfolded, `    rcpt: expected "250", got 550 5.7.606 Access denied, banned sending IP [192.0.2.1] (session ****)`+"\n") {
		t.Errorf("Finish cut a failed expectation:\n%s", out)
	}
}

func TestUseColor(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm-256color")

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if UseColor(w, false) {
		t.Error("a pipe is not a terminal")
	}
	file, err := os.Create(filepath.Join(t.TempDir(), "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if UseColor(file, false) {
		t.Error("a regular file is not a terminal")
	}
	if UseColor(nil, false) {
		t.Error("nil file")
	}

	// A character device is what a terminal looks like to Stat.
	dev, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer dev.Close()
	if !UseColor(dev, false) {
		t.Error("character device, no NO_COLOR: want colour")
	}
	if UseColor(dev, true) {
		t.Error("--no-color ignored")
	}
	t.Setenv("TERM", "dumb")
	if UseColor(dev, false) {
		t.Error("TERM=dumb ignored")
	}
	t.Setenv("TERM", "xterm-256color")
	t.Setenv("NO_COLOR", "1")
	if UseColor(dev, false) {
		t.Error("NO_COLOR ignored")
	}
}

// TestNoUnsafeRunes renders a run whose every text is hostile: no control,
// format or noncharacter reaches the terminal as itself.
func TestNoUnsafeRunes(t *testing.T) {
	results := reporttest.HostileResults()
	for _, opts := range []Options{{}, {Verbose: true}, {Color: true, Verbose: true, Width: 80}} {
		var out bytes.Buffer
		w := New(&out, opts)
		for _, ev := range reporttest.Events(results) {
			w.Handle(ev)
		}
		w.Finish(results)
		// Newlines and colours are the summary's own; anything else must be
		// escaped.
		own := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(out.String(), "")
		if r, ok := reporttest.Unsafe(own); ok {
			t.Errorf("%+v: %U reached the terminal:\n%q", opts, r, out.String())
		}
		if !strings.Contains(out.String(), `hostile\x00x\x07x`) || !strings.Contains(out.String(), `\u202ex`) {
			t.Errorf("%+v: the hostile text is not shown escaped:\n%s", opts, out.String())
		}
	}
}

// TestProbesEscaped: what a probed server sends (banner, EHLO lines,
// certificate subject and issuer) reaches the terminal escaped, as in run.
func TestProbesEscaped(t *testing.T) {
	var out bytes.Buffer
	WriteProbes(&out, reporttest.HostileProbes(), reporttest.Start, 0)
	if r, ok := reporttest.Unsafe(out.String()); ok {
		t.Errorf("%U reached the terminal:\n%q", r, out.String())
	}
	if !strings.Contains(out.String(), `CN=hostile\x00x\x07x`) {
		t.Errorf("the certificate subject is not shown escaped:\n%s", out.String())
	}
}

// TestInterrupted: an interrupted run says so, with the checks that did
// not finish, right before the closing line.
func TestInterrupted(t *testing.T) {
	results := reporttest.Interrupted()
	var out bytes.Buffer
	w := New(&out, Options{})
	w.Finish(results)
	want := "fabrikam: lab relay: the run was interrupted (SIGTERM); 2 checks did not finish\n1 passed, 3 failed, 2 skipped\n"
	if !strings.HasSuffix(out.String(), want) {
		t.Errorf("summary ends with\n%s\nwant\n%s", out.String()[max(0, out.Len()-200):], want)
	}
}

// TestProbeFitsWidth: three probed targets side by side fit a
// 100-column terminal, and the details wrap to it.
func TestProbeFitsWidth(t *testing.T) {
	probes := append(append(reporttest.HostileProbes(), reporttest.HostileProbes()...), reporttest.HostileProbes()...)
	var out bytes.Buffer
	WriteProbes(&out, probes, reporttest.Start, 100)
	for _, l := range lines(out.String()) {
		// Only a word too long for any line (a certificate subject without
		// spaces) may stand past the edge.
		words := strings.Fields(l)
		if n := utf8.RuneCountInString(l); n > 100 && utf8.RuneCountInString(words[len(words)-1]) < 80 {
			t.Errorf("%d columns: %q", n, l)
		}
	}
}

// TestWidthFoldsLongLabels: a label too long for the width folds at its
// spaces under the suite's name, in the check line and in the failure
// block's head, the first failure moves to a line of its own, and no
// line ends in a space.
func TestWidthFoldsLongLabels(t *testing.T) {
	const width = 60
	results := reporttest.Results()
	long := "EXPECTED FAILURE: scanner mail to blocked@contoso.com is accepted by the tenant"
	for _, s := range results {
		for _, c := range s.Checks {
			c.Label = long + " (" + c.Label + ")"
		}
	}
	var out bytes.Buffer
	w := New(&out, Options{Width: width, Redactor: reporttest.Redactor()})
	for _, ev := range reporttest.Events(results) {
		w.Handle(ev)
	}
	w.Finish(results)
	text := out.String()
	for _, l := range lines(text) {
		if strings.HasSuffix(l, " ") {
			t.Errorf("line ends in a space: %q", l)
		}
		if utf8.RuneCountInString(l) > width && strings.Contains(strings.TrimSpace(l), " ") &&
			!regexp.MustCompile(`^\s*\S+:?\s+\S+$`).MatchString(l) {
			t.Errorf("line longer than %d columns: %q", width, l)
		}
	}
	// The check lines: verdict and the label's start on the first line,
	// the rest of the label under the suite's name.
	first := lines(text)[0]
	if !strings.HasPrefix(first, "✓ PASS  ") && !strings.HasPrefix(first, "✗ FAIL  ") {
		t.Fatalf("first line %q", first)
	}
	unfolded := regexp.MustCompile(`\n {2,8}`).ReplaceAllString(text, " ")
	if !strings.Contains(unfolded, "› "+long+" (") {
		t.Errorf("a folded label does not read whole once unfolded:\n%s", text)
	}
	if !regexp.MustCompile(`(?m)^✗ FAIL \S.*\n  \S`).MatchString(text) {
		t.Errorf("the failure block's head is not folded under the verdict:\n%s", text)
	}
	if !regexp.MustCompile(`(?m)^ {8}rcpt: expected`).MatchString(text) {
		t.Errorf("the first failure is not on a line of its own under a long label:\n%s", text)
	}
}

// TestPaths: a device check's decision on the ways to send after the
// Basic auth switch-off ends the output: the one-line summary, then a
// verdict, a name and the deciding reason per path; -v adds what each
// open path needs. Text from the run is made safe for the terminal.
func TestPaths(t *testing.T) {
	suites := []*result.Suite{{Name: "copier", Checks: []*result.Check{{
		Label: "reception copier", Kind: "device", Status: result.Passed, Attempts: 1,
		Paths: &result.PathDecision{
			Summary: "TLS 1.2 with ECDHE and AUTH LOGIN only: Basic auth is out; HVE remains",
			Paths: []result.PathVerdict{
				{Short: "Basic auth", Usable: "no", Reasons: []string{"Basic authentication is disabled by default from the end of December 2026."}},
				{Short: "the ACS relay", Usable: "maybe", Reasons: []string{"It offers TLS 1.2\x1b[31m."}, Needs: []string{"An Entra app with a client secret."}},
				{Short: "HVE", Usable: "yes", Reasons: []string{"It offers TLS 1.2, and smtp.hve.mx.microsoft needs TLS 1.2 or newer, which is a long enough reason to be folded."}},
			},
		},
	}}}}
	write := func(opts Options) string {
		var out bytes.Buffer
		w := New(&out, opts)
		w.Finish(suites)
		return out.String()
	}
	quiet := write(Options{Width: 80})
	for _, want := range []string{
		"Ways reception copier can send after the Basic auth switch-off\n",
		"  TLS 1.2 with ECDHE and AUTH LOGIN only: Basic auth is out; HVE remains\n",
		"  no     Basic auth  Basic authentication is disabled by default from the end of\n",
		"  maybe  ACS relay   It offers TLS 1.2\\x1b[31m.\n",
		"  yes    HVE         It offers TLS 1.2, and smtp.hve.mx.microsoft needs TLS 1.2\n" + strings.Repeat(" ", 21) + "or newer",
	} {
		if !strings.Contains(quiet, want) {
			t.Errorf("output lacks %q:\n%s", want, quiet)
		}
	}
	if strings.Contains(quiet, "needs:") || strings.Contains(quiet, "\x1b") {
		t.Errorf("without -v, needs are shown or a raw escape got through:\n%s", quiet)
	}
	if verbose := write(Options{Width: 80, Verbose: true}); !strings.Contains(verbose, strings.Repeat(" ", 21)+"needs: An Entra app with a client secret.\n") {
		t.Errorf("-v does not show what the ACS relay needs:\n%s", verbose)
	}
}

// TestSuitePaths: a suite whose checks prove paths ends its summary with
// the matrix of which paths work, after the failure details and before
// the closing line, about the mailbox its checks use (else the suite); a
// disabled check's line says why it was not tested.
func TestSuitePaths(t *testing.T) {
	write := func(suites []*result.Suite) string {
		var out bytes.Buffer
		w := New(&out, Options{Redactor: reporttest.Redactor()})
		for _, ev := range reporttest.Events(suites) {
			w.Handle(ev)
		}
		w.Finish(suites)
		return out.String()
	}
	out := write(reporttest.MigrationResults())
	golden(t, "paths.golden", out)
	head := strings.Index(out, "Ways scanner@contoso.com can send after the Basic auth switch-off\n")
	detail := strings.Index(out, "\n✗ FAIL contoso: ways off Basic auth › Connector")
	closing := strings.Index(out, "1 passed, 1 failed, 1 skipped\n")
	if detail < 0 || head < detail || closing < head {
		t.Errorf("want the failure details, then the matrix, then the closing line:\n%s", out)
	}
	if !strings.Contains(out, "- SKIP  contoso: ways off Basic auth › OAuth: the app signs in for the mailbox with XOAUTH2  0.00s  not tested: enabled = var.client_id != \"\" && var.client_secret != \"\"\n") {
		t.Errorf("the disabled check's line does not say why:\n%s", out)
	}
	unnamed := reporttest.MigrationResults()
	unnamed[0].Paths.Subject = ""
	if out := write(unnamed); !strings.Contains(out, "\nWays contoso: ways off Basic auth can send after the Basic auth switch-off\n") {
		t.Errorf("without a subject the matrix is not named after the suite:\n%s", out)
	}
}
