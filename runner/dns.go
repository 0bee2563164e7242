package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smtpdiag/smtpdiag/assertions"
	"github.com/smtpdiag/smtpdiag/internal/dns"
	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/smtpclient"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// resolverFor returns a Resolver for a check: the check's own resolver,
// else the run's, else the system's; and the Trace its lookups go to.
func resolverFor(own string, timeout time.Duration, opts Options) (*dns.Resolver, *dns.Trace, error) {
	servers := []string{own}
	if own == "" {
		system, err := opts.defaultServers()
		if err != nil {
			return nil, nil, err
		}
		servers = system
	}
	if timeout <= 0 {
		timeout = opts.DNSTimeout
	}
	trace := &dns.Trace{}
	return &dns.Resolver{Servers: servers, Timeout: timeout, Record: trace.Add, Now: opts.Now, Cache: dns.NewCache()}, trace, nil
}

// defaultServersOnce returns a function that works out, on its first call,
// the servers of checks without a resolver of their own: the run's
// resolver, else the nameservers of resolvConf. Every call returns the
// result of the first.
func defaultServersOnce(resolver, resolvConf string) func() ([]string, error) {
	return sync.OnceValues(func() ([]string, error) {
		if resolver != "" {
			addr, err := suite.ParseResolver(resolver)
			if err != nil {
				return nil, fmt.Errorf("--resolver: %w", err)
			}
			return []string{addr}, nil
		}
		return dns.SystemServers(resolvConf)
	})
}

// redactLookups masks secrets (a DQS key in a query name) in lookups.
func redactLookups(lookups []result.Lookup, red *redact.Redactor) []result.Lookup {
	for i := range lookups {
		lookups[i].Redact(red.String)
	}
	return lookups
}

// mxTarget is the host an mx endpoint resolved to, and the lookups that
// found it.
type mxTarget struct {
	host    string
	start   time.Time
	lookups []result.Lookup
}

// annotate names the MX host as the conversation's host (the address
// dialled is in RemoteAddr). The lookups go at the head of its transcript
// (transcriptHead).
func (m *mxTarget) annotate(conv *result.Conversation) {
	conv.Host = m.host
}

// resolveMX resolves an mx endpoint and points the plan at the chosen
// host: its first address, with the host as the TLS server name unless
// the endpoint sets server_name. stop is true when the check ended here
// (res then holds the failure).
func resolveMX(ctx context.Context, ep *suite.Endpoint, plan *smtpclient.Plan, res *result.Check, opts Options,
	red *redact.Redactor) (*mxTarget, bool) {
	res.Target = "MX " + ep.MX
	r, trace, err := resolverFor("", 0, opts)
	if err != nil {
		res.Status, res.Error = result.Errored, red.String(err.Error())
		return nil, true
	}
	res.Resolver = r.Servers[0]
	start := opts.Now()
	mx, err := r.ResolveMX(ctx, ep.MX, ep.IPVersion)
	res.Lookups = redactLookups(trace.Lookups(), red)
	if err != nil {
		msg := red.String(err.Error())
		res.Status = result.Failed
		res.Failures = []result.Failure{{Expectation: "mx", Message: "mx: " + msg}}
		kind := result.MXLookup
		var me *dns.MXError
		if errors.As(err, &me) {
			kind = me.Kind
		}
		res.Diagnosis = knowledge.DiagnoseMX(ep.MX, kind, msg)
		return nil, true
	}
	port := strconv.Itoa(plan.Port)
	res.Target = net.JoinHostPort(mx.Host, port)
	plan.Host = mx.Addrs[0].String()
	if ep.ServerName == "" {
		plan.ServerName = mx.Host
	}
	return &mxTarget{host: mx.Host, start: start, lookups: res.Lookups}, false
}

