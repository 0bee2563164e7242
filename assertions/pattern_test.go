package assertions

import (
	"strings"
	"testing"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
)

// reply builds a Reply from its rendered form: "550 5.7.606 Access denied".
// Further lines of a multi-line reply follow "\n" and hold text only, as
// Reply.Lines does.
func reply(s string) *esmtp.Reply {
	lines := strings.Split(s, "\n")
	code, text, _ := strings.Cut(lines[0], " ")
	r := &esmtp.Reply{}
	for _, ch := range code {
		r.Code = r.Code*10 + int(ch-'0')
	}
	if word, after, _ := strings.Cut(text, " "); strings.Count(word, ".") == 2 && word[0] >= '2' && word[0] <= '5' {
		r.Enhanced, text = word, after
	}
	r.Lines = append([]string{text}, lines[1:]...)
	return r
}

func TestParsePatternValid(t *testing.T) {
	tests := []struct {
		src     string
		match   []string
		noMatch []string
	}{
		{"250", []string{"250 OK", "250 2.1.5 Recipient OK"}, []string{"251 OK", "550 no", "25 x"}},
		{"  250  ", []string{"250 OK"}, []string{"220 ready"}},
		{"2xx", []string{"250 OK", "220 ready", "235 2.7.0 ok"}, []string{"354 go ahead", "550 no"}},
		{"2XX", []string{"221 bye"}, []string{"421 busy"}},
		{"55x", []string{"550 no", "554 5.7.1 no"}, []string{"450 later", "530 5.7.57 auth"}},
		{"354", []string{"354 Start mail input"}, []string{"250 OK"}},
		{"250 2.1.5", []string{"250 2.1.5 Recipient OK"}, []string{"250 2.1.0 Sender OK", "250 Recipient OK"}},
		{"2xx 2.1.5", []string{"251 2.1.5 forwarded"}, []string{"250 2.1.0 Sender OK"}},
		{"5.7.606", []string{"550 5.7.606 Access denied", "554 5.7.606 x"}, []string{"550 5.7.607 Access denied", "550 Access denied", "450 4.7.606 x"}},
		{"5.7.x", []string{"550 5.7.1 no", "530 5.7.57 Client not authenticated"}, []string{"550 5.1.1 unknown", "451 4.7.1 later"}},
		{"5.X.X", []string{"550 5.1.1 unknown", "550 5.7.1 no"}, []string{"451 4.7.1 later", "550 no code"}},
		{"550 5.7.606-649", []string{"550 5.7.606 a", "550 5.7.649 b", "550 5.7.620 c"}, []string{"550 5.7.605 a", "550 5.7.650 b", "554 5.7.620 c", "550 5.6.620 d"}},
		{"5.7.606-649", []string{"554 5.7.610 a"}, []string{"554 5.7.1 a"}},
		{"5.7.1-1", []string{"550 5.7.1 a"}, []string{"550 5.7.2 a"}},
		{"550 5.7.1 Spamhaus", []string{"550 5.7.1 Service unavailable, Client host [192.0.2.1] blocked using Spamhaus."},
			[]string{"550 5.7.1 Unable to relay", "550 Service unavailable, blocked using Spamhaus"}},
		{"250 Recipient OK", []string{"250 2.1.5 Recipient OK", "250 RECIPIENT   ok"}, []string{"250 2.1.0 Sender OK"}},
		{"5xx  access   DENIED", []string{"550 5.7.606 Access denied, banned sending IP [192.0.2.1]"}, []string{"550 5.7.606 Access is denied"}},
		// Text spanning two lines of a multi-line reply, joined by a space.
		{"250 Hello [192.0.2.1] PIPELINING", []string{"250 mx.example Hello [192.0.2.1]\nPIPELINING\nSIZE 1000"}, []string{"250 mx.example Hello [192.0.2.9]\nPIPELINING"}},
		{"5.7.010", []string{"550 5.7.10 x"}, nil},
		{"451 4.7.500-699 try again", []string{"451 4.7.650 Please try again later from [192.0.2.1]"}, []string{"451 4.7.650 Server busy"}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			p, err := ParsePattern(tt.src)
			if err != nil {
				t.Fatalf("ParsePattern(%q): %v", tt.src, err)
			}
			if want := strings.TrimSpace(tt.src); p.Source != want || p.String() != want {
				t.Errorf("Source = %q, String() = %q, want %q", p.Source, p.String(), want)
			}
			for _, m := range tt.match {
				if !p.Match(*reply(m)) {
					t.Errorf("%q does not match %q, want a match", tt.src, m)
				}
			}
			for _, m := range tt.noMatch {
				if p.Match(*reply(m)) {
					t.Errorf("%q matches %q, want no match", tt.src, m)
				}
			}
		})
	}
}

