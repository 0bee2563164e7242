package suite

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/invalid")

// optionsFromHeader reads the options a broken suite is loaded with from
// its leading comment lines:
//
//	# -var name=value
//	# -var-file path     (relative to the suite's directory)
//	# env KEY=value
func optionsFromHeader(t *testing.T, path string) Options {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opts := Options{Environ: []string{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "#") {
			break
		}
		line = strings.TrimSpace(strings.TrimPrefix(line, "#"))
		switch {
		case strings.HasPrefix(line, "-var-file "):
			opts.VarFiles = append(opts.VarFiles, filepath.Join(filepath.Dir(path), strings.TrimPrefix(line, "-var-file ")))
		case strings.HasPrefix(line, "-var "):
			opts.Vars = append(opts.Vars, strings.TrimPrefix(line, "-var "))
		case strings.HasPrefix(line, "env "):
			opts.Environ = append(opts.Environ, strings.TrimPrefix(line, "env "))
		}
	}
	return opts
}

// TestInvalidSuites loads every broken suite under testdata/invalid and
// compares its rendered diagnostics with the golden file next to it.
func TestInvalidSuites(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 18 {
		t.Fatalf("found %d broken suites, want at least 18", len(paths))
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".hcl")
		t.Run(name, func(t *testing.T) {
			l := NewLoader(optionsFromHeader(t, path))
			_, diags := l.LoadFile(path)
			if !diags.HasErrors() {
				t.Fatalf("no error for a broken suite; diagnostics: %v", diags)
			}
			for _, d := range diags {
				if d.Subject == nil && !strings.Contains(d.Summary, "undeclared variable") &&
					!strings.Contains(d.Detail, "-var") {
					t.Errorf("diagnostic %q has no position", d.Summary)
				}
				if d.Severity == hcl.DiagError && d.Summary == "Call to unknown function" {
					t.Errorf("generic HCL diagnostic leaked: %s", d.Error())
				}
			}
			var got bytes.Buffer
			if err := l.WriteDiagnostics(&got, diags, false, 80); err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(path, ".hcl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestInvalidSuites -update to create it)", err)
			}
			if got.String() != string(want) {
				t.Errorf("diagnostics differ from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", golden, got.String(), want)
			}
		})
	}
}
