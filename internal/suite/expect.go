package suite

import (
	"fmt"
	"math/big"
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/smtpdiag/smtpdiag/assertions"
)

var expectSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "connect"},
		{Name: "banner"},
		{Name: "ehlo"},
		{Name: "auth"},
		{Name: "mail"},
		{Name: "rcpt"},
		{Name: "data"},
		{Name: "starttls"},
		{Name: "tls_version"},
		{Name: "certificate_valid"},
		{Name: "certificate_days_left"},
		{Name: "advertises"},
		{Name: "not_advertises"},
		{Name: "auth_before_tls"},
		{Name: "no"},
		{Name: "client_ip"},
		{Name: "max_duration"},
		{Name: "banner_within"},
	},
}

const patternHelp = `Reply patterns look like 250, "2xx", "55x", "250 2.1.5", "5.7.606", ` +
	`"550 5.7.606-649", or "550 5.7.1 some text" (the text matched case-insensitively).`

const comparisonHelp = `Comparisons look like ">= 1.2", "< 14", "= 1.3" or a bare number.`

// decodeExpect decodes an expect block into the assertions' types. Every
// pattern and comparison is parsed here, so that a typo is reported with
// its position before anything runs. It also returns the block's
// attributes, for checkReachable.
func (d *decoder) decodeExpect(b *hcl.Block) (*assertions.Expect, hcl.Attributes) {
	content, diags := d.content(b.Body, expectSchema)
	d.add(diags...)
	attrs := content.Attributes
	e := &assertions.Expect{}

	boolPtr := func(name string) *bool {
		if attr := attrs[name]; attr != nil {
			if v, ok := d.boolean(attr); ok {
				return &v
			}
		}
		return nil
	}
	patternPtr := func(name string) *assertions.Pattern {
		if attr := attrs[name]; attr != nil {
			if list, ok := d.patterns(attr, false); ok {
				return &list[0]
			}
		}
		return nil
	}
	durationPtr := func(name string) *time.Duration {
		if attr := attrs[name]; attr != nil {
			if v, ok := d.duration(attr, false); ok {
				return &v
			}
		}
		return nil
	}
	wordList := func(name string) []string {
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
			if strings.TrimSpace(s) == "" || checkLine(s) != nil {
				d.errorAt(ranges[i], "Invalid expectation",
					fmt.Sprintf("%s holds %q; each entry is an EHLO keyword, optionally with a parameter (\"AUTH LOGIN\").", name, s))
				return nil
			}
		}
		return list
	}

	e.Connect = boolPtr("connect")
	e.Banner = patternPtr("banner")
	e.EHLO = patternPtr("ehlo")
	e.Auth = patternPtr("auth")
	e.Mail = patternPtr("mail")
	if attr := attrs["rcpt"]; attr != nil {
		if list, ok := d.patterns(attr, true); ok {
			e.Rcpt = list
		}
	}
	e.Data = patternPtr("data")
	e.StartTLS = boolPtr("starttls")
	if attr := attrs["tls_version"]; attr != nil {
		e.TLSVersion = d.tlsVersionComparison(attr)
	}
	e.CertificateValid = boolPtr("certificate_valid")
	if attr := attrs["certificate_days_left"]; attr != nil {
		if c, ok := d.comparison(attr); ok {
			e.CertificateDaysLeft = &c
		}
	}
	e.Advertises = wordList("advertises")
	e.NotAdvertises = wordList("not_advertises")
	e.AuthBeforeTLS = boolPtr("auth_before_tls")
	if attr := attrs["no"]; attr != nil {
		if list, ok := d.patterns(attr, true); ok {
			e.No = list
		}
	}
	if attr := attrs["client_ip"]; attr != nil {
		if s, _, ok := d.str(attr, false); ok {
			addr, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil {
				d.errorAt(attr.Expr.Range(), "Invalid expectation", fmt.Sprintf("client_ip must be an IP address; got %q.", s))
			} else {
				ip := addr.String()
				e.ClientIP = &ip
			}
		}
	}
	e.MaxDuration = durationPtr("max_duration")
	e.BannerWithin = durationPtr("banner_within")
	return e, attrs
}

func isTLSVersion(v float64) bool {
	for _, known := range []float64{1.0, 1.1, 1.2, 1.3} {
		if v == known {
			return true
		}
	}
	return false
}

// patterns decodes a reply pattern, or with allowList a pattern or a list
// of patterns. Each element is a number (the exact basic code) or a
// string.
func (d *decoder) patterns(attr *hcl.Attribute, allowList bool) ([]assertions.Pattern, bool) {
	v, _, ok := d.attrValue(attr, cty.DynamicPseudoType, false)
	if !ok {
		return nil, false
	}
	ty := v.Type()
	if !(ty.IsTupleType() || ty.IsListType() || ty.IsSetType()) {
		p, ok := d.pattern(v, attr.Expr.Range(), attr.Name)
		if !ok {
			return nil, false
		}
		return []assertions.Pattern{p}, true
	}
	if !allowList {
		d.errorAt(attr.Expr.Range(), "Invalid reply pattern",
			fmt.Sprintf("expect.%s takes one reply pattern, not a list. %s", attr.Name, patternHelp))
		return nil, false
	}
	elems := v.AsValueSlice()
	if len(elems) == 0 {
		d.errorAt(attr.Expr.Range(), "Invalid reply pattern", fmt.Sprintf("%s is an empty list; leave it out instead.", attr.Name))
		return nil, false
	}
	ranges := elementRanges(attr.Expr, len(elems))
	out := make([]assertions.Pattern, 0, len(elems))
	ok = true
	for i, e := range elems {
		p, pok := d.pattern(e, ranges[i], attr.Name)
		ok = ok && pok
		out = append(out, p)
	}
	return out, ok
}

