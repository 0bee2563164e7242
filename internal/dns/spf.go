package dns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// MaxSPFLookups is the limit on DNS-querying terms (include, a, mx, ptr,
// exists, redirect) in one SPF evaluation (RFC 7208 section 4.6.4).
const MaxSPFLookups = 10

// maxVoidLookups is the limit on lookups that find nothing (RFC 7208
// section 4.6.4).
const maxVoidLookups = 2

// SPFResult is the outcome of evaluating a domain's SPF record for an IP.
type SPFResult struct {
	Domain string `json:"domain"`
	IP     string `json:"ip"`
	Result string `json:"result"` // pass, fail, softfail, neutral, none, permerror, temperror
	// Mechanism is the term that decided the result, with the includes
	// that led to it: "include:spf.example.net → ip4:192.0.2.0/24". ""
	// when nothing matched (the default neutral) or on errors.
	Mechanism string `json:"mechanism,omitempty"`
	// Record is the domain's own SPF record.
	Record string `json:"record,omitempty"`
	// Lookups counts the DNS-querying terms evaluated.
	Lookups int `json:"lookups"`
	// Reason explains none, permerror, temperror and the default neutral.
	Reason string `json:"reason,omitempty"`
}

// String renders the result on one line.
func (s SPFResult) String() string {
	out := fmt.Sprintf("SPF of %s for %s: %s", s.Domain, s.IP, s.Result)
	if s.Mechanism != "" {
		out += " (matched " + s.Mechanism + ")"
	}
	if s.Reason != "" {
		out += ": " + s.Reason
	}
	return out
}

// CheckSPF evaluates domain's SPF record for a connection from ip
// (check_host() of RFC 7208 section 4), with the sender
// postmaster@domain and domain as HELO name, as a receiving server would
// for a bounce or a check of the domain itself.
func (r *Resolver) CheckSPF(ctx context.Context, ip netip.Addr, domain string) SPFResult {
	domain = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(domain), "."))
	e := &spfEval{r: r, ctx: ctx, ip: ip.Unmap(), sender: "postmaster@" + domain, helo: domain}
	out := e.checkHost(domain, 0)
	res := SPFResult{Domain: domain, IP: ip.Unmap().String(), Result: out.result, Record: out.record,
		Lookups: e.lookups, Reason: out.reason}
	if out.result != result.SPFPermError && out.result != result.SPFTempError {
		res.Mechanism = strings.Join(out.path, " → ")
	}
	return res
}

// SPFIncludes returns the domains domain's SPF record names in include
// terms and redirect modifiers, following them (within the lookup limit)
// in the order they appear, and the record itself.
func (r *Resolver) SPFIncludes(ctx context.Context, domain string) (includes []string, record string, err error) {
	domain = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(domain), "."))
	e := &spfEval{r: r, ctx: ctx, sender: "postmaster@" + domain, helo: domain}
	record, out := e.fetch(domain)
	if out != nil {
		return nil, "", errors.New(out.reason)
	}
	seen := map[string]bool{domain: true}
	var walk func(rec string, depth int)
	walk = func(rec string, depth int) {
		for _, t := range strings.Fields(rec)[1:] {
			lower := strings.ToLower(t)
			var target string
			switch {
			case strings.HasPrefix(strings.TrimLeft(lower, "+-~?"), "include:"):
				target = strings.TrimLeft(lower, "+-~?")[len("include:"):]
			case strings.HasPrefix(lower, "redirect="):
				target = lower[len("redirect="):]
			default:
				continue
			}
			target = strings.TrimSuffix(target, ".")
			includes = append(includes, target)
			if seen[target] || strings.Contains(target, "%") || depth >= MaxSPFLookups || e.lookups >= MaxSPFLookups {
				continue
			}
			seen[target] = true
			e.lookups++
			if sub, o := e.fetch(target); o == nil {
				walk(sub, depth+1)
			}
		}
	}
	walk(record, 0)
	return includes, record, nil
}

type spfEval struct {
	r      *Resolver
	ctx    context.Context
	ip     netip.Addr
	sender string
	helo   string

	lookups int
	voids   int
}

// spfOutcome is check_host()'s result for one domain.
type spfOutcome struct {
	result string
	path   []string // the matching term, after the include terms leading to it
	record string
	reason string
}

