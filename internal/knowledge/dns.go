package knowledge

import (
	"fmt"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// DiagnoseMX explains why the MX of domain cannot be used; summary is
// the failure on one line.
func DiagnoseMX(domain string, kind result.MXFailure, summary string) *result.Diagnosis {
	d := &result.Diagnosis{Category: result.DNS, Summary: summary,
		Source: "https://www.rfc-editor.org/rfc/rfc5321#section-5.1"}
	switch kind {
	case result.MXNull:
		d.Meaning = domain + " says it accepts no mail at all (a null MX record, RFC 7505)."
		d.Fix = "If the domain should receive mail through Exchange Online, replace the null MX with the MX " +
			"record the Microsoft 365 admin center shows for it (Settings > Domains)."
		d.Source = "https://www.rfc-editor.org/rfc/rfc7505"
	case result.MXNone, result.MXNoDomain:
		d.Meaning = "Mail for " + domain + " has nowhere to go: the domain publishes no MX record."
		d.Fix = "Publish the MX record the Microsoft 365 admin center shows for the domain (Settings > Domains), " +
			"like contoso-com.mail.protection.outlook.com."
	case result.MXNoAddress:
		d.Meaning = "The MX hosts of " + domain + " have no address, so no server can be reached."
		d.Fix = "Check the MX record's target for a typo; it must be a host name with A/AAAA records, never an IP or a CNAME."
	default:
		d.Meaning = "The MX lookup got no usable answer."
		d.Fix = "Check that the resolver is reachable and answers for this domain (try --resolver with another server)."
	}
	return d
}

// DiagnoseDNS explains a failed dns check of the records of qtype at
// name, from its first failure.
func DiagnoseDNS(name, qtype string, first result.Failure) *result.Diagnosis {
	d := &result.Diagnosis{Category: result.DNS, Summary: first.Message}
	switch first.Expectation {
	case "lookup", "rcode":
		d.Meaning = fmt.Sprintf("The %s lookup for %s did not get the answer the check needs.", qtype, name)
		d.Fix = "Check that the resolver answers for this name; SERVFAIL often means broken DNSSEC or unreachable " +
			"authoritative servers, a timeout a firewall in the way of port 53."
	case "spf_allows", "spf_includes":
		d.Category = result.Policy
		d.Meaning = "Receivers that check SPF (Exchange Online among them) do not see the sending IP as allowed " +
			"for " + name + "; mail from it may be rejected with 5.7.23 or land in junk."
		d.Fix = "Add the sending IP and Exchange Online to the SPF record: v=spf1 ip4:<IP> include:spf.protection.outlook.com ~all " +
			"(one record per domain, at most 10 DNS-querying terms)."
		d.Source = "https://www.rfc-editor.org/rfc/rfc7208"
	case "dmarc_policy":
		d.Category = result.Policy
		d.Meaning = "The DMARC policy of " + name + " is not the one the suite expects."
		d.Fix = "Publish the policy as a TXT record at _dmarc." + strings.TrimPrefix(name, "_dmarc.") +
			` ("v=DMARC1; p=reject"), once SPF and DKIM align for every sender.`
		d.Source = "https://www.rfc-editor.org/rfc/rfc7489#section-6.3"
	case "forward_confirmed":
		d.Meaning = "Receivers distrust a sending IP whose PTR name does not resolve back to it."
		d.Fix = "Ask the owner of the IP range (usually the ISP) for a PTR record whose name has an A/AAAA record " +
			"pointing back to the IP."
	default:
		d.Meaning = fmt.Sprintf("The %s records of %s differ from what the suite expects.", qtype, name)
		d.Fix = "Compare the records with the ones the Microsoft 365 admin center lists for the domain (Settings > Domains)."
	}
	return d
}

// DiagnoseDNSBL explains a failed dnsbl check of ip from the zones'
// verdicts and its first failure.
func DiagnoseDNSBL(ip string, listings []result.Listing, first result.Failure) *result.Diagnosis {
	d := &result.Diagnosis{Category: result.Reputation, Summary: first.Message, IP: ip}
	var listed, delist, unsure []string
	for _, l := range listings {
		switch l.Status {
		case result.Listed:
			listed = append(listed, l.String())
			if l.Delist != "" {
				delist = append(delist, l.Zone+": "+l.Delist)
			}
		case result.Inconclusive:
			unsure = append(unsure, l.String())
		}
	}
	switch {
	case len(listed) > 0:
		d.Meaning = "Listed: " + strings.Join(listed, "; ") + "."
		d.Fix = "Find and stop what made the IP listed, then ask for removal"
		if len(delist) > 0 {
			d.Fix += " (" + strings.Join(delist, "; ") + ")"
		}
		d.Fix += ". For a dynamic end-user IP (Spamhaus PBL), submit through smtp.office365.com:587 with SMTP AUTH " +
			"or a connector instead of sending directly on port 25."
	case len(unsure) > 0:
		d.Category = result.DNS
		d.Meaning = "No verdict from " + strings.Join(unsure, "; ") + "."
		d.Fix = "Query the blocklists through a resolver of your own (--resolver), not a public one; for Spamhaus, " +
			"a free Data Query Service key (dqs_key) avoids the public-resolver and volume limits."
	default:
		d.Meaning = ip + " is on none of the blocklists asked."
		d.Fix = "Nothing to delist; the check expected a listing."
	}
	return d
}
