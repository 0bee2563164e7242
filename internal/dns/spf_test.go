package dns

import (
	"context"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

func spfZone(t *testing.T) *Resolver {
	t.Helper()
	many := `"v=spf1`
	for i := 1; i <= 11; i++ {
		many += " include:n" + string(rune('a'+i-1)) + ".test"
	}
	many += ` -all"`
	records := []string{
		`contoso.test. 300 IN TXT "v=spf1 ip4:127.0.0.1 include:spf.peers.test ~all"`,
		`contoso.test. 300 IN TXT "google-site-verification=abc"`,
		`spf.peers.test. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"`,
		`a.test. 300 IN TXT "v=spf1 a -all"`,
		`a.test. 300 IN A 198.51.100.1`,
		`acidr.test. 300 IN TXT "v=spf1 a:host.acidr.test/24 -all"`,
		`host.acidr.test. 300 IN A 198.51.100.1`,
		`mx.test. 300 IN TXT "v=spf1 mx -all"`,
		`mx.test. 300 IN MX 10 mail.mx.test.`,
		`mail.mx.test. 300 IN A 198.51.100.2`,
		`redirect.test. 300 IN TXT "v=spf1 redirect=spf.peers.test"`,
		`redirectnone.test. 300 IN TXT "v=spf1 redirect=none.test"`,
		`neutral.test. 300 IN TXT "v=spf1 ip4:10.0.0.1"`,
		`qual.test. 300 IN TXT "v=spf1 ?ip4:198.51.100.3 -ip4:198.51.100.4 +all"`,
		`loop.test. 300 IN TXT "v=spf1 include:loop.test -all"`,
		`many.test. 300 IN TXT ` + many,
		`two.test. 300 IN TXT "v=spf1 -all"`,
		`two.test. 300 IN TXT "v=spf1 +all"`,
		`none.test. 300 IN A 127.0.0.1`,
		`badinclude.test. 300 IN TXT "v=spf1 include:none.test -all"`,
		`unknown.test. 300 IN TXT "v=spf1 foo:bar -all"`,
		`tempinclude.test. 300 IN TXT "v=spf1 include:servfail.test -all"`,
		`macro.test. 300 IN TXT "v=spf1 exists:%{ir}.ex.%{d} -all"`,
		`1.100.51.198.ex.macro.test. 300 IN A 127.0.0.2`,
		`voids.test. 300 IN TXT "v=spf1 a:v1.test a:v2.test a:v3.test -all"`,
		`ptr.test. 300 IN TXT "v=spf1 ptr -all"`,
		`9.100.51.198.in-addr.arpa. 300 IN PTR host.ptr.test.`,
		`host.ptr.test. 300 IN A 198.51.100.9`,
		`notspf.test. 300 IN TXT "v=spf10 +all"`,
	}
	for c := 'a'; c < 'a'+11; c++ {
		records = append(records, `n`+string(c)+`.test. 300 IN TXT "v=spf1 ?ip4:0.0.0.1"`)
	}
	srv, r, _ := startServer(t, records...)
	srv.SetRcode("servfail.test", mdns.RcodeServerFailure)
	return r
}

func TestCheckSPF(t *testing.T) {
	r := spfZone(t)
	for _, tc := range []struct {
		domain, ip string
		result     string
		mechanism  string
		reason     string
	}{
		{"contoso.test", "127.0.0.1", result.SPFPass, "ip4:127.0.0.1", ""},
		{"contoso.test", "192.0.2.77", result.SPFPass, "include:spf.peers.test → ip4:192.0.2.0/24", ""},
		{"contoso.test", "2001:db8::25", result.SPFPass, "include:spf.peers.test → ip6:2001:db8::/32", ""},
		{"contoso.test", "::ffff:127.0.0.1", result.SPFPass, "ip4:127.0.0.1", ""},
		{"contoso.test", "203.0.113.5", result.SPFSoftFail, "~all", ""},
		{"a.test", "198.51.100.1", result.SPFPass, "a", ""},
		{"a.test", "198.51.100.2", result.SPFFail, "-all", ""},
		{"acidr.test", "198.51.100.200", result.SPFPass, "a:host.acidr.test/24", ""},
		{"mx.test", "198.51.100.2", result.SPFPass, "mx", ""},
		{"mx.test", "198.51.100.1", result.SPFFail, "-all", ""},
		{"redirect.test", "192.0.2.1", result.SPFPass, "redirect=spf.peers.test → ip4:192.0.2.0/24", ""},
		{"redirect.test", "198.51.100.1", result.SPFFail, "redirect=spf.peers.test → -all", ""},
		{"redirectnone.test", "198.51.100.1", result.SPFPermError, "", "without an SPF record"},
		{"neutral.test", "198.51.100.1", result.SPFNeutral, "", "default neutral"},
		{"qual.test", "198.51.100.3", result.SPFNeutral, "?ip4:198.51.100.3", ""},
		{"qual.test", "198.51.100.4", result.SPFFail, "-ip4:198.51.100.4", ""},
		{"qual.test", "198.51.100.5", result.SPFPass, "+all", ""},
		{"loop.test", "198.51.100.1", result.SPFPermError, "", "more than 10 DNS-querying terms"},
		{"many.test", "198.51.100.1", result.SPFPermError, "", "more than 10 DNS-querying terms"},
		{"two.test", "198.51.100.1", result.SPFPermError, "", "2 SPF records"},
		{"none.test", "198.51.100.1", result.SPFNone, "", "no SPF record"},
		{"missing.test", "198.51.100.1", result.SPFNone, "NXDOMAIN", "NXDOMAIN"},
		{"notspf.test", "198.51.100.1", result.SPFNone, "", "no SPF record"},
		{"badinclude.test", "198.51.100.1", result.SPFPermError, "", "include:none.test: none"},
		{"unknown.test", "198.51.100.1", result.SPFPermError, "", `unknown mechanism "foo"`},
		{"servfail.test", "198.51.100.1", result.SPFTempError, "", "SERVFAIL"},
		{"tempinclude.test", "198.51.100.1", result.SPFTempError, "", "SERVFAIL"},
		{"macro.test", "198.51.100.1", result.SPFPass, "exists:%{ir}.ex.%{d}", ""},
		{"macro.test", "198.51.100.2", result.SPFFail, "-all", ""},
		{"voids.test", "198.51.100.1", result.SPFPermError, "", "found nothing"},
		{"ptr.test", "198.51.100.9", result.SPFPass, "ptr", ""},
		{"ptr.test", "198.51.100.8", result.SPFFail, "-all", ""},
	} {
		t.Run(tc.domain+"/"+tc.ip, func(t *testing.T) {
			got := r.CheckSPF(context.Background(), netip.MustParseAddr(tc.ip), tc.domain)
			if got.Result != tc.result {
				t.Fatalf("result %s, want %s (%s)", got.Result, tc.result, got)
			}
			if tc.mechanism != "NXDOMAIN" && got.Mechanism != tc.mechanism {
				t.Errorf("mechanism %q, want %q", got.Mechanism, tc.mechanism)
			}
			if tc.reason != "" && !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("reason %q, want it to contain %q", got.Reason, tc.reason)
			}
			if got.Lookups > MaxSPFLookups+1 {
				t.Errorf("%d lookups counted; evaluation must stop after the limit", got.Lookups)
			}
		})
	}
}

