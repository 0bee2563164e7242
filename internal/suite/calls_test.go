package suite

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestCallsFunctions: a file gets the function table when, and only when,
// an expression that is evaluated calls a function; a variable's type
// constraint looks like a call and is not one.
func TestCallsFunctions(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      bool
	}{
		{"no calls", `endpoint "e" { host = "127.0.0.1" }`, false},
		{"type constraint only", `variable "to" { type = list(string) }`, false},
		{"object type constraint", `variable "m" { type = map(object({ a = string })) }`, false},
		{"call in a default", `variable "to" {
  type    = list(string)
  default = split(",", "a,b")
}`, true},
		{"call in a validation", `variable "p" {
  validation {
    condition     = length(var.p) > 3
    error_message = "short"
  }
}`, true},
		{"call in a nested block", `smtp "c" {
  expect { rcpt = upper("250") }
}`, true},
		{"call in a template", `suite { name = "x-${lower("A")}" }`, true},
		{"a block named type", `smtp "c" { type = lower("A") }`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, diags := hclsyntax.ParseConfig([]byte(tc.src), "t.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if got := callsFunctions(f.Body.(*hclsyntax.Body)); got != tc.want {
				t.Errorf("callsFunctions = %v, want %v", got, tc.want)
			}
		})
	}
}
