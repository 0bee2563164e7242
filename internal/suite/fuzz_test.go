package suite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadSource feeds arbitrary text to the decoder: it must report
// problems as diagnostics, never panic, and always return a suite when it
// reports no error.
func FuzzLoadSource(f *testing.F) {
	// The hostile suites are seeds too: mutations of a bomb that the
	// limits stop must be stopped as well.
	var seeds []string
	for _, dir := range []string{"dir", "invalid", "valid", "hostile"} {
		paths, _ := filepath.Glob(filepath.Join("testdata", dir, "*.hcl"))
		seeds = append(seeds, paths...)
	}
	for _, path := range seeds {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte(`endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = ""
  rcpt_to   = [for i in range(3) : "u${i}@example.com"]
  expect { rcpt = ["250", 251, "2xx"] }
}`))
	f.Add([]byte(`variable "v" { type = list(string) default = [] validation { condition = length(var.v) == 0 error_message = "x" } }`))
	f.Fuzz(func(t *testing.T, src []byte) {
		l := NewLoader(Options{Environ: []string{}, Vars: []string{"v=1"}})
		s, diags := l.LoadSource(filepath.Join("testdata", "valid", "fuzz.hcl"), src)
		if !diags.HasErrors() && s == nil {
			t.Fatal("no suite and no error")
		}
		var out bytes.Buffer
		if err := l.WriteDiagnostics(&out, diags, false, 80); err != nil {
			t.Fatal(err)
		}
	})
}
