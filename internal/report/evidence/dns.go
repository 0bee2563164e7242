package evidence

import (
	"fmt"
	"strings"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// DNSAnswer is what a dns check found; the question is the check's
// Target.
type DNSAnswer struct {
	// Rcode is the response code ("NOERROR", "NXDOMAIN", "SERVFAIL"),
	// empty when no server answered; Error says why the lookup got no
	// usable answer. Negative is true when either tells of a failure.
	Rcode    Text
	Error    Text
	Negative bool
	Records  []Text
	// SPF, DMARC and FCrDNS are set when the check's expectations made
	// the runner evaluate them.
	SPF    *SPF
	DMARC  *DMARC
	FCrDNS *FCrDNS
}

// SPF is the evaluation of a name's SPF record (RFC 7208).
type SPF struct {
	Record Text
	// Includes are the domains the record names through include or
	// redirect, directly or through other includes.
	Includes []Text
	Verdicts []SPFVerdict
	Error    Text
}

// SPFVerdict is the SPF result for one IP (RFC 7208 section 2.6).
type SPFVerdict struct {
	IP     Text
	Result Text
	// Pass is true for the result "pass", the only one that allows the IP.
	Pass      bool
	Mechanism Text
	Reason    Text
}

// DMARC is a domain's DMARC policy record (RFC 7489 section 6.3).
type DMARC struct {
	// Name is where the record was looked up: _dmarc.<domain>.
	Name   Text
	Record Text
	Policy Text
	Error  Text
}

// FCrDNS is a forward-confirmed reverse DNS check: the IP's PTR names and
// those that resolve back to it.
type FCrDNS struct {
	PTRNames  []Text
	Confirmed []Text
	Error     Text
}

// DNSBLResult is one DNS blocklist's verdict on one IP.
type DNSBLResult struct {
	Zone Text
	IP   Text
	// Verdict is "listed", "not listed" or "inconclusive"; Class is the
	// CSS class: bad, ok or warn. Listed is true for "listed".
	Verdict Text
	Class   string
	Listed  bool
	// Codes are the A records returned ("127.0.0.11"); Meaning is what
	// they mean ("Spamhaus PBL (...)"), or why the verdict is
	// inconclusive; Reason is the zone's TXT record for a listing.
	Codes   Text
	Meaning Text
	Reason  Text
	// Delist is where to ask for removal, shown for listings; DelistURL
	// is the same as a link, "" when it is not an http(s) URL.
	Delist    Text
	DelistURL string
}

// proofLookups renders the lookups of r that asked for its blocklist
// verdicts (the A and TXT queries of each zone's query name), with
// offsets from the first of them.
func (b builder) proofLookups(r *result.Check) []Line {
	asked := map[string]bool{}
	for _, l := range r.Blocklists {
		asked[queryKey(l.Query)] = true
	}
	var (
		out   []Line
		first time.Time
	)
	for _, l := range r.Lookups {
		if !asked[queryKey(l.Name)] {
			continue
		}
		if first.IsZero() {
			first = l.Started
		}
		offset := max(l.Started.Sub(first), 0)
		for _, text := range l.Lines() {
			out = append(out, Line{
				Offset:    fmt.Sprintf("%dms", offset.Milliseconds()),
				Direction: string(result.Note),
				Class:     "note",
				Text:      b.text(text),
			})
		}
	}
	return out
}

// queryKey compares DNS names: case-insensitive, with or without the root
// label's dot.
func queryKey(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

func (b builder) dnsAnswer(o *result.DNSOutcome) *DNSAnswer {
	a := &DNSAnswer{
		Rcode: b.text(o.Rcode),
		Error: b.text(o.Error),
		// NXDOMAIN and an empty answer are answers; only a lookup that got
		// none is shown as a fault.
		Negative: o.Error != "",
		Records:  b.texts(o.Records),
	}
	if o.SPFRecord != "" || len(o.SPFIncludes) > 0 || len(o.SPF) > 0 || o.SPFError != "" {
		spf := &SPF{Record: b.text(o.SPFRecord), Includes: b.texts(o.SPFIncludes), Error: b.text(o.SPFError)}
		for _, v := range o.SPF {
			spf.Verdicts = append(spf.Verdicts, SPFVerdict{
				IP:        b.text(v.IP),
				Result:    b.text(v.Result),
				Pass:      v.Result == result.SPFPass,
				Mechanism: b.text(v.Mechanism),
				Reason:    b.text(v.Reason),
			})
		}
		a.SPF = spf
	}
	if o.DMARCRecord != "" || o.DMARCPolicy != "" || o.DMARCError != "" {
		// RFC 7489 section 6.1: the record is published at _dmarc.<domain>.
		name := strings.TrimSuffix(o.Name, ".")
		if !strings.HasPrefix(strings.ToLower(name), "_dmarc.") {
			name = "_dmarc." + name
		}
		a.DMARC = &DMARC{Name: b.text(name), Record: b.text(o.DMARCRecord), Policy: b.text(o.DMARCPolicy), Error: b.text(o.DMARCError)}
	}
	if len(o.PTRNames) > 0 || len(o.ForwardConfirmed) > 0 || o.FCrDNSError != "" {
		a.FCrDNS = &FCrDNS{PTRNames: b.texts(o.PTRNames), Confirmed: b.texts(o.ForwardConfirmed), Error: b.text(o.FCrDNSError)}
	}
	return a
}

// dnsbl renders blocklist verdicts. A listing shows what its return codes
// mean and where to ask for removal; an inconclusive verdict shows why it
// proves nothing (an error code such as Spamhaus' 127.255.255.254, a
// timeout).
func (b builder) dnsbl(listings []result.Listing) []DNSBLResult {
	var out []DNSBLResult
	for _, l := range listings {
		d := DNSBLResult{
			Zone:    b.text(l.Zone),
			IP:      b.text(l.IP),
			Verdict: b.text(string(l.Status)),
			Codes:   b.text(strings.Join(l.Codes, ", ")),
			Reason:  b.text(l.Reason),
		}
		switch l.Status {
		case result.Listed:
			d.Class, d.Listed = "bad", true
			d.Meaning = b.text(strings.Join(l.Lists, "; "))
			d.Delist = b.text(l.Delist)
			if u := b.red.String(l.Delist); linkable(u) {
				d.DelistURL = u
			}
		case result.NotListed:
			d.Class = "ok"
		default:
			d.Class = "warn"
			d.Meaning = b.text(l.Explanation)
		}
		out = append(out, d)
	}
	return out
}
