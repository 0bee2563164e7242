package dns

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	mdns "github.com/miekg/dns"
	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// DefaultZones are the blocklists looked up when a dnsbl check names none,
// and for the blocklist proof of a rejection.
var DefaultZones = []string{"zen.spamhaus.org", "b.barracudacentral.org", "bl.spamcop.net"}

// spamhausZEN is the public Spamhaus zone a DQS key replaces.
const spamhausZEN = "zen.spamhaus.org"

// dqsSuffix is the Spamhaus Data Query Service zone: <ip>.<key>.zen.dq.spamhaus.net.
const dqsSuffix = "zen.dq.spamhaus.net"

// zoneCodes describes a blocklist's return codes.
type zoneCodes struct {
	name   string
	codes  map[string]string
	errors map[string]string // codes that are errors, never listings
	// errorRange holds the codes the zone reserves for errors beyond those
	// errors names.
	errorRange netip.Prefix
	delist     string
}

// Spamhaus return codes (reference/m365-facts.md section 4, from the
// Spamhaus zones documentation). ZEN combines SBL, CSS, XBL and PBL.
var spamhaus = sync.OnceValue(func() *zoneCodes {
	return &zoneCodes{
		name: "Spamhaus",
		codes: map[string]string{
			"127.0.0.2":  "Spamhaus SBL (spam sources)",
			"127.0.0.3":  "Spamhaus SBL CSS (snowshoe spam)",
			"127.0.0.4":  "Spamhaus XBL (exploited or infected hosts)",
			"127.0.0.9":  "Spamhaus SBL DROP (hijacked or leased to spammers)",
			"127.0.0.10": "Spamhaus PBL (ISP-maintained: end-user range that should not send directly)",
			"127.0.0.11": "Spamhaus PBL (Spamhaus-maintained: end-user range that should not send directly)",
			"127.0.0.30": "Spamhaus BCL (botnet controller)",
		},
		errors: map[string]string{
			"127.255.255.252": "Spamhaus error 127.255.255.252: the zone name is mistyped",
			"127.255.255.254": "Spamhaus error 127.255.255.254: the query came through a public or open resolver, " +
				"which Spamhaus does not answer; use your own resolver or a DQS key",
			"127.255.255.255": "Spamhaus error 127.255.255.255: excessive number of queries from this resolver; " +
				"use a DQS key or a resolver of your own",
		},
		// Spamhaus reserves 127.255.255.0/24 for errors; none is a
		// listing (the zones documentation, "Return codes").
		errorRange: netip.MustParsePrefix("127.255.255.0/24"),
		delist:     "https://www.spamhaus.org/lookup/",
	}
})

// Barracuda answers 127.0.0.2 for a listing (reference/m365-facts.md
// section 4); the removal form is UNVERIFIED.
var barracuda = sync.OnceValue(func() *zoneCodes {
	return &zoneCodes{
		name:   "Barracuda",
		codes:  map[string]string{"127.0.0.2": "Barracuda Reputation Block List (BRBL)"},
		delist: "https://www.barracudacentral.org/rbl/removal-request",
	}
})

// SpamCop answers 127.0.0.2 for a listing (UNVERIFIED in
// reference/m365-facts.md section 4); listings expire by themselves.
var spamcop = sync.OnceValue(func() *zoneCodes {
	return &zoneCodes{
		name:   "SpamCop",
		codes:  map[string]string{"127.0.0.2": "SpamCop Blocking List (SCBL)"},
		delist: "https://www.spamcop.net/bl.shtml (listings expire by themselves once the spam reports stop)",
	}
})

// codesFor returns what is known of a zone's return codes, nil for an
// unknown zone.
func codesFor(zone string) *zoneCodes {
	z := strings.ToLower(strings.TrimSuffix(zone, "."))
	switch {
	case z == spamhausZEN || z == "sbl.spamhaus.org" || z == "xbl.spamhaus.org" || z == "pbl.spamhaus.org" ||
		z == "sbl-xbl.spamhaus.org" || strings.HasSuffix(z, "."+dqsSuffix):
		return spamhaus()
	case z == "b.barracudacentral.org":
		return barracuda()
	case z == "bl.spamcop.net":
		return spamcop()
	}
	return nil
}