func permerror(format string, args ...any) *spfOutcome {
	return &spfOutcome{result: result.SPFPermError, reason: fmt.Sprintf(format, args...)}
}

// fetch returns domain's single SPF record (RFC 7208 section 4.5), or the
// outcome that ends evaluation: none without a record, permerror with
// more than one, temperror when the lookup failed.
func (e *spfEval) fetch(domain string) (string, *spfOutcome) {
	ans, err := e.r.Query(e.ctx, domain, mdns.TypeTXT)
	if err != nil {
		return "", &spfOutcome{result: result.SPFTempError, reason: fmt.Sprintf("the TXT lookup failed: %v", err)}
	}
	var records []string
	for _, v := range ans.Values() {
		if isSPF(v) {
			records = append(records, v)
		}
	}
	switch len(records) {
	case 0:
		if ans.NXDomain() {
			return "", &spfOutcome{result: result.SPFNone, reason: domain + " does not exist (NXDOMAIN)"}
		}
		return "", &spfOutcome{result: result.SPFNone, reason: domain + " has no SPF record (no TXT record starting with v=spf1)"}
	case 1:
		return records[0], nil
	}
	return "", permerror("%s has %d SPF records; RFC 7208 section 4.5 allows one", domain, len(records))
}

// isSPF reports whether a TXT record is an SPF record: "v=spf1" alone or
// followed by a space (RFC 7208 section 4.5).
func isSPF(txt string) bool {
	return len(txt) >= 6 && strings.EqualFold(txt[:6], "v=spf1") && (len(txt) == 6 || txt[6] == ' ')
}

func (e *spfEval) checkHost(domain string, depth int) spfOutcome {
	if depth > MaxSPFLookups {
		return *permerror("includes nest deeper than %d levels", MaxSPFLookups)
	}
	record, out := e.fetch(domain)
	if out != nil {
		return *out
	}
	var redirect string
	hasAll := false
	for _, term := range strings.Fields(record)[1:] {
		name, rest, isModifier := splitTerm(term)
		if isModifier {
			switch name {
			case "redirect":
				if redirect != "" {
					return spfOutcome{result: result.SPFPermError, record: record,
						reason: domain + ": more than one redirect modifier (RFC 7208 section 6)"}
				}
				redirect = rest
			}
			// exp= and unknown modifiers do not change the result
			// (RFC 7208 sections 6.2 and 6).
			continue
		}
		qualifier := byte('+')
		if strings.IndexByte("+-~?", term[0]) >= 0 {
			qualifier = term[0]
		}
		if name == "all" {
			hasAll = true
		}
		match, sub, errOut := e.mechanism(domain, name, rest, depth)
		if errOut != nil {
			errOut.record = record
			return *errOut
		}
		if !match {
			continue
		}
		path := []string{term}
		if sub != nil {
			path = append(path, sub.path...)
		}
		return spfOutcome{result: qualifierResult(qualifier), path: path, record: record}
	}
	if redirect != "" && !hasAll {
		target, err := e.expand(redirect, domain)
		if err != nil {
			return spfOutcome{result: result.SPFPermError, record: record, reason: err.Error()}
		}
		if o := e.count(); o != nil {
			o.record = record
			return *o
		}
		sub := e.checkHost(target, depth+1)
		if sub.result == result.SPFNone {
			return spfOutcome{result: result.SPFPermError, record: record,
				reason: fmt.Sprintf("redirect=%s names a domain without an SPF record (RFC 7208 section 6.1)", target)}
		}
		sub.path = append([]string{"redirect=" + target}, sub.path...)
		sub.record = record
		return sub
	}
	return spfOutcome{result: result.SPFNeutral, record: record,
		reason: "no term matched and the record has no all term (default neutral, RFC 7208 section 4.7)"}
}

// splitTerm separates a term into its name and argument; isModifier is
// true for name=value terms (RFC 7208 section 4.6.1).
func splitTerm(term string) (name, rest string, isModifier bool) {
	t := strings.TrimLeft(term, "+-~?")
	i := strings.IndexAny(t, ":/=")
	if i < 0 {
		return strings.ToLower(t), "", false
	}
	name = strings.ToLower(t[:i])
	if t[i] == '=' && len(term) == len(t) {
		return name, t[i+1:], true
	}
	if t[i] == ':' {
		return name, t[i+1:], false
	}
	return name, t[i:], false // "/24" of a/24
}

