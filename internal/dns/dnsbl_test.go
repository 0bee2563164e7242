package dns

import (
	"context"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// dnsblServer serves the three default zones with one test IP per return
// code: 127.0.0.<n> answers 127.0.0.<n> in zen.spamhaus.org.
func dnsblServer(t *testing.T) (*Resolver, *Trace) {
	t.Helper()
	var records []string
	for _, code := range []string{"2", "3", "4", "9", "10", "11", "30"} {
		records = append(records,
			"1"+code+".0.0.127.zen.spamhaus.org. 300 IN A 127.0.0."+code,
			"1"+code+`.0.0.127.zen.spamhaus.org. 300 IN TXT "https://check.spamhaus.org/query/ip/127.0.0.1`+code+`"`)
	}
	records = append(records,
		// The test entry every DNSBL lists (RFC 5782 section 5).
		"2.0.0.127.zen.spamhaus.org. 300 IN A 127.0.0.2",
		// Spamhaus error codes.
		"252.0.0.127.zen.spamhaus.org. 300 IN A 127.255.255.252",
		"254.0.0.127.zen.spamhaus.org. 300 IN A 127.255.255.254",
		"255.0.0.127.zen.spamhaus.org. 300 IN A 127.255.255.255",
		// A code of the error range Spamhaus has not named (an invalid DQS
		// key, say), and a code Spamhaus lists as unused.
		"250.0.0.127.zen.spamhaus.org. 300 IN A 127.255.255.250",
		"5.0.0.127.zen.spamhaus.org. 300 IN A 127.0.0.5",
		// Two codes at once: SBL and PBL.
		"50.0.0.127.zen.spamhaus.org. 300 IN A 127.0.0.2",
		"50.0.0.127.zen.spamhaus.org. 300 IN A 127.0.0.11",
		// A resolver that rewrites NXDOMAIN.
		"60.0.0.127.zen.spamhaus.org. 300 IN A 198.51.100.1",
		"2.0.0.127.b.barracudacentral.org. 300 IN A 127.0.0.2",
		"2.0.0.127.bl.spamcop.net. 300 IN A 127.0.0.2",
		`2.0.0.127.bl.spamcop.net. 300 IN TXT "Blocked - see https://www.spamcop.net/bl.shtml?127.0.0.2"`,
		"2.0.0.127.lab.test. 300 IN A 127.0.0.5",
		"1.0.0.127.lab.test. 300 IN A 127.0.0.1",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org. 300 IN A 127.0.0.3",
		"2.0.0.127.secret-key-123.zen.dq.spamhaus.net. 300 IN A 127.0.0.4",
		`2.0.0.127.secret-key-123.zen.dq.spamhaus.net. 300 IN TXT "listed, queried with key secret-key-123"`,
	)
	srv, r, trace := startServer(t, records...)
	srv.SetRcode("3.0.0.127.zen.spamhaus.org", mdns.RcodeServerFailure)
	srv.SetRcode("2.0.0.127.disabled-key.zen.dq.spamhaus.net", mdns.RcodeRefused)
	srv.Silence("4.0.0.127.bl.spamcop.net")
	r.Timeout = 300 * time.Millisecond
	return r, trace
}

func TestSpamhausReturnCodes(t *testing.T) {
	r, _ := dnsblServer(t)
	for _, tc := range []struct {
		ip     string
		status result.ListingStatus
		lists  string
	}{
		{"127.0.0.12", result.Listed, "Spamhaus SBL (spam sources)"},
		{"127.0.0.13", result.Listed, "Spamhaus SBL CSS"},
		{"127.0.0.14", result.Listed, "Spamhaus XBL"},
		{"127.0.0.19", result.Listed, "Spamhaus SBL DROP"},
		{"127.0.0.110", result.Listed, "Spamhaus PBL (ISP-maintained"},
		{"127.0.0.111", result.Listed, "Spamhaus PBL (Spamhaus-maintained"},
		{"127.0.0.130", result.Listed, "Spamhaus BCL"},
		{"127.0.0.50", result.Listed, "Spamhaus SBL (spam sources), Spamhaus PBL (Spamhaus-maintained"},
		// Unused today: listed, with the code, but not named as XBL.
		{"127.0.0.5", result.Listed, "Spamhaus (code 127.0.0.5)"},
		{"127.0.0.7", result.NotListed, ""},
	} {
		res := r.CheckDNSBL(context.Background(), DNSBLQuery{IP: netip.MustParseAddr(tc.ip), Zones: []string{"zen.spamhaus.org"}})
		if len(res) != 1 {
			t.Fatalf("%s: %d results", tc.ip, len(res))
		}
		got := res[0]
		if got.Status != tc.status || !strings.HasPrefix(strings.Join(got.Lists, ", "), tc.lists) {
			t.Errorf("%s: %+v, want %s %q", tc.ip, got, tc.status, tc.lists)
		}
		if tc.status == result.Listed {
			if !strings.Contains(got.Reason, "check.spamhaus.org") && tc.ip != "127.0.0.50" && tc.ip != "127.0.0.5" {
				t.Errorf("%s: TXT reason not fetched: %+v", tc.ip, got)
			}
			if got.Delist != "https://www.spamhaus.org/lookup/" {
				t.Errorf("%s: delist = %q", tc.ip, got.Delist)
			}
		}
	}
	res := r.CheckDNSBL(context.Background(), DNSBLQuery{IP: netip.MustParseAddr("127.0.0.111"), Zones: []string{"zen.spamhaus.org"}})
	want := "zen.spamhaus.org: listed in Spamhaus PBL (Spamhaus-maintained: end-user range that should not send directly) (127.0.0.11): https://check.spamhaus.org/query/ip/127.0.0.111"
	if got := res[0].String(); got != want {
		t.Errorf("String() = %q\nwant         %q", got, want)
	}
}

func TestDNSBLInconclusive(t *testing.T) {
	r, _ := dnsblServer(t)
	for _, tc := range []struct {
		ip, zone string
		why      string
	}{
		{"127.0.0.252", "zen.spamhaus.org", "zone name is mistyped"},
		{"127.0.0.254", "zen.spamhaus.org", "public or open resolver"},
		{"127.0.0.255", "zen.spamhaus.org", "excessive number of queries"},
		{"127.0.0.250", "zen.spamhaus.org", "Spamhaus error 127.255.255.250: a code the zone reserves for errors"},
		{"127.0.0.60", "zen.spamhaus.org", "outside 127.0.0.0/8"},
		{"127.0.0.3", "zen.spamhaus.org", "SERVFAIL"},
		{"127.0.0.4", "bl.spamcop.net", "no answer from"},
		{"127.0.0.1", "lab.test", "127.0.0.1 is not a listing"},
	} {
		res := r.CheckDNSBL(context.Background(), DNSBLQuery{IP: netip.MustParseAddr(tc.ip), Zones: []string{tc.zone}})
		got := res[0]
		if got.Status != result.Inconclusive || !strings.Contains(got.Explanation, tc.why) {
			t.Errorf("%s in %s: %+v, want inconclusive because %q", tc.ip, tc.zone, got, tc.why)
		}
		if !strings.HasPrefix(got.String(), tc.zone+": inconclusive: ") {
			t.Errorf("String() = %q", got.String())
		}
	}
}

func TestDefaultZonesAndOtherLists(t *testing.T) {
	r, trace := dnsblServer(t)
	res := r.CheckDNSBL(context.Background(), DNSBLQuery{IP: netip.MustParseAddr("127.0.0.2")})
	var zones []string
	for _, l := range res {
		zones = append(zones, l.Zone)
		if l.Status != result.Listed {
			t.Errorf("%s: %+v", l.Zone, l)
		}
	}
	if !reflect.DeepEqual(zones, DefaultZones) {
		t.Errorf("zones = %q", zones)
	}
	if res[1].Lists[0] != "Barracuda Reputation Block List (BRBL)" || res[2].Lists[0] != "SpamCop Blocking List (SCBL)" {
		t.Errorf("Barracuda/SpamCop decoding: %+v", res[1:])
	}
	if !strings.Contains(res[2].Reason, "spamcop.net") {
		t.Errorf("SpamCop reason = %q", res[2].Reason)
	}
	if n := len(trace.Lookups()); n != 6 {
		t.Errorf("%d lookups, want an A and a TXT per zone", n)
	}

	res = r.CheckDNSBL(context.Background(), DNSBLQuery{IP: netip.MustParseAddr("127.0.0.2"), Zones: []string{"lab.test."}})
	if res[0].Status != result.Listed || res[0].Codes[0] != "127.0.0.5" || res[0].Lists != nil || res[0].Delist != "" {
		t.Errorf("unknown zone: %+v", res[0])
	}
	if got := res[0].String(); got != "lab.test: listed in lab.test (127.0.0.5)" {
		t.Errorf("String() = %q", got)
	}
}

func TestDNSBLIPv6(t *testing.T) {
	r, _ := dnsblServer(t)
	res := r.CheckDNSBL(context.Background(), DNSBLQuery{IP: netip.MustParseAddr("2001:db8::1"), Zones: []string{"zen.spamhaus.org"}})
	if res[0].Status != result.Listed || res[0].Lists[0] != "Spamhaus SBL CSS (snowshoe spam)" || res[0].IP != "2001:db8::1" {
		t.Errorf("IPv6: %+v", res[0])
	}
}

func TestDQSKeyIsUsedAndMasked(t *testing.T) {
	r, trace := dnsblServer(t)
	res := r.CheckDNSBL(context.Background(), DNSBLQuery{IP: netip.MustParseAddr("127.0.0.2"),
		Zones: []string{"zen.spamhaus.org"}, DQSKey: "secret-key-123"})
	got := res[0]
	if got.Status != result.Listed || got.Lists[0] != "Spamhaus XBL (exploited or infected hosts)" {
		t.Fatalf("DQS: %+v", got)
	}
	if got.Query != "2.0.0.127.****.zen.dq.spamhaus.net." || strings.Contains(got.String(), "secret-key-123") {
		t.Errorf("key not masked: %+v", got)
	}
	if ls := trace.Lookups(); len(ls) == 0 || !strings.Contains(ls[0].Name, ".secret-key-123.zen.dq.spamhaus.net.") {
		t.Errorf("the DQS zone was not asked: %+v", ls)
	}

	res = r.CheckDNSBL(context.Background(), DNSBLQuery{IP: netip.MustParseAddr("127.0.0.2"),
		Zones: []string{"zen.spamhaus.org"}, DQSKey: "disabled-key"})
	if res[0].Status != result.Inconclusive || !strings.Contains(res[0].Explanation, "DQS key is disabled") ||
		strings.Contains(res[0].Explanation, "disabled-key") {
		t.Errorf("disabled key: %+v", res[0])
	}
}
