package suite

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
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

// TestBudgetGuards checks that the guards addBudgetGuards adds change no
// value, marks included, and that rewriting twice adds no second guard.
func TestBudgetGuards(t *testing.T) {
	vars := map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{
		"recipients": cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
		"domain":     cty.StringVal("contoso.com"),
		"secret":     cty.StringVal("s3cret").Mark(sensitiveMark),
	})}
	cases := []struct {
		src    string
		guards int
	}{
		{`[for r in var.recipients : "${r}@${var.domain}"]`, 3},
		{`{for i, r in var.recipients : r => i if i > 0}`, 3},
		{`[for r in var.recipients : r if r != "a"]`, 2},
		{`"x%{for r in var.recipients}${r},%{endfor}y"`, 3},
		{`"%{if var.domain == "contoso.com"}yes%{else}no%{endif}"`, 1},
		{`"${var.secret}:${var.domain}"`, 2},
		{`"${var.domain}"`, 0}, // a TemplateWrapExpr: only its value is charged
		{`"plain"`, 0},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			parse := func() hclsyntax.Expression {
				expr, diags := hclsyntax.ParseExpression([]byte(c.src), "t.hcl", hcl.InitialPos)
				if diags.HasErrors() {
					t.Fatal(diags)
				}
				return expr
			}
			plain := parse()
			want, diags := plain.Value(&hcl.EvalContext{Variables: vars})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			guarded := parse()
			addBudgetGuards(guarded)
			addBudgetGuards(guarded)
			guards := 0
			hclsyntax.VisitAll(guarded, func(n hclsyntax.Node) hcl.Diagnostics {
				if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && call.Name == budgetFunction {
					guards++
					if call.Range() != call.Args[0].Range() {
						t.Errorf("guard at %v, its expression at %v", call.Range(), call.Args[0].Range())
					}
				}
				return nil
			})
			if guards != c.guards {
				t.Errorf("%d guards, want %d", guards, c.guards)
			}
			var budget evalBudget
			ctx := &hcl.EvalContext{Variables: vars, Functions: map[string]function.Function{budgetFunction: budget.function()}}
			got, diags := guarded.Value(ctx)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if !got.RawEquals(want) {
				t.Errorf("got %#v, want %#v", got, want)
			}
			if c.guards > 0 && budget.used == 0 {
				t.Error("nothing was charged")
			}
		})
	}
}

// TestEvalBudget checks the budget's accounting: it is spent when the
// total exceeds maxEvalBytes, whatever the sizes of the values, and stays
// spent.
func TestEvalBudget(t *testing.T) {
	var b evalBudget
	s := cty.StringVal(strings.Repeat("x", 1<<20-16)) // 1 MiB with its 16 bytes of overhead
	for i := range maxEvalBytes >> 20 {
		if !b.charge(s) {
			t.Fatalf("spent after %d MiB", i)
		}
	}
	if b.charge(cty.True) {
		t.Errorf("not spent after %d bytes", b.used)
	}
	if b.charge(cty.StringVal("")) {
		t.Error("no longer spent")
	}
	list := cty.ListVal([]cty.Value{cty.StringVal("ab"), cty.StringVal("c").Mark(sensitiveMark)})
	if got := byteSize(list, maxEvalBytes); got != 16*3+3 {
		t.Errorf("byteSize = %d, want 51", got)
	}
	// Measuring stops soon after the limit.
	huge := cty.ListVal(slicesRepeat(s, 1000))
	if got := byteSize(huge, 4<<20); got > 6<<20 {
		t.Errorf("byteSize with a limit of 4 MiB = %d", got)
	}
}

