package dns

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"
)

// DMARCRecord is a domain's DMARC policy record (RFC 7489 section 6.3).
type DMARCRecord struct {
	// Name is the name queried: _dmarc.<domain>.
	Name   string `json:"name"`
	Record string `json:"record"`
	// Policy is the p tag (none, quarantine, reject), lower case.
	Policy string `json:"policy"`
	// SubdomainPolicy is the sp tag, "" when absent.
	SubdomainPolicy string `json:"subdomain_policy,omitempty"`
}

// DMARC looks up the DMARC record of domain at _dmarc.<domain> (a name
// that already starts with _dmarc. is used as it is). It does not fall
// back to the organizational domain (RFC 7489 section 6.6.3 needs the
// public suffix list for that): ask for the organizational domain itself.
func (r *Resolver) DMARC(ctx context.Context, domain string) (*DMARCRecord, error) {
	name := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(domain), "."))
	if !strings.HasPrefix(name, "_dmarc.") {
		name = "_dmarc." + name
	}
	ans, err := r.Query(ctx, name, mdns.TypeTXT)
	if err != nil {
		return nil, err
	}
	var records []string
	for _, v := range ans.Values() {
		// RFC 7489 section 6.4: v=DMARC1 must be the first tag.
		if tag, val, ok := strings.Cut(strings.TrimSpace(v), "="); ok && strings.TrimSpace(tag) == "v" &&
			strings.HasPrefix(strings.TrimSpace(val), "DMARC1") {
			records = append(records, v)
		}
	}
	switch len(records) {
	case 0:
		return nil, fmt.Errorf("%s has no DMARC record (no TXT record starting with v=DMARC1)", name)
	case 1:
	default:
		// RFC 7489 section 6.6.3: more than one record means no policy.
		return nil, fmt.Errorf("%s has %d DMARC records; RFC 7489 section 6.6.3 then applies no policy", name, len(records))
	}
	rec := &DMARCRecord{Name: name, Record: records[0]}
	for _, part := range strings.Split(records[0], ";") {
		tag, val, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(tag)) {
		case "p":
			rec.Policy = strings.ToLower(strings.TrimSpace(val))
		case "sp":
			rec.SubdomainPolicy = strings.ToLower(strings.TrimSpace(val))
		}
	}
	if rec.Policy == "" {
		return rec, fmt.Errorf("the DMARC record of %s has no p tag (RFC 7489 section 6.3 requires it)", name)
	}
	return rec, nil
}

// FCrDNS is the result of a forward-confirmed reverse DNS check: the PTR
// names of an IP, and those whose A or AAAA records lead back to it.
type FCrDNS struct {
	IP        string   `json:"ip"`
	Names     []string `json:"names"`
	Confirmed []string `json:"confirmed"`
}

// OK reports whether some PTR name is forward-confirmed.
func (f *FCrDNS) OK() bool { return len(f.Confirmed) > 0 }

// ForwardConfirmed looks up the PTR records of ip, then the addresses of
// each name (of ip's family), as receiving servers do before trusting a
// host name. A failed lookup is an error; an IP without PTR records is a
// result with no names.
func (r *Resolver) ForwardConfirmed(ctx context.Context, ip netip.Addr) (*FCrDNS, error) {
	ip = ip.Unmap()
	res := &FCrDNS{IP: ip.String()}
	ans, err := r.Query(ctx, ReverseName(ip, ""), mdns.TypePTR)
	if err != nil {
		return nil, err
	}
	version := 4
	if ip.Is6() {
		version = 6
	}
	for _, rr := range ans.Records {
		name := strings.ToLower(strings.TrimSuffix(rr.(*mdns.PTR).Ptr, "."))
		res.Names = append(res.Names, name)
		addrs, err := r.Addresses(ctx, name, version)
		if err != nil {
			return res, err
		}
		for _, a := range addrs {
			if a == ip {
				res.Confirmed = append(res.Confirmed, name)
				break
			}
		}
	}
	return res, nil
}
