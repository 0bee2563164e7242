package sandbox

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// maxTreeDepth bounds the depth of the syntax tree of a source that
// CheckSource accepts, as treeDepth measures it. The parser recurses once
// or more per level of that tree, and CheckSource is meant to bound the
// recursion; this bound, independent of how CheckSource counts, is what
// the fuzz target holds it to. The deepest trees per unit of cost that
// TestTreeDepthBound knows are those of %{for} directives: four levels
// each (the template, its join, the for-expression and its body); blocks
// take three levels per level of nesting, and the rest one or two per
// bracket or operator. The 16 levels more cover the file, its attribute
// and the template around the directives.
const maxTreeDepth = 4*maxExprCost + 16

// depthWalker measures the depth of a syntax tree.
type depthWalker struct{ depth, max int }

func (w *depthWalker) Enter(hclsyntax.Node) hcl.Diagnostics {
	w.depth++
	w.max = max(w.max, w.depth)
	return nil
}

func (w *depthWalker) Exit(hclsyntax.Node) hcl.Diagnostics {
	w.depth--
	return nil
}

// treeDepth returns the depth of the syntax tree under n.
func treeDepth(n hclsyntax.Node) int {
	w := &depthWalker{}
	hclsyntax.Walk(n, w)
	return w.max
}

// deepShapes build, for a level n, sources of each shape the scan must
// bound: brackets, blocks, strings and interpolations, operator chains,
// template directives and their combinations. Each nests n levels (or
// holds n operators).
var deepShapes = map[string]func(n int) string{
	"brackets":       func(n int) string { return "a = " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n" },
	"blocks":         func(n int) string { return strings.Repeat("b {\n", n) + strings.Repeat("}\n", n) },
	"objects":        func(n int) string { return "a = " + strings.Repeat("{a = ", n) + "1" + strings.Repeat("}", n) + "\n" },
	"object keys":    func(n int) string { return "a = " + strings.Repeat("{(", n) + "k" + strings.Repeat(") = 1}", n) + "\n" },
	"interpolations": func(n int) string { return "a = " + strings.Repeat("\"${", n) + "1" + strings.Repeat("}\"", n) + "\n" },
	"heredocs": func(n int) string {
		return "a = " + strings.Repeat("<<EOT\n${", n) + "1" + strings.Repeat("}\nEOT\n", n)
	},
	"calls":               func(n int) string { return "a = " + strings.Repeat("f(", n) + "1" + strings.Repeat(")", n) + "\n" },
	"parentheses":         func(n int) string { return "a = " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n) + "\n" },
	"relative traversals": func(n int) string { return "a = " + strings.Repeat("(", n) + "x" + strings.Repeat(").a", n) + "\n" },
	"nested indexes":      func(n int) string { return "a = " + strings.Repeat("x[", n) + "0" + strings.Repeat("]", n) + "\n" },
	"for-expressions": func(n int) string {
		return "a = " + strings.Repeat("[for x in ", n) + "y" + strings.Repeat(": x]", n) + "\n"
	},
	"nested conditionals": func(n int) string {
		return "a = " + strings.Repeat("(x ? ", n) + "1" + strings.Repeat(" : 2)", n) + "\n"
	},
	"nested sums":          func(n int) string { return "a = " + strings.Repeat("(1+", n) + "1" + strings.Repeat(")", n) + "\n" },
	"brackets and unaries": func(n int) string { return "a = " + strings.Repeat("[!-", n) + "1" + strings.Repeat("]", n) + "\n" },
	"negations":            func(n int) string { return "a = " + strings.Repeat("!", n) + "x\n" },
	"minus signs":          func(n int) string { return "a = " + strings.Repeat("- ", n) + "1\n" },
	"sums":                 func(n int) string { return "a = " + strings.Repeat("1+", n) + "1\n" },
	"conjunctions":         func(n int) string { return "a = " + strings.Repeat("x && ", n) + "y\n" },
	"comparisons":          func(n int) string { return "a = " + strings.Repeat("x == ", n) + "y\n" },
	"conditionals":         func(n int) string { return "a = " + strings.Repeat("x ? 1 : ", n) + "2\n" },
	"splats":               func(n int) string { return "a = x" + strings.Repeat("[*]", n) + "\n" },
	"splats and attributes": func(n int) string {
		return "a = x" + strings.Repeat("[*].a", n) + "\n"
	},
	"if directives": func(n int) string {
		return "a = <<EOT\n" + strings.Repeat("%{if x}", n) + strings.Repeat("%{endif}", n) + "\nEOT\n"
	},
	"for directives": func(n int) string {
		return "a = \"" + strings.Repeat("%{for x in y}", n) + strings.Repeat("%{endfor}", n) + "\"\n"
	},
	// A newline or a comment between %{ and the keyword still opens a
	// directive.
	"directives after a newline": func(n int) string {
		return "a = <<EOT\n" + strings.Repeat("%{\nif x}", n) + strings.Repeat("%{endif}", n) + "\nEOT\n"
	},
	"directives after a comment": func(n int) string {
		return "a = <<EOT\n" + strings.Repeat("%{ /* c */ for x in y}", n) + strings.Repeat("%{endfor}", n) + "\nEOT\n"
	},
	"blocks then directives": func(n int) string {
		return strings.Repeat("b {\n", 200) + "a = \"" + strings.Repeat("%{ for x in y }", n) + strings.Repeat("%{ endfor }", n) + "\"\n" + strings.Repeat("}\n", 200)
	},
}

