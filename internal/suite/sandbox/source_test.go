package sandbox

import (
	"bytes"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
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
	refused := map[string]string{
		large: "larger than 1 KiB",
		dir:   "is a directory",
	}
	// A fifo and /dev/zero, where the system has them.
	maps.Copy(refused, specialFiles(t, dir))
	if b, err := readRegularFile(small, 1024); err != nil || string(b) != "x" {
		t.Errorf("small: %q, %v", b, err)
	}
	for path, want := range refused {
		if _, err := readRegularFile(path, 1024); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	// ReadFile is readRegularFile with the limit of 1 MiB.
	limit := filepath.Join(dir, "limit")
	if err := os.WriteFile(limit, make([]byte, maxReadBytes), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(limit); err != nil || len(b) != maxReadBytes {
		t.Errorf("a file of 1 MiB: %d bytes, %v", len(b), err)
	}
	if err := os.WriteFile(limit, make([]byte, maxReadBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(limit); err == nil || err.Error() != "is larger than 1 MiB" {
		t.Errorf("a file of 1 MiB and a byte: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); err == nil || strings.Contains(err.Error(), dir) {
		t.Errorf("a missing file: %v, want an error that does not repeat the path", err)
	}
}

// TestReadSource reads at most one byte beyond MaxSourceBytes, which
// CheckSource then reports at the start of the file.
func TestReadSource(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 10, MaxSourceBytes, MaxSourceBytes + 1, 3 * MaxSourceBytes} {
		path := filepath.Join(dir, "s.hcl")
		if err := os.WriteFile(path, bytes.Repeat([]byte("#"), n), 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := ReadSource(path)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if want := min(n, MaxSourceBytes+1); len(src) != want {
			t.Errorf("%d bytes: read %d, want %d", n, len(src), want)
		}
		diags := CheckSource(src, path, "suite file")
		if n <= MaxSourceBytes {
			if diags.HasErrors() {
				t.Errorf("%d bytes: %v", n, diags)
			}
			continue
		}
		if len(diags) != 1 || diags[0].Summary != "File too large" ||
			diags[0].Detail != "The suite file is larger than 1 MiB, the limit for one file; split it, or read a long message body with file()." ||
			*diags[0].Subject != (hcl.Range{Filename: path, Start: hcl.InitialPos, End: hcl.InitialPos}) {
			t.Errorf("%d bytes: %#v", n, diags)
		}
	}
	if _, err := ReadSource(filepath.Join(dir, "missing.hcl")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

// TestCheckSource checks the one diagnostic CheckSource returns: its
// summary, and its position, in lines and runes, on the character where
// the limit is exceeded.
func TestCheckSource(t *testing.T) {
	cases := []struct {
		name, src, summary string
		line, column, byte int
	}{
		// The 257th bracket, after a line of 5 bytes and 4 runes.
		{"brackets", "# é\na = " + strings.Repeat("[", maxNesting+1), "Nesting too deep", 2, 261, 265},
		// The quote of the 128th ${" makes 257 levels, with the first
		// quote; é is two bytes.
		{"interpolations", "a = \"é" + strings.Repeat("${\"", 200), "Nesting too deep", 1, 390, 390},
		// The 1001st operator.
		{"operators", "a = " + strings.Repeat("!", maxExprCost+1) + "x", "Expression too complex", 1, 1005, 1004},
		// 256 levels of brackets, then the 745th operator on the next
		// line, after two spaces and é.
		{"a multi-byte rune", "a = " + strings.Repeat("[", maxNesting) + "\n  é" + strings.Repeat("+", maxExprCost), "Expression too complex", 2, 748, 1009},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			diags := CheckSource([]byte(c.src), "t.hcl", "suite file")
			if len(diags) != 1 {
				t.Fatalf("%d diagnostics: %v", len(diags), diags)
			}
			d := diags[0]
			if d.Severity != hcl.DiagError || d.Summary != c.summary {
				t.Errorf("got %v %q, want an error %q", d.Severity, d.Summary, c.summary)
			}
			got := d.Subject.Start
			if d.Subject.Filename != "t.hcl" || got.Line != c.line || got.Column != c.column || got.Byte != c.byte {
				t.Errorf("at %s:%d:%d (byte %d), want t.hcl:%d:%d (byte %d)",
					d.Subject.Filename, got.Line, got.Column, got.Byte, c.line, c.column, c.byte)
			}
			if end := d.Subject.End; end.Line != got.Line || end.Column != got.Column+1 || end.Byte <= got.Byte {
				t.Errorf("the range %v does not cover one character", d.Subject)
			}
		})
	}
}

// TestReadSourceRefusesSpecialFiles: a suite file or -var-file is read
// only from a regular file, as ReadFile reads: a FIFO would block the
// loader until someone writes to it, /dev/zero would never end.
func TestReadSourceRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	refused := map[string]string{dir: "is a directory"}
	maps.Copy(refused, specialFiles(t, dir))
	for path, want := range refused {
		if _, err := ReadSource(path); err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want %q without the path", path, err, want)
		}
	}
}
