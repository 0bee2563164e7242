package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

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
	fns := StandardFunctions()
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
	if got := SafeNumberText(n.AsBigFloat()); got != "-1.500e+600000000" {
		t.Errorf("got %q", got)
	}
	if got := SafeNumberText(cty.NumberIntVal(65536).AsBigFloat()); got != "65536" {
		t.Errorf("got %q", got)
	}
}

// TestFunctionTables checks what each table holds: StandardFunctions
// neither file() nor env(), Functions both, env() failing outside variable
// defaults, and each table is the caller's own.
func TestFunctionTables(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "body.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	eval := func(fns map[string]function.Function, src string) (cty.Value, hcl.Diagnostics) {
		t.Helper()
		expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return expr.Value(&hcl.EvalContext{Functions: fns})
	}
	std := StandardFunctions()
	for _, name := range []string{"file", "env", budgetFunction} {
		if _, ok := std[name]; ok {
			t.Errorf("StandardFunctions holds %s", name)
		}
	}
	std["file"] = function.Function{}
	if _, ok := StandardFunctions()["file"]; ok {
		t.Error("StandardFunctions returns a shared table")
	}

	environ := map[string]string{"SMTP_PASSWORD": "s3cret"}
	defaults := Functions(dir, environ, true)
	if v, diags := eval(defaults, `"${file("body.txt")} ${env("SMTP_PASSWORD")}[${env("UNSET")}]"`); diags.HasErrors() ||
		v.AsString() != "hello s3cret[]" {
		t.Errorf("got %#v, %v", v, diags)
	}
	general := Functions(dir, environ, false)
	if _, diags := eval(general, `env("SMTP_PASSWORD")`); !strings.Contains(diags.Error(), "env() is only allowed in variable defaults") {
		t.Errorf("env() outside defaults: %v", diags)
	}
	if v, diags := eval(general, `upper(file("body.txt"))`); diags.HasErrors() || v.AsString() != "HELLO" {
		t.Errorf("got %#v, %v", v, diags)
	}
	if _, diags := eval(general, `file(".")`); !strings.Contains(diags.Error(), "cannot read "+dir+": is a directory") {
		t.Errorf("file(\".\"): %v", diags)
	}
	if err := os.WriteFile(filepath.Join(dir, "latin1.txt"), []byte{0xe9}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, diags := eval(general, `file("latin1.txt")`); !strings.Contains(diags.Error(), "latin1.txt is not valid UTF-8 text") {
		t.Errorf("file() of Latin-1: %v", diags)
	}
	general["extra"] = function.Function{}
	if _, ok := Functions(dir, environ, false)["extra"]; ok {
		t.Error("Functions returns a shared table")
	}
}

// TestCheckValue checks the limits on a value given from outside, and
// their wording.
func TestCheckValue(t *testing.T) {
	huge, err := cty.ParseNumberVal("1e400")
	if err != nil {
		t.Fatal(err)
	}
	many := make([]cty.Value, maxElements+1)
	for i := range many {
		many[i] = cty.StringVal("x")
	}
	long := func(c string) cty.Value { return cty.StringVal(strings.Repeat(c, maxStringBytes)) }
	cases := []struct {
		v    cty.Value
		want string
	}{
		{cty.StringVal("x@contoso.com"), ""},
		{cty.NumberIntVal(25), ""},
		{cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}), ""},
		{huge, "the value holds the number 1.000e+400, but numbers are limited to the range of a float64, about 1.8e308 in magnitude"},
		{cty.StringVal("-1e400"), "the value holds the number -1.000e+400, but numbers are limited"},
		{cty.StringVal(strings.Repeat("x", maxStringBytes+1)), "the value holds a string longer than 1 MiB, the limit"},
		{cty.ListVal(many), "the value holds more than 10000 values, the limit"},
		{cty.ListVal([]cty.Value{long("x"), long("y"), long("z"), long("w")}), "the value is larger than 4 MiB, the limit"},
	}
	for i, c := range cases {
		err := CheckValue(c.v, "value")
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%d: %v", i, err)
		case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)):
			t.Errorf("%d: %v, want %q", i, err, c.want)
		}
	}
}
