package knowledge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// TestKnowledgeBase checks the embedded files against the schema (Entry.check
// runs on load: ids, codes, categories, fix steps, sources with the day they
// were read) and that no two entries claim the same selector: the same code
// with the same wording, or both with none.
func TestKnowledgeBase(t *testing.T) {
	all, err := base()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 25 {
		t.Fatalf("%d entries", len(all))
	}
	claimed := map[string]string{}
	for _, e := range all {
		texts := e.Texts
		if len(texts) == 0 {
			texts = []string{""}
		}
		for i, code := range e.Codes {
			for _, text := range texts {
				key := fmt.Sprintf("%+v|%s", e.selectors[i], strings.ToLower(text))
				if other, dup := claimed[key]; dup {
					t.Errorf("%s and %s both claim %s with text %q", other, e.ID, code, text)
				}
				claimed[key] = e.ID
			}
		}
	}
}

func TestGenericFallback(t *testing.T) {
	tests := []struct {
		enhanced string
		want     string
		cat      result.Category
		source   string
	}{
		{"5.1.1", "permanent failure: bad destination mailbox address", result.Recipient, rfc3463Source},
		{"4.4.7", "temporary failure: delivery time expired", result.Network, rfc3463Source},
		{"5.7.8", "permanent failure: authentication credentials invalid (RFC 4954)", result.Auth, rfc4954Source},
		{"4.7.12", "temporary failure: a password transition is needed (RFC 4954)", result.Auth, rfc4954Source},
		{"5.7.25", "permanent failure: reverse DNS validation failed (RFC 7372)", result.DNS, rfc7372Source},
		{"5.7.999", "permanent failure: security or policy status", result.Policy, rfc3463Source}, // subject only
		{"2.0.0", "success: other undefined status", result.Configuration, rfc3463Source},
		{"4.3.2", "temporary failure: system not accepting network messages", result.Configuration, rfc3463Source},
	}
	for _, tc := range tests {
		m, ok := genericMeaning(tc.enhanced)
		if !ok || m.text != tc.want || m.cat != tc.cat {
			t.Errorf("genericMeaning(%q) = %q, %q, %v; want %q, %q", tc.enhanced, m.text, m.cat, ok, tc.want, tc.cat)
		}
		if s := m.rfc(); s != tc.source {
			t.Errorf("genericMeaning(%q).rfc() = %q, want %q", tc.enhanced, s, tc.source)
		}
	}
	for _, bad := range []string{"", "5.7", "6.1.1", "3.0.0", "5.9.1", "5.x.1", "5.7.1000"} {
		if m, ok := genericMeaning(bad); ok {
			t.Errorf("genericMeaning(%q) = %q, want no meaning", bad, m.text)
		}
	}
}

func TestBasicMeaning(t *testing.T) {
	tests := []struct {
		code   int
		substr string
		cat    result.Category
		ok     bool
	}{
		{530, "authentication required", result.Auth, true},
		{535, "credentials invalid", result.Auth, true},
		{421, "service not available", result.Network, true},
		{554, "transaction failed", result.Policy, true},
		{599, "permanent negative completion", result.Configuration, true},
		{499, "transient negative completion", result.Configuration, true},
		{199, "", "", false},
		{600, "", "", false},
	}
	for _, tc := range tests {
		text, cat, source, ok := BasicMeaning(tc.code)
		if ok != tc.ok || !strings.Contains(text, tc.substr) || cat != tc.cat {
			t.Errorf("BasicMeaning(%d) = %q, %q, %v", tc.code, text, cat, ok)
		}
		if ok && !strings.HasPrefix(source, "https://www.rfc-editor.org/") {
			t.Errorf("BasicMeaning(%d) source %q", tc.code, source)
		}
	}
}