func TestParsePatternInvalid(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{"", "empty reply pattern: write a code such as 250, 5xx, 550 5.7.606-649 or 5.7.1"},
		{"   ", "empty reply pattern: write a code such as 250, 5xx, 550 5.7.606-649 or 5.7.1"},
		{"Spamhaus", `invalid reply pattern "Spamhaus": a reply pattern must start with a code such as 250, 5xx, 550 5.7.606-649 or 5.7.1`},
		{"x50", `invalid reply pattern "x50": a reply pattern must start with a code such as 250, 5xx, 550 5.7.606-649 or 5.7.1`},
		{"250OK", `invalid reply pattern "250OK": a reply pattern must start with a code such as 250, 5xx, 550 5.7.606-649 or 5.7.1`},
		{"25", `invalid reply pattern "25": basic code 25 must have three digits, as in 250, 55x or 5xx`},
		{"2500", `invalid reply pattern "2500": basic code 2500 must have three digits, as in 250, 55x or 5xx`},
		{"650", `invalid reply pattern "650": basic code 650 must start with 2, 3, 4 or 5 (RFC 5321 section 4.2.1), as in 250 or 5xx`},
		{"150 ok", `invalid reply pattern "150 ok": basic code 150 must start with 2, 3, 4 or 5 (RFC 5321 section 4.2.1), as in 250 or 5xx`},
		{"5x0", `invalid reply pattern "5x0": wildcards in basic code 5x0 must come last, as in 55x or 5xx`},
		{"550 4.7.1", `invalid reply pattern "550 4.7.1": basic code 550 and enhanced code 4.7.1 must be of the same class, as in 550 5.7.1 or 451 4.7.1`},
		{"2xx 5.7.1", `invalid reply pattern "2xx 5.7.1": basic code 2xx and enhanced code 5.7.1 must be of the same class, as in 550 5.7.1 or 451 4.7.1`},
		{"5.7", `invalid reply pattern "5.7": enhanced code 5.7 must be class.subject.detail (RFC 3463 section 2), as in 5.7.1, 5.7.x or 5.7.606-649`},
		{"5.7.1.2", `invalid reply pattern "5.7.1.2": enhanced code 5.7.1.2 must be class.subject.detail (RFC 3463 section 2), as in 5.7.1, 5.7.x or 5.7.606-649`},
		{"3.1.1", `invalid reply pattern "3.1.1": enhanced code 3.1.1 must have class 2, 4 or 5 (RFC 3463 section 3.1), as in 5.7.1, 5.7.x or 5.7.606-649`},
		{"5.1234.1", `invalid reply pattern "5.1234.1": enhanced code 5.1234.1 must have a subject of one to three digits, as in 5.7.1, 5.7.x or 5.7.606-649`},
		{"5..1", `invalid reply pattern "5..1": enhanced code 5..1 must have a subject of one to three digits, as in 5.7.1, 5.7.x or 5.7.606-649`},
		{"5.7.1000", `invalid reply pattern "5.7.1000": enhanced code 5.7.1000 must have a detail of one to three digits or a range of them, as in 5.7.1, 5.7.x or 5.7.606-649`},
		{"5.7.", `invalid reply pattern "5.7.": enhanced code 5.7. must have a detail of one to three digits or a range of them, as in 5.7.1, 5.7.x or 5.7.606-649`},
		{"5.7.606-", `invalid reply pattern "5.7.606-": enhanced code 5.7.606- must have a detail of one to three digits or a range of them, as in 5.7.1, 5.7.x or 5.7.606-649`},
		{"5.7.x-9", `invalid reply pattern "5.7.x-9": enhanced code 5.7.x-9 must have a detail of one to three digits or a range of them, as in 5.7.1, 5.7.x or 5.7.606-649`},
		{"5.x.1", `invalid reply pattern "5.x.1": wildcards in enhanced code 5.x.1 must come last, as in 5.7.1, 5.7.x or 5.7.606-649`},
		{"550 5.7.649-606", `invalid reply pattern "550 5.7.649-606": detail range 649-606 in enhanced code 5.7.649-606 must run from low to high, as in 5.7.606-649`},
		// Text after a basic code that looks like an enhanced code is one.
		{"550 5.7 blocked", `invalid reply pattern "550 5.7 blocked": enhanced code 5.7 must be class.subject.detail (RFC 3463 section 2), as in 5.7.1, 5.7.x or 5.7.606-649`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			p, err := ParsePattern(tt.src)
			if err == nil {
				t.Fatalf("ParsePattern(%q) = %+v, want an error", tt.src, p)
			}
			if err.Error() != tt.want {
				t.Errorf("ParsePattern(%q) error:\n got %s\nwant %s", tt.src, err, tt.want)
			}
		})
	}
}

