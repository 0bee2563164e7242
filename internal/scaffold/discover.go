// Package scaffold writes a starter suite for a client's domain from what
// DNS says about it: the MX records (recognising Exchange Online's host
// names), the SPF and DMARC records, the client-submission endpoint, a
// blocklist check of the machine's egress IP as the MX sees it, and
// commented-out blocks for AUTH and for a device test. It is what
// `smtpdiag init` runs.
package scaffold

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
	"golang.org/x/net/idna"

	"github.com/smtpdiag/smtpdiag/internal/dns"
)

// Host name suffixes of Exchange Online's inbound endpoints: the
// long-standing <domain>.mail.protection.outlook.com form, and the
// DNSSEC-signed form under mx.microsoft that accepted domains added since
// July 2026 get (Microsoft Learn, "How SMTP DANE works").
const (
	suffixProtection = ".mail.protection.outlook.com"
	suffixDANE       = ".mx.microsoft"
)

// exoSPF is the include Microsoft publishes for mail Exchange Online sends.
const exoSPF = "spf.protection.outlook.com"

// maxMX is how many MX records the suite names; a domain with more is
// shown with the count of the rest.
const maxMX = 10

// Facts is what DNS said about a domain when the suite was written.
type Facts struct {
	// Domain is the domain in ASCII (an internationalised name in its
	// A-label form), lower case, without the trailing dot.
	Domain string
	// Input is the domain as it was given, when that differs from Domain.
	Input string
	// Servers are the resolvers asked.
	Servers []string
	// At is when DNS was asked.
	At time.Time

	// MX are the domain's MX records, lowest preference first (ties by
	// name); empty when it has none.
	MX []dns.MXHost
	// NullMX is a domain that says it receives no mail (RFC 7505).
	NullMX bool

	// SPF is the domain's SPF record, "" when it has none; SPFProblem says
	// why when it could not be read.
	SPF        string
	SPFProblem string
	// SPFIncludes are the domains its include terms and redirect name,
	// followed through nested includes.
	SPFIncludes []string

	// DMARC is the domain's DMARC record, nil when it has none;
	// DMARCProblem says why.
	DMARC        *dns.DMARCRecord
	DMARCProblem string
}

// Form is how a host name relates to Exchange Online.
type Form int

const (
	// NotExchangeOnline is any other host.
	NotExchangeOnline Form = iota
	// Protection is <tenant>.mail.protection.outlook.com.
	Protection
	// DANE is <tenant>.<x>-v1.mx.microsoft, the DNSSEC-signed form.
	DANE
)

// Classify says whether host is one of Exchange Online's inbound host names.
func Classify(host string) Form {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	switch {
	case strings.HasSuffix(h, suffixProtection) && len(h) > len(suffixProtection):
		return Protection
	case strings.HasSuffix(h, suffixDANE) && len(h) > len(suffixDANE):
		return DANE
	}
	return NotExchangeOnline
}

// String names the form for people.
func (f Form) String() string {
	switch f {
	case Protection:
		return "Exchange Online"
	case DANE:
		return "Exchange Online, DNSSEC-signed form"
	}
	return "not Exchange Online"
}

// DomainError is a domain name that cannot be used.
type DomainError struct{ Input, Reason string }

func (e *DomainError) Error() string {
	return fmt.Sprintf("%q is not a domain name: %s", e.Input, e.Reason)
}

// NormalizeDomain turns a domain as a person types it into the form DNS is
// asked with: lower case, no trailing dot, an internationalised name as
// its A-label (müller.de → xn--mller-kva.de).
func NormalizeDomain(input string) (string, error) {
	s := strings.TrimSuffix(strings.TrimSpace(input), ".")
	if s == "" {
		return "", &DomainError{Input: input, Reason: "it is empty"}
	}
	if strings.ContainsAny(s, "@/:") {
		return "", &DomainError{Input: input, Reason: "give the domain alone, like contoso.com (not an address, URL or host:port)"}
	}
	ascii, err := idna.Lookup.ToASCII(s)
	if err != nil {
		return "", &DomainError{Input: input, Reason: err.Error()}
	}
	ascii = strings.ToLower(ascii)
	if _, ok := mdns.IsDomainName(ascii); !ok || len(ascii) > 253 {
		return "", &DomainError{Input: input, Reason: "labels are letters, digits and hyphens, at most 63 characters each and 253 in all"}
	}
	if !strings.Contains(ascii, ".") {
		return "", &DomainError{Input: input, Reason: "it has one label; an accepted domain has at least two, like contoso.com"}
	}
	return ascii, nil
}