func TestSPFResultString(t *testing.T) {
	s := SPFResult{Domain: "contoso.test", IP: "192.0.2.1", Result: result.SPFPass, Mechanism: "include:spf.peers.test → ip4:192.0.2.0/24"}
	if got := s.String(); got != "SPF of contoso.test for 192.0.2.1: pass (matched include:spf.peers.test → ip4:192.0.2.0/24)" {
		t.Errorf("String() = %q", got)
	}
}

func TestSPFIncludes(t *testing.T) {
	r := spfZone(t)
	got, rec, err := r.SPFIncludes(context.Background(), "contoso.test")
	if err != nil || !reflect.DeepEqual(got, []string{"spf.peers.test"}) || !strings.HasPrefix(rec, "v=spf1 ip4:127.0.0.1") {
		t.Errorf("SPFIncludes(contoso.test) = %q, %q, %v", got, rec, err)
	}
	got, _, err = r.SPFIncludes(context.Background(), "redirect.test")
	if err != nil || !reflect.DeepEqual(got, []string{"spf.peers.test"}) {
		t.Errorf("SPFIncludes(redirect.test) = %q, %v", got, err)
	}
	got, _, err = r.SPFIncludes(context.Background(), "loop.test")
	if err != nil || !reflect.DeepEqual(got, []string{"loop.test"}) {
		t.Errorf("SPFIncludes(loop.test) = %q, %v (a loop is followed once)", got, err)
	}
	if _, _, err := r.SPFIncludes(context.Background(), "none.test"); err == nil {
		t.Error("no error for a domain without SPF")
	}
}