// DNSBLQuery describes what to look up.
type DNSBLQuery struct {
	IP    netip.Addr
	Zones []string // nil means DefaultZones
	// DQSKey, when set, replaces zen.spamhaus.org with the Spamhaus Data
	// Query Service zone <key>.zen.dq.spamhaus.net; it is masked in every
	// result.
	DQSKey string
}

// CheckDNSBL looks ip up in each zone (RFC 5782 section 2.1: the reversed
// address under the zone, an A record in 127.0.0.0/8 means listed) and
// fetches the TXT reason of listings. Zones are asked one after the other,
// in order.
func (r *Resolver) CheckDNSBL(ctx context.Context, q DNSBLQuery) []result.Listing {
	zones := q.Zones
	if zones == nil {
		zones = DefaultZones
	}
	out := make([]result.Listing, 0, len(zones))
	for _, zone := range zones {
		out = append(out, r.checkZone(ctx, q.IP.Unmap(), zone, q.DQSKey))
	}
	return out
}

func (r *Resolver) checkZone(ctx context.Context, ip netip.Addr, zone, dqsKey string) result.Listing {
	zone = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(zone), "."))
	queryZone := zone
	if dqsKey != "" && zone == spamhausZEN {
		queryZone = dqsKey + "." + dqsSuffix
	}
	name := ReverseName(ip, queryZone)
	res := result.Listing{Zone: zone, IP: ip.String(), Query: maskKey(name, dqsKey)}
	known := codesFor(queryZone)
	if known != nil {
		res.Delist = known.delist
	}
	ans, err := r.Query(ctx, name, mdns.TypeA)
	if err != nil {
		res.Status = result.Inconclusive
		res.Explanation = maskKey(err.Error(), dqsKey)
		if qe, ok := err.(*QueryError); ok && qe.Rcode == "REFUSED" && dqsKey != "" && queryZone != zone {
			res.Explanation += " (the Spamhaus DQS key is disabled or wrong)"
		}
		return res
	}
	if ans.NXDomain() || len(ans.Records) == 0 {
		res.Status = result.NotListed
		return res
	}
	var errs, outside []string
	for _, rr := range ans.Records {
		code := rr.(*mdns.A).A.String()
		res.Codes = append(res.Codes, code)
		addr, _ := netip.ParseAddr(code)
		switch {
		case known != nil && known.errors[code] != "":
			errs = append(errs, known.errors[code])
		case known != nil && known.errorRange.IsValid() && known.errorRange.Contains(addr):
			errs = append(errs, fmt.Sprintf("%s error %s: a code the zone reserves for errors, never a listing", known.name, code))
		case !netip.MustParsePrefix("127.0.0.0/8").Contains(addr):
			outside = append(outside, code)
		case code == "127.0.0.1":
			// RFC 5782 section 5: 127.0.0.1 is never listed; zones answer
			// it for errors such as refused queries.
			errs = append(errs, "127.0.0.1 is not a listing (RFC 5782 section 5); the zone reports an error")
		case known != nil:
			if what, ok := known.codes[code]; ok {
				res.Lists = append(res.Lists, what)
			} else {
				res.Lists = append(res.Lists, fmt.Sprintf("%s (code %s)", known.name, code))
			}
		}
	}
	switch {
	case len(errs) > 0:
		res.Status, res.Explanation = result.Inconclusive, strings.Join(errs, "; ")
		return res
	case len(outside) > 0:
		res.Status = result.Inconclusive
		res.Explanation = fmt.Sprintf("answer %s is outside 127.0.0.0/8 (RFC 5782 section 2.1): the resolver "+
			"probably rewrites NXDOMAIN answers", strings.Join(outside, ", "))
		return res
	}
	res.Status = result.Listed
	if txt, err := r.Query(ctx, name, mdns.TypeTXT); err == nil {
		res.Reason = maskKey(strings.Join(txt.Values(), " "), dqsKey)
	}
	return res
}

// maskKey hides a DQS key in s.
func maskKey(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, redact.Mask)
}
