package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestPolicy is the one table of what every output shows escaped: C0 and
// C1 controls, DEL, bidirectional overrides and isolates, zero-width and
// other format characters, line and paragraph separators, the XML-invalid
// noncharacters and bytes that are not UTF-8. Tabs, U+FFFD and ordinary
// text of every script are kept.
func TestPolicy(t *testing.T) {
	for _, tc := range []struct {
		in, line, block string
	}{
		{"250 OK", "250 OK", "250 OK"},
		{"tab\tkept", "tab\tkept", "tab\tkept"},
		{"Grüße ✓ 😀 日本", "Grüße ✓ 😀 日本", "Grüße ✓ 😀 日本"},
		{"\x1b[2J\x1b[H", `\x1b[2J\x1b[H`, `\x1b[2J\x1b[H`},
		{"bell\a nul\x00", `bell\x07 nul\x00`, `bell\x07 nul\x00`},
		{"line\r\nnext", `line\r\nnext`, "line\\r\nnext"},
		{"del\x7f", `del\x7f`, `del\x7f`},
		{"csi\u009b31m nel\u0085", `csi\u009b31m nel\u0085`, `csi\u009b31m nel\u0085`},
		{"admin\u202etxt.exe", `admin\u202etxt.exe`, `admin\u202etxt.exe`},
		{"iso\u2066late\u2069 lrm\u200e alm\u061c", `iso\u2066late\u2069 lrm\u200e alm\u061c`, `iso\u2066late\u2069 lrm\u200e alm\u061c`},
		{"zero\u200bwidth\u200d join\ufeff", `zero\u200bwidth\u200d join\ufeff`, `zero\u200bwidth\u200d join\ufeff`},
		{"sep\u2028x\u2029", `sep\u2028x\u2029`, `sep\u2028x\u2029`},
		{"nonchar\uffff\ufffe\ufdd0", `nonchar\uffff\ufffe\ufdd0`, `nonchar\uffff\ufffe\ufdd0`},
		{"plane\U0001fffe", `plane\U0001fffe`, `plane\U0001fffe`},
		{"tag\U000e0041", `tag\U000e0041`, `tag\U000e0041`},
		{"bad\xff\xfeutf8", `bad\xff\xfeutf8`, `bad\xff\xfeutf8`},
		{"surrogate\xed\xa0\x80", `surrogate\xed\xa0\x80`, `surrogate\xed\xa0\x80`},
		{"\ufffd stays", "\ufffd stays", "\ufffd stays"},
		{"<script>&]]>", "<script>&]]>", "<script>&]]>"},
	} {
		if got := Line(tc.in); got != tc.line {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.line)
		}
		if got := Block(tc.in); got != tc.block {
			t.Errorf("Block(%q) = %q, want %q", tc.in, got, tc.block)
		}
	}
}

// TestEveryControlEscaped walks every C0 and C1 control and every format
// character of the Basic Multilingual Plane: none survives, and what comes
// out is valid UTF-8 that XML 1.0 allows.
func TestEveryControlEscaped(t *testing.T) {
	for r := rune(0); r <= 0xffff; r++ {
		if r >= 0xd800 && r <= 0xdfff {
			continue
		}
		if !Unsafe(r) {
			continue
		}
		in := "a" + string(r) + "b"
		for name, out := range map[string]string{"Line": Line(in), "Block": Block(in)} {
			if name == "Block" && r == '\n' {
				continue
			}
			if strings.ContainsRune(out, r) || !utf8.ValidString(out) || !xmlAllowed(out) {
				t.Fatalf("%s(%q) = %q", name, in, out)
			}
		}
	}
	for _, r := range []rune{'\t', ' ', 'A', 'é', '\ufffd', '€'} {
		if Unsafe(r) {
			t.Errorf("Unsafe(%q)", r)
		}
	}
}

func xmlAllowed(s string) bool {
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20, r >= 0xd800 && r <= 0xdfff, r == 0xfffe, r == 0xffff:
			return false
		}
	}
	return true
}

func TestSegments(t *testing.T) {
	type seg struct {
		text    string
		escaped bool
	}
	var got []seg
	Segments("a\x1bb\n\u202e", true, func(text string, escaped bool) { got = append(got, seg{text, escaped}) })
	want := []seg{{"a", false}, {`\x1b`, true}, {"b\n", false}, {`\u202e`, true}}
	if len(got) != len(want) {
		t.Fatalf("segments %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("segment %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestASCIIFastPath: the shortcut clean takes for ASCII agrees with Unsafe.
func TestASCIIFastPath(t *testing.T) {
	for r := rune(0); r < 0x80; r++ {
		for _, keepNewline := range []bool{false, true} {
			want := !Unsafe(r) || (keepNewline && r == '\n')
			if got := clean("a"+string(r)+"b", keepNewline); got != want {
				t.Errorf("clean(%q, %v) = %v, want %v", r, keepNewline, got, want)
			}
		}
	}
}
