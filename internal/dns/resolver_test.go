package dns

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/smtpdiag/smtpdiag/internal/dns/dnstest"
)

// startServer starts a test DNS server on 127.0.0.1 with records, and a
// Resolver that asks only it and records its lookups in trace.
func startServer(t *testing.T, records ...string) (*dnstest.Server, *Resolver, *Trace) {
	t.Helper()
	srv, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if err := srv.Add(records...); err != nil {
		t.Fatal(err)
	}
	trace := &Trace{}
	return srv, &Resolver{Servers: []string{srv.Addr}, Timeout: 2 * time.Second, Record: trace.Add}, trace
}

func TestQueryRecordsEveryExchange(t *testing.T) {
	_, r, trace := startServer(t, "contoso.test. 300 IN A 127.0.0.1", "contoso.test. 300 IN TXT \"v=spf1 \" \"-all\"")
	ans, err := r.Query(context.Background(), "contoso.test", mdns.TypeTXT)
	if err != nil {
		t.Fatal(err)
	}
	if got := ans.Values(); !reflect.DeepEqual(got, []string{"v=spf1 -all"}) {
		t.Errorf("TXT values = %q, want the character-strings joined", got)
	}
	ls := trace.Lookups()
	if len(ls) != 1 {
		t.Fatalf("lookups = %+v, want 1", ls)
	}
	l := ls[0]
	if l.Name != "contoso.test." || l.Type != "TXT" || l.Rcode != "NOERROR" || l.Transport != "udp" || l.Server != r.Servers[0] {
		t.Errorf("lookup = %+v", l)
	}
	lines := l.Lines()
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "DNS TXT contoso.test. @"+r.Servers[0]+"/udp: NOERROR, 1 record") ||
		!strings.Contains(lines[1], `"v=spf1 " "-all"`) {
		t.Errorf("lines = %q", lines)
	}

	ans, err = r.Query(context.Background(), "nowhere.contoso.test", mdns.TypeA)
	if err != nil || !ans.NXDomain() || len(ans.Records) != 0 {
		t.Errorf("NXDOMAIN: answer %+v, err %v", ans, err)
	}
}

