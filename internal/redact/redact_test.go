package redact

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

func TestRedactorMasksPlainAndBase64Forms(t *testing.T) {
	const user, secret = "scanner@contoso.com", "S3cr3t-p@ssw0rd"
	r := New(secret).WithAuth(user, secret)
	blobs := map[string]string{
		"plain":          "password is " + secret + ".",
		"base64":         base64.StdEncoding.EncodeToString([]byte(secret)),
		"base64 raw":     base64.RawStdEncoding.EncodeToString([]byte(secret)),
		"base64 url":     base64.URLEncoding.EncodeToString([]byte(secret)),
		"AUTH PLAIN":     "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+secret)),
		"XOAUTH2":        base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + secret + "\x01\x01")),
		"embedded, off1": base64.StdEncoding.EncodeToString([]byte("x" + secret + "tail")),
		"embedded, off2": base64.StdEncoding.EncodeToString([]byte("xy" + secret + "tail")),
		"embedded, off0": base64.StdEncoding.EncodeToString([]byte("xyz" + secret + "tail")),
	}
	for name, in := range blobs {
		t.Run(name, func(t *testing.T) {
			out := r.String(in)
			if !strings.Contains(out, Mask) {
				t.Fatalf("nothing masked in %q -> %q", in, out)
			}
			for _, leak := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))} {
				if strings.Contains(out, leak) {
					t.Fatalf("secret form %q still in %q", leak, out)
				}
			}
		})
	}
}

func TestRedactorLeavesOtherTextAlone(t *testing.T) {
	r := New("hunter22")
	in := "250 2.1.5 Recipient OK"
	if got := r.String(in); got != in {
		t.Fatalf("got %q, want %q", got, in)
	}
	var nilR *Redactor
	if got := nilR.String(in); got != in {
		t.Fatalf("nil redactor changed text: %q", got)
	}
	if got := New("ab").String("abc ab"); got != "abc ab" {
		t.Fatalf("two-byte secrets must not mask ordinary text, got %q", got)
	}
}

func TestReplace(t *testing.T) {
	tests := []struct {
		s      string
		values []string
		want   string
	}{
		{"user=bob pass=hunter22", []string{"hunter22"}, "user=bob pass=****"},
		{"abcdef", []string{"abc", "abcdef"}, "****"},                // the longer value wins where both start
		{"xabcabcx", []string{"abc"}, "x********x"},                  // every occurrence
		{"(sensitive value)", []string{"val"}, "(sensitive ****ue)"}, // one pass: the mask itself is not scanned again
		{"nothing here", []string{"secret"}, "nothing here"},
		{"aaaa", []string{"aa"}, "********"},
		{"", []string{"x"}, ""},
	}
	for _, tc := range tests {
		if got := Replace(tc.s, tc.values, Mask); got != tc.want {
			t.Errorf("Replace(%q, %q) = %q, want %q", tc.s, tc.values, got, tc.want)
		}
	}
}

// TestLongRepetitiveSecret is the case strings.Replacer handles badly: its
// set-up for a 1 MiB value made of repeated text takes tens of seconds.
// Replace must stay linear (this test takes milliseconds).
func TestLongRepetitiveSecret(t *testing.T) {
	secret := strings.Repeat("ab", 1<<19)
	text := "before " + secret + " after " + secret[:10]
	r := New(secret)
	got := r.String(text)
	if got != "before **** after "+secret[:10] {
		t.Fatalf("masked text starts %q", got[:min(len(got), 60)])
	}
}

func TestJoin(t *testing.T) {
	a := New("alpha-secret")
	b := New("bravo-secret").WithAuth("user@contoso.com", "bravo-secret")
	j := Join(a, nil, b, a)
	in := "alpha-secret bravo-secret " + base64.StdEncoding.EncodeToString([]byte("\x00user@contoso.com\x00bravo-secret"))
	if got := j.String(in); got != "**** **** ****" {
		t.Errorf("Join masks %q as %q", in, got)
	}
	if a.String("bravo-secret") != "bravo-secret" {
		t.Error("Join changed one of its inputs")
	}
	if !Join().Empty() || !Join(nil).Empty() {
		t.Error("an empty Join masks something")
	}
}

// TestConcurrentAdd: a run adds the secrets it learns (OAuth tokens) to
// the Redactor its reporters mask with while they mask; under -race this
// proves the two do not race, and what was added is masked from then on.
func TestConcurrentAdd(t *testing.T) {
	r := New("first-secret")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			r.WithAuth("user@contoso.com", fmt.Sprintf("token-%03d-value", i))
		}
	}()
	for i := 0; i < 200; i++ {
		_ = r.String("first-secret and token-000-value")
		_ = r.Clone()
		_ = Join(r, New("other-secret"))
		_ = r.Empty()
	}
	<-done
	if got := r.String("token-199-value first-secret"); got != "**** ****" {
		t.Errorf("got %q", got)
	}
}