// runDNS runs a dns check.
func runDNS(ctx context.Context, index int, c *suite.DNSCheck, opts Options, red *redact.Redactor) (res *result.Check) {
	res = &result.Check{Index: index, Label: c.Label, Kind: "dns", Target: c.Type + " " + c.Name, Attempts: 1, Started: opts.Now()}
	defer finishCheck(res, opts, red)
	r, trace, err := resolverFor(c.Resolver, c.Timeout, opts)
	if err != nil {
		res.Status, res.Error = result.Errored, red.String(err.Error())
		return res
	}
	res.Resolver = r.Servers[0]
	defer func() { res.Lookups = redactLookups(trace.Lookups(), red) }()

	out := &result.DNSOutcome{Name: c.Name, Type: c.Type}
	res.DNS = out
	qtype, _ := dns.ParseType(c.Type)
	name := c.Name
	ip, nameIsIP := netip.ParseAddr(c.Name)
	if nameIsIP == nil {
		name = dns.ReverseName(ip, "")
	}
	ans, err := r.Query(ctx, name, qtype)
	if err != nil {
		out.Error = err.Error()
		var qe *dns.QueryError
		if errors.As(err, &qe) {
			out.Rcode = qe.Rcode
		}
	} else {
		out.Rcode = ans.RcodeName()
		out.Records = ans.Values()
	}
	if e := c.Expect; e != nil && out.Error == "" {
		if len(e.SPFIncludes) > 0 {
			includes, record, err := r.SPFIncludes(ctx, c.Name)
			out.SPFIncludes, out.SPFRecord = includes, record
			if err != nil {
				out.SPFError = err.Error()
			}
		}
		for _, s := range e.SPFAllows {
			v := r.CheckSPF(ctx, netip.MustParseAddr(s), c.Name)
			out.SPF = append(out.SPF, result.SPFVerdict{IP: v.IP, Result: v.Result, Mechanism: v.Mechanism, Reason: v.Reason})
			out.SPFRecord = v.Record
		}
		if e.DMARCPolicy != nil {
			rec, err := r.DMARC(ctx, c.Name)
			if rec != nil {
				out.DMARCRecord, out.DMARCPolicy = rec.Record, rec.Policy
			}
			if err != nil {
				out.DMARCError = err.Error()
			}
		}
		if e.ForwardConfirmed != nil && nameIsIP == nil {
			f, err := r.ForwardConfirmed(ctx, ip)
			if f != nil {
				out.PTRNames, out.ForwardConfirmed = f.Names, f.Confirmed
			}
			if err != nil {
				out.FCrDNSError = err.Error()
			}
		}
	}
	res.Failures = assertions.EvaluateDNS(c.Expect, out)
	if len(res.Failures) > 0 {
		res.Diagnosis = knowledge.DiagnoseDNS(c.Name, c.Type, res.Failures[0])
	}
	return res
}

// finishCheck sets the verdict from the failures, masks them, and turns a
// panic into an Errored result, so that a bug in one check cannot take the
// others down. Deferred by dns and dnsbl checks.
func finishCheck(res *result.Check, opts Options, red *redact.Redactor) {
	if p := recover(); p != nil {
		res.Status = result.Errored
		res.Error = red.String(fmt.Sprintf("internal error: %v", p))
	}
	for i := range res.Failures {
		res.Failures[i].Message = red.String(res.Failures[i].Message)
	}
	if d := res.Diagnosis; d != nil {
		d.Summary, d.Meaning, d.Fix = red.String(d.Summary), red.String(d.Meaning), red.String(d.Fix)
	}
	if res.Status == "" {
		res.Status = result.Passed
		if len(res.Failures) > 0 {
			res.Status = result.Failed
		}
	}
	res.Duration = opts.Now().Sub(res.Started)
}

func redactListing(l *result.Listing, red *redact.Redactor) {
	l.Query, l.Reason, l.Explanation = red.String(l.Query), red.String(l.Reason), red.String(l.Explanation)
}

// runDNSBL runs a dnsbl check; from is the result of the smtp check
// whose client IP it looks up, if any.
func runDNSBL(ctx context.Context, index int, c *suite.DNSBLCheck, from *result.Check, opts Options,
	red *redact.Redactor) (res *result.Check) {
	res = &result.Check{Index: index, Label: c.Label, Kind: "dnsbl", Target: c.IP, Attempts: 1, Started: opts.Now()}
	defer finishCheck(res, opts, red)
	out := &assertions.DNSBLOutcome{IP: c.IP}
	if c.ClientIPOf != "" {
		ip := ""
		if from != nil && from.Conversation != nil {
			ip = from.Conversation.ClientIP
		}
		if ip == "" {
			why := "it did not run"
			if from != nil {
				why = "its server echoed no address in the EHLO greeting"
				if f := from.FirstFailure(); f != "" {
					why = "it failed: " + f
				}
			}
			out.Error = fmt.Sprintf("no IP to look up: the smtp check %q reported no client IP (%s)", c.ClientIPOf, why)
			res.Failures = assertions.EvaluateDNSBL(c.Expect, out)
			return res
		}
		out.IP = ip
		res.Target = ip
	}
	addr, err := netip.ParseAddr(out.IP)
	if err != nil {
		res.Status, res.Error = result.Errored, fmt.Sprintf("dnsbl: %q is not an IP address", out.IP)
		return res
	}
	r, trace, err := resolverFor(c.Resolver, c.Timeout, opts)
	if err != nil {
		res.Status, res.Error = result.Errored, red.String(err.Error())
		return res
	}
	res.Resolver = r.Servers[0]
	res.Blocklists = r.CheckDNSBL(ctx, dns.DNSBLQuery{IP: addr, Zones: c.Zones, DQSKey: c.DQSKey})
	res.Lookups = redactLookups(trace.Lookups(), red)
	for i := range res.Blocklists {
		redactListing(&res.Blocklists[i], red)
		l := res.Blocklists[i]
		out.Zones = append(out.Zones, assertions.Listing{Zone: l.Zone, Status: string(l.Status), Text: l.String()})
	}
	res.Failures = assertions.EvaluateDNSBL(c.Expect, out)
	if len(res.Failures) > 0 {
		res.Diagnosis = knowledge.DiagnoseDNSBL(out.IP, res.Blocklists, res.Failures[0])
	}
	return res
}

