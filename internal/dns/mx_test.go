package dns

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

func TestResolveMX(t *testing.T) {
	_, r, trace := startServer(t,
		"contoso.test. 300 IN MX 20 backup.contoso.test.",
		"contoso.test. 300 IN MX 10 noaddr.contoso.test.",
		"contoso.test. 300 IN MX 10 Mx1.contoso.test.",
		"mx1.contoso.test. 300 IN A 127.0.0.10",
		"mx1.contoso.test. 300 IN AAAA ::1",
		"backup.contoso.test. 300 IN A 127.0.0.20",
		"noaddr.contoso.test. 300 IN TXT \"no address\"",
		"v6only.test. 300 IN MX 0 mx.v6only.test.",
		"mx.v6only.test. 300 IN AAAA ::1",
		"null.test. 300 IN MX 0 .",
		"nomx.test. 300 IN A 127.0.0.1",
		"deadmx.test. 300 IN MX 10 gone.deadmx.test.",
	)
	ctx := context.Background()

	res, err := r.ResolveMX(ctx, "contoso.test.", 0)
	if err != nil {
		t.Fatal(err)
	}
	wantHosts := []MXHost{{10, "mx1.contoso.test"}, {10, "noaddr.contoso.test"}, {20, "backup.contoso.test"}}
	if !reflect.DeepEqual(res.Hosts, wantHosts) {
		t.Errorf("hosts = %+v, want %+v (preference order, ties by name)", res.Hosts, wantHosts)
	}
	if res.Host != "mx1.contoso.test" || !reflect.DeepEqual(res.Addrs, []netip.Addr{netip.MustParseAddr("127.0.0.10"), netip.MustParseAddr("::1")}) {
		t.Errorf("chosen %s %v", res.Host, res.Addrs)
	}
	if ls := trace.Lookups(); len(ls) != 3 || ls[0].Type != "MX" || ls[1].Type != "A" || ls[2].Type != "AAAA" {
		t.Errorf("lookups = %+v", ls)
	}

	res, err = r.ResolveMX(ctx, "contoso.test", 4)
	if err != nil || len(res.Addrs) != 1 || res.Addrs[0] != netip.MustParseAddr("127.0.0.10") {
		t.Errorf("ip_version 4: %+v, %v", res, err)
	}
	if _, err := r.ResolveMX(ctx, "v6only.test", 4); !isMXError(err, result.MXNoAddress) || !strings.Contains(err.Error(), "IPv4") {
		t.Errorf("v6-only MX with ip_version 4: %v", err)
	}
	if res, err := r.ResolveMX(ctx, "v6only.test", 0); err != nil || res.Addrs[0] != netip.MustParseAddr("::1") {
		t.Errorf("v6-only MX: %+v, %v", res, err)
	}

	for _, tc := range []struct {
		domain string
		kind   result.MXFailure
		text   string
	}{
		{"null.test", result.MXNull, "null MX (RFC 7505)"},
		{"nomx.test", result.MXNone, "publishes no MX record"},
		{"missing.test", result.MXNoDomain, "does not exist (NXDOMAIN)"},
		{"deadmx.test", result.MXNoAddress, "no MX host of deadmx.test has an address"},
	} {
		_, err := r.ResolveMX(ctx, tc.domain, 0)
		if !isMXError(err, tc.kind) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: err = %v, want %s containing %q", tc.domain, err, tc.kind, tc.text)
		}
	}
}

func TestResolveMXLookupFailure(t *testing.T) {
	srv, r, _ := startServer(t)
	srv.SetRcode("broken.test", mdns.RcodeServerFailure)
	_, err := r.ResolveMX(context.Background(), "broken.test", 0)
	var qe *QueryError
	if !isMXError(err, result.MXLookup) || !errors.As(err, &qe) || qe.Rcode != "SERVFAIL" {
		t.Fatalf("err = %v", err)
	}
}

func isMXError(err error, kind result.MXFailure) bool {
	var me *MXError
	return errors.As(err, &me) && me.Kind == kind
}

func TestDMARC(t *testing.T) {
	_, r, _ := startServer(t,
		`_dmarc.contoso.test. 300 IN TXT "v=DMARC1; p=Reject; sp=quarantine; rua=mailto:d@contoso.test"`,
		`_dmarc.two.test. 300 IN TXT "v=DMARC1; p=none"`,
		`_dmarc.two.test. 300 IN TXT "v=DMARC1; p=reject"`,
		`_dmarc.other.test. 300 IN TXT "google-site-verification=x"`,
	)
	ctx := context.Background()
	for _, name := range []string{"contoso.test", "_dmarc.contoso.test."} {
		rec, err := r.DMARC(ctx, name)
		if err != nil || rec.Policy != "reject" || rec.SubdomainPolicy != "quarantine" || rec.Name != "_dmarc.contoso.test" {
			t.Errorf("DMARC(%s) = %+v, %v", name, rec, err)
		}
	}
	for name, want := range map[string]string{
		"two.test":     "2 DMARC records",
		"other.test":   "no DMARC record",
		"missing.test": "no DMARC record",
	} {
		if _, err := r.DMARC(ctx, name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DMARC(%s): err = %v, want %q", name, err, want)
		}
	}
}

func TestForwardConfirmed(t *testing.T) {
	_, r, _ := startServer(t,
		"5.113.0.203.in-addr.arpa. 300 IN PTR mail.contoso.test.",
		"mail.contoso.test. 300 IN A 203.0.113.5",
		"6.113.0.203.in-addr.arpa. 300 IN PTR liar.contoso.test.",
		"liar.contoso.test. 300 IN A 203.0.113.99",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 300 IN PTR v6.contoso.test.",
		"v6.contoso.test. 300 IN AAAA 2001:db8::1",
	)
	ctx := context.Background()
	for ip, want := range map[string]bool{"203.0.113.5": true, "203.0.113.6": false, "203.0.113.7": false, "2001:db8::1": true} {
		f, err := r.ForwardConfirmed(ctx, netip.MustParseAddr(ip))
		if err != nil || f.OK() != want {
			t.Errorf("ForwardConfirmed(%s) = %+v, %v; want confirmed %v", ip, f, err, want)
		}
	}
	f, _ := r.ForwardConfirmed(ctx, netip.MustParseAddr("203.0.113.6"))
	if !reflect.DeepEqual(f.Names, []string{"liar.contoso.test"}) {
		t.Errorf("names = %q", f.Names)
	}
}