func qualifierResult(q byte) string {
	switch q {
	case '-':
		return result.SPFFail
	case '~':
		return result.SPFSoftFail
	case '?':
		return result.SPFNeutral
	}
	return result.SPFPass
}

// count charges one DNS-querying term against the limit.
func (e *spfEval) count() *spfOutcome {
	e.lookups++
	if e.lookups > MaxSPFLookups {
		return permerror("more than %d DNS-querying terms (include, a, mx, ptr, exists, redirect; RFC 7208 section 4.6.4)",
			MaxSPFLookups)
	}
	return nil
}

// void charges a lookup that found nothing against the void limit.
func (e *spfEval) void() *spfOutcome {
	e.voids++
	if e.voids > maxVoidLookups {
		return permerror("more than %d DNS lookups found nothing (RFC 7208 section 4.6.4)", maxVoidLookups)
	}
	return nil
}

// mechanism evaluates one mechanism; sub is the outcome of an include.
func (e *spfEval) mechanism(domain, name, arg string, depth int) (match bool, sub *spfOutcome, errOut *spfOutcome) {
	switch name {
	case "all":
		return true, nil, nil
	case "ip4", "ip6":
		p, err := parsePrefix(arg, name == "ip4")
		if err != nil {
			return false, nil, permerror("%s:%s: %v", name, arg, err)
		}
		return p.Contains(e.ip), nil, nil
	case "a", "mx":
		match, errOut = e.addressMechanism(domain, name, arg)
		return match, nil, errOut
	case "include":
		return e.include(domain, arg, depth)
	case "exists":
		match, errOut = e.exists(domain, arg)
		return match, nil, errOut
	case "ptr":
		match, errOut = e.ptr(domain, arg)
		return match, nil, errOut
	}
	return false, nil, permerror("unknown mechanism %q (RFC 7208 section 5)", name)
}

// addressMechanism evaluates a or mx (RFC 7208 sections 5.3 and 5.4): the
// IP matches an address of the target, or of one of its MX hosts, within
// the optional CIDR lengths.
func (e *spfEval) addressMechanism(domain, name, arg string) (bool, *spfOutcome) {
	spec, v4, v6, err := splitCIDR(arg)
	if err != nil {
		return false, permerror("%s%s: %v", name, arg, err)
	}
	target := domain
	if spec != "" {
		if target, err = e.expand(spec, domain); err != nil {
			return false, permerror("%v", err)
		}
	}
	bits := v4
	if e.ip.Is6() {
		bits = v6
	}
	if o := e.count(); o != nil {
		return false, o
	}
	hosts := []string{target}
	if name == "mx" {
		ans, err := e.r.Query(e.ctx, target, mdns.TypeMX)
		if err != nil {
			return false, &spfOutcome{result: result.SPFTempError, reason: fmt.Sprintf("mx: %v", err)}
		}
		hosts = nil
		for _, rr := range ans.Records {
			if h := strings.TrimSuffix(rr.(*mdns.MX).Mx, "."); h != "" {
				hosts = append(hosts, h)
			}
		}
		if len(hosts) == 0 {
			if o := e.void(); o != nil {
				return false, o
			}
			return false, nil
		}
		// RFC 7208 section 4.6.4: at most 10 MX names per mx term.
		if len(hosts) > 10 {
			return false, permerror("mx:%s has %d MX records; at most 10 may be looked up", target, len(hosts))
		}
	}
	for _, h := range hosts {
		addrs, found, o := e.addresses(h)
		if o != nil {
			return false, o
		}
		if !found && name == "a" {
			if o := e.void(); o != nil {
				return false, o
			}
		}
		for _, a := range addrs {
			if p, err := a.Prefix(bits); err == nil && p.Contains(e.ip) {
				return true, nil
			}
		}
	}
	return false, nil
}

