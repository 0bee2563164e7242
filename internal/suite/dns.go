package suite

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/smtpdiag/smtpdiag/assertions"
)

// DNSCheck is one decoded dns block.
type DNSCheck struct {
	Label string
	// Name is the name asked for; for PTR checks it may be an IP address,
	// which the runner turns into its in-addr.arpa or ip6.arpa name.
	Name string
	// Type is A, AAAA, MX, TXT, PTR, CNAME or TLSA.
	Type string
	// Resolver is "ip:port", "" for the run's resolver.
	Resolver string
	// Timeout bounds each exchange with a server; 0 for the default.
	Timeout time.Duration
	// Expect is nil without an expect block: the lookup must then find at
	// least one record.
	Expect *assertions.DNSExpect
	// Assertions are the check's assert blocks (Assertion.Check).
	Assertions []Assertion
	// Disabled says why the check is left out of the run, as for an
	// smtp check (SMTPCheck.Disabled); "" when it runs.
	Disabled  string
	DeclRange hcl.Range
}

// DNSBLCheck is one decoded dnsbl block.
type DNSBLCheck struct {
	Label string
	// IP is the address to look up; "" when it comes from an smtp check.
	IP string
	// ClientIPOf is the label of the smtp check whose echoed client IP is
	// looked up (ip = smtp["label"].client_ip); the runner runs that check
	// first.
	ClientIPOf string
	// Zones are the blocklists, nil for the defaults (zen.spamhaus.org,
	// b.barracudacentral.org, bl.spamcop.net).
	Zones    []string
	Resolver string
	// DQSKey is a Spamhaus Data Query Service key; it is masked in every
	// output.
	DQSKey  string
	Timeout time.Duration
	Expect  *assertions.DNSBLExpect
	// Disabled says why the check is left out of the run, as for an
	// smtp check (SMTPCheck.Disabled); "" when it runs.
	Disabled  string
	DeclRange hcl.Range
}

// Check is a check of any kind, as AllChecks returns it: exactly one of
// the fields is set.
type Check struct {
	SMTP  *SMTPCheck
	DNS   *DNSCheck
	DNSBL *DNSBLCheck
}

// Label is the check's label.
func (c Check) Label() string {
	switch {
	case c.SMTP != nil:
		return c.SMTP.Label
	case c.DNS != nil:
		return c.DNS.Label
	case c.DNSBL != nil:
		return c.DNSBL.Label
	}
	return ""
}

// Kind is the check's block type: "smtp", "dns" or "dnsbl".
func (c Check) Kind() string {
	switch {
	case c.DNS != nil:
		return "dns"
	case c.DNSBL != nil:
		return "dnsbl"
	}
	return "smtp"
}

// Disabled says why the check is left out of the run ("enabled =
// var.client_id != \"\""), "" when it runs.
func (c Check) Disabled() string {
	switch {
	case c.SMTP != nil:
		return c.SMTP.Disabled
	case c.DNS != nil:
		return c.DNS.Disabled
	case c.DNSBL != nil:
		return c.DNSBL.Disabled
	}
	return ""
}

// Path is the way to send after the Basic auth switch-off that an smtp
// check proves (PathIDs), "" for other checks.
func (c Check) Path() string {
	if c.SMTP != nil {
		return c.SMTP.Path
	}
	return ""
}

func (c Check) declRange() hcl.Range {
	switch {
	case c.SMTP != nil:
		return c.SMTP.DeclRange
	case c.DNS != nil:
		return c.DNS.DeclRange
	case c.DNSBL != nil:
		return c.DNSBL.DeclRange
	}
	return hcl.Range{}
}

// AllChecks returns the checks of every kind in file order.
func (s *Suite) AllChecks() []Check {
	out := make([]Check, 0, s.CheckCount())
	for _, c := range s.Checks {
		out = append(out, Check{SMTP: c})
	}
	for _, c := range s.DNSChecks {
		out = append(out, Check{DNS: c})
	}
	for _, c := range s.DNSBLChecks {
		out = append(out, Check{DNSBL: c})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].declRange().Start.Byte < out[j].declRange().Start.Byte })
	return out
}

// CheckCount is the number of checks of every kind.
func (s *Suite) CheckCount() int { return len(s.Checks) + len(s.DNSChecks) + len(s.DNSBLChecks) }

var dnsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "enabled"},
		{Name: "name", Required: true},
		{Name: "type", Required: true},
		{Name: "resolver"},
		{Name: "timeout"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "expect"}, {Type: "assert"}},
}

var dnsExpectSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "contains"},
		{Name: "not_contains"},
		{Name: "count"},
		{Name: "rcode"},
		{Name: "spf_includes"},
		{Name: "spf_allows"},
		{Name: "dmarc_policy"},
		{Name: "forward_confirmed"},
	},
}

var dnsblSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "enabled"},
		{Name: "ip", Required: true},
		{Name: "zones"},
		{Name: "resolver"},
		{Name: "dqs_key"},
		{Name: "timeout"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "expect"}},
}

var dnsblExpectSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "listed"},
	},
}

// dnsTypes are the record types a dns check may ask for.
var dnsTypes = []string{"A", "AAAA", "MX", "TXT", "PTR", "CNAME", "TLSA"}

// rcodes are the response codes an rcode expectation may name (RFC 1035
// section 4.1.1, RFC 2136 section 2.2).
var rcodes = []string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"}

// dmarcPolicies are the values of the DMARC p tag (RFC 7489 section 6.3).
var dmarcPolicies = []string{"none", "quarantine", "reject"}

func (d *decoder) decodeDNS(b *hcl.Block) *DNSCheck {
	if !d.checkLabel(b) {
		return nil
	}
	c := &DNSCheck{Label: b.Labels[0], DeclRange: b.DefRange}
	if c.Disabled = d.disabled(b); c.Disabled != "" {
		dnsShape.check(d, b.Body)
		return c
	}
	content, diags := d.content(b.Body, dnsSchema)
	d.add(diags...)
	attrs := content.Attributes
	var nameIP netip.Addr
	if attr := attrs["type"]; attr != nil {
		if t, _, ok := d.str(attr, true); ok {
			upper := strings.ToUpper(strings.TrimSpace(t))
			if !slices.Contains(dnsTypes, upper) {
				d.errorAt(attr.Expr.Range(), "Invalid record type",
					fmt.Sprintf("type is %q; it must be one of %s.", t, strings.Join(dnsTypes, ", ")))
			} else {
				c.Type = upper
			}
		}
	}
	if attr := attrs["name"]; attr != nil {
		if name, sens, ok := d.str(attr, true); ok {
			name = strings.TrimSpace(name)
			if ip, err := netip.ParseAddr(name); err == nil {
				if c.Type != "" && c.Type != "PTR" {
					d.errorAt(attr.Expr.Range(), "Invalid name",
						fmt.Sprintf("name is the IP address %s; only PTR checks take an IP address (they ask for its "+
							"in-addr.arpa or ip6.arpa name).", ip))
				} else {
					nameIP = ip
					c.Name = ip.String()
				}
			} else if err := checkHost(strings.TrimSuffix(name, ".")); err != nil {
				d.errorAt(attr.Expr.Range(), "Invalid name", fmt.Sprintf("The name %s %s.", show(name, sens), err))
			} else {
				c.Name = strings.TrimSuffix(name, ".")
			}
		}
	}
	if attr := attrs["resolver"]; attr != nil {
		c.Resolver = d.resolver(attr)
	}
	if attr := attrs["timeout"]; attr != nil {
		if t, ok := d.duration(attr, false); ok {
			c.Timeout = t
		}
	}
	var expectBlock *hcl.Block
	for _, inner := range content.Blocks {
		if inner.Type == "assert" {
			if a := d.decodeAssert(inner, "dns"); a != nil {
				c.Assertions = append(c.Assertions, *a)
			}
			continue
		}
		if expectBlock != nil {
			d.duplicateBlock(inner, expectBlock, "in a dns block")
			continue
		}
		expectBlock = inner
		c.Expect = d.decodeDNSExpect(inner, c, nameIP)
	}
	return c
}