// pattern decodes one reply pattern value.
func (d *decoder) pattern(v cty.Value, rng hcl.Range, name string) (assertions.Pattern, bool) {
	var p assertions.Pattern
	var err error
	switch {
	case v.IsNull():
		err = fmt.Errorf("a reply pattern must not be null")
	case v.Type() == cty.Number:
		bf := v.AsBigFloat()
		if !bf.IsInt() || bf.Cmp(big.NewFloat(0)) < 0 || bf.Cmp(big.NewFloat(999)) > 0 {
			d.errorAt(rng, "Invalid reply pattern",
				fmt.Sprintf("expect.%s: a reply code written as a number is a three-digit basic code such as 250; "+
					"got %s. Write other patterns as strings. %s", name, numberText(bf), patternHelp))
			return p, false
		}
		i, _ := bf.Int64()
		p, err = assertions.PatternFromCode(int(i))
	case v.Type() == cty.String:
		p, err = assertions.ParsePattern(v.AsString())
	default:
		err = fmt.Errorf("a reply pattern is a number or a string, not %s", v.Type().FriendlyName())
	}
	if err != nil {
		d.errorAt(rng, "Invalid reply pattern", fmt.Sprintf("expect.%s: %v.", name, err))
		return p, false
	}
	return p, true
}

// comparison decodes a comparison: a string with an operator, or a number
// meaning "equal to".
func (d *decoder) comparison(attr *hcl.Attribute) (assertions.Comparison, bool) {
	v, _, ok := d.attrValue(attr, cty.DynamicPseudoType, false)
	if !ok {
		return assertions.Comparison{}, false
	}
	var src string
	switch v.Type() {
	case cty.Number:
		src = numberText(v.AsBigFloat())
	case cty.String:
		src = v.AsString()
	default:
		d.errorAt(attr.Expr.Range(), "Invalid comparison",
			fmt.Sprintf("expect.%s is a comparison string or a number, not %s. %s", attr.Name, v.Type().FriendlyName(), comparisonHelp))
		return assertions.Comparison{}, false
	}
	c, err := assertions.ParseComparison(src)
	if err != nil {
		d.errorAt(attr.Expr.Range(), "Invalid comparison", fmt.Sprintf("expect.%s: %v.", attr.Name, err))
		return assertions.Comparison{}, false
	}
	return c, true
}

// checkReachable rejects expectations on steps the check never takes: they
// could only fail with "not reached". attrs are the expect block's
// attributes (decodeExpect).
func (d *decoder) checkReachable(attrs hcl.Attributes, c *SMTPCheck, smtpAttrs hcl.Attributes) {
	never := func(name, why string) {
		if attr := attrs[name]; attr != nil {
			d.errorAt(attr.Range, "Expectation on a step that never runs",
				fmt.Sprintf("expect.%s can never hold: %s.", name, why))
		}
	}
	if c.Auth == nil {
		never("auth", "this check has no auth block, so AUTH is never sent")
	}
	if smtpAttrs["mail_from"] == nil {
		never("mail", "this check has no mail_from, so MAIL FROM is never sent")
	}
	if smtpAttrs["rcpt_to"] == nil {
		never("rcpt", "this check has no rcpt_to, so RCPT TO is never sent")
	} else if n := len(c.Expect.Rcpt); n > 1 && len(c.RcptTo) > 0 && n != len(c.RcptTo) {
		never("rcpt", fmt.Sprintf("it lists %d patterns for %d recipients; give one pattern for every RCPT, "+
			"or one per recipient in order", n, len(c.RcptTo)))
	}
	if c.Message == nil {
		never("data", "this check has no message block, so DATA is never sent")
	}
	if c.Endpoint != nil && c.Endpoint.TLS == TLSImplicit {
		// With implicit TLS (RFC 8314 section 3) there is no EHLO before
		// TLS and no STARTTLS to advertise.
		never("starttls", "the endpoint uses implicit TLS, which has no STARTTLS; use connect = true")
		never("auth_before_tls", "the endpoint uses implicit TLS, so there is no EHLO before TLS")
	}
}

// tlsVersionComparison decodes a tls_version comparison, which must compare
// with a TLS version; nil when it is invalid (the problem is reported).
func (d *decoder) tlsVersionComparison(attr *hcl.Attribute) *assertions.Comparison {
	c, ok := d.comparison(attr)
	if !ok {
		return nil
	}
	if !isTLSVersion(c.Value) {
		d.errorAt(attr.Expr.Range(), "Invalid comparison",
			fmt.Sprintf("tls_version compares with a TLS version: 1.0, 1.1, 1.2 or 1.3; got %s.", c.Source))
		return nil
	}
	return &c
}