// LookupError is a lookup that got no answer at all (no server answered,
// or every one refused or failed): nothing can be written from it.
type LookupError struct {
	What string
	Err  error
}

func (e *LookupError) Error() string { return fmt.Sprintf("%s: %v", e.What, e.Err) }

func (e *LookupError) Unwrap() error { return e.Err }

// Discover asks DNS, through r, what a starter suite for domain needs. It
// fails when the domain does not exist or the MX lookup got no answer; an
// SPF or DMARC record that is missing or unreadable is a finding, kept in
// Facts.
func Discover(ctx context.Context, r *dns.Resolver, input string) (*Facts, error) {
	domain, err := NormalizeDomain(input)
	if err != nil {
		return nil, err
	}
	f := &Facts{Domain: domain, Servers: append([]string(nil), r.Servers...), At: time.Now()}
	if r.Now != nil {
		f.At = r.Now()
	}
	if given := strings.TrimSuffix(strings.TrimSpace(input), "."); !strings.EqualFold(given, domain) {
		f.Input = given
	}
	ans, err := r.Query(ctx, domain, mdns.TypeMX)
	if err != nil {
		return nil, &LookupError{What: "MX lookup for " + domain, Err: err}
	}
	if ans.NXDomain() {
		return nil, &LookupError{What: "MX lookup for " + domain,
			Err: errors.New("NXDOMAIN: the domain does not exist in DNS; check the spelling")}
	}
	for _, rr := range ans.Records {
		mx, ok := rr.(*mdns.MX)
		if !ok {
			continue
		}
		host := strings.ToLower(strings.TrimSuffix(mx.Mx, "."))
		if host == "" {
			f.NullMX = true
			continue
		}
		f.MX = append(f.MX, dns.MXHost{Preference: mx.Preference, Host: host})
	}
	sort.Slice(f.MX, func(i, j int) bool {
		if f.MX[i].Preference != f.MX[j].Preference {
			return f.MX[i].Preference < f.MX[j].Preference
		}
		return f.MX[i].Host < f.MX[j].Host
	})
	if f.NullMX && len(f.MX) > 0 {
		// RFC 7505 section 3: a null MX must be the only record; mixed
		// with others it is an error of the zone, and the others are used.
		f.NullMX = false
	}
	f.SPFIncludes, f.SPF, err = r.SPFIncludes(ctx, domain)
	if err != nil {
		f.SPFProblem = err.Error()
	}
	f.DMARC, err = r.DMARC(ctx, domain)
	if err != nil {
		f.DMARCProblem = err.Error()
	}
	return f, nil
}

// Exchange is the form of the MX mail reaches first: the lowest
// preference record's host.
func (f *Facts) Exchange() Form {
	if len(f.MX) == 0 {
		return NotExchangeOnline
	}
	return Classify(f.MX[0].Host)
}

// IncludesExchange says whether the SPF record, directly or through its
// includes, names Exchange Online's SPF domain.
func (f *Facts) IncludesExchange() bool {
	for _, d := range f.SPFIncludes {
		if strings.EqualFold(d, exoSPF) {
			return true
		}
	}
	return false
}

// Findings are one line each on what DNS said, for the person running
// init and for the head of the suite.
func (f *Facts) Findings() []string {
	var out []string
	switch {
	case f.NullMX:
		out = append(out, fmt.Sprintf("MX: %s publishes a null MX (RFC 7505): it says it receives no mail", f.Domain))
	case len(f.MX) == 0:
		out = append(out, fmt.Sprintf("MX: %s has no MX records", f.Domain))
	default:
		for i, mx := range f.MX {
			if i == maxMX {
				out = append(out, fmt.Sprintf("MX: and %d more", len(f.MX)-maxMX))
				break
			}
			out = append(out, fmt.Sprintf("MX: %d %s (%s)", mx.Preference, mx.Host, Classify(mx.Host)))
		}
	}
	switch {
	case f.SPF != "":
		out = append(out, "SPF: "+f.SPF)
	case f.SPFProblem != "":
		out = append(out, "SPF: "+f.SPFProblem)
	}
	switch {
	case f.DMARC != nil:
		out = append(out, "DMARC: "+f.DMARC.Record)
	case f.DMARCProblem != "":
		out = append(out, "DMARC: "+f.DMARCProblem)
	}
	return out
}
