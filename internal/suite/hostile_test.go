package suite

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// renderLimit bounds the rendered diagnostics of one hostile suite.
const renderLimit = 256 << 10

// hostileCase is a hostile suite: a file of testdata/hostile, or one
// generated here because it is too large to keep in the repository.
type hostileCase struct {
	name string
	path string
	src  []byte
}

// wantHostile is what the diagnostics of a hostile suite must say, for the
// suites that test a limit: that they fail for another reason would hide a
// limit that does not work.
var wantHostile = map[string]string{
	"deep_nesting_100k":      "Error: Nesting too deep",
	"deep_blocks_100k":       "Error: Nesting too deep",
	"deep_interpolation":     "Error: Nesting too deep",
	"deep_template_if":       "Error: Expression too complex",
	"unary_chain":            "Error: Expression too complex",
	"negation_chain":         "Error: Expression too complex",
	"binary_chain":           "Error: Expression too complex",
	"conditional_chain":      "Error: Expression too complex",
	"splat_chain":            "Error: Expression too complex",
	"index_chain":            "Error: Expression too complex",
	"comparison_chain":       "Error: Expression too complex",
	"multiplication_chain":   "Error: Too many multiplications",
	"huge_string":            `aaa…" (921618 bytes)`,
	"huge_label":             `LLL…" (921600 bytes)`,
	"huge_line_error":        "Error: Invalid address",
	"huge_list":              "Error: Too many elements",
	"oversized_file":         "Error: File too large",
	"many_errors":            "... and 1950 more problems.",
	"setproduct_bomb":        "more than 10000 values",
	"formatlist_bomb":        "larger than 4 MiB",
	"format_bomb":            "width 999999999999 is above 10000",
	"format_precision_bomb":  "precision 999999999 is above 10000",
	"join_bomb":              "larger than 1 MiB",
	"replace_bomb":           "larger than 1 MiB",
	"regex_replace_bomb":     "larger than 1 MiB",
	"indent_bomb":            "spaces must be between 0 and 10000",
	"split_bomb":             "more than 10000",
	"regexall_bomb":          "more than 10000 values",
	"concat_bomb":            "more than 10000 values",
	"jsondecode_deep":        "nests more than 256 levels",
	"csvdecode_bomb":         "more than 10000 values",
	"parseint_bomb":          "longer than 256 digits",
	"number_from_string":     "Error: Number out of range",
	"number_literal_bomb":    "Error: Number out of range",
	"huge_numbers":           "Error: Number out of range",
	"tonumber_bomb":          "numbers are limited to the range of a float64",
	"jsondecode_number_bomb": "numbers are limited to the range of a float64",
	"pow_overflow":           "numbers are limited to the range of a float64",
	"ca_file_device":         "/dev/zero: is not a regular file",
	"file_device":            "/dev/zero: is not a regular file",
	"nested_for":             "may not be nested in another one",
	"for_body_function":      "The body of a for-expression may not call a function",
	"template_repeat":        "one string may hold at most 64",
	"template_file_total":    "more than 2000 interpolations",
	"for_body_too_long":      "it may be at most 1024",
	"for_interpolation_1gib": "Error: Expression too large",
	"for_list_10gib":         "Error: Expression too large",
	"many_templates":         "Error: Expression too large",
}

