package dns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	mdns "github.com/miekg/dns"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// MXHost is one MX record of a domain.
type MXHost struct {
	Preference uint16 `json:"preference"`
	Host       string `json:"host"` // without the trailing dot
}

// MXResolution is where mail for a domain goes: its MX records, lowest
// preference first, and the host chosen with its addresses.
type MXResolution struct {
	Domain string   `json:"domain"`
	Hosts  []MXHost `json:"hosts"`
	// Host is the chosen MX host: the first host, in preference order,
	// that has an address of the wanted family.
	Host  string       `json:"host"`
	Addrs []netip.Addr `json:"addrs"`
}

// MXError is a domain whose MX cannot be used.
type MXError struct {
	Domain string
	Kind   result.MXFailure
	Detail string
	Err    error // the lookup error for result.MXLookup
}

func (e *MXError) Error() string { return e.Detail }

func (e *MXError) Unwrap() error { return e.Err }

// ResolveMX finds the host mail for domain goes to (RFC 5321 section
// 5.1): its MX records sorted by preference (ties by name, so that runs
// are reproducible where RFC 5321 would pick at random), then the A and
// AAAA records of the first host that has any. ipVersion 4 or 6 asks only
// for that family; 0 asks for both, IPv4 first.
//
// A domain without MX records is reported as result.MXNone rather than treated
// as its own implicit MX (the fallback of RFC 5321 section 5.1): every
// domain that receives mail through Exchange Online publishes an MX, so a
// missing one is the finding. A null MX (a single record with the root as
// its target, RFC 7505 section 3) is result.MXNull.
func (r *Resolver) ResolveMX(ctx context.Context, domain string, ipVersion int) (*MXResolution, error) {
	domain = strings.TrimSuffix(strings.TrimSpace(domain), ".")
	ans, err := r.Query(ctx, domain, mdns.TypeMX)
	if err != nil {
		return nil, &MXError{Domain: domain, Kind: result.MXLookup, Err: err,
			Detail: fmt.Sprintf("MX lookup for %s failed: %v", domain, err)}
	}
	if ans.NXDomain() {
		return nil, &MXError{Domain: domain, Kind: result.MXNoDomain,
			Detail: fmt.Sprintf("%s does not exist (NXDOMAIN)", domain)}
	}
	res := &MXResolution{Domain: domain}
	null := 0
	for _, rr := range ans.Records {
		mx := rr.(*mdns.MX)
		host := strings.TrimSuffix(mx.Mx, ".")
		if host == "" {
			null++
			continue
		}
		res.Hosts = append(res.Hosts, MXHost{Preference: mx.Preference, Host: strings.ToLower(host)})
	}
	if len(res.Hosts) == 0 {
		if null > 0 {
			return nil, &MXError{Domain: domain, Kind: result.MXNull,
				Detail: fmt.Sprintf("%s publishes a null MX (RFC 7505): it accepts no mail", domain)}
		}
		return nil, &MXError{Domain: domain, Kind: result.MXNone,
			Detail: fmt.Sprintf("%s publishes no MX record (an Exchange Online domain has one, "+
				"like contoso-com.mail.protection.outlook.com)", domain)}
	}
	sort.SliceStable(res.Hosts, func(i, j int) bool {
		a, b := res.Hosts[i], res.Hosts[j]
		if a.Preference != b.Preference {
			return a.Preference < b.Preference
		}
		return a.Host < b.Host
	})
	var lookupErr error
	for _, h := range res.Hosts {
		addrs, err := r.Addresses(ctx, h.Host, ipVersion)
		if err != nil {
			lookupErr = err
			continue
		}
		if len(addrs) > 0 {
			res.Host, res.Addrs = h.Host, addrs
			return res, nil
		}
	}
	family := "an address"
	switch ipVersion {
	case 4:
		family = "an IPv4 address (A record)"
	case 6:
		family = "an IPv6 address (AAAA record)"
	}
	e := &MXError{Domain: domain, Kind: result.MXNoAddress,
		Detail: fmt.Sprintf("no MX host of %s has %s", domain, family)}
	if lookupErr != nil {
		e.Kind, e.Err = result.MXLookup, lookupErr
		e.Detail += fmt.Sprintf(" (%v)", lookupErr)
	}
	return res, e
}

// Addresses returns host's A and AAAA addresses (only one family when
// ipVersion is 4 or 6). A host that does not exist has none; a failed
// lookup is an error.
func (r *Resolver) Addresses(ctx context.Context, host string, ipVersion int) ([]netip.Addr, error) {
	var types []uint16
	if ipVersion != 6 {
		types = append(types, mdns.TypeA)
	}
	if ipVersion != 4 {
		types = append(types, mdns.TypeAAAA)
	}
	var out []netip.Addr
	var errs []error
	for _, t := range types {
		ans, err := r.Query(ctx, host, t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, rr := range ans.Records {
			var ip netip.Addr
			switch v := rr.(type) {
			case *mdns.A:
				ip, _ = netip.AddrFromSlice(v.A.To4())
			case *mdns.AAAA:
				ip, _ = netip.AddrFromSlice(v.AAAA.To16())
			}
			if ip.IsValid() {
				out = append(out, ip)
			}
		}
	}
	if len(out) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
