package knowledge

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// TestTokenErrors checks the token error entries: they load, their ids
// are unique across the whole knowledge base, and each AADSTS code has one
// entry.
func TestTokenErrors(t *testing.T) {
	all, err := tokenErrors()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 8 {
		t.Fatalf("%d entries", len(all))
	}
	ids := map[string]bool{}
	for _, e := range Entries() {
		ids[e.ID] = true
	}
	codes := map[string]string{}
	for _, e := range all {
		if ids[e.ID] {
			t.Errorf("id %s is also a reply entry's", e.ID)
		}
		for _, c := range e.Codes {
			if other, dup := codes[c]; dup {
				t.Errorf("%s and %s both claim %s", other, e.ID, c)
			}
			codes[c] = e.ID
		}
	}
	for _, code := range []string{"AADSTS7000215", "AADSTS7000222", "AADSTS700016", "AADSTS90002", "AADSTS65001", "AADSTS70011", "AADSTS1002012"} {
		if codes[code] == "" {
			t.Errorf("no entry for %s", code)
		}
	}
}

func TestExplainTokenError(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"AADSTS7000215", "aadsts-7000215"},
		{"7000215", "aadsts-7000215"},
		{" aadsts-7000215 ", ""},
		{"AADSTS70002: Error validating credentials. AADSTS7000222: The provided client secret keys are expired.", "aadsts-7000222"},
		{"AADSTS50126: Error validating credentials due to invalid username or password.", ""},
		{"535 5.7.3 Authentication unsuccessful", ""},
		{"", ""},
		{"70011x", ""},
	} {
		got := ""
		if e, ok := ExplainTokenError(tc.in); ok {
			got = e.ID
			if e.Fix == "" || !strings.HasPrefix(e.Source, "https://") {
				t.Errorf("%q: derived fix %q, source %q", tc.in, e.Fix, e.Source)
			}
		}
		if got != tc.want {
			t.Errorf("ExplainTokenError(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestTokenErrorCorpus explains real AADSTS messages, as MSAL and Entra ID
// return them: each must select its entry and state its facts.
func TestTokenErrorCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/aadsts/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var lines []corpusLine
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&lines); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, l := range lines {
			n++
			if !strings.HasPrefix(l.Source, "https://") || len(l.Facts) == 0 {
				t.Errorf("%s: %q needs an https source and facts", f, l.Reply)
				continue
			}
			e, ok := ExplainTokenError(l.Reply)
			if !ok || e.ID != l.Entry {
				t.Errorf("%s: %q selects %q, want %s", f, l.Reply, e.ID, l.Entry)
				continue
			}
			answer := strings.ToLower(e.Meaning + " " + e.Steps[0] + " " + e.Setting)
			for _, fact := range l.Facts {
				if !strings.Contains(answer, strings.ToLower(fact)) {
					t.Errorf("%s: %q: the explanation does not say %q", f, l.Reply, fact)
				}
			}
		}
	}
	t.Logf("%d token error lines, %d entries", n, len(TokenErrors()))
}

// TestTokenErrorSchema: the loader refuses what the schema forbids.
func TestTokenErrorSchema(t *testing.T) {
	good := `{"id": "aadsts-1", "codes": ["AADSTS1234"], "category": "auth", "title": "t", "meaning": "m", "fix": ["f"],
	          "sources": [{"url": "https://example.test", "title": "t", "read": "2026-12-04"}]}`
	if _, err := loadTokenErrors(fstest.MapFS{"a.json": {Data: []byte(`{"entries": [` + good + `]}`)}}, "*.json"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ entries, want string }{
		{good + "," + good, "used twice"},
		{strings.Replace(good, `"AADSTS1234"`, `"535 5.7.3"`, 1), "not an AADSTS code"},
		{strings.Replace(good, `"AADSTS1234"`, `"AADSTS1234 x"`, 1), "not an AADSTS code"},
		{strings.Replace(good, `"aadsts-1"`, `"token-1"`, 1), "aadsts-"},
		{strings.Replace(good, `"category": "auth",`, `"category": "auth", "texts": ["x"],`, 1), "no texts"},
		{strings.Replace(good, `"auth"`, `"oauth"`, 1), `category "oauth"`},
		{strings.Replace(good, `"fix": ["f"]`, `"fix": [" "]`, 1), "empty fix step"},
		{strings.Replace(good, `"2026-12-04"`, `"today"`, 1), "the day it was read"},
		{strings.Replace(good, `"title": "t",`, `"title": "t", "note": "maybe",`, 1), "UNVERIFIED"},
	} {
		fsys := fstest.MapFS{"a.json": {Data: []byte(`{"entries": [` + tc.entries + `]}`)}}
		if _, err := loadTokenErrors(fsys, "*.json"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.entries, err, tc.want)
		}
	}
}

// TestLookupAfterXOAUTH2: after AUTH XOAUTH2, 535 5.7.3 is a refused
// token; the same reply to a password stays a refused password, and the
// documented 5.7.139 wordings keep their own entries.
func TestLookupAfterXOAUTH2(t *testing.T) {
	text := "535 5.7.3 Authentication unsuccessful [SN2PR00CA0018.namprd00.prod.outlook.com]"
	if e, ok := LookupAfterXOAUTH2(535, "5.7.3", text); !ok || e.ID != "535-5-7-3-xoauth2" {
		t.Errorf("after XOAUTH2: %q", e.ID)
	}
	if e, ok := Lookup(535, "5.7.3", text); !ok || e.ID != "535-5-7-3" {
		t.Errorf("after a password: %q", e.ID)
	}
	disabled := "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
	if e, ok := LookupAfterXOAUTH2(535, "5.7.139", disabled); !ok || e.ID != "5-7-139-tenant-smtp-auth-disabled" {
		t.Errorf("5.7.139 after XOAUTH2: %q", e.ID)
	}
}