func TestPatternFromCode(t *testing.T) {
	for _, code := range []int{200, 235, 250, 354, 421, 550, 599} {
		p, err := PatternFromCode(code)
		if err != nil {
			t.Fatalf("PatternFromCode(%d): %v", code, err)
		}
		parsed := MustParsePattern(p.Source)
		if p != parsed {
			t.Errorf("PatternFromCode(%d) = %+v, ParsePattern(%q) = %+v; want equal", code, p, p.Source, parsed)
		}
		r := esmtp.Reply{Code: code, Lines: []string{"text"}}
		if !p.Match(r) {
			t.Errorf("PatternFromCode(%d) does not match %s", code, r)
		}
		r.Code++
		if p.Match(r) {
			t.Errorf("PatternFromCode(%d) matches %s", code, r)
		}
	}
	for _, code := range []int{0, 1, 25, 199, 600, 2500, -250} {
		_, err := PatternFromCode(code)
		want := "an SMTP reply code is a number from 200 to 599, such as 250 or 550"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("PatternFromCode(%d) error = %v, want one saying %q", code, err, want)
		}
	}
}

func TestZeroPatternMatchesNothing(t *testing.T) {
	var p Pattern
	for _, r := range []string{"250 OK", "550 5.7.1 no"} {
		if p.Match(*reply(r)) {
			t.Errorf("zero Pattern matches %q", r)
		}
	}
}

func TestPatternText(t *testing.T) {
	var p Pattern
	if err := p.UnmarshalText([]byte("550 5.7.606-649")); err != nil {
		t.Fatal(err)
	}
	if !p.Match(*reply("550 5.7.610 Access denied")) {
		t.Errorf("unmarshalled pattern does not match")
	}
	b, err := p.MarshalText()
	if err != nil || string(b) != "550 5.7.606-649" {
		t.Errorf("MarshalText = %q, %v", b, err)
	}
	if err := p.UnmarshalText([]byte("nope")); err == nil {
		t.Errorf("UnmarshalText(nope) succeeded")
	}
}

