package sandbox

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// sensitiveMark stands for the mark the decoder puts on the values of
// sensitive variables: the budget must keep marks.
const sensitiveMark = "sensitive"

// TestBudgetGuards checks that the guards AddBudgetGuards adds change no
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
			AddBudgetGuards(guarded)
			AddBudgetGuards(guarded)
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
			var budget Budget
			fns := map[string]function.Function{}
			budget.AddFunction(fns)
			ctx := &hcl.EvalContext{Variables: vars, Functions: fns}
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
	var b Budget
	s := cty.StringVal(strings.Repeat("x", 1<<20-16)) // 1 MiB with its 16 bytes of overhead
	for i := range maxEvalBytes >> 20 {
		if !b.Charge(s) {
			t.Fatalf("spent after %d MiB", i)
		}
	}
	if b.Charge(cty.True) {
		t.Errorf("not spent after %d bytes", b.used)
	}
	if b.Charge(cty.StringVal("")) {
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

// TestBudgetReport checks the errors of a spent budget: the guards' errors
// become one diagnostic, placed first and positioned at the guarded
// expression, the other diagnostics are kept in order, and a file gets one
// such diagnostic whichever way the budget was spent.
func TestBudgetReport(t *testing.T) {
	src := `[for i in range(2) : "${var.s}${i}"]`
	expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	AddBudgetGuards(expr)
	// 63 MiB are spent already: the first element (1 MiB, twice) goes over.
	mib := cty.StringVal(strings.Repeat("x", 1<<20-16))
	var b Budget
	for range 63 {
		b.Charge(mib)
	}
	if b.Spent() {
		t.Fatal("spent after 63 MiB")
	}
	fns := map[string]function.Function{"range": StandardFunctions()["range"]}
	b.AddFunction(fns)
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{"s": mib})},
		Functions: fns,
	}
	_, diags = expr.Value(ctx)
	if !b.Spent() {
		t.Fatal("the budget is not spent")
	}
	guardErrors := 0
	for _, d := range diags {
		if errors.Is(d.Extra.(hclsyntax.FunctionCallDiagExtra).FunctionCallError(), errBudget) {
			guardErrors++
		}
	}
	if guardErrors == 0 {
		t.Fatalf("no guard failed: %v", diags)
	}
	other := &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "other"}
	in := append(hcl.Diagnostics{other}, diags...)
	out := b.ReplaceGuardErrors(in, expr.Range())
	if len(out) != 2 || out[1] != other {
		t.Fatalf("got %v, want the budget error and the other diagnostic", out)
	}
	if in[0] != other || len(in) != 1+len(diags) {
		t.Error("the diagnostics given were modified")
	}
	d := out[0]
	if d.Severity != hcl.DiagError || d.Summary != "Expression too large" || d.Detail != "This suite's expressions "+
		"would build more than 64 MiB; here the limit was reached. A for-expression or a string that repeats a "+
		"large variable copies it each time: refer to the variable once instead." {
		t.Errorf("got %v %q %q", d.Severity, d.Summary, d.Detail)
	}
	if got := src[d.Subject.Start.Byte:d.Subject.End.Byte]; got != "var.s" && got != "i" && got != `"${var.s}${i}"` {
		t.Errorf("the error is at %q, not at a guarded expression", got)
	}
	if out := b.ReplaceGuardErrors(diags, expr.Range()); len(out) != 0 {
		t.Errorf("a second budget error: %v", out)
	}
	if b.Charge(cty.True) || len(b.Report(expr.Range())) != 0 {
		t.Error("the budget reports twice")
	}
	// A budget spent by Charge gets its error from Report, once.
	var c Budget
	rng := hcl.Range{Filename: "t.hcl", Start: hcl.Pos{Line: 2, Column: 3, Byte: 10}, End: hcl.Pos{Line: 2, Column: 5, Byte: 12}}
	if c.Charge(cty.ListVal(slicesRepeat(mib, 65))) {
		t.Fatal("65 MiB within the budget")
	}
	if r := c.Report(rng); len(r) != 1 || *r[0].Subject != rng || r[0].Summary != "Expression too large" {
		t.Errorf("got %v", r)
	}
	if r := c.Report(rng); r != nil {
		t.Errorf("a second report: %v", r)
	}
	// The guards' errors of a file whose budget was reported are dropped.
	if out := c.ReplaceGuardErrors(diags, expr.Range()); len(out) != 0 {
		t.Errorf("got %v", out)
	}
}
