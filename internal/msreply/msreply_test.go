package msreply

import "testing"

func TestBDATChunkSize(t *testing.T) {
	tests := []struct {
		arg  string
		size int64
		ok   bool
	}{
		{"100", 100, true},
		{"0 LAST", 0, true},
		{"42 last", 42, true},
		{"4294967295", 4294967295, true},
		{"4294967296", 0, false}, // go-smtp parses chunk sizes as 32-bit
		{"+5", 0, false},
		{"0x10", 0, false},
		{"1_000", 0, false},
		{"-1", 0, false},
		{"", 0, false},
		{"10 NOTLAST", 0, false},
		{"10 LAST extra", 0, false},
	}
	for _, tc := range tests {
		size, ok := BDATChunkSize(tc.arg)
		if size != tc.size || ok != tc.ok {
			t.Errorf("BDATChunkSize(%q) = %d, %v; want %d, %v", tc.arg, size, ok, tc.size, tc.ok)
		}
	}
}