func TestSplitCIDR(t *testing.T) {
	for _, tc := range []struct {
		in      string
		spec    string
		v4, v6  int
		wantErr bool
	}{
		{"", "", 32, 128, false},
		{"/24", "", 24, 128, false},
		{"//64", "", 32, 64, false},
		{"/24//64", "", 24, 64, false},
		{"example.test/24//64", "example.test", 24, 64, false},
		{"example.test", "example.test", 32, 128, false},
		{"/33", "", 0, 0, true},
		{"//129", "", 0, 0, true},
	} {
		spec, v4, v6, err := splitCIDR(tc.in)
		if (err != nil) != tc.wantErr || (!tc.wantErr && (spec != tc.spec || v4 != tc.v4 || v6 != tc.v6)) {
			t.Errorf("splitCIDR(%q) = %q %d %d %v", tc.in, spec, v4, v6, err)
		}
	}
}

func TestMacroExpansion(t *testing.T) {
	e := &spfEval{ip: netip.MustParseAddr("192.0.2.3"), sender: "strong-bad@email.example.com", helo: "mx.example.org"}
	for spec, want := range map[string]string{
		"%{s}":                  "strong-bad@email.example.com",
		"%{o}":                  "email.example.com",
		"%{d}":                  "email.example.com",
		"%{d4}":                 "email.example.com",
		"%{d3}":                 "email.example.com",
		"%{d2}":                 "example.com",
		"%{d1}":                 "com",
		"%{dr}":                 "com.example.email",
		"%{d2r}":                "example.email",
		"%{l}":                  "strong-bad",
		"%{l-}":                 "strong.bad",
		"%{lr}":                 "strong-bad",
		"%{lr-}":                "bad.strong",
		"%{l1r-}":               "strong",
		"%{ir}.%{v}._spf.%{d2}": "3.2.0.192.in-addr._spf.example.com",
		"%{h}.x":                "mx.example.org.x",
	} {
		got, err := e.expand(spec, "email.example.com")
		if err != nil || got != want {
			t.Errorf("expand(%q) = %q, %v; want %q", spec, got, err, want)
		}
	}
	e6 := &spfEval{ip: netip.MustParseAddr("2001:db8::cb01"), sender: "a@b.test"}
	if got, _ := e6.expand("%{ir}.%{v}._spf.%{d2}", "email.example.com"); got != "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com" {
		t.Errorf("IPv6 %%{ir} = %q", got)
	}
	for _, bad := range []string{"%{x}", "%{d0}", "%", "%{d", "%a"} {
		if _, err := e.expand(bad, "d.test"); err == nil {
			t.Errorf("expand(%q): no error", bad)
		}
	}
}
