package assertions

import (
	"fmt"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// DNSExpect holds the expect attributes of a dns check. A nil pointer or
// nil slice means "not set".
type DNSExpect struct {
	// Contains: each must be a substring (case-insensitive) of some record.
	Contains []string
	// NotContains: none may be a substring of any record.
	NotContains []string
	// Count compares the number of records of the asked type.
	Count *Comparison
	// Rcode is the response code the lookup must get ("NXDOMAIN").
	Rcode *string
	// SPFIncludes: each domain must be named by an include (or redirect)
	// of the name's SPF record, directly or through other includes.
	SPFIncludes []string
	// SPFAllows: the name's SPF record must give pass for each IP.
	SPFAllows []string
	// DMARCPolicy is the p tag the name's DMARC record must have.
	DMARCPolicy *string
	// ForwardConfirmed: whether some PTR name of the IP resolves back to
	// it (only for PTR checks of an IP).
	ForwardConfirmed *bool
}

// EvaluateDNS checks a dns check's expectations against what it found.
//
// A lookup that got no usable answer (a timeout, SERVFAIL, REFUSED) fails
// the check with Expectation "lookup", unless rcode anticipates it. Without
// an expect block the check passes when the lookup found at least one
// record. With one, an empty answer (NXDOMAIN or no records of the type)
// is judged by the expectations alone: count = 0 or rcode = "NXDOMAIN"
// accept it, contains does not.
func EvaluateDNS(e *DNSExpect, o *result.DNSOutcome) []result.Failure {
	what := fmt.Sprintf("%s %s", o.Type, o.Name)
	if e == nil {
		switch {
		case o.Error != "":
			return []result.Failure{{Expectation: "lookup", Message: "lookup: " + o.Error}}
		case len(o.Records) == 0:
			return []result.Failure{{Expectation: "lookup", Message: fmt.Sprintf("lookup: no %s records for %s (%s)", o.Type, o.Name, o.Rcode)}}
		}
		return nil
	}
	var out []result.Failure
	fail := func(name, format string, args ...any) {
		out = append(out, result.Failure{Expectation: name, Message: name + ": " + fmt.Sprintf(format, args...)})
	}
	if e.Rcode != nil {
		if !strings.EqualFold(*e.Rcode, o.Rcode) {
			got := o.Rcode
			if got == "" {
				got = o.Error
			}
			fail("rcode", "expected %s for %s, got %s", strings.ToUpper(*e.Rcode), what, got)
		}
	} else if o.Error != "" {
		return []result.Failure{{Expectation: "lookup", Message: "lookup: " + o.Error}}
	}
	records := strings.Join(o.Records, " | ")
	if records == "" {
		records = "none"
	}
	for _, want := range e.Contains {
		if !anyContains(o.Records, want) {
			fail("contains", "no %s record of %s contains %q; records: %s", o.Type, o.Name, want, records)
		}
	}
	for _, unwanted := range e.NotContains {
		for _, r := range o.Records {
			if containsFold(r, unwanted) {
				fail("not_contains", "the %s record %q of %s contains %q", o.Type, r, o.Name, unwanted)
			}
		}
	}
	if e.Count != nil && !e.Count.Holds(float64(len(o.Records))) {
		fail("count", "expected %s %s records for %s, got %d; records: %s", e.Count.Source, o.Type, o.Name, len(o.Records), records)
	}
	if len(e.SPFIncludes) > 0 {
		if o.SPFError != "" {
			fail("spf_includes", "%s", o.SPFError)
		} else {
			for _, want := range e.SPFIncludes {
				if !containsName(o.SPFIncludes, want) {
					fail("spf_includes", "the SPF record of %s does not include %s; record: %s", o.Name, want, o.SPFRecord)
				}
			}
		}
	}
	if len(e.SPFAllows) > 0 {
		for _, v := range o.SPF {
			if v.Result != "pass" {
				fail("spf_allows", "the SPF record of %s does not allow %s: %s", o.Name, v.IP, v.Verdict())
			}
		}
		if len(e.SPFAllows) > len(o.SPF) {
			fail("spf_allows", "SPF was evaluated for %d of %d IPs", len(o.SPF), len(e.SPFAllows))
		}
	}
	if e.DMARCPolicy != nil {
		switch {
		case o.DMARCError != "":
			fail("dmarc_policy", "expected p=%s, but %s", *e.DMARCPolicy, o.DMARCError)
		case !strings.EqualFold(o.DMARCPolicy, *e.DMARCPolicy):
			fail("dmarc_policy", "expected p=%s, got p=%s; record: %s", strings.ToLower(*e.DMARCPolicy), o.DMARCPolicy, o.DMARCRecord)
		}
	}
	if e.ForwardConfirmed != nil {
		confirmed := len(o.ForwardConfirmed) > 0
		switch {
		case o.FCrDNSError != "":
			fail("forward_confirmed", "the check could not complete: %s", o.FCrDNSError)
		case *e.ForwardConfirmed && !confirmed && len(o.PTRNames) == 0:
			fail("forward_confirmed", "%s has no PTR record", o.Name)
		case *e.ForwardConfirmed && !confirmed:
			fail("forward_confirmed", "no PTR name of %s (%s) resolves back to it", o.Name, strings.Join(o.PTRNames, ", "))
		case !*e.ForwardConfirmed && confirmed:
			fail("forward_confirmed", "expected no forward-confirmed name, but %s resolves back to %s",
				strings.Join(o.ForwardConfirmed, ", "), o.Name)
		}
	}
	return out
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func anyContains(records []string, want string) bool {
	for _, r := range records {
		if containsFold(r, want) {
			return true
		}
	}
	return false
}

// containsName reports whether names holds name, ignoring case and a
// trailing dot.
func containsName(names []string, name string) bool {
	norm := func(s string) string { return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".") }
	for _, n := range names {
		if norm(n) == norm(name) {
			return true
		}
	}
	return false
}

// DNSBLExpect holds the expect attributes of a dnsbl check.
type DNSBLExpect struct {
	// Listed: true, some zone must list the IP; false (the default), no
	// zone may list it and every zone must give a verdict.
	Listed *bool
}

// DNSBLOutcome is what a dnsbl check found.
type DNSBLOutcome struct {
	IP    string    `json:"ip"`
	Zones []Listing `json:"zones"`
	// Error says why no lookup was made (the smtp check the IP comes
	// from saw none).
	Error string `json:"error,omitempty"`
}

// Listing is one zone's verdict.
type Listing struct {
	Zone string `json:"zone"`
	// Status is "listed", "not listed" or "inconclusive".
	Status string `json:"status"`
	// Text is the verdict on one line, with the decoded return code and
	// the zone's reason ("zen.spamhaus.org: listed in Spamhaus PBL ...").
	Text string `json:"text"`
}

// EvaluateDNSBL checks a dnsbl check's expectation. Without one, listed =
// false applies. An inconclusive zone (a timeout, an error code) proves
// neither: it fails listed = false, and does not satisfy listed = true.
func EvaluateDNSBL(e *DNSBLExpect, o *DNSBLOutcome) []result.Failure {
	if o.Error != "" {
		return []result.Failure{{Expectation: "ip", Message: "ip: " + o.Error}}
	}
	want := false
	if e != nil && e.Listed != nil {
		want = *e.Listed
	}
	var listed, inconclusive []string
	for _, z := range o.Zones {
		switch z.Status {
		case "listed":
			listed = append(listed, z.Text)
		case "inconclusive":
			inconclusive = append(inconclusive, z.Text)
		}
	}
	var out []result.Failure
	if !want {
		for _, l := range listed {
			out = append(out, result.Failure{Expectation: "listed", Message: fmt.Sprintf("listed: expected %s on no blocklist, but %s", o.IP, l)})
		}
		for _, i := range inconclusive {
			out = append(out, result.Failure{Expectation: "listed", Message: fmt.Sprintf("listed: cannot prove %s is not listed: %s", o.IP, i)})
		}
		return out
	}
	if len(listed) == 0 {
		var zones []string
		for _, z := range o.Zones {
			zones = append(zones, z.Zone)
		}
		msg := fmt.Sprintf("listed: expected %s on a blocklist, but none of %s lists it", o.IP, strings.Join(zones, ", "))
		if len(inconclusive) > 0 {
			msg += " (" + strings.Join(inconclusive, "; ") + ")"
		}
		out = append(out, result.Failure{Expectation: "listed", Message: msg})
	}
	return out
}
