package suite

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestRenderMatchesHCL renders the diagnostics of every broken suite both
// with WriteDiagnostics and with HCL's own text writer: for ordinary input
// the two must not differ by a byte, in color or not. A diagnostic whose
// snippet covers a secret written into the file differs on purpose
// (TestSnippetHidesSecrets) and is left out.
func TestRenderMatchesHCL(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	compared, hidden := 0, 0
	for _, path := range paths {
		l := NewLoader(optionsFromHeader(t, path))
		_, diags := l.LoadFile(path)
		for _, color := range []bool{false, true} {
			for _, width := range []uint{0, 80} {
				for _, d := range diags {
					var got, want bytes.Buffer
					if err := l.WriteDiagnostics(&got, hcl.Diagnostics{d}, color, width); err != nil {
						t.Fatal(err)
					}
					if strings.Contains(got.String(), "bytes not shown: a secret)") {
						hidden++
						continue
					}
					compared++
					wr := hcl.NewDiagnosticTextWriter(&want, l.parser.Files(), width, color)
					if d.Subject != nil {
						fmt.Fprintf(&want, "%s: ", posString(*d.Subject))
					}
					if err := wr.WriteDiagnostic(d); err != nil {
						t.Fatal(err)
					}
					if got.String() != want.String() {
						t.Errorf("%s (color %v, width %d): got\n%s\nwant (HCL)\n%s", path, color, width, got.String(), want.String())
					}
				}
			}
		}
	}
	if compared < 10*hidden {
		t.Errorf("%d diagnostics compared, %d left out for secrets: the comparison proves little", compared, hidden)
	}
}

// TestRenderEscapes checks that what a file or a message holds cannot
// drive the terminal, and that long values are cut.
func TestRenderEscapes(t *testing.T) {
	src := "endpoint \"e\" { host = \"127.0.0.1\" }\n" +
		"smtp \"c\" {\n  endpoint  = endpoint.e\n  mail_from = \"\x1b[2J\u202e\\r\\n\" # \x07\u009b\xff\n}\n"
	l := NewLoader(Options{Environ: []string{}})
	_, diags := l.LoadSource("esc.hcl", []byte(src))
	if !diags.HasErrors() {
		t.Fatal("no error")
	}
	diags = append(diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Bad \x1b]0;title\x07",
		Detail:   fmt.Sprintf("The value %q is wrong.", strings.Repeat("v", 5000)),
		Subject:  diags[0].Subject,
	})
	var out bytes.Buffer
	if err := l.WriteDiagnostics(&out, diags, false, 0); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, bad := range []string{"\x1b", "\x07", "\u202e", "\u009b"} {
		if strings.Contains(s, bad) {
			t.Errorf("output holds %q:\n%s", bad, s)
		}
	}
	for _, want := range []string{`\x1b[2J`, `\u202e`, `\x07`, `\u009b`, `\xff`, `Bad \x1b]0;title\x07`, `vvv…" (5000 bytes)`} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, strings.Repeat("v", maxQuoted+1)) {
		t.Errorf("a long value is quoted whole:\n%s", s)
	}
}

// TestRenderCountsTheRest shows the first diagnostics and counts the rest.
func TestRenderCountsTheRest(t *testing.T) {
	l := NewLoader(Options{Environ: []string{}})
	var diags hcl.Diagnostics
	for i := range maxDiagnosticsShown + 3 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("Problem %d", i)})
	}
	var out bytes.Buffer
	if err := l.WriteDiagnostics(&out, diags, false, 0); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, fmt.Sprintf("Problem %d\n", maxDiagnosticsShown-1)) || strings.Contains(s, fmt.Sprintf("Problem %d\n", maxDiagnosticsShown)) {
		t.Errorf("not the first %d problems:\n%s", maxDiagnosticsShown, s)
	}
	if !strings.HasSuffix(s, "... and 3 more problems.\n") {
		t.Errorf("no count of the rest:\n%s", s)
	}
}