func (d *decoder) decodeDNSExpect(b *hcl.Block, c *DNSCheck, nameIP netip.Addr) *assertions.DNSExpect {
	content, diags := d.content(b.Body, dnsExpectSchema)
	d.add(diags...)
	attrs := content.Attributes
	e := &assertions.DNSExpect{}
	textList := func(name string) []string {
		attr := attrs[name]
		if attr == nil {
			return nil
		}
		list, ranges, _, ok := d.stringList(attr)
		if !ok {
			return nil
		}
		if len(list) == 0 {
			d.errorAt(attr.Expr.Range(), "Invalid expectation", fmt.Sprintf("%s is an empty list; leave it out instead.", name))
			return nil
		}
		for i, s := range list {
			if strings.TrimSpace(s) == "" {
				d.errorAt(ranges[i], "Invalid expectation", fmt.Sprintf("%s holds an empty string, which every record contains.", name))
				return nil
			}
		}
		return list
	}
	needType := func(name, want, why string) bool {
		attr := attrs[name]
		if attr == nil || c.Type == "" || c.Type == want {
			return attr != nil
		}
		d.errorAt(attr.Range, "Expectation does not fit the record type",
			fmt.Sprintf("expect.%s needs type = %q (%s); this check asks for %s records.", name, want, why, c.Type))
		return false
	}

	e.Contains = textList("contains")
	e.NotContains = textList("not_contains")
	if attr := attrs["count"]; attr != nil {
		if cmp, ok := d.comparison(attr); ok {
			e.Count = &cmp
		}
	}
	if attr := attrs["rcode"]; attr != nil {
		if s, _, ok := d.str(attr, false); ok {
			upper := strings.ToUpper(strings.TrimSpace(s))
			if !slices.Contains(rcodes, upper) {
				d.errorAt(attr.Expr.Range(), "Invalid rcode",
					fmt.Sprintf("rcode is %q; it must be one of %s.", s, strings.Join(rcodes, ", ")))
			} else {
				e.Rcode = &upper
			}
		}
	}
	if needType("spf_includes", "TXT", "the SPF record is a TXT record") {
		list := textList("spf_includes")
		ranges := elementRanges(attrs["spf_includes"].Expr, len(list))
		for i, s := range list {
			name := strings.TrimSuffix(strings.TrimSpace(s), ".")
			if err := checkHost(name); err != nil {
				d.errorAt(ranges[i], "Invalid expectation", fmt.Sprintf("spf_includes holds %q, which %s.", s, err))
				continue
			}
			e.SPFIncludes = append(e.SPFIncludes, name)
		}
	}
	if needType("spf_allows", "TXT", "the SPF record is a TXT record") {
		attr := attrs["spf_allows"]
		list := textList("spf_allows")
		ranges := elementRanges(attr.Expr, len(list))
		for i, s := range list {
			ip, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil {
				d.errorAt(ranges[i], "Invalid expectation", fmt.Sprintf("spf_allows takes IP addresses; %q is not one.", s))
				continue
			}
			e.SPFAllows = append(e.SPFAllows, ip.Unmap().String())
		}
	}
	if needType("dmarc_policy", "TXT", "the DMARC record is a TXT record at _dmarc.<name>") {
		attr := attrs["dmarc_policy"]
		if s, _, ok := d.str(attr, false); ok {
			lower := strings.ToLower(strings.TrimSpace(s))
			if !slices.Contains(dmarcPolicies, lower) {
				d.errorAt(attr.Expr.Range(), "Invalid expectation",
					fmt.Sprintf("dmarc_policy is %q; a DMARC policy is none, quarantine or reject (RFC 7489 section 6.3).", s))
			} else {
				e.DMARCPolicy = &lower
			}
		}
	}
	if needType("forward_confirmed", "PTR", "it starts from the PTR records of an IP address") {
		attr := attrs["forward_confirmed"]
		if v, ok := d.boolean(attr); ok {
			if c.Name != "" && !nameIP.IsValid() {
				d.errorAt(attr.Range, "Expectation does not fit the name",
					fmt.Sprintf("expect.forward_confirmed checks an IP address's PTR names; set name to the IP "+
						"address (name = \"203.0.113.5\"), not %q.", c.Name))
			} else {
				e.ForwardConfirmed = &v
			}
		}
	}
	return e
}

func (d *decoder) decodeDNSBL(b *hcl.Block, smtpLabels []string) *DNSBLCheck {
	if !d.checkLabel(b) {
		return nil
	}
	c := &DNSBLCheck{Label: b.Labels[0], DeclRange: b.DefRange}
	if c.Disabled = d.disabled(b); c.Disabled != "" {
		dnsblShape.check(d, b.Body)
		return c
	}
	content, diags := d.content(b.Body, dnsblSchema)
	d.add(diags...)
	attrs := content.Attributes
	if attr := attrs["ip"]; attr != nil {
		d.dnsblIP(attr, c, smtpLabels)
	}
	if attr := attrs["zones"]; attr != nil {
		if list, ranges, _, ok := d.stringList(attr); ok {
			if len(list) == 0 {
				d.errorAt(attr.Expr.Range(), "Invalid zones",
					"zones is an empty list; leave it out to use zen.spamhaus.org, b.barracudacentral.org and bl.spamcop.net.")
			}
			valid := true
			for i, z := range list {
				z = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(z), "."))
				if _, err := netip.ParseAddr(z); err == nil {
					d.errorAt(ranges[i], "Invalid zone", fmt.Sprintf("%q is an IP address; a zone is a DNS name such as zen.spamhaus.org.", z))
					valid = false
				} else if err := checkHost(z); err != nil {
					d.errorAt(ranges[i], "Invalid zone", fmt.Sprintf("The zone %q %s.", z, err))
					valid = false
				}
				list[i] = z
			}
			if valid && len(list) > 0 {
				c.Zones = list
			}
		}
	}
	if attr := attrs["resolver"]; attr != nil {
		c.Resolver = d.resolver(attr)
	}
	if attr := attrs["timeout"]; attr != nil {
		if t, ok := d.duration(attr, false); ok {
			c.Timeout = t
		}
	}
	if attr := attrs["dqs_key"]; attr != nil {
		if key, _, ok := d.str(attr, false); ok {
			key = strings.TrimSpace(key)
			// The key becomes a label of the query name; never quote it.
			if key == "" || len(key) > 63 || strings.Trim(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
				d.errorAt(attr.Expr.Range(), "Invalid dqs_key",
					"dqs_key must be a Spamhaus DQS key: letters and digits only, as on the Spamhaus account page.")
			} else if len(key) < 3 {
				d.errorAt(attr.Expr.Range(), "Sensitive value too short to mask",
					fmt.Sprintf("dqs_key is %d bytes long: values shorter than 3 bytes are not masked in output; "+
						"a Spamhaus DQS key is much longer.", len(key)))
			} else {
				c.DQSKey = key
			}
		}
	}
	var expectBlock *hcl.Block
	for _, inner := range content.Blocks {
		if expectBlock != nil {
			d.duplicateBlock(inner, expectBlock, "in a dnsbl block")
			continue
		}
		expectBlock = inner
		ec, ediags := d.content(inner.Body, dnsblExpectSchema)
		d.add(ediags...)
		c.Expect = &assertions.DNSBLExpect{}
		if attr := ec.Attributes["listed"]; attr != nil {
			if v, ok := d.boolean(attr); ok {
				c.Expect.Listed = &v
			}
		}
	}
	return c
}