// include evaluates include (RFC 7208 section 5.2): the target's own SPF
// record decides, and its pass is a match.
func (e *spfEval) include(domain, arg string, depth int) (match bool, sub *spfOutcome, errOut *spfOutcome) {
	if arg == "" {
		return false, nil, permerror("include needs a domain")
	}
	target, err := e.expand(arg, domain)
	if err != nil {
		return false, nil, permerror("%v", err)
	}
	if o := e.count(); o != nil {
		return false, nil, o
	}
	out := e.checkHost(target, depth+1)
	switch out.result {
	case result.SPFPass:
		return true, &out, nil
	case result.SPFFail, result.SPFSoftFail, result.SPFNeutral:
		return false, nil, nil
	case result.SPFTempError:
		return false, nil, &spfOutcome{result: result.SPFTempError, reason: "include:" + target + ": " + out.reason}
	}
	// RFC 7208 section 5.2: none and permerror of an include are permerror.
	return false, nil, permerror("include:%s: %s (%s)", target, out.result, out.reason)
}

// exists evaluates exists (RFC 7208 section 5.7): any A record of the
// expanded target is a match.
func (e *spfEval) exists(domain, arg string) (bool, *spfOutcome) {
	if arg == "" {
		return false, permerror("exists needs a domain")
	}
	target, err := e.expand(arg, domain)
	if err != nil {
		return false, permerror("%v", err)
	}
	if o := e.count(); o != nil {
		return false, o
	}
	ans, qerr := e.r.Query(e.ctx, target, mdns.TypeA)
	if qerr != nil {
		return false, &spfOutcome{result: result.SPFTempError, reason: fmt.Sprintf("exists: %v", qerr)}
	}
	if len(ans.Records) == 0 {
		if o := e.void(); o != nil {
			return false, o
		}
	}
	return len(ans.Records) > 0, nil
}

// ptr evaluates the deprecated ptr (RFC 7208 section 5.5), still in use: a
// validated PTR name under the target domain matches.
func (e *spfEval) ptr(domain, arg string) (bool, *spfOutcome) {
	target := domain
	if arg != "" {
		t, err := e.expand(arg, domain)
		if err != nil {
			return false, permerror("%v", err)
		}
		target = t
	}
	if o := e.count(); o != nil {
		return false, o
	}
	ans, qerr := e.r.Query(e.ctx, ReverseName(e.ip, ""), mdns.TypePTR)
	if qerr != nil {
		return false, nil // RFC 7208 section 5.5: a failed PTR lookup does not match
	}
	for i, rr := range ans.Records {
		if i >= 10 {
			break
		}
		name := strings.ToLower(strings.TrimSuffix(rr.(*mdns.PTR).Ptr, "."))
		addrs, _, o := e.addresses(name)
		if o != nil {
			continue
		}
		for _, a := range addrs {
			if a == e.ip && (name == target || strings.HasSuffix(name, "."+target)) {
				return true, nil
			}
		}
	}
	return false, nil
}

// addresses looks up host's addresses of the family of the IP evaluated.
func (e *spfEval) addresses(host string) ([]netip.Addr, bool, *spfOutcome) {
	version := 4
	if e.ip.Is6() {
		version = 6
	}
	addrs, err := e.r.Addresses(e.ctx, host, version)
	if err != nil {
		return nil, false, &spfOutcome{result: result.SPFTempError, reason: fmt.Sprintf("address lookup of %s: %v", host, err)}
	}
	return addrs, len(addrs) > 0, nil
}

// parsePrefix parses the argument of ip4: or ip6:.
func parsePrefix(arg string, v4 bool) (netip.Prefix, error) {
	addrPart, bitsPart, hasBits := strings.Cut(arg, "/")
	addr, err := netip.ParseAddr(addrPart)
	if err != nil || addr.Is4() != v4 || addr.Zone() != "" {
		return netip.Prefix{}, errors.New("not an address of that family")
	}
	bits := addr.BitLen()
	if hasBits {
		n, err := strconv.Atoi(bitsPart)
		if err != nil || n < 0 || n > addr.BitLen() || (bitsPart != "0" && strings.HasPrefix(bitsPart, "0")) {
			return netip.Prefix{}, fmt.Errorf("invalid prefix length %q", bitsPart)
		}
		bits = n
	}
	return addr.Prefix(bits)
}