// TestTreeDepthBound checks maxTreeDepth, the bound the fuzz target holds
// CheckSource to, against the shapes that nest deepest: CheckSource
// accepts each shape up to some level, the syntax tree of the deepest one
// accepted is within the bound, and the next level is refused.
func TestTreeDepthBound(t *testing.T) {
	for name, shape := range deepShapes {
		t.Run(name, func(t *testing.T) {
			// The largest level accepted: levels up to 2*maxExprCost
			// are tried, one more than any shape may reach.
			lo, hi := 0, 2*maxExprCost
			for lo < hi {
				mid := (lo + hi + 1) / 2
				if CheckSource([]byte(shape(mid)), "t.hcl", "suite file").HasErrors() {
					hi = mid - 1
				} else {
					lo = mid
				}
			}
			if lo == 0 || lo == 2*maxExprCost {
				t.Fatalf("CheckSource accepts %d levels", lo)
			}
			if !CheckSource([]byte(shape(lo+1)), "t.hcl", "suite file").HasErrors() {
				t.Errorf("level %d accepted after %d refused", lo+1, lo)
			}
			file, diags := hclsyntax.ParseConfig([]byte(shape(lo)), "t.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatalf("level %d: %v", lo, diags)
			}
			depth := treeDepth(file.Body.(*hclsyntax.Body))
			if depth > maxTreeDepth {
				t.Errorf("level %d accepted, with a syntax tree %d deep, above %d", lo, depth, maxTreeDepth)
			}
			t.Logf("up to level %d accepted, syntax tree %d deep", lo, depth)
		})
	}
}

// validSuites returns the valid suites of the decoder's tests: they must
// pass the checks, and seed the fuzz target.
func validSuites(tb testing.TB) map[string][]byte {
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "valid", "*.hcl"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(paths) == 0 {
		tb.Fatal("no valid suite in ../testdata/valid")
	}
	out := map[string][]byte{}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out[p] = src
	}
	return out
}

// TestValidSuitesPass runs the checks over the valid suites: none may
// report anything.
func TestValidSuitesPass(t *testing.T) {
	for path, src := range validSuites(t) {
		if diags := CheckSource(src, path, "suite file"); len(diags) > 0 {
			t.Errorf("CheckSource: %v", diags)
			continue
		}
		file, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", path, diags)
		}
		if diags := CheckSyntax(file.Body.(*hclsyntax.Body)); len(diags) > 0 {
			t.Errorf("CheckSyntax: %v", diags)
		}
	}
}

// syntaxLimitSources returns sources that just exceed each limit
// CheckSyntax checks.
func syntaxLimitSources() []string {
	var templates strings.Builder
	for i, left := 0, maxFileTemplateParts+1; left > 0; i++ {
		n := min(left, maxTemplateParts)
		fmt.Fprintf(&templates, "a%d = \"%s\"\n", i, strings.Repeat("${x}", n))
		left -= n
	}
	return []string{
		"a = [" + strings.Repeat("1, ", maxElements) + "1]\n",
		"a = {" + strings.Repeat("k = 1, ", maxElements) + "k = 1}\n",
		"a = 1e400\n",
		"a = 1e-400\n",
		"a = -1e309\n",
		"a = " + strings.Repeat("2 * ", maxMultiplications) + "2 / 2\n",
		"a = \"" + strings.Repeat("${x}", maxTemplateParts+1) + "\"\n",
		templates.String(),
		"a = [for x in y : [for z in x : z]]\n",
		"a = [for x in [for z in y : z] : x]\n",
		"a = [for x in y : upper(x)]\n",
		"a = [for x in [var.s, var.s] : x]\n",
		"a = [for x in y : \"" + strings.Repeat("x", maxForBodyBytes-2) + "\" if x != \"\"]\n",
	}
}