// generatedHostile are the suites too large to commit.
func generatedHostile() []hostileCase {
	head := "endpoint \"e\" { host = \"127.0.0.1\" }\n"
	check := func(attr, expr string) string {
		return head + "smtp \"c\" {\n  endpoint  = endpoint.e\n  mail_from = \"a@contoso.com\"\n  " + attr + " = " + expr + "\n}\n"
	}
	// bomb evaluates expr as a variable default of type ty.
	bomb := func(ty, expr string) string {
		return head + "variable \"v\" {\n  type    = " + ty + "\n  default = " + expr + "\n}\n"
	}
	var many strings.Builder
	many.WriteString(head)
	for i := range 2000 {
		fmt.Fprintf(&many, "smtp \"c%d\" { endpoint = endpoint.nope }\n", i)
	}
	big := func(n int) string { return `format("%` + fmt.Sprint(n) + `s", "")` }
	gen := []struct{ name, src string }{
		{"deep_nesting_list", head + "variable \"v\" { default = " + strings.Repeat("[", 200) + strings.Repeat("]", 200) + " }\n"},
		{"deep_nesting_parens", head + "variable \"v\" { default = " + strings.Repeat("(", 200) + "\"\\r\\n\"" + strings.Repeat(")", 200) + " }\nsmtp \"c\" {\n  endpoint = endpoint.e\n  mail_from = var.v\n}\n"},
		{"deep_nesting_blocks", head + strings.Repeat("a {\n", 200) + strings.Repeat("}\n", 200)},
		{"deep_nesting_100k", head + "variable \"v\" { default = " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + " }\n"},
		{"deep_blocks_100k", head + strings.Repeat("a {\n", 100000) + strings.Repeat("}\n", 100000)},
		{"deep_interpolation", head + "variable \"v\" { default = " + strings.Repeat("\"${", 100000) + "1" + strings.Repeat("}\"", 100000) + " }\n"},
		{"deep_template_if", head + "variable \"v\" {\n  default = <<EOT\n" + strings.Repeat("%{if true}", 50000) + strings.Repeat("%{endif}", 50000) + "\nEOT\n}\n"},
		{"unary_chain", bomb("string", strings.Repeat("!", 300000)+"true")},
		{"negation_chain", bomb("string", strings.Repeat("-", 300000)+"1")},
		{"binary_chain", bomb("string", strings.Repeat("1+", 300000)+"1")},
		{"conditional_chain", bomb("string", strings.Repeat("true ? 1 : ", 50000)+"2")},
		{"splat_chain", check("rcpt_to", "[\"a@contoso.com\"]"+strings.Repeat("[*]", 100000))},
		{"index_chain", bomb("string", "[[1]]"+strings.Repeat("[0]", 100000))},
		{"comparison_chain", bomb("string", strings.Repeat("1 == ", 100000)+"1")},
		{"multiplication_chain", bomb("string", "\"${"+strings.Repeat("1e308 * ", 100)+"1}\"")},
		{"huge_string", head + "smtp \"c\" {\n  endpoint  = endpoint.e\n  mail_from = \"" + strings.Repeat("a", 900<<10) + "@contoso.com\\r\\nDATA\"\n}\n"},
		{"huge_label", head + "smtp \"" + strings.Repeat("L", 900<<10) + "\" {\n  endpoint = endpoint.nope\n}\n"},
		{"huge_line_error", head + "smtp \"c\" {\n  endpoint  = endpoint.e\n  mail_from = \"a@contoso.com\"\n  rcpt_to = [" + strings.Repeat("\"x@contoso.com\", ", 9999) + "\"x\\r\\n\"" + "]\n}\n"},
		{"huge_list", head + "smtp \"c\" {\n  endpoint  = endpoint.e\n  mail_from = \"a@contoso.com\"\n  rcpt_to = [" + strings.Repeat("\"x@contoso.com\", ", 20000) + "\"x\\r\\n\"" + "]\n}\n"},
		{"oversized_file", head + "# " + strings.Repeat("x", 1<<20) + "\n"},
		{"many_errors", many.String()},
		{"setproduct_bomb", check("rcpt_to", "[for p in setproduct(range(1024), range(1024), range(1024)) : \"x@contoso.com\"]")},
		{"formatlist_bomb", check("rcpt_to", `formatlist("%10000s@contoso.com", range(1024))`)},
		{"format_precision_bomb", bomb("string", `format("%.999999999f", 1)`)},
		{"join_bomb", bomb("string", "join("+big(10000)+", [for i in range(1000) : \"x\"])")},
		{"replace_bomb", bomb("string", "replace("+big(10000)+", \"\", "+big(10000)+")")},
		{"regex_replace_bomb", bomb("string", "replace("+big(10000)+", \"/(.*)/\", \""+strings.Repeat("$1", 1000)+"\")")},
		{"indent_bomb", bomb("string", "indent(999999999999, \"a\\nb\")")},
		{"split_bomb", check("rcpt_to", "split(\"\", "+`format("%10000s%10000s", "", "")`+")")},
		{"regexall_bomb", check("rcpt_to", "regexall(\"\", "+`format("%10000s%10000s", "", "")`+")")},
		{"concat_bomb", "variable \"l\" {\n  type    = list(string)\n  default = [for i in range(1000) : \"x@contoso.com\"]\n}\n" +
			check("rcpt_to", "concat("+strings.Repeat("var.l, ", 1000)+"var.l)")},
		{"jsondecode_deep", check("rcpt_to", "jsondecode(\""+strings.Repeat("[", 10000)+strings.Repeat("]", 10000)+"\")")},
		{"csvdecode_bomb", bomb("string", "length(csvdecode(\"a\\n"+strings.Repeat(",", 100000)+"\"))")},
		{"parseint_bomb", bomb("string", "parseint(\""+strings.Repeat("9", 200000)+"\", 10)")},
		{"number_from_string", bomb("string", "\"${\"1e600000000\" * 1}\"")},
		{"number_literal_bomb", head + "endpoint \"f\" {\n  host = \"127.0.0.1\"\n  port = 1e600000000\n}\n"},
		{"tonumber_bomb", bomb("string", "\"${tonumber(\"1e600000000\")}\"")},
		{"jsondecode_number_bomb", bomb("string", "\"${jsondecode(\"1e600000000\")}\"")},
		{"template_repeat", check("rcpt_to", "[\"${var.big}"+strings.Repeat("${var.big}", 5000)+"\"]")},
		{"template_file_total", head + strings.Repeat("smtp \"c\" {\n  endpoint = endpoint.e\n  mail_from = \""+strings.Repeat("${var.big}", 60)+"\"\n}\n", 40)},
		{"for_body_too_long", check("rcpt_to", "[for i in range(1024) : \"x"+strings.Repeat("${i}", 300)+"\"]")},
		{"pow_overflow", bomb("string", "\"${pow(10, 400)}\"")},
	}
	var out []hostileCase
	for _, g := range gen {
		out = append(out, hostileCase{name: g.name, path: filepath.Join("testdata", "hostile", "generated", g.name+".hcl"), src: []byte(g.src)})
	}
	return out
}