// refusedEverywhere returns the zones when the resolver answered REFUSED
// for every one of them, else nil.
func refusedEverywhere(listings []result.Listing) []string {
	var zones []string
	for _, l := range listings {
		if l.Status != result.Inconclusive || !strings.Contains(l.Explanation, "REFUSED") {
			return nil
		}
		zones = append(zones, l.Zone)
	}
	return zones
}

// specialPurpose are address ranges that no public blocklist lists
// (RFC 6890 special-purpose registries, plus the private and loopback
// ranges): asking the public zones about them through the system resolver
// proves nothing.
var specialPurpose = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/127"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// publiclyListable reports whether an IP could be on a public blocklist.
func publiclyListable(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range specialPurpose {
		if p.Contains(ip) {
			return false
		}
	}
	return ip.IsGlobalUnicast()
}

// reputationRejection returns the IP named in brackets by the first
// negative reply that rejects the sender for its reputation or a policy
// based on it: the Exchange Online block list (5.7.606-649), Spamhaus
// (550 5.7.1 ... Spamhaus), a low-reputation IP (5.7.708), reputation
// throttling (4.7.500-699), or any 5.7.x reply that names a blocklist.
func reputationRejection(c *result.Conversation) string {
	for i := range c.Steps {
		s := &c.Steps[i]
		if s.Reply == nil || s.Reply.Positive() || s.Step == result.StepQuit {
			continue
		}
		text := s.Reply.Text()
		ip := esmtp.BracketedIP(text)
		if ip == "" {
			continue
		}
		if e, ok := knowledge.Lookup(s.Reply.Code, s.Reply.Enhanced, text); ok &&
			(e.Category == result.Reputation || (e.Category == result.Throttling && strings.HasPrefix(s.Reply.Enhanced, "4.7."))) {
			return ip
		}
		lower := strings.ToLower(text)
		if strings.HasPrefix(s.Reply.Enhanced, "5.7.") || strings.HasPrefix(s.Reply.Enhanced, "4.7.") {
			for _, word := range []string{"spamhaus", "blocklist", "blacklist", "block list", "dnsbl", "rbl", "blocked using"} {
				if strings.Contains(lower, word) {
					return ip
				}
			}
		}
	}
	return ""
}

// proveListing looks the IP a reputation rejection names up in the
// default zones and adds the verdicts to the failed check: as Blocklists,
// and as a sentence at the end of the diagnosis's meaning. Through the
// system resolver, addresses no public list can hold (loopback, private,
// documentation ranges) are not looked up; with an explicit resolver
// (a lab DNSBL) they are.
func proveListing(ctx context.Context, res *result.Check, opts Options, red *redact.Redactor) {
	if res.Conversation == nil || res.Diagnosis == nil {
		return
	}
	raw := reputationRejection(res.Conversation)
	ip, err := netip.ParseAddr(raw)
	if err != nil || (opts.Resolver == "" && !publiclyListable(ip)) {
		return
	}
	r, trace, err := resolverFor("", 0, opts)
	if err != nil {
		return
	}
	listings := r.CheckDNSBL(ctx, dns.DNSBLQuery{IP: ip})
	if res.Resolver == "" && len(r.Servers) > 0 {
		res.Resolver = r.Servers[0]
	}
	res.Lookups = append(res.Lookups, redactLookups(trace.Lookups(), red)...)
	var parts []string
	for i := range listings {
		redactListing(&listings[i], red)
		parts = append(parts, listings[i].String())
	}
	res.Blocklists = listings
	d := res.Diagnosis
	sentence := fmt.Sprintf("Blocklist lookup of %s: %s.", ip, strings.Join(parts, "; "))
	if zones := refusedEverywhere(listings); zones != nil {
		// A lab resolver that serves only its own zones refuses the public
		// ones: say so once rather than once per zone.
		sentence = fmt.Sprintf("Blocklist lookup of %s: the resolver %s refused every zone asked (%s), so no listing is proven or ruled out; "+
			"ask a resolver that resolves public zones (--resolver) for the proof.", ip, res.Resolver, strings.Join(zones, ", "))
		// Verdicts that are all the same refusal are no evidence; the
		// lookups stay in the transcript.
		res.Blocklists = nil
	}
	if d.Meaning == "" {
		d.Meaning = sentence
	} else {
		d.Meaning = strings.TrimSpace(d.Meaning) + " " + sentence
	}
}