// TestSyntaxLimits checks that CheckSyntax refuses each source of
// syntaxLimitSources with one diagnostic, and that syntaxLimitExceeded,
// which the fuzz target holds CheckSyntax to, sees the limit exceeded.
func TestSyntaxLimits(t *testing.T) {
	for _, src := range syntaxLimitSources() {
		file, diags := hclsyntax.ParseConfig([]byte(src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%.80q: %v", src, diags)
		}
		body := file.Body.(*hclsyntax.Body)
		if diags := CheckSyntax(body); len(diags) != 1 {
			t.Errorf("%.80q: %d diagnostics, want 1: %v", src, len(diags), diags)
		}
		if syntaxLimitExceeded(body) == "" {
			t.Errorf("%.80q: the fuzz target's count of the limits finds nothing", src)
		}
	}
}

// FuzzCheckSource feeds arbitrary text to the checks that run before
// anything is evaluated: CheckSource, the parser, CheckSyntax and
// AddBudgetGuards. None may panic; each diagnostic is an error positioned
// inside the source; a source CheckSource accepts has a syntax tree within
// maxTreeDepth; and a tree CheckSyntax accepts is within the limits it
// checks, counted again by syntaxLimitExceeded. The seeds are the suites of the decoder's
// tests, valid (each must pass), invalid and hostile, the deep shapes of
// TestTreeDepthBound below their limits, and sources just beyond each
// limit of CheckSyntax.
func FuzzCheckSource(f *testing.F) {
	for path, src := range validSuites(f) {
		if diags := CheckSource(src, path, "suite file"); diags.HasErrors() {
			f.Fatalf("the valid suite %s is refused: %v", path, diags)
		}
		f.Add(src)
	}
	for _, dir := range []string{"invalid", "hostile", "dir"} {
		paths, _ := filepath.Glob(filepath.Join("..", "testdata", dir, "*.hcl"))
		for _, p := range paths {
			src, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	// The deep shapes below their limits; TestTreeDepthBound takes them
	// beyond.
	for _, shape := range deepShapes {
		f.Add([]byte(shape(8)))
		f.Add([]byte(shape(maxNesting - 1)))
	}
	// The limits of CheckSyntax just exceeded, but for the large sources
	// (TestSyntaxLimits has them all), which would make the fuzzer slow.
	for _, src := range syntaxLimitSources() {
		if len(src) <= 16<<10 {
			f.Add([]byte(src))
		}
	}
	f.Add([]byte("a = <<-EOT\n  ${x}\n  EOT\nb = \"$${x}%%{y}\"\n# [[[\n/* ((( */\nc = 1.5e-3 * 2 / 4\n"))
	f.Add([]byte("a = [for i, r in var.l : \"${r}@${var.d}\" if i > 0]\nb = {for k, v in var.m : k => upper(v)}\n"))
	f.Fuzz(fuzzCheckSource)
}

// fuzzCheckSource is the body of FuzzCheckSource.
func fuzzCheckSource(t *testing.T, src []byte) {
	const filename = "fuzz.hcl"
	diags := CheckSource(src, filename, "suite file")
	if len(diags) > 1 {
		t.Fatalf("CheckSource returned %d diagnostics", len(diags))
	}
	if len(diags) == 1 {
		d := diags[0]
		checkPositioned(t, d, src, filename)
		if d.Summary == "File too large" {
			if len(src) <= MaxSourceBytes {
				t.Fatalf("a source of %d bytes is too large", len(src))
			}
			return
		}
		// The line and column say where the byte offset is.
		want := hcl.Pos{Line: 1, Column: 1, Byte: d.Subject.Start.Byte}
		for _, r := range string(src[:want.Byte]) {
			if r == '\n' {
				want.Line++
				want.Column = 1
			} else {
				want.Column++
			}
		}
		if d.Subject.Start != want {
			t.Fatalf("diagnostic at %#v, want %#v", d.Subject.Start, want)
		}
		return
	}

	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if file == nil {
		return
	}
	body := file.Body.(*hclsyntax.Body)
	if depth := treeDepth(body); depth > maxTreeDepth {
		t.Fatalf("CheckSource accepted a source whose syntax tree is %d levels deep, above %d", depth, maxTreeDepth)
	}
	if diags.HasErrors() {
		return // the decoder checks no further
	}
	diags = CheckSyntax(body)
	for _, d := range diags {
		checkPositioned(t, d, src, filename)
	}
	if exceeded := syntaxLimitExceeded(body); !diags.HasErrors() && exceeded != "" {
		t.Fatalf("CheckSyntax accepted %s", exceeded)
	}
	// Guarding an expression again adds no guard, wherever it is done:
	// guard counts the guards after guarding every attribute.
	guard := func() int {
		guards := 0
		hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			switch n := n.(type) {
			case *hclsyntax.Attribute:
				AddBudgetGuards(n.Expr)
			case *hclsyntax.FunctionCallExpr:
				if n.Name == budgetFunction {
					guards++
				}
			}
			return nil
		})
		return guards
	}
	guard()
	if once, twice := guard(), guard(); once != twice {
		t.Fatalf("%d guards after guarding once, %d after twice", once, twice)
	}
}

// checkPositioned fails unless d is an error positioned in src.
func checkPositioned(t *testing.T, d *hcl.Diagnostic, src []byte, filename string) {
	t.Helper()
	if d.Severity != hcl.DiagError || d.Summary == "" || d.Detail == "" {
		t.Fatalf("diagnostic %v %q %q", d.Severity, d.Summary, d.Detail)
	}
	s := d.Subject
	if s == nil || s.Filename != filename || s.Start.Line < 1 || s.Start.Column < 1 ||
		s.Start.Byte < 0 || s.Start.Byte > s.End.Byte || s.End.Byte > len(src) {
		t.Fatalf("diagnostic %q not positioned in the %d bytes of the source: %#v", d.Summary, len(src), s)
	}
	if s.End.Byte > s.Start.Byte && !utf8.Valid(src[s.Start.Byte:s.End.Byte]) && utf8.Valid(src) {
		t.Fatalf("diagnostic %q cuts a character: %#v", d.Summary, s)
	}
}

// syntaxLimitExceeded counts again, in a tree, what CheckSyntax limits:
// number literals, elements of lists and maps, multiplications and
// divisions, interpolations and directives in templates, and the
// for-expressions it refuses. It says which limit is exceeded, or returns
// "".
func syntaxLimitExceeded(body *hclsyntax.Body) string {
	var exceeded []string
	mults, parts := 0, 0
	hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		switch e := n.(type) {
		case *hclsyntax.LiteralValueExpr:
			if e.Val.Type() == cty.Number && e.Val.IsKnown() && !e.Val.IsNull() {
				bf := e.Val.AsBigFloat()
				if f, _ := bf.Float64(); math.IsInf(f, 0) || f == 0 && bf.Sign() != 0 {
					exceeded = append(exceeded, "the number "+SafeNumberText(bf))
				}
			}
		case *hclsyntax.TupleConsExpr:
			if len(e.Exprs) > maxElements {
				exceeded = append(exceeded, fmt.Sprintf("a list of %d elements", len(e.Exprs)))
			}
		case *hclsyntax.ObjectConsExpr:
			if len(e.Items) > maxElements {
				exceeded = append(exceeded, fmt.Sprintf("a map of %d elements", len(e.Items)))
			}
		case *hclsyntax.BinaryOpExpr:
			if e.Op == hclsyntax.OpMultiply || e.Op == hclsyntax.OpDivide {
				mults++
			}
		case *hclsyntax.TemplateExpr:
			n := 0
			for _, p := range e.Parts {
				if _, lit := p.(*hclsyntax.LiteralValueExpr); !lit {
					n++
				}
			}
			if n > maxTemplateParts {
				exceeded = append(exceeded, fmt.Sprintf("a template of %d parts", n))
			}
			parts += n
		case *hclsyntax.ForExpr:
			size := 0
			for _, x := range []hclsyntax.Expression{e.KeyExpr, e.ValExpr, e.CondExpr} {
				if x == nil {
					continue
				}
				r := x.Range()
				size += r.End.Byte - r.Start.Byte
				hclsyntax.VisitAll(x, func(n hclsyntax.Node) hcl.Diagnostics {
					switch n.(type) {
					case *hclsyntax.ForExpr, *hclsyntax.FunctionCallExpr:
						exceeded = append(exceeded, fmt.Sprintf("a for-expression whose body holds a %T", n))
					}
					return nil
				})
			}
			if size > maxForBodyBytes {
				exceeded = append(exceeded, fmt.Sprintf("a for-expression whose body is %d bytes", size))
			}
			hclsyntax.VisitAll(e.CollExpr, func(n hclsyntax.Node) hcl.Diagnostics {
				switch n := n.(type) {
				case *hclsyntax.ForExpr:
					exceeded = append(exceeded, "a for-expression in the collection of another")
				case *hclsyntax.TupleConsExpr, *hclsyntax.ObjectConsExpr:
					if len(n.(hclsyntax.Expression).Variables()) > 0 {
						exceeded = append(exceeded, "a list or map with references in the collection of a for-expression")
					}
				}
				return nil
			})
		}
		return nil
	})
	if mults > maxMultiplications {
		exceeded = append(exceeded, fmt.Sprintf("%d multiplications", mults))
	}
	if parts > maxFileTemplateParts {
		exceeded = append(exceeded, fmt.Sprintf("%d template parts", parts))
	}
	return strings.Join(exceeded, ", ")
}