// TestHostileSuites loads every hostile suite: each must give errors, all
// of them positioned in the suite, and render without a panic in bounded
// size, with no control character; those that test a limit must
// be stopped by it (wantHostile). The committed corpus lives in
// testdata/hostile (each file starts with a comment saying what it
// tries); the huge ones are generated. A suite that exhausts memory or the
// stack kills the test binary, which no recover can prevent: a failure of
// this test can be a crash.
func TestHostileSuites(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "hostile", "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 30 {
		t.Fatalf("found %d hostile suites, want at least 30", len(paths))
	}
	cases := generatedHostile()
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, hostileCase{name: strings.TrimSuffix(filepath.Base(p), ".hcl"), path: p, src: src})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			loadHostile(t, tc)
		})
	}
}

// loadHostile loads one hostile suite and checks its diagnostics.
func loadHostile(t *testing.T, tc hostileCase) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	start := time.Now()
	l := NewLoader(Options{Environ: []string{"HOME=/root"}})
	s, diags := l.LoadSource(tc.path, tc.src)
	loaded := time.Since(start)
	if !diags.HasErrors() {
		t.Fatalf("no error for a hostile suite (suite %v, diagnostics %v)", s != nil, diags)
	}
	for _, d := range diags.Errs() {
		d := d.(*hcl.Diagnostic)
		if d.Subject == nil || d.Subject.Filename != tc.path || d.Subject.Start.Line < 1 {
			t.Errorf("diagnostic %q is not positioned in %s: %+v", d.Summary, tc.path, d.Subject)
		}
	}
	var out bytes.Buffer
	if err := l.WriteDiagnostics(&out, diags, false, 100); err != nil {
		t.Fatal(err)
	}
	rendered := time.Since(start) - loaded
	first, _, _ := strings.Cut(out.String(), "\n")
	if !strings.HasPrefix(first, tc.path+":") || !strings.Contains(first, ": Error: ") {
		t.Errorf("first line %q is not file:line:col: Error: ...", first)
	}
	// Times are logged, not asserted: what bounds the work are the
	// sandbox's limits, each tested on its own (internal/suite/sandbox);
	// a wall-clock bound would only flake on a busy machine or under -race.
	if out.Len() > renderLimit {
		t.Errorf("the rendered diagnostics are %d bytes", out.Len())
	}
	if i := bytes.IndexFunc(out.Bytes(), func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f }); i >= 0 {
		t.Errorf("the rendered diagnostics hold the control character %q", out.Bytes()[i])
	}
	if want := wantHostile[tc.name]; want != "" && !strings.Contains(strings.Join(strings.Fields(out.String()), " "), want) {
		t.Errorf("the diagnostics do not say %q:\n%s", want, out.String()[:min(out.Len(), 4000)])
	}
	if n := len(diags); n > maxDiagnosticsShown && !strings.Contains(out.String(), fmt.Sprintf("... and %d more problems.", n-maxDiagnosticsShown)) {
		t.Errorf("%d diagnostics rendered without a count of those not shown", n)
	}
	t.Logf("%d diagnostics, loaded in %v, rendered in %v (%d bytes); first: %s",
		len(diags), loaded.Round(time.Millisecond), rendered.Round(time.Millisecond), out.Len(), first[:min(len(first), 120)])
}
