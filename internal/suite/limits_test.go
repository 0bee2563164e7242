package suite

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// TestScanNesting checks the nesting scan against what HCL's scanner sees:
// brackets inside strings, heredocs and comments are text, not nesting,
// and a closing marker or quote really ends its template.
func TestScanNesting(t *testing.T) {
	deep := strings.Repeat("[", maxNesting+1)
	many := strings.Repeat("(", 5000)
	cases := []struct {
		name string
		src  string
		ok   bool
	}{
		{"brackets in a string", `a = "` + many + `"` + "\n", true},
		{"brackets in a comment", "# " + many + "\n// " + many + "\n/* " + many + " */\na = 1\n", true},
		{"brackets in a heredoc", "a = <<EOT\n" + many + "\n  EOT\nb = 1\n", true},
		{"brackets in an indented heredoc", "a = <<-EOT\n  " + many + "\n  EOT\n", true},
		{"escaped interpolations", `a = "` + strings.Repeat("$${", 5000) + `"` + "\n", true},
		{"hyphenated names", "a = var.x" + strings.Repeat("-y", 5000) + "\n", true},
		{"many attributes", strings.Repeat("a = 1 + 2 - 3\n", 5000), true},
		{"a long list", "a = [" + strings.Repeat("-1, ", 5000) + "]\n", true},
		{"nested at the limit", "a = " + strings.Repeat("[", maxNesting-1) + strings.Repeat("]", maxNesting-1) + "\n", true},
		{"nested brackets", "a = " + deep + "\n", false},
		{"nested blocks", strings.Repeat("b {\n", maxNesting+1), false},
		{"nested interpolations", "a = " + strings.Repeat(`"${`, maxNesting), false},
		{"brackets after a heredoc", "a = <<EOT\nx\nEOT\nb = " + deep + "\n", false},
		{"brackets after a string with an escaped quote", `a = "\"" ` + deep + "\n", false},
		{"a marker that is not alone on its line", "a = <<EOT\nEOT x\n" + deep + "\n", true},
		{"brackets after a comment", "/* x */ a = " + deep + "\n", false},
		{"closing braces in a string do not end the interpolation", `a = "${"}}}}"` + strings.Repeat("[", maxNesting) + "\n", false},
		{"unary chain", "a = " + strings.Repeat("!", maxExprCost+1) + "true\n", false},
		{"binary chain over lines", "a = (" + strings.Repeat("1 +\n", maxExprCost+1) + "1)\n", false},
		{"chain split by commas", "a = [" + strings.Repeat("1 + 1, ", maxExprCost+1) + "]\n", true},
		{"template directives", "a = <<EOT\n" + strings.Repeat("%{if true}", maxExprCost) + strings.Repeat("%{endif}", maxExprCost) + "\nEOT\n", false},
		{"index chain", "a = x" + strings.Repeat("[0]", maxExprCost+1) + "\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			offset, _, ok := scanNesting([]byte(c.src))
			if ok != c.ok {
				t.Errorf("ok = %v at offset %d, want %v", ok, offset, c.ok)
			}
			if c.ok {
				// What the scan lets through must parse without a
				// stack overflow (a failure here is fatal, not an error).
				hclsyntax.ParseConfig([]byte(c.src), "t.hcl", hcl.InitialPos)
			}
		})
	}
}

// TestReadRegularFile refuses what is not a regular file, and files above
// the limit.
func TestReadRegularFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	large := filepath.Join(dir, "large")
	if err := os.WriteFile(large, make([]byte, 2048), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	if b, err := readRegularFile(small, 1024); err != nil || string(b) != "x" {
		t.Errorf("small: %q, %v", b, err)
	}
	for path, want := range map[string]string{
		large:       "larger than 1 KiB",
		fifo:        "not a regular file",
		dir:         "is a directory",
		"/dev/zero": "not a regular file",
	} {
		if _, err := readRegularFile(path, 1024); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
}

// TestGuardedFunctionsWork checks that ordinary calls are not refused by
// the limits.
func TestGuardedFunctionsWork(t *testing.T) {
	cases := map[string]string{
		`join(",", formatlist("%s@contoso.com", ["a", "b"]))`:          "a@contoso.com,b@contoso.com",
		`format("%-6s|%5.1f|%q", "ab", 2.25, "x")`:                     `ab    |  2.2|"x"`,
		`replace("a.b.c", ".", "-")`:                                   "a-b-c",
		`replace("a1b22", "/[0-9]+/", "<$0>")`:                         "a<1>b<22>",
		`join(",", split(",", "x,y,z"))`:                               "x,y,z",
		`join(",", regexall("[a-z]+", "ab 12 cd"))`:                    "ab,cd",
		`tostring(length(setproduct(["a", "b"], [1, 2, 3])))`:          "6",
		`jsondecode("{\"a\": [1, 2]}").a[1] == 2 ? "y" : "n"`:          "y",
		`csvdecode("a,b\n1,2")[0].b`:                                   "2",
		`tostring(parseint("ff", 16))`:                                 "255",
		`indent(2, "a\nb")`:                                            "a\n  b",
		`tostring(tonumber("25") * 2)`:                                 "50",
		`tostring(length(range(1024)))`:                                "1024",
		`tostring(pow(10, 308) > 1)`:                                   "true",
		`upper(strrev(substr("hello", 0, 4)))`:                         "LLEH",
		`tostring(length(flatten([for i in range(9) : range(1000)])))`: "9000",
	}
	fns := standardFunctions()
	for src, want := range cases {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "t", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", src, diags)
		}
		v, diags := expr.Value(&hcl.EvalContext{Functions: fns})
		if diags.HasErrors() {
			t.Errorf("%s: %v", src, diags)
			continue
		}
		if v.Type() != cty.String || v.AsString() != want {
			t.Errorf("%s = %#v, want %q", src, v, want)
		}
	}
}

// TestSafeNumberText renders huge numbers without writing every digit.
func TestSafeNumberText(t *testing.T) {
	n, err := cty.ParseNumberVal("-1.5e600000000")
	if err != nil {
		t.Fatal(err)
	}
	if got := safeNumberText(n.AsBigFloat()); got != "-1.500e+600000000" {
		t.Errorf("got %q", got)
	}
	if got := safeNumberText(cty.NumberIntVal(65536).AsBigFloat()); got != "65536" {
		t.Errorf("got %q", got)
	}
}
