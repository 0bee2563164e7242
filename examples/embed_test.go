package examples

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/smtpdiag/smtpdiag/internal/pki"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// TestDemoSuitesDecode loads every embedded demo suite with the variables
// `smtpdiag demo` sets and checks the promises the demo makes: no check
// sends a message, and exactly the checks labelled EXPECTED FAILURE are
// meant to fail.
func TestDemoSuitesDecode(t *testing.T) {
	ca, err := pki.NewCA("examples test CA")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string][]string{
		"demo/m365-submission.hcl": {"submission_host=127.0.0.1", "submission_port=2587", "ca_file=" + caFile},
		"demo/m365-mx.hcl":         {"mx_host=127.0.0.1", "mx_port=2525", "ca_file=" + caFile},
	}

	names, err := fs.Glob(Demo, "demo/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != len(vars) {
		t.Fatalf("embedded suites %v, want %d", names, len(vars))
	}
	expectedFailures := 0
	for _, name := range names {
		src, err := fs.ReadFile(Demo, name)
		if err != nil {
			t.Fatal(err)
		}
		loader := suite.NewLoader(suite.Options{Vars: vars[name], Environ: []string{}})
		s, diags := loader.LoadSource(path.Join("examples", name), src)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", name, diags.Error())
		}
		if len(s.Checks) == 0 {
			t.Errorf("%s has no checks", name)
		}
		for _, c := range s.Checks {
			if c.Message != nil {
				t.Errorf("%s: check %q has a message block; the demo must never send DATA", name, c.Label)
			}
			if c.Expect == nil {
				t.Errorf("%s: check %q has no expect block", name, c.Label)
			}
			if strings.HasPrefix(c.Label, "EXPECTED FAILURE") {
				expectedFailures++
			}
			if c.Endpoint == nil || c.Endpoint.Host != "127.0.0.1" || c.Endpoint.CAFile == "" {
				t.Errorf("%s: check %q does not use the simulator's address and CA: %+v", name, c.Label, c.Endpoint)
			}
		}
		for _, secret := range []string{"demo-password", "demo-token"} {
			if strings.Contains(string(src), secret) && !slices.Contains(s.Sensitive, secret) {
				t.Errorf("%s: %q is not masked as sensitive", name, secret)
			}
		}
	}
	if expectedFailures != 1 {
		t.Errorf("%d checks are labelled EXPECTED FAILURE, want 1", expectedFailures)
	}
}
