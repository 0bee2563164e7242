package dns

import (
	"bufio"
	"context"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// peersDNS returns a Resolver for the rbldnsd that scripts/peers.sh
// starts on loopback (its address comes from the env file the script
// writes), or skips the test when it does not answer.
func peersDNS(t *testing.T) *Resolver {
	t.Helper()
	addr := "127.0.0.1:5354"
	path := os.Getenv("SMTPDIAG_PEERS_ENV")
	if path == "" {
		path = "/run/smtpdiag-peers/env"
	}
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "SMTPDIAG_PEERS_DNS="); ok {
				addr = strings.TrimSpace(v)
			}
		}
		f.Close()
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsLoopback() {
		t.Fatalf("SMTPDIAG_PEERS_DNS=%q: the peers' rbldnsd must listen on a loopback address", addr)
	}
	r := &Resolver{Servers: []string{addr}, Timeout: time.Second}
	if _, err := r.Query(context.Background(), "contoso.test", mdns.TypeSOA); err != nil {
		t.Skipf("the peers' rbldnsd does not answer on %s (%v); start it with scripts/peers.sh up", addr, err)
	}
	return r
}

func TestPeersMX(t *testing.T) {
	r := peersDNS(t)
	res, err := r.ResolveMX(context.Background(), "contoso.test", 4)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Hosts, []MXHost{{10, "mx.peers.test"}}) || res.Host != "mx.peers.test" ||
		len(res.Addrs) != 1 || res.Addrs[0] != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("MX of contoso.test = %+v", res)
	}
	if _, err := r.ResolveMX(context.Background(), "nothing.contoso.test", 0); !isMXError(err, result.MXNoDomain) && !isMXError(err, result.MXNone) {
		t.Errorf("a name without MX: %v", err)
	}
}

func TestPeersSPFAndDMARC(t *testing.T) {
	r := peersDNS(t)
	ctx := context.Background()
	for ip, want := range map[string][2]string{
		"127.0.0.1":   {result.SPFPass, "ip4:127.0.0.1"},
		"127.0.0.9":   {result.SPFPass, "include:spf.peers.test → ip4:127.0.0.0/8"},
		"203.0.113.5": {result.SPFSoftFail, "~all"},
	} {
		got := r.CheckSPF(ctx, netip.MustParseAddr(ip), "contoso.test")
		if got.Result != want[0] || got.Mechanism != want[1] {
			t.Errorf("SPF for %s: %s, want %s via %s", ip, got, want[0], want[1])
		}
	}
	includes, _, err := r.SPFIncludes(ctx, "contoso.test")
	if err != nil || !reflect.DeepEqual(includes, []string{"spf.peers.test"}) {
		t.Errorf("includes = %q, %v", includes, err)
	}
	rec, err := r.DMARC(ctx, "contoso.test")
	if err != nil || rec.Policy != "reject" {
		t.Errorf("DMARC = %+v, %v", rec, err)
	}
}

func TestPeersDNSBL(t *testing.T) {
	r := peersDNS(t)
	zones := []string{"zen.peers.test"}
	for ip, want := range map[string]struct {
		status result.ListingStatus
		code   string
		reason string
	}{
		"127.0.0.2":   {result.Listed, "127.0.0.2", "127.0.0.2 is listed in the SBL-like test zone"},
		"192.0.2.99":  {result.Listed, "127.0.0.11", "192.0.2.99 is in the PBL-like test zone"},
		"127.0.0.1":   {result.NotListed, "", ""},
		"203.0.113.5": {result.NotListed, "", ""},
	} {
		res := r.CheckDNSBL(context.Background(), DNSBLQuery{IP: netip.MustParseAddr(ip), Zones: zones})
		got := res[0]
		if got.Status != want.status || (want.code != "" && (len(got.Codes) != 1 || got.Codes[0] != want.code)) ||
			!strings.Contains(got.Reason, want.reason) {
			t.Errorf("%s in zen.peers.test: %+v, want %s %s %q", ip, got, want.status, want.code, want.reason)
		}
	}
}