func slicesRepeat(v cty.Value, n int) []cty.Value {
	out := make([]cty.Value, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestEvalBudgetSuite loads suites that build more than maxEvalBytes: one
// error, positioned in the expression that went over, which quotes no
// sensitive value; a suite that copies a large variable a few times still
// loads.
func TestEvalBudgetSuite(t *testing.T) {
	// The large variable is not the sensitive one: scrubbing a 1 MiB
	// secret out of the diagnostics is a cost of its own.
	secret := `variable "secret" {
  type      = string
  sensitive = true
  default   = "topsecret!"
}
variable "s" {
  type    = string
  default = join("", [for i in range(1024) : "` + strings.Repeat("0123456789", 100) + `"])
}
endpoint "e" { host = "127.0.0.1" }
`
	check := func(attrs string) string {
		return secret + "smtp \"c\" {\n  endpoint  = endpoint.e\n  mail_from = \"a@contoso.com\"\n" + attrs + "}\n"
	}
	cases := []struct {
		name, src, at string
	}{
		{"for", check("  rcpt_to = [for i in range(100) : \"${var.secret}${var.s}@contoso.com\"]\n"), `"${var.secret}${var.s}@contoso.com"`},
		{"for key", check("  message {\n    headers = {for i in range(100) : \"${var.secret}${var.s}${i}\" => \"x\"}\n  }\n"), `"${var.secret}${var.s}${i}"`},
		// Each body costs about 16 MiB (its interpolations, then its
		// value): the fourth one goes over.
		{"attributes", secret + strings.Repeat("smtp \"c\" {\n  endpoint  = endpoint.e\n  mail_from = \"a@contoso.com\"\n  message {\n    body = \""+
			strings.Repeat("${var.s}", 8)+"${var.secret}\"\n  }\n}\n", 6), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := NewLoader(Options{Environ: []string{"HOME=/root"}})
			src := c.src
			if c.name == "attributes" {
				for i := range 6 {
					src = strings.Replace(src, `smtp "c" {`, fmt.Sprintf(`smtp "c%d" {`, i), 1)
				}
			}
			_, diags := l.LoadSource("t.hcl", []byte(src))
			var budget []*hcl.Diagnostic
			for _, d := range diags {
				if d.Summary == "Expression too large" {
					budget = append(budget, d)
				}
			}
			if len(budget) == 0 {
				t.Fatalf("no budget error: %v", diags)
			}
			if len(budget) > 1 {
				t.Errorf("%d budget errors", len(budget))
			}
			rng := budget[0].Subject
			if rng == nil || rng.Filename != "t.hcl" {
				t.Fatalf("budget error at %v", rng)
			}
			if c.at != "" {
				if got := src[rng.Start.Byte:rng.End.Byte]; got != c.at && !strings.Contains(c.at, got) {
					t.Errorf("budget error at %q, want %q", got, c.at)
				}
			}
			var out bytes.Buffer
			if err := l.WriteDiagnostics(&out, diags, false, 100); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String(), "topsecret") {
				t.Errorf("the diagnostics quote the sensitive value:\n%s", out.String()[:min(out.Len(), 2000)])
			}
		})
	}
	// Eight copies of a 1 MiB variable are far within the budget.
	l := NewLoader(Options{Environ: []string{"HOME=/root"}})
	s, diags := l.LoadSource("t.hcl", []byte(check("  rcpt_to = [\"b@contoso.com\"]\n  message {\n    body = \"${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}\"\n  }\n")))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if n := len(s.Checks[0].Message.Body); n != 8*1024*1000 {
		t.Errorf("body of %d bytes", n)
	}
}

// TestEvalContextSuggestions checks that the context with the budget
// function still lets HCL suggest the function a misspelt name meant.
func TestEvalContextSuggestions(t *testing.T) {
	src := "endpoint \"e\" { host = \"127.0.0.1\" }\nsmtp \"c\" {\n  endpoint  = endpoint.e\n  mail_from = uper(\"a@contoso.com\")\n}\n"
	_, diags := NewLoader(Options{}).LoadSource("t.hcl", []byte(src))
	if !strings.Contains(diags.Error(), `Did you mean "upper"?`) {
		t.Errorf("no suggestion: %v", diags)
	}
}

// TestLongSensitiveValueInDiagnostic: a function error quotes its argument,
// which the loader masks. A long, repetitive sensitive value used to make
// that masking take over a minute (strings.Replacer's set-up); it must be
// masked, and quickly enough that this test is unremarkable.
func TestLongSensitiveValueInDiagnostic(t *testing.T) {
	secret := strings.Repeat("ab", 1<<18)
	src := "variable \"s\" {\n  sensitive = true\n  default = \"" + secret + "\"\n}\n" +
		"endpoint \"e\" {\n  host = \"127.0.0.1\"\n  port = tonumber(var.s)\n}\n"
	_, diags := NewLoader(Options{Environ: []string{}}).LoadSource("big.hcl", []byte(src))
	if !diags.HasErrors() {
		t.Fatal("tonumber of a non-number decoded without an error")
	}
	text := diags.Error()
	if strings.Contains(text, secret[:64]) {
		t.Fatal("the sensitive value appears in a diagnostic")
	}
	if !strings.Contains(text, "(sensitive value)") {
		t.Fatalf("diagnostic does not show the mask: %.300s", text)
	}
}
