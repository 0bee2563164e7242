package assertions

import (
	"strings"
	"testing"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

func TestEvaluateDNS(t *testing.T) {
	mx := &result.DNSOutcome{Name: "contoso.com", Type: "MX", Rcode: "NOERROR",
		Records: []string{"0 contoso-com.mail.protection.outlook.com."}}
	nx := &result.DNSOutcome{Name: "nothing.contoso.com", Type: "A", Rcode: "NXDOMAIN"}
	servfail := &result.DNSOutcome{Name: "contoso.com", Type: "MX", Rcode: "SERVFAIL", Error: "MX contoso.com.: SERVFAIL from 127.0.0.1:53"}
	spf := &result.DNSOutcome{Name: "contoso.com", Type: "TXT", Rcode: "NOERROR",
		Records:     []string{"v=spf1 ip4:203.0.113.5 include:spf.protection.outlook.com -all"},
		SPFRecord:   "v=spf1 ip4:203.0.113.5 include:spf.protection.outlook.com -all",
		SPFIncludes: []string{"spf.protection.outlook.com"},
		SPF: []result.SPFVerdict{
			{IP: "203.0.113.5", Result: "pass", Mechanism: "ip4:203.0.113.5"},
			{IP: "198.51.100.7", Result: "fail", Mechanism: "-all"},
		},
		DMARCPolicy: "quarantine", DMARCRecord: "v=DMARC1; p=quarantine"}
	ptr := &result.DNSOutcome{Name: "203.0.113.5", Type: "PTR", Rcode: "NOERROR", Records: []string{"mail.contoso.com."},
		PTRNames: []string{"mail.contoso.com"}}
	cmp := func(s string) *Comparison {
		c, err := ParseComparison(s)
		if err != nil {
			t.Fatal(err)
		}
		return &c
	}
	str := func(s string) *string { return &s }
	yes, no := true, false

	for _, tc := range []struct {
		name string
		e    *DNSExpect
		o    *result.DNSOutcome
		want []string // failure messages, each a substring, in order
	}{
		{"default pass", nil, mx, nil},
		{"default no records", nil, nx, []string{"lookup: no A records for nothing.contoso.com (NXDOMAIN)"}},
		{"default servfail", nil, servfail, []string{"lookup: MX contoso.com.: SERVFAIL"}},
		{"servfail with expectations", &DNSExpect{Contains: []string{"x"}}, servfail, []string{"lookup: "}},
		{"servfail expected", &DNSExpect{Rcode: str("servfail")}, servfail, nil},
		{"nxdomain expected", &DNSExpect{Rcode: str("NXDOMAIN")}, nx, nil},
		{"rcode mismatch", &DNSExpect{Rcode: str("NXDOMAIN")}, mx, []string{"rcode: expected NXDOMAIN for MX contoso.com, got NOERROR"}},
		{"count 0 of nxdomain", &DNSExpect{Count: cmp("0")}, nx, nil},
		{"contains", &DNSExpect{Contains: []string{"MAIL.protection.outlook.com"}}, mx, nil},
		{"contains fails", &DNSExpect{Contains: []string{"mx.microsoft"}}, mx,
			[]string{`contains: no MX record of contoso.com contains "mx.microsoft"; records: 0 contoso-com.mail.protection.outlook.com.`}},
		{"contains on nxdomain", &DNSExpect{Contains: []string{"x"}}, nx, []string{"records: none"}},
		{"not_contains", &DNSExpect{NotContains: []string{"mx.microsoft"}}, mx, nil},
		{"not_contains fails", &DNSExpect{NotContains: []string{"outlook"}}, mx, []string{`not_contains: the MX record "0 contoso-com`}},
		{"count", &DNSExpect{Count: cmp(">= 1")}, mx, nil},
		{"count fails", &DNSExpect{Count: cmp("2")}, mx, []string{"count: expected 2 MX records for contoso.com, got 1"}},
		{"spf", &DNSExpect{SPFIncludes: []string{"spf.protection.outlook.com."}, SPFAllows: []string{"203.0.113.5", "198.51.100.7"}}, spf,
			[]string{"spf_allows: the SPF record of contoso.com does not allow 198.51.100.7: fail (matched -all)"}},
		{"spf include missing", &DNSExpect{SPFIncludes: []string{"spf.example.net"}}, spf,
			[]string{"spf_includes: the SPF record of contoso.com does not include spf.example.net; record: v=spf1"}},
		{"spf error", &DNSExpect{SPFIncludes: []string{"x"}}, &result.DNSOutcome{Name: "a", Type: "TXT", Rcode: "NOERROR", SPFError: "a has no SPF record"},
			[]string{"spf_includes: a has no SPF record"}},
		{"dmarc", &DNSExpect{DMARCPolicy: str("Quarantine")}, spf, nil},
		{"dmarc fails", &DNSExpect{DMARCPolicy: str("reject")}, spf, []string{"dmarc_policy: expected p=reject, got p=quarantine; record: v=DMARC1; p=quarantine"}},
		{"dmarc missing", &DNSExpect{DMARCPolicy: str("reject")}, &result.DNSOutcome{DMARCError: "_dmarc.a has no DMARC record"},
			[]string{"dmarc_policy: expected p=reject, but _dmarc.a has no DMARC record"}},
		{"fcrdns fails", &DNSExpect{ForwardConfirmed: &yes}, ptr, []string{"forward_confirmed: no PTR name of 203.0.113.5 (mail.contoso.com) resolves back to it"}},
		{"fcrdns false holds", &DNSExpect{ForwardConfirmed: &no}, ptr, nil},
		{"fcrdns no ptr", &DNSExpect{ForwardConfirmed: &yes}, &result.DNSOutcome{Name: "203.0.113.9", Type: "PTR", Rcode: "NXDOMAIN"},
			[]string{"forward_confirmed: 203.0.113.9 has no PTR record"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := EvaluateDNS(tc.e, tc.o)
			if len(got) != len(tc.want) {
				t.Fatalf("failures = %+v, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i].Message, w) || !strings.HasPrefix(got[i].Message, got[i].Expectation+": ") {
					t.Errorf("failure %d = %+v, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
	confirmed := *ptr
	confirmed.ForwardConfirmed = []string{"mail.contoso.com"}
	if f := EvaluateDNS(&DNSExpect{ForwardConfirmed: &yes}, &confirmed); len(f) != 0 {
		t.Errorf("forward-confirmed: %+v", f)
	}
	if f := EvaluateDNS(&DNSExpect{ForwardConfirmed: &no}, &confirmed); len(f) != 1 {
		t.Errorf("forward_confirmed = false with a confirmed name: %+v", f)
	}
}

func TestEvaluateDNSBL(t *testing.T) {
	clean := &DNSBLOutcome{IP: "203.0.113.5", Zones: []Listing{
		{"zen.spamhaus.org", "not listed", "zen.spamhaus.org: not listed"},
		{"bl.spamcop.net", "not listed", "bl.spamcop.net: not listed"},
	}}
	pbl := &DNSBLOutcome{IP: "203.0.113.5", Zones: []Listing{
		{"zen.spamhaus.org", "listed", "zen.spamhaus.org: listed in Spamhaus PBL (127.0.0.11)"},
		{"bl.spamcop.net", "not listed", "bl.spamcop.net: not listed"},
	}}
	unsure := &DNSBLOutcome{IP: "203.0.113.5", Zones: []Listing{
		{"zen.spamhaus.org", "inconclusive", "zen.spamhaus.org: inconclusive: Spamhaus error 127.255.255.254"},
	}}
	yes, no := true, false
	for _, tc := range []struct {
		name string
		e    *DNSBLExpect
		o    *DNSBLOutcome
		want []string
	}{
		{"default clean", nil, clean, nil},
		{"default listed", nil, pbl, []string{"listed: expected 203.0.113.5 on no blocklist, but zen.spamhaus.org: listed in Spamhaus PBL (127.0.0.11)"}},
		{"false clean", &DNSBLExpect{Listed: &no}, clean, nil},
		{"false inconclusive", &DNSBLExpect{Listed: &no}, unsure, []string{"listed: cannot prove 203.0.113.5 is not listed: zen.spamhaus.org: inconclusive"}},
		{"true listed", &DNSBLExpect{Listed: &yes}, pbl, nil},
		{"true clean", &DNSBLExpect{Listed: &yes}, clean, []string{"listed: expected 203.0.113.5 on a blocklist, but none of zen.spamhaus.org, bl.spamcop.net lists it"}},
		{"true inconclusive", &DNSBLExpect{Listed: &yes}, unsure, []string{"(zen.spamhaus.org: inconclusive: Spamhaus error 127.255.255.254)"}},
		{"no ip", nil, &DNSBLOutcome{Error: `the smtp check "x" saw no client IP`}, []string{`ip: the smtp check "x" saw no client IP`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := EvaluateDNSBL(tc.e, tc.o)
			if len(got) != len(tc.want) {
				t.Fatalf("failures = %+v, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i].Message, w) {
					t.Errorf("failure %d = %q, want it to contain %q", i, got[i].Message, w)
				}
			}
		})
	}
}