// dnsblIP decodes ip: an IP address, or smtp["<label>"].client_ip.
func (d *decoder) dnsblIP(attr *hcl.Attribute, c *DNSBLCheck, smtpLabels []string) {
	refersToSMTP := false
	for _, t := range attr.Expr.Variables() {
		refersToSMTP = refersToSMTP || t.RootName() == "smtp"
	}
	if !refersToSMTP {
		if s, sens, ok := d.str(attr, true); ok {
			ip, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil {
				d.errorAt(attr.Expr.Range(), "Invalid ip",
					fmt.Sprintf("ip must be an IP address or smtp[\"<check label>\"].client_ip; %s is neither.", show(s, sens)))
				return
			}
			c.IP = ip.Unmap().String()
		}
		return
	}
	const form = `Write ip = smtp["<check label>"].client_ip: the IP address the server of that smtp check saw.`
	trav, diags := hcl.AbsTraversalForExpr(attr.Expr)
	if diags.HasErrors() || len(trav) != 3 || trav.RootName() != "smtp" {
		d.errorAt(attr.Expr.Range(), "Invalid smtp reference", form)
		return
	}
	label, ok := traversalName(trav)
	if _, isIndex := trav[1].(hcl.TraverseIndex); !ok || !isIndex {
		d.errorAt(attr.Expr.Range(), "Invalid smtp reference",
			"Check labels are free text and are referred to with index syntax. "+form)
		return
	}
	if a, isAttr := trav[2].(hcl.TraverseAttr); !isAttr || a.Name != "client_ip" {
		d.errorAt(trav[2].SourceRange(), "Unsupported smtp attribute",
			"A dnsbl check can use only the client_ip of an smtp check. "+form)
		return
	}
	if !slices.Contains(smtpLabels, label) {
		detail := fmt.Sprintf("There is no smtp check labelled %q in this suite.", label)
		if s := suggestion(label, smtpLabels); s != "" {
			detail += s
		}
		d.errorAt(attr.Expr.Range(), "Reference to undeclared smtp check", detail)
		return
	}
	c.ClientIPOf = label
}

// resolver decodes a resolver address: an IP address with an optional
// port (53 by default), returned as ip:port.
func (d *decoder) resolver(attr *hcl.Attribute) string {
	s, _, ok := d.str(attr, false)
	if !ok {
		return ""
	}
	addr, err := ParseResolver(s)
	if err != nil {
		msg := err.Error()
		d.errorAt(attr.Expr.Range(), "Invalid resolver", strings.ToUpper(msg[:1])+msg[1:]+".")
		return ""
	}
	return addr
}

// ParseResolver normalizes a resolver address: an IP literal with an
// optional port ("127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:53"), the
// port 53 by default. Host names are refused: finding the resolver must
// not need a resolver.
func ParseResolver(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("the resolver address is empty")
	}
	if addr, err := netip.ParseAddr(s); err == nil {
		return net.JoinHostPort(addr.String(), "53"), nil
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Port() != 0 {
		return ap.String(), nil
	}
	if host, port, err := net.SplitHostPort(s); err == nil {
		if n, perr := strconv.Atoi(port); perr != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("the resolver %q has an invalid port", s)
		}
		if _, aerr := netip.ParseAddr(host); aerr != nil {
			return "", fmt.Errorf("the resolver %q must be an IP address with an optional port (such as 127.0.0.1:53), not a host name", s)
		}
	}
	return "", fmt.Errorf("the resolver %q must be an IP address with an optional port, such as 127.0.0.1:53 or [::1]:53", s)
}