func TestParseComparison(t *testing.T) {
	tests := []struct {
		src     string
		op      string
		value   float64
		holds   []float64
		notHold []float64
	}{
		{">= 1.2", ">=", 1.2, []float64{1.2, 1.3}, []float64{1.0, 1.1}},
		{">1.1", ">", 1.1, []float64{1.2, 1.3}, []float64{1.0, 1.1}},
		{"<= 30", "<=", 30, []float64{-1, 29, 30}, []float64{31}},
		{" < 14 ", "<", 14, []float64{13, -5}, []float64{14, 15}},
		{"= 1.3", "=", 1.3, []float64{1.3}, []float64{1.2}},
		{"==1.3", "=", 1.3, []float64{1.3}, []float64{1.2}},
		{"!= 1.0", "!=", 1.0, []float64{1.1, 1.3}, []float64{1.0}},
		{"1.3", "=", 1.3, []float64{1.3}, []float64{1.2, 1.0}},
		{"-1", "=", -1, []float64{-1}, []float64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			c, err := ParseComparison(tt.src)
			if err != nil {
				t.Fatalf("ParseComparison(%q): %v", tt.src, err)
			}
			if c.Op != tt.op || c.Value != tt.value || c.Source != strings.TrimSpace(tt.src) || c.String() != c.Source {
				t.Errorf("ParseComparison(%q) = %+v, want op %q value %v", tt.src, c, tt.op, tt.value)
			}
			for _, v := range tt.holds {
				if !c.Holds(v) {
					t.Errorf("%q does not hold for %v", tt.src, v)
				}
			}
			for _, v := range tt.notHold {
				if c.Holds(v) {
					t.Errorf("%q holds for %v", tt.src, v)
				}
			}
		})
	}
}

func TestParseComparisonInvalid(t *testing.T) {
	const how = `; write an operator (=, !=, >, >=, <, <=) and a number, as in ">= 1.2" or "< 14"`
	tests := []struct{ src, want string }{
		{"", `invalid comparison "": it is empty` + how},
		{">=", `invalid comparison ">=": the number is missing` + how},
		{"=> 1.2", `invalid comparison "=> 1.2": "> 1.2" is not a number` + how},
		{">= one", `invalid comparison ">= one": "one" is not a number` + how},
		{"~ 1.2", `invalid comparison "~ 1.2": "~ 1.2" is not a number` + how},
		{">= NaN", `invalid comparison ">= NaN": "NaN" is not a number` + how},
		{"< Inf", `invalid comparison "< Inf": "Inf" is not a number` + how},
		{">= 1.2.3", `invalid comparison ">= 1.2.3": "1.2.3" is not a number` + how},
	}
	for _, tt := range tests {
		_, err := ParseComparison(tt.src)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseComparison(%q) error:\n got %v\nwant %s", tt.src, err, tt.want)
		}
	}
}

func TestComparisonZeroOpIsEquality(t *testing.T) {
	c := Comparison{Value: 1.2}
	if !c.Holds(1.2) || c.Holds(1.3) {
		t.Errorf("Comparison with empty Op should mean equality")
	}
	if (Comparison{Op: "~", Value: 1}).Holds(1) {
		t.Errorf("unknown operator holds")
	}
}

func FuzzParsePattern(f *testing.F) {
	for _, seed := range []string{
		"250", "2xx", "55x", "250 2.1.5", "5.7.606", "550 5.7.606-649", "5.7.606-649",
		"550 5.7.1 Spamhaus", "250 Recipient OK", "5.7.x", "5.x.x", " 421  4.7.66 TLS 1.0 ",
		"", "x", "5x0", "550 4.7.1", "5.7", "5.7.649-606", "250\tok\n", "2.0.0", "5.7.1-",
		"550 5.7.1\x00", "9.9.9", "250 \xff\xfe",
	} {
		f.Add(seed)
	}
	replies := []esmtp.Reply{
		*reply("250 2.1.5 Recipient OK"),
		*reply("550 5.7.606 Access denied, banned sending IP [192.0.2.1]"),
		{Code: 0, Enhanced: "5..", Lines: nil},
		{Code: 99999, Enhanced: "5.7.1234567", Lines: []string{""}},
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePattern(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("error for %q is not one line: %q", s, err)
			}
			return
		}
		if p.Source != strings.TrimSpace(s) || p.String() != p.Source {
			t.Errorf("ParsePattern(%q).Source = %q", s, p.Source)
		}
		again, err := ParsePattern(p.Source)
		if err != nil {
			t.Fatalf("ParsePattern(%q) succeeded but its Source %q does not parse: %v", s, p.Source, err)
		}
		if again != p {
			t.Errorf("ParsePattern(%q) = %+v, but its Source parses to %+v", s, p, again)
		}
		for _, r := range replies {
			p.Match(r)
		}
	})
}