// TestSelection runs Lookup over a knowledge base made for the test: the
// most specific entry wins, whatever the order of the entries.
func TestSelection(t *testing.T) {
	entries, err := load(os.DirFS("testdata/selection"), "*.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		basic    int
		enhanced string
		text     string
		want     string // the entry's ID, "" for none
	}{
		{550, "5.7.606", "", "range"},
		{550, "5.7.612", "", "single-in-range"}, // an exact code before the range that holds it
		{421, "5.7.606", "", "family"},          // the range ties 550; the family does not
		{550, "5.7.650", "", "family"},          // just past the range
		{550, "5.6.1", "", ""},
		// A wording selects only together with the code it is documented
		// for, and never overrides what the enhanced code and its wording
		// say.
		{550, "5.7.1", "Delivery not authorized, message refused", "group"},
		{550, "5.7.1", "RESOLVER.RST.NotAuthorized; not authorized to send", "group"},
		{550, "5.7.1", "unable to RELAY", "relay"}, // case-insensitive
		{550, "5.7.1", "Something else", "family"},
		{550, "", "not authorized", "wording-only"},
		{551, "", "not authorized", ""},
		// Enhanced codes match whatever the basic code, unless a selector
		// ties one.
		{550, "5.7.57", "", "any-basic"},
		{0, "5.7.57", "", "any-basic"},
		{530, "5.7.57", "Client was not authenticated to send anonymous mail", "tied-basic"},
		{550, "5.7.57", "anonymous", "any-basic"},
		{530, "", "Must authenticate", "basic-only"},
		{530, "5.7.0", "", "family"}, // an enhanced code is judged by it, not by the basic code alone
		{550, "5.7.6o6", "", ""},
	}
	for _, tc := range tests {
		got := ""
		if e, ok := lookup(entries, tc.basic, tc.enhanced, tc.text); ok {
			got = e.ID
		}
		if got != tc.want {
			t.Errorf("Lookup(%d, %q, %q) = %q, want %q", tc.basic, tc.enhanced, tc.text, got, tc.want)
		}
	}
	// The order of the entries does not decide.
	reversed := slices.Clone(entries)
	slices.Reverse(reversed)
	for _, tc := range tests {
		got := ""
		if e, ok := lookup(reversed, tc.basic, tc.enhanced, tc.text); ok {
			got = e.ID
		}
		if got != tc.want {
			t.Errorf("reversed: Lookup(%d, %q, %q) = %q, want %q", tc.basic, tc.enhanced, tc.text, got, tc.want)
		}
	}
	var ids []string
	for _, e := range candidates(entries, 550, "5.7.1") {
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, ",") != "family,relay,group" {
		t.Errorf("candidates of 550 5.7.1: %v", ids)
	}
	ids = nil
	for _, e := range related(entries, "5.7.999") {
		ids = append(ids, e.ID)
	}
	// Nearest detail first (5.7.606-649 and 5.7.612 before 5.7.57 and
	// 5.7.1), at most six, the family wildcard last.
	if strings.Join(ids, ",") != "range,single-in-range,any-basic,tied-basic,relay,group" {
		t.Errorf("related to 5.7.999: %v", ids)
	}
	if e, _ := lookup(entries, 530, "", "x"); e.Fix != "first second" || e.Source != "https://example.test/a" {
		t.Errorf("derived fix %q, source %q", e.Fix, e.Source)
	}
}

// TestSchemaErrors: the loader refuses what the schema forbids.
func TestSchemaErrors(t *testing.T) {
	good := `{"id": "x", "codes": ["5.7.1"], "category": "policy", "title": "t", "meaning": "m", "fix": ["f"],
	          "sources": [{"url": "https://example.test", "title": "t", "read": "2026-12-04"}]}`
	for _, tc := range []struct{ entries, want string }{
		{good + "," + good, "id x is used twice"},
		{strings.Replace(good, `"5.7.1"`, `"5.7"`, 1), "class.subject.detail"},
		{strings.Replace(good, `"5.7.1"`, `"150 5.7.1"`, 1), "is not 2xx to 5xx"},
		{strings.Replace(good, `"policy"`, `"misc"`, 1), `category "misc"`},
		{strings.Replace(good, `"fix": ["f"]`, `"fix": []`, 1), "fix are required"},
		{strings.Replace(good, `"https://example.test"`, `"http://example.test"`, 1), "https URL"},
		{strings.Replace(good, `"2026-12-04"`, `"December"`, 1), "the day it was read"},
		{strings.Replace(good, `"id": "x"`, `"id": "X Y"`, 1), "lower-case words"},
		{strings.Replace(good, `"title": "t",`, `"title": "t", "note": "maybe",`, 1), "must start with UNVERIFIED"},
		{strings.Replace(good, `"title": "t",`, `"titel": "t",`, 1), "unknown field"},
	} {
		fsys := fstest.MapFS{"kb.json": {Data: []byte(`{"entries": [` + tc.entries + `]}`)}}
		if _, err := load(fsys, "*.json"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.entries, err, tc.want)
		}
	}
}

// corpusLine is one reply line Exchange Online sends, as quoted by the page
// Source, with the entry it must select and the facts the explanation
// must state (in its meaning, its first fix step or its setting).
type corpusLine struct {
	Reply  string   `json:"reply"`
	Source string   `json:"source"`
	Entry  string   `json:"entry"`
	Facts  []string `json:"facts"`
}

// TestCorpus explains every line of testdata/corpus as `smtpdiag explain`
// would: each must select its entry and state its facts.
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	ids := map[string]bool{}
	for _, e := range Entries() {
		ids[e.ID] = true
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
			if !strings.HasPrefix(l.Source, "https://") || len(l.Facts) == 0 || !ids[l.Entry] {
				t.Errorf("%s: %q needs an https source, facts, and an entry that exists (%q)", f, l.Reply, l.Entry)
				continue
			}
			x, err := Explain(l.Reply)
			if err != nil {
				t.Errorf("%s: %q: %v", f, l.Reply, err)
				continue
			}
			if !x.Known || x.Entry.ID != l.Entry {
				got := "nothing"
				if x.Entry != nil {
					got = x.Entry.ID
				}
				t.Errorf("%s: %q selects %s, want %s", f, l.Reply, got, l.Entry)
				continue
			}
			answer := strings.ToLower(x.Entry.Meaning + " " + x.Entry.Steps[0] + " " + x.Entry.Setting)
			for _, fact := range l.Facts {
				if !strings.Contains(answer, strings.ToLower(fact)) {
					t.Errorf("%s: %q: the explanation does not say %q", f, l.Reply, fact)
				}
			}
		}
	}
	t.Logf("%d corpus lines, %d entries", n, len(ids))
}
