// Package dns holds smtpdiag's own DNS lookups, all made with
// github.com/miekg/dns against an explicit resolver so that every answer,
// rcode and the server that gave it can be shown as it came: MX
// resolution for mx endpoints (RFC 5321 section 5.1, RFC 7505 null MX),
// record lookups for dns checks, SPF evaluation (RFC 7208), DMARC policy
// discovery (RFC 7489), forward-confirmed reverse DNS, and DNS blocklist
// lookups with return-code decoding (RFC 5782). It knows nothing about
// suites or SMTP.
package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// DefaultTimeout bounds one exchange with one server.
const DefaultTimeout = 5 * time.Second

// DefaultResolvConf is where the system resolver is configured.
const DefaultResolvConf = "/etc/resolv.conf"

// Resolver sends queries to explicit DNS servers: over UDP first, and over
// TCP again when the UDP answer comes back truncated (RFC 7766 section 5).
// Every exchange is recorded as a Lookup through Record. A Resolver is a
// small value; copy it to give each check its own Record.
type Resolver struct {
	// Servers are "host:port" addresses, tried in order: the next one is
	// asked when a server does not answer, or answers SERVFAIL or REFUSED.
	Servers []string
	// Timeout bounds each exchange; 0 means DefaultTimeout.
	Timeout time.Duration
	// Record, when not nil, is called with every exchange as it completes,
	// possibly from several goroutines.
	Record func(result.Lookup)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Cache, when not nil, keeps the answers of this Resolver's queries,
	// so that a check that needs a record twice (an SPF record read for
	// spf_includes and again for spf_allows) asks, and shows, it once.
	Cache *Cache
}

// Cache holds answers by name and type for the life of one check; it
// ignores TTLs. Safe for concurrent use.
type Cache struct {
	mu      sync.Mutex
	answers map[cacheKey]*Answer
}

type cacheKey struct {
	name  string
	qtype uint16
}

// NewCache returns an empty Cache.
func NewCache() *Cache { return &Cache{answers: map[cacheKey]*Answer{}} }

func (c *Cache) get(name string, qtype uint16) *Answer {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answers[cacheKey{strings.ToLower(name), qtype}]
}

func (c *Cache) put(a *Answer) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answers[cacheKey{strings.ToLower(a.Name), a.Type}] = a
}

// QueryError is a lookup that got no usable answer from any server: a
// timeout, a network error, or an rcode other than NOERROR and NXDOMAIN.
type QueryError struct {
	Name, Type string
	Server     string
	// Rcode is set when a server answered with an error rcode (SERVFAIL,
	// REFUSED, ...); Err when none answered at all.
	Rcode   string
	Err     error
	Timeout bool
}

func (e *QueryError) Error() string {
	if e.Rcode != "" {
		return fmt.Sprintf("%s %s: %s from %s", e.Type, e.Name, e.Rcode, e.Server)
	}
	return fmt.Sprintf("%s %s: %v", e.Type, e.Name, e.Err)
}

func (e *QueryError) Unwrap() error { return e.Err }

// Answer is the outcome of a query that a server answered with NOERROR or
// NXDOMAIN.
type Answer struct {
	Name  string
	Type  uint16
	Rcode int
	// Records are the answer records of the asked type (a CNAME chain the
	// server followed is left out unless CNAME was asked for).
	Records []mdns.RR
}

// NXDomain reports whether the name does not exist (RFC 1035 rcode 3).
func (a *Answer) NXDomain() bool { return a.Rcode == mdns.RcodeNameError }

// RcodeName is the response code's mnemonic ("NOERROR", "NXDOMAIN").
func (a *Answer) RcodeName() string { return rcodeName(a.Rcode) }

// Values renders each record's data: "127.0.0.1" for A, "10 mx.example."
// for MX, the joined character-strings for TXT (RFC 7208 section 3.3 reads
// a TXT record as their concatenation).
func (a *Answer) Values() []string {
	out := make([]string, 0, len(a.Records))
	for _, rr := range a.Records {
		out = append(out, RecordValue(rr))
	}
	return out
}

// RecordValue renders one record's data without its owner, TTL and class.
func RecordValue(rr mdns.RR) string {
	switch v := rr.(type) {
	case *mdns.TXT:
		return strings.Join(v.Txt, "")
	case *mdns.A:
		return v.A.String()
	case *mdns.AAAA:
		return v.AAAA.String()
	}
	return strings.TrimSpace(strings.TrimPrefix(rr.String(), rr.Header().String()))
}

// SystemServers reads the nameservers of a resolv.conf file (path ""
// means DefaultResolvConf) as host:port addresses. On Windows, which has
// no resolv.conf, path "" means the DNS servers of the network adapters.
func SystemServers(path string) ([]string, error) {
	if path == "" {
		if servers, err := platformServers(); !errors.Is(err, errors.ErrUnsupported) {
			if err != nil {
				return nil, fmt.Errorf("no system resolver: %w; name one with --resolver or a resolver attribute", err)
			}
			return servers, nil
		}
		path = DefaultResolvConf
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no system resolver: %w; name one with --resolver or a resolver attribute", err)
	}
	cfg, err := mdns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("no system resolver: reading %s: %w", path, err)
	}
	port := cfg.Port
	if port == "" {
		port = "53"
	}
	var out []string
	for _, s := range cfg.Servers {
		// resolv.conf may carry a zone in link-local addresses (fe80::1%eth0).
		out = append(out, net.JoinHostPort(s, port))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no system resolver: %s names no nameserver; name one with --resolver or a resolver attribute", path)
	}
	return out, nil
}

