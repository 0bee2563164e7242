package suite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// confinedTree makes root/suites/s.hcl, which reads the file named in it
// with file(), root/suites/bodies/in.txt, root/outside.txt and a symlink
// root/suites/bodies/link.txt to root/outside.txt.
func confinedTree(t *testing.T, path string) (root, suitePath string) {
	t.Helper()
	root = t.TempDir()
	bodies := filepath.Join(root, "suites", "bodies")
	if err := os.MkdirAll(bodies, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		filepath.Join(bodies, "in.txt"):    "inside the tree",
		filepath.Join(root, "outside.txt"): "outside the tree",
	} {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, "outside.txt"), filepath.Join(bodies, "link.txt")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	suitePath = filepath.Join(root, "suites", "s.hcl")
	src := "endpoint \"e\" { host = \"127.0.0.1\" }\nsmtp \"m\" {\n  endpoint  = endpoint.e\n  mail_from = \"a@example.com\"\n" +
		"  rcpt_to   = [\"b@example.com\"]\n  message {\n    body = file(\"" + filepath.ToSlash(path) + "\")\n  }\n}\n"
	if err := os.WriteFile(suitePath, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, suitePath
}

// TestFileFunctionStaysInTheSuiteTree: file() reads inside the suite
// file's directory tree only, after resolving symlinks: not ../x, not an
// absolute path elsewhere, not a symlink that leads out of the tree.
func TestFileFunctionStaysInTheSuiteTree(t *testing.T) {
	for _, tc := range []struct {
		path, want string
	}{
		{"bodies/in.txt", ""},
		{"../outside.txt", "outside"},
		{"bodies/link.txt", "outside"},
		{"/etc/hostname", "outside"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			_, suitePath := confinedTree(t, tc.path)
			l := NewLoader(Options{Environ: []string{}})
			s, diags := l.LoadFile(suitePath)
			if tc.want == "" {
				if diags.HasErrors() || s.Checks[0].Message.Body != "inside the tree" {
					t.Fatalf("diags %v", diags)
				}
				return
			}
			text := diags.Error()
			if !diags.HasErrors() || !strings.Contains(text, tc.want) || !strings.Contains(text, "--allow-read") {
				t.Errorf("want a refusal that names --allow-read, got %v", diags)
			}
			if strings.Contains(text, "outside the tree\"") {
				t.Errorf("the content leaked: %s", text)
			}
		})
	}
}
