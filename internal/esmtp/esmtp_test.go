package esmtp

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseEnhanced(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Enhanced
		ok   bool
	}{
		{"5.7.606", Enhanced{5, 7, 606}, true},
		{"2.0.0", Enhanced{2, 0, 0}, true},
		{"4.4.316", Enhanced{4, 4, 316}, true},
		{"5.7.1", Enhanced{5, 7, 1}, true},
		{"3.1.1", Enhanced{}, false},    // class 2, 4 or 5 only (RFC 3463 section 3.1)
		{"5.7.1000", Enhanced{}, false}, // one to three digits
		{"5.7", Enhanced{}, false},
		{"5.7.x", Enhanced{}, false},
		{"5.7.606-649", Enhanced{}, false},
		{"5..1", Enhanced{}, false},
		{"5.7.1.", Enhanced{}, false},
		{"", Enhanced{}, false},
		{"1.2.3.4", Enhanced{}, false},
		{"55.7.1", Enhanced{}, false},
	} {
		got, ok := ParseEnhanced(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseEnhanced(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok && got.String() != tc.in {
			t.Errorf("%q renders as %q", tc.in, got)
		}
	}
}

func TestEnhancedPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"5.7.606 Access denied":   "5.7.606",
		"5.7.606":                 "5.7.606",
		"2.0.0 OK":                "2.0.0",
		"5.7.606-649 range":       "",
		"5.7.1, then text":        "",
		"Hello [192.0.2.1]":       "",
		"TLS 1.2 required":        "",
		"1.2.3 is not a class":    "",
		"4.7.0x Temporary":        "",
		" 5.7.1 leading space":    "",
		"4.4.316 Connection refu": "4.4.316",
	} {
		if got := EnhancedPrefix(in); got != want {
			t.Errorf("EnhancedPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEnhancedRange(t *testing.T) {
	for _, tc := range []struct {
		rng  string
		in   []string
		out  []string
		fail string // a substring of the parse error
	}{
		{rng: "5.7.606-649", in: []string{"5.7.606", "5.7.649", "5.7.612"}, out: []string{"5.7.605", "5.7.650", "4.7.612", "5.6.612", ""}},
		{rng: "5.7.1", in: []string{"5.7.1"}, out: []string{"5.7.10", "5.7.11", "4.7.1"}},
		{rng: "5.7.x", in: []string{"5.7.1", "5.7.999"}, out: []string{"5.6.1", "4.7.1"}},
		{rng: "5.X.X", in: []string{"5.1.1", "5.7.606"}, out: []string{"4.1.1", "garbage"}},
		{rng: "5.x.1", fail: "wildcards in enhanced code 5.x.1 must come last"},
		{rng: "5.7.649-606", fail: "must run from low to high"},
		{rng: "6.7.1", fail: "class 2, 4 or 5"},
		{rng: "5.7", fail: "class.subject.detail"},
		{rng: "5.7777.1", fail: "subject of one to three digits"},
		{rng: "5.7.1-", fail: "detail of one to three digits"},
	} {
		r, err := ParseEnhancedRange(tc.rng)
		if tc.fail != "" {
			if err == nil || !strings.Contains(err.Error(), tc.fail) {
				t.Errorf("ParseEnhancedRange(%q) error %v, want one containing %q", tc.rng, err, tc.fail)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseEnhancedRange(%q): %v", tc.rng, err)
		}
		for _, c := range tc.in {
			if !r.Contains(c) {
				t.Errorf("%s does not contain %q", tc.rng, c)
			}
		}
		for _, c := range tc.out {
			if r.Contains(c) {
				t.Errorf("%s contains %q", tc.rng, c)
			}
		}
	}
}

func TestParseReply(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  Reply
		fail  string
	}{
		{lines: []string{"250 OK"}, want: Reply{Code: 250, Lines: []string{"OK"}}},
		{lines: []string{"550 5.7.606 Access denied, banned sending IP [203.0.113.5]"},
			want: Reply{Code: 550, Enhanced: "5.7.606", Lines: []string{"Access denied, banned sending IP [203.0.113.5]"}}},
		// The code is stripped from every line that starts with it.
		{lines: []string{"421-4.7.66 TLS 1.0 and 1.1 are not supported.", "421 4.7.66 Please upgrade."},
			want: Reply{Code: 421, Enhanced: "4.7.66", Lines: []string{"TLS 1.0 and 1.1 are not supported.", "Please upgrade."}}},
		// The first line with a code decides.
		{lines: []string{"250-mx.example Hello", "250 2.0.0 ready"},
			want: Reply{Code: 250, Enhanced: "2.0.0", Lines: []string{"mx.example Hello", "ready"}}},
		{lines: []string{"220"}, want: Reply{Code: 220, Lines: []string{""}}},
		{lines: nil, fail: "empty reply"},
		{lines: []string{"250-a", "550 b"}, fail: "code 550 after 250"},
		{lines: []string{"250 a", "250 b"}, fail: "continuation"},
		{lines: []string{"250-a"}, fail: "continuation"},
		{lines: []string{"25"}, fail: "shorter than a reply code"},
		{lines: []string{"2x0 a"}, fail: "not three digits"},
		{lines: []string{"150 a"}, fail: "not 2xx to 5xx"},
		{lines: []string{"250_a"}, fail: "no space or hyphen"},
	} {
		got, err := ParseReply(tc.lines)
		if tc.fail != "" {
			if err == nil || !strings.Contains(err.Error(), tc.fail) {
				t.Errorf("ParseReply(%q) error %v, want %q", tc.lines, err, tc.fail)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseReply(%q) = %#v, %v; want %#v", tc.lines, got, err, tc.want)
		}
	}
}

func TestReplyRendering(t *testing.T) {
	r := Reply{Code: 550, Enhanced: "5.7.606", Lines: []string{"Access denied,", "banned"}}
	if r.String() != "550 5.7.606 Access denied, banned" || r.Codes() != "550 5.7.606" || !r.Permanent() || r.Positive() {
		t.Errorf("%q, codes %q", r, r.Codes())
	}
	r = Reply{Code: 421, Lines: []string{"busy"}}
	if r.String() != "421 busy" || r.Codes() != "421" || !r.Temporary() {
		t.Errorf("%q, codes %q", r, r.Codes())
	}
}

func TestExtensions(t *testing.T) {
	x := ParseEHLO([]string{"SIZE 157286400", "PIPELINING", "AUTH=LOGIN", "auth login xoauth2", "STARTTLS", "", "X-EXPS=GSSAPI NTLM"})
	if !x.Has("pipelining") || !x.Has("STARTTLS") || x.Has("CHUNKING") || x.Has("") {
		t.Errorf("Has: %v", x)
	}
	// The RFC 4954 line wins over the legacy AUTH= one, wherever it is.
	if got := x.AuthMechanisms(); !reflect.DeepEqual(got, []string{"LOGIN", "XOAUTH2"}) {
		t.Errorf("AuthMechanisms = %q", got)
	}
	if e, ok := x.Find("SIZE"); !ok || !reflect.DeepEqual(e.Params, []string{"157286400"}) || e.Line != "SIZE 157286400" {
		t.Errorf("Find(SIZE) = %+v, %v", e, ok)
	}
	if e, ok := x.Find("X-EXPS"); !ok || !e.Legacy || !reflect.DeepEqual(e.Params, []string{"GSSAPI", "NTLM"}) {
		t.Errorf("Find(X-EXPS) = %+v", e)
	}
	for item, want := range map[string]bool{
		"AUTH LOGIN":         true,
		"auth xoauth2":       true,
		"AUTH LOGIN PLAIN":   false,
		"AUTH":               true,
		"SIZE 157286400":     true,
		"SIZE 1":             false,
		"8BITMIME":           false,
		"":                   false,
		"   ":                false,
		"X-EXPS NTLM":        true,
		"AUTH=LOGIN XOAUTH2": true, // the item may be written in the legacy form too
	} {
		if _, got := x.Advertises(item); got != want {
			t.Errorf("Advertises(%q) = %v, want %v", item, got, want)
		}
	}

	// Only the legacy form: it is AUTH all the same.
	legacy := ParseEHLO([]string{"AUTH=LOGIN PLAIN"})
	if got := legacy.AuthMechanisms(); !reflect.DeepEqual(got, []string{"LOGIN", "PLAIN"}) {
		t.Errorf("legacy AuthMechanisms = %q", got)
	}
	// AUTH without mechanisms, and no AUTH at all.
	if got := ParseEHLO([]string{"AUTH"}).AuthMechanisms(); got == nil || len(got) != 0 {
		t.Errorf("bare AUTH: %#v", got)
	}
	if got := ParseEHLO([]string{"SIZE"}).AuthMechanisms(); got != nil {
		t.Errorf("no AUTH: %#v", got)
	}
}

func TestExtensionsNilAndJSON(t *testing.T) {
	if ParseEHLO(nil) != nil || ParseEHLO([]string{}) == nil {
		t.Error("ParseEHLO does not keep nil-ness: nil means no EHLO, empty means no extensions")
	}
	type doc struct {
		E Extensions `json:"e,omitempty"`
	}
	b, err := json.Marshal(doc{ParseEHLO([]string{"AUTH=LOGIN", "SIZE 10"})})
	if err != nil || string(b) != `{"e":["AUTH=LOGIN","SIZE 10"]}` {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	var back doc
	if err := json.Unmarshal(b, &back); err != nil || !back.E.Has("AUTH") || back.E.String() != "AUTH=LOGIN, SIZE 10" {
		t.Errorf("unmarshal: %+v, %v", back, err)
	}
	if b, _ := json.Marshal(doc{}); string(b) != `{}` {
		t.Errorf("no EHLO marshals as %s", b)
	}
}
func TestBracketedIP(t *testing.T) {
	// Rejections name the client IP this way, and so do EHLO greetings.
	tests := map[string]string{
		"banned sending IP [203.0.113.5]. AS(1430) [SN1NAM02FT0049.prod.protection.outlook.com]": "203.0.113.5",
		"Hello [IPv6:2001:db8::1]":                                         "2001:db8::1",
		"[SN1NAM02FT0049.mail.protection.outlook.com] [192.0.2.7]":         "192.0.2.7",
		"[999.1.1.1] then nothing":                                         "",
		"ready [08DCE8B62813AB2B]":                                         "",
		"no brackets 203.0.113.5":                                          "",
		"[::ffff:192.0.2.1]":                                               "192.0.2.1",
		"SN1NAM02FT0049.mail.protection.outlook.com Hello [18.209.86.113]": "18.209.86.113",
		"mx.example Hello [2001:db8::7]":                                   "2001:db8::7",
		"mx.example Hello [IPv6:2001:db8::7]":                              "2001:db8::7",
		"mx.example Hello [::ffff:192.0.2.1]":                              "192.0.2.1",
		"mx.example [not-an-ip] Hello [192.0.2.9]":                         "192.0.2.9",
		"mx.example Hello client.example":                                  "",
		"mx.example Hello [192.0.2.1":                                      "",
		"mx.example Hello [999.1.1.1]":                                     "",
	}
	for text, want := range tests {
		if got := BracketedIP(text); got != want {
			t.Errorf("BracketedIP(%q) = %q, want %q", text, got, want)
		}
	}
}