// TypeName returns the mnemonic of a query type ("MX").
func TypeName(t uint16) string {
	if s, ok := mdns.TypeToString[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", t)
}

// ParseType returns the query type for a mnemonic ("mx" or "MX").
func ParseType(s string) (uint16, bool) {
	t, ok := mdns.StringToType[strings.ToUpper(strings.TrimSpace(s))]
	return t, ok
}

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Resolver) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return DefaultTimeout
}

// Query asks for name's records of type qtype. It returns an Answer for
// NOERROR and NXDOMAIN, and a *QueryError when no server gave either.
func (r *Resolver) Query(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	fqdn := mdns.Fqdn(name)
	if len(r.Servers) == 0 {
		return nil, &QueryError{Name: fqdn, Type: TypeName(qtype), Err: errors.New("no resolver configured")}
	}
	if a := r.Cache.get(fqdn, qtype); a != nil {
		return a, nil
	}
	var last *QueryError
	for _, server := range r.Servers {
		if err := ctx.Err(); err != nil {
			return nil, &QueryError{Name: fqdn, Type: TypeName(qtype), Server: server, Err: err}
		}
		msg, qerr := r.exchange(ctx, fqdn, qtype, server)
		if qerr != nil {
			last = qerr
			continue
		}
		switch msg.Rcode {
		case mdns.RcodeSuccess, mdns.RcodeNameError:
			a := &Answer{Name: fqdn, Type: qtype, Rcode: msg.Rcode}
			for _, rr := range msg.Answer {
				if rr.Header().Rrtype == qtype {
					a.Records = append(a.Records, rr)
				}
			}
			r.Cache.put(a)
			return a, nil
		default:
			last = &QueryError{Name: fqdn, Type: TypeName(qtype), Server: server, Rcode: rcodeName(msg.Rcode)}
		}
	}
	return nil, last
}

// exchange asks one server, over UDP and then over TCP when the UDP answer
// was truncated.
func (r *Resolver) exchange(ctx context.Context, fqdn string, qtype uint16, server string) (*mdns.Msg, *QueryError) {
	q := new(mdns.Msg)
	q.SetQuestion(fqdn, qtype)
	q.RecursionDesired = true
	msg, qerr := r.once(ctx, q, server, "udp")
	if qerr == nil && msg.Truncated {
		msg, qerr = r.once(ctx, q, server, "tcp")
	}
	return msg, qerr
}

func (r *Resolver) once(ctx context.Context, q *mdns.Msg, server, transport string) (*mdns.Msg, *QueryError) {
	c := &mdns.Client{Net: transport, Timeout: r.timeout()}
	start := r.now()
	msg, _, err := c.ExchangeContext(ctx, q, server)
	l := result.Lookup{
		Name:      q.Question[0].Name,
		Type:      TypeName(q.Question[0].Qtype),
		Server:    server,
		Transport: transport,
		Started:   start,
		Duration:  r.now().Sub(start),
	}
	// A truncated UDP answer may not unpack completely; it still says to
	// retry over TCP.
	if msg != nil && msg.Truncated && transport == "udp" {
		l.Truncated, l.Rcode = true, rcodeName(msg.Rcode)
		r.record(l)
		return msg, nil
	}
	if err != nil {
		qerr := &QueryError{Name: l.Name, Type: l.Type, Server: server, Err: err}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			qerr.Timeout = true
			qerr.Err = fmt.Errorf("no answer from %s within %s", server, r.timeout())
		} else if errors.Is(err, context.DeadlineExceeded) {
			qerr.Timeout = true
			qerr.Err = fmt.Errorf("no answer from %s before the deadline", server)
		}
		l.Error = qerr.Err.Error()
		r.record(l)
		return nil, qerr
	}
	l.Rcode = rcodeName(msg.Rcode)
	for _, rr := range msg.Answer {
		l.Answers = append(l.Answers, rr.String())
	}
	r.record(l)
	return msg, nil
}

func (r *Resolver) record(l result.Lookup) {
	if r.Record != nil {
		r.Record(l)
	}
}

func rcodeName(rc int) string {
	if s, ok := mdns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}

// Trace collects the lookups of one check, safe for concurrent use.
type Trace struct {
	mu      sync.Mutex
	lookups []result.Lookup
}

// Add records a lookup; use it as a Resolver's Record.
func (t *Trace) Add(l result.Lookup) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lookups = append(t.lookups, l)
}

// Lookups returns the lookups recorded so far, in order.
func (t *Trace) Lookups() []result.Lookup {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]result.Lookup(nil), t.lookups...)
}

// ReverseName returns the name a PTR or DNSBL query uses for ip, under
// suffix: the octets reversed for IPv4 ("5.113.0.203"), the nibbles
// reversed for IPv6 (RFC 3596 section 2.5). With suffix "" it is the
// in-addr.arpa or ip6.arpa name.
func ReverseName(ip netip.Addr, suffix string) string {
	ip = ip.Unmap()
	var b strings.Builder
	if ip.Is4() {
		a := ip.As4()
		fmt.Fprintf(&b, "%d.%d.%d.%d.", a[3], a[2], a[1], a[0])
		if suffix == "" {
			suffix = "in-addr.arpa."
		}
	} else {
		a := ip.As16()
		const hex = "0123456789abcdef"
		for i := len(a) - 1; i >= 0; i-- {
			b.WriteByte(hex[a[i]&0xf])
			b.WriteByte('.')
			b.WriteByte(hex[a[i]>>4])
			b.WriteByte('.')
		}
		if suffix == "" {
			suffix = "ip6.arpa."
		}
	}
	b.WriteString(mdns.Fqdn(suffix))
	return b.String()
}
