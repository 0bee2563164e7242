// Package redact masks secrets (passwords, tokens, sensitive variable
// values) in any text that leaves the process, in plain form and in the
// base64 forms in which SMTP AUTH would carry them.
package redact

import (
	"encoding/base64"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Mask replaces a secret in output.
const Mask = "****"

// Redactor replaces every known form of a set of secrets with Mask.
// The zero value masks nothing. It is safe for concurrent use: a run adds
// the secrets it learns while it runs (an OAuth access token) to the
// Redactor its reporters are already masking with.
type Redactor struct {
	mu    sync.RWMutex
	forms []string // longest first
}

// New returns a Redactor for the given secrets. Besides each secret itself
// it masks its standard and URL-safe base64 encodings at every alignment
// (so a secret embedded in a longer base64 blob, such as the AUTH PLAIN
// "\x00user\x00password" string of RFC 4616 or an XOAUTH2 initial response,
// is caught too) and the base64 of the whole blobs when user names are
// given with With.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	r.add(secrets...)
	return r
}

// WithAuth adds the AUTH blobs a client builds from user and secret:
// PLAIN "\x00user\x00secret", XOAUTH2 "user=...\x01auth=Bearer ...\x01\x01".
func (r *Redactor) WithAuth(user, secret string) *Redactor {
	if secret == "" {
		return r
	}
	r.add(secret,
		"\x00"+user+"\x00"+secret,
		user+"\x00"+user+"\x00"+secret,
		"user="+user+"\x01auth=Bearer "+secret+"\x01\x01",
	)
	return r
}

// Clone returns a Redactor that masks what r masks and can be added to
// without changing r; a nil r gives an empty one.
func (r *Redactor) Clone() *Redactor {
	if r == nil {
		return &Redactor{}
	}
	return &Redactor{forms: r.snapshot()}
}

// snapshot returns the forms r masks at this moment.
func (r *Redactor) snapshot() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.forms)
}

// Join returns a Redactor that masks what each of rs masks (nil ones
// mask nothing).
func Join(rs ...*Redactor) *Redactor {
	out := &Redactor{}
	seen := map[string]bool{}
	for _, r := range rs {
		if r == nil {
			continue
		}
		for _, f := range r.snapshot() {
			if !seen[f] {
				seen[f] = true
				out.forms = append(out.forms, f)
			}
		}
	}
	sort.SliceStable(out.forms, func(i, j int) bool { return len(out.forms[i]) > len(out.forms[j]) })
	return out
}

// Add adds secrets to mask, in every form New masks.
func (r *Redactor) Add(secrets ...string) *Redactor {
	r.add(secrets...)
	return r
}

func (r *Redactor) add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, f := range r.forms {
		seen[f] = true
	}
	for _, s := range secrets {
		// Very short secrets would mask ordinary words; three bytes is the
		// shortest that can be told apart from noise in a transcript.
		if len(s) < 3 {
			continue
		}
		for _, f := range forms(s) {
			if len(f) >= 3 && !seen[f] {
				seen[f] = true
				r.forms = append(r.forms, f)
			}
		}
	}
	// Longest first, so that a whole base64 blob is masked before any of
	// its parts.
	sort.SliceStable(r.forms, func(i, j int) bool { return len(r.forms[i]) > len(r.forms[j]) })
}

// forms lists the encodings of s to mask: s itself, its base64 encodings,
// and the stable middle of its encoding at byte offsets 1 and 2 inside a
// longer blob.
func forms(s string) []string {
	out := []string{s}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		full := enc.EncodeToString([]byte(s))
		out = append(out, full, strings.TrimRight(full, "="))
		for shift := 1; shift <= 2; shift++ {
			pad := strings.Repeat("\x00", shift)
			e := enc.EncodeToString([]byte(pad + s))
			// Drop the characters that depend on the bytes before the secret
			// and the last group, which depends on what follows it.
			start := (shift*8 + 5) / 6
			end := ((shift + len(s)) * 8) / 6
			if end > start && end <= len(e) {
				out = append(out, e[start:end])
			}
		}
		if len(s) >= 2 {
			// Offset 0 inside a longer blob: the last partial group differs.
			end := (len(s) * 8) / 6
			out = append(out, full[:end])
		}
	}
	return out
}

// String masks every secret form in s.
func (r *Redactor) String(s string) string {
	if r == nil || s == "" {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.forms) == 0 {
		return s
	}
	return replace(s, r.forms, Mask)
}

// Replace replaces every occurrence of each value in s with mask, in one
// pass from left to right; where two values start at the same place the
// longer one wins. It stays linear in len(s) for values of any length,
// unlike strings.Replacer, whose set-up is slow for long repetitive values.
func Replace(s string, values []string, mask string) string {
	values = append([]string(nil), values...)
	sort.SliceStable(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	kept := values[:0]
	for _, v := range values {
		if v != "" {
			kept = append(kept, v)
		}
	}
	return replace(s, kept, mask)
}

// replace does Replace for non-empty values sorted longest first.
func replace(s string, values []string, mask string) string {
	// next holds where each value occurs next, -1: nowhere. Most strings
	// hold no secret: they cost no allocation.
	var stack [32]int
	next, found := stack[:0], false
	if len(values) > len(stack) {
		next = make([]int, 0, len(values))
	}
	for _, v := range values {
		at := strings.Index(s, v)
		next = append(next, at)
		found = found || at >= 0
	}
	if !found {
		return s
	}
	var b strings.Builder
	pos := 0
	for {
		best := -1
		for i, at := range next {
			if at >= 0 && (best < 0 || at < next[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		b.WriteString(s[pos:next[best]])
		b.WriteString(mask)
		pos = next[best] + len(values[best])
		for i, at := range next {
			if at >= 0 && at < pos {
				if j := strings.Index(s[pos:], values[i]); j >= 0 {
					next[i] = pos + j
				} else {
					next[i] = -1
				}
			}
		}
	}
	if pos == 0 {
		return s
	}
	b.WriteString(s[pos:])
	return b.String()
}

// Empty reports whether the Redactor masks nothing.
func (r *Redactor) Empty() bool {
	if r == nil {
		return true
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.forms) == 0
}