// splitCIDR splits "example.com/24//64", "/24" or "" into the domain-spec
// and the dual CIDR lengths (RFC 7208 section 5.6).
func splitCIDR(arg string) (spec string, v4, v6 int, err error) {
	v4, v6 = 32, 128
	spec = arg
	if i := strings.Index(arg, "//"); i >= 0 {
		n, convErr := strconv.Atoi(arg[i+2:])
		if convErr != nil || n < 0 || n > 128 {
			return "", 0, 0, fmt.Errorf("invalid IPv6 prefix length %q", arg[i+2:])
		}
		v6, spec = n, arg[:i]
	}
	if i := strings.LastIndexByte(spec, '/'); i >= 0 {
		n, convErr := strconv.Atoi(spec[i+1:])
		if convErr != nil || n < 0 || n > 32 {
			return "", 0, 0, fmt.Errorf("invalid IPv4 prefix length %q", spec[i+1:])
		}
		v4, spec = n, spec[:i]
	}
	return spec, v4, v6, nil
}

// expand expands the macros of a domain-spec (RFC 7208 section 7) and
// drops a trailing dot.
func (e *spfEval) expand(spec, domain string) (string, error) {
	if !strings.Contains(spec, "%") {
		return strings.ToLower(strings.TrimSuffix(spec, ".")), nil
	}
	var b strings.Builder
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(spec) {
			return "", fmt.Errorf("macro %q: a lone %% at the end", spec)
		}
		i++
		switch spec[i] {
		case '%':
			b.WriteByte('%')
		case '_':
			b.WriteByte(' ')
		case '-':
			b.WriteString("%20")
		case '{':
			end := strings.IndexByte(spec[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("macro %q: no closing brace", spec)
			}
			v, err := e.macro(spec[i+1:i+end], domain)
			if err != nil {
				return "", fmt.Errorf("macro %q: %v", spec, err)
			}
			b.WriteString(v)
			i += end
		default:
			return "", fmt.Errorf("macro %q: %%%c is not a macro (RFC 7208 section 7.1)", spec, spec[i])
		}
	}
	return strings.ToLower(strings.TrimSuffix(b.String(), ".")), nil
}

// macro expands the inside of one %{...}: a letter, an optional number of
// parts to keep, an optional r (reverse) and optional delimiters.
func (e *spfEval) macro(m, domain string) (string, error) {
	if m == "" {
		return "", errors.New("empty %{}")
	}
	local, senderDomain, _ := strings.Cut(e.sender, "@")
	var value string
	switch m[0] | 0x20 {
	case 's':
		value = e.sender
	case 'l':
		value = local
	case 'o':
		value = senderDomain
	case 'd':
		value = domain
	case 'i':
		if e.ip.Is4() {
			value = e.ip.String()
		} else {
			value = strings.TrimSuffix(ReverseName(e.ip, "x"), ".x.")
			parts := strings.Split(value, ".")
			for l, r := 0, len(parts)-1; l < r; l, r = l+1, r-1 {
				parts[l], parts[r] = parts[r], parts[l]
			}
			value = strings.Join(parts, ".")
		}
	case 'p':
		value = "unknown" // validated names are not looked up for macros
	case 'v':
		value = "in-addr"
		if e.ip.Is6() {
			value = "ip6"
		}
	case 'h':
		value = e.helo
	default:
		return "", fmt.Errorf("%%{%c} is not allowed in a domain-spec", m[0])
	}
	rest := m[1:]
	digits := 0
	for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
		digits++
	}
	keep := 0
	if digits > 0 {
		n, err := strconv.Atoi(rest[:digits])
		if err != nil || n == 0 {
			return "", fmt.Errorf("invalid part count %q", rest[:digits])
		}
		keep = n
	}
	rest = rest[digits:]
	reverse := false
	if rest != "" && (rest[0]|0x20) == 'r' {
		reverse, rest = true, rest[1:]
	}
	delims := "."
	if rest != "" {
		if strings.Trim(rest, ".-+,/_=") != "" {
			return "", fmt.Errorf("invalid delimiters %q", rest)
		}
		delims = rest
	}
	parts := strings.FieldsFunc(value, func(r rune) bool { return strings.ContainsRune(delims, r) })
	if reverse {
		for l, r := 0, len(parts)-1; l < r; l, r = l+1, r-1 {
			parts[l], parts[r] = parts[r], parts[l]
		}
	}
	if keep > 0 && keep < len(parts) {
		parts = parts[len(parts)-keep:]
	}
	return strings.Join(parts, "."), nil
}