func TestTruncatedAnswerIsAskedAgainOverTCP(t *testing.T) {
	srv, r, trace := startServer(t, "big.test. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"")
	srv.Truncate("big.test")
	ans, err := r.Query(context.Background(), "big.test", mdns.TypeTXT)
	if err != nil {
		t.Fatal(err)
	}
	if got := ans.Values(); len(got) != 1 || got[0] != "v=spf1 ip4:192.0.2.0/24 -all" {
		t.Errorf("values = %q", got)
	}
	if got, want := srv.Queries(), []string{"udp TXT big.test.", "tcp TXT big.test."}; !reflect.DeepEqual(got, want) {
		t.Errorf("server saw %q, want %q", got, want)
	}
	ls := trace.Lookups()
	if len(ls) != 2 || !ls[0].Truncated || ls[0].Transport != "udp" || ls[1].Transport != "tcp" || ls[1].Truncated {
		t.Fatalf("lookups = %+v", ls)
	}
	if !strings.Contains(ls[0].Lines()[0], "truncated: retrying over TCP") {
		t.Errorf("truncated line = %q", ls[0].Lines()[0])
	}
}

func TestServfailAndTheNextServer(t *testing.T) {
	bad, r, trace := startServer(t)
	bad.SetRcode("contoso.test", mdns.RcodeServerFailure)
	_, err := r.Query(context.Background(), "contoso.test", mdns.TypeMX)
	var qe *QueryError
	if !errors.As(err, &qe) || qe.Rcode != "SERVFAIL" || qe.Server != bad.Addr {
		t.Fatalf("err = %v, want a SERVFAIL QueryError from %s", err, bad.Addr)
	}

	good, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	good.MustAdd("contoso.test. 300 IN MX 10 mx.contoso.test.")
	r.Servers = append(r.Servers, good.Addr)
	ans, err := r.Query(context.Background(), "contoso.test", mdns.TypeMX)
	if err != nil || len(ans.Records) != 1 {
		t.Fatalf("with a second server: %+v, %v", ans, err)
	}
	ls := trace.Lookups()
	if last := ls[len(ls)-1]; last.Server != good.Addr || last.Rcode != "NOERROR" {
		t.Errorf("last lookup = %+v", last)
	}
	if ls[len(ls)-2].Rcode != "SERVFAIL" {
		t.Errorf("the SERVFAIL exchange is not recorded: %+v", ls)
	}
}

func TestServerThatNeverAnswers(t *testing.T) {
	srv, r, trace := startServer(t)
	srv.Silence("slow.test")
	r.Timeout = 300 * time.Millisecond
	start := time.Now()
	_, err := r.Query(context.Background(), "slow.test", mdns.TypeA)
	var qe *QueryError
	if !errors.As(err, &qe) || !qe.Timeout {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("took %s; the timeout is not applied", elapsed)
	}
	ls := trace.Lookups()
	if len(ls) != 1 || !strings.Contains(ls[0].Error, "no answer from "+srv.Addr) {
		t.Errorf("lookups = %+v", ls)
	}
}

func TestCanceledContext(t *testing.T) {
	_, r, _ := startServer(t, "a.test. 60 IN A 127.0.0.1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Query(ctx, "a.test", mdns.TypeA); err == nil {
		t.Fatal("no error with a canceled context")
	}
}

func TestNoServers(t *testing.T) {
	var r Resolver
	if _, err := r.Query(context.Background(), "a.test", mdns.TypeA); err == nil || !strings.Contains(err.Error(), "no resolver") {
		t.Fatalf("err = %v", err)
	}
}

func TestSystemServers(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(conf, []byte("# test\nnameserver 127.0.0.53\nnameserver ::1\noptions edns0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := SystemServers(conf)
	if err != nil || !reflect.DeepEqual(got, []string{"127.0.0.53:53", "[::1]:53"}) {
		t.Errorf("SystemServers = %q, %v", got, err)
	}
	if _, err := SystemServers(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "--resolver") {
		t.Errorf("missing file: err = %v", err)
	}
	empty := filepath.Join(dir, "empty.conf")
	os.WriteFile(empty, []byte("search example.test\n"), 0o644)
	if _, err := SystemServers(empty); err == nil || !strings.Contains(err.Error(), "names no nameserver") {
		t.Errorf("no nameserver: err = %v", err)
	}
}

func TestReverseName(t *testing.T) {
	for _, tc := range []struct{ ip, suffix, want string }{
		{"203.0.113.5", "", "5.113.0.203.in-addr.arpa."},
		{"127.0.0.2", "zen.spamhaus.org", "2.0.0.127.zen.spamhaus.org."},
		{"::ffff:192.0.2.1", "bl.example.", "1.2.0.192.bl.example."},
		{"2001:db8::1", "zen.spamhaus.org", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org."},
		{"2001:db8::567:89ab", "", "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."},
	} {
		if got := ReverseName(netip.MustParseAddr(tc.ip), tc.suffix); got != tc.want {
			t.Errorf("ReverseName(%s, %q) = %s, want %s", tc.ip, tc.suffix, got, tc.want)
		}
	}
}

func TestRecordValues(t *testing.T) {
	for _, tc := range []struct{ rr, want string }{
		{"a.test. 60 IN A 192.0.2.1", "192.0.2.1"},
		{"a.test. 60 IN AAAA 2001:db8::1", "2001:db8::1"},
		{"a.test. 60 IN MX 10 mx.a.test.", "10 mx.a.test."},
		{"a.test. 60 IN CNAME b.test.", "b.test."},
		{"1.2.0.192.in-addr.arpa. 60 IN PTR mail.a.test.", "mail.a.test."},
		{"_25._tcp.mx.a.test. 60 IN TLSA 3 1 1 0123456789abcdef", "3 1 1 0123456789abcdef"},
	} {
		rr, err := mdns.NewRR(tc.rr)
		if err != nil {
			t.Fatal(err)
		}
		if got := RecordValue(rr); got != tc.want {
			t.Errorf("RecordValue(%s) = %q, want %q", tc.rr, got, tc.want)
		}
	}
}

func TestCacheAsksOnce(t *testing.T) {
	srv, r, trace := startServer(t, "a.test. 60 IN A 127.0.0.1")
	srv.SetRcode("bad.test", mdns.RcodeServerFailure)
	r.Cache = NewCache()
	for range 3 {
		if ans, err := r.Query(context.Background(), "A.test", mdns.TypeA); err != nil || len(ans.Records) != 1 {
			t.Fatalf("%+v %v", ans, err)
		}
		if _, err := r.Query(context.Background(), "bad.test", mdns.TypeA); err == nil {
			t.Fatal("SERVFAIL answered from the cache as success")
		}
	}
	if got := srv.Queries(); len(got) != 4 || len(trace.Lookups()) != 4 {
		t.Errorf("server saw %q; want one query for a.test and three for the failing name", got)
	}
}
