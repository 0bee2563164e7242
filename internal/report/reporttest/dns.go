package reporttest

import (
	"time"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// DQSKey is the Spamhaus Data Query Service key of DNSResults' dnsbl
// check. It is planted unmasked in a query name, a lookup and a TXT
// reason, as if the runner's own masking had missed it.
const DQSKey = "dqs0key0f00ba4c0ffee1234"

// Resolver is the DNS server DNSResults' checks asked.
const Resolver = "192.0.2.53:53"

// DNSRedactor masks Secret like Redactor, and DQSKey as the runner does
// for a suite whose sensitive variable holds it.
func DNSRedactor() *redact.Redactor {
	return redact.New(Secret, DQSKey).WithAuth(User, Secret)
}

// DNSResults returns one suite, "contoso: DNS and blocklists", with the
// outcomes of DNS checks: an MX lookup that passed, an SPF evaluation that
// failed for one IP, a DMARC policy that passed, a forward-confirmed
// reverse DNS check that failed, a lookup that got SERVFAIL, a dnsbl check
// with a listed, a clean and an inconclusive zone (through a DQS key), and
// an smtp check on an mx endpoint whose 5.7.606 rejection carries the
// blocklist proof of the IP it named. Every call returns fresh values.
func DNSResults() []*result.Suite {
	ms := time.Millisecond
	start := Start.Add(time.Minute)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	lookup := func(started time.Duration, name, typ, rcode string, answers ...string) result.Lookup {
		return result.Lookup{Name: name, Type: typ, Server: Resolver, Transport: "udp", Rcode: rcode,
			Answers: answers, Started: at(started), Duration: 12 * ms}
	}

	mx := &result.Check{
		Index: 0, Label: "MX points at Exchange Online", Kind: "dns",
		Target: "MX contoso.com", Resolver: Resolver,
		Status: result.Passed, Attempts: 1, Started: at(0), Duration: 12 * ms,
		Lookups: []result.Lookup{
			lookup(0, "contoso.com.", "MX", "NOERROR", "contoso.com.\t3600\tIN\tMX\t0 contoso-com.mail.protection.outlook.com."),
		},
		DNS: &result.DNSOutcome{Name: "contoso.com", Type: "MX", Rcode: "NOERROR",
			Records: []string{"0 contoso-com.mail.protection.outlook.com."}},
	}

	spfRecord := "v=spf1 ip4:203.0.113.5 include:spf.protection.outlook.com ~all"
	spf := &result.Check{
		Index: 1, Label: "SPF allows the copier and the old relay", Kind: "dns",
		Target: "TXT contoso.com", Resolver: Resolver,
		Status: result.Failed, Attempts: 1, Started: at(20 * ms), Duration: 30 * ms,
		Failures: []result.Failure{{Expectation: "spf_allows",
			Message: "spf_allows: the SPF record of contoso.com does not allow 198.51.100.50: softfail (matched ~all)"}},
		Diagnosis: &result.Diagnosis{
			Category: result.Policy,
			Summary:  "spf_allows: the SPF record of contoso.com does not allow 198.51.100.50: softfail (matched ~all)",
			Meaning:  "Receivers that check SPF (Exchange Online among them) do not see the sending IP as allowed for contoso.com.",
			Fix:      "Add the sending IP and Exchange Online to the SPF record.",
			Source:   "https://www.rfc-editor.org/rfc/rfc7208",
		},
		Lookups: []result.Lookup{
			lookup(20*ms, "contoso.com.", "TXT", "NOERROR",
				"contoso.com.\t3600\tIN\tTXT\t\""+spfRecord+"\"", "contoso.com.\t3600\tIN\tTXT\t\"MS=ms12345678\""),
			lookup(35*ms, "spf.protection.outlook.com.", "TXT", "NOERROR",
				"spf.protection.outlook.com.\t3600\tIN\tTXT\t\"v=spf1 ip4:40.92.0.0/15 -all\""),
		},
		DNS: &result.DNSOutcome{Name: "contoso.com", Type: "TXT", Rcode: "NOERROR",
			Records:     []string{spfRecord, "MS=ms12345678"},
			SPFRecord:   spfRecord,
			SPFIncludes: []string{"spf.protection.outlook.com"},
			SPF: []result.SPFVerdict{
				{IP: "203.0.113.5", Result: "pass", Mechanism: "ip4:203.0.113.5"},
				{IP: "40.92.0.1", Result: "pass", Mechanism: "include:spf.protection.outlook.com → ip4:40.92.0.0/15"},
				{IP: "198.51.100.50", Result: "softfail", Mechanism: "~all"},
			},
		},
	}

	dmarc := &result.Check{
		Index: 2, Label: "DMARC rejects spoofing", Kind: "dns",
		Target: "TXT contoso.com", Resolver: Resolver,
		Status: result.Passed, Attempts: 1, Started: at(60 * ms), Duration: 24 * ms,
		Lookups: []result.Lookup{
			lookup(60*ms, "contoso.com.", "TXT", "NOERROR", "contoso.com.\t3600\tIN\tTXT\t\""+spfRecord+"\""),
			lookup(72*ms, "_dmarc.contoso.com.", "TXT", "NOERROR", "_dmarc.contoso.com.\t3600\tIN\tTXT\t\"v=DMARC1; p=reject\""),
		},
		DNS: &result.DNSOutcome{Name: "contoso.com", Type: "TXT", Rcode: "NOERROR",
			Records: []string{spfRecord}, DMARCRecord: "v=DMARC1; p=reject", DMARCPolicy: "reject"},
	}

	fcrdns := &result.Check{
		Index: 3, Label: "the egress IP has forward-confirmed reverse DNS", Kind: "dns",
		Target: "PTR 203.0.113.5", Resolver: Resolver,
		Status: result.Failed, Attempts: 1, Started: at(90 * ms), Duration: 24 * ms,
		Failures: []result.Failure{{Expectation: "forward_confirmed",
			Message: "forward_confirmed: no PTR name of 203.0.113.5 resolves back to it (dsl-203-0-113-5.isp.example.)"}},
		Diagnosis: &result.Diagnosis{
			Category: result.DNS,
			Summary:  "forward_confirmed: no PTR name of 203.0.113.5 resolves back to it (dsl-203-0-113-5.isp.example.)",
			Meaning:  "Receivers distrust a sending IP whose PTR name does not resolve back to it.",
			Fix:      "Ask the owner of the IP range (usually the ISP) for a PTR record whose name points back to the IP.",
		},
		Lookups: []result.Lookup{
			lookup(90*ms, "5.113.0.203.in-addr.arpa.", "PTR", "NOERROR", "5.113.0.203.in-addr.arpa.\t3600\tIN\tPTR\tdsl-203-0-113-5.isp.example."),
			lookup(102*ms, "dsl-203-0-113-5.isp.example.", "A", "NXDOMAIN"),
		},
		DNS: &result.DNSOutcome{Name: "203.0.113.5", Type: "PTR", Rcode: "NOERROR",
			Records:  []string{"dsl-203-0-113-5.isp.example."},
			PTRNames: []string{"dsl-203-0-113-5.isp.example."}},
	}

	servfail := &result.Check{
		Index: 4, Label: "autodiscover resolves", Kind: "dns",
		Target: "CNAME autodiscover.contoso.com", Resolver: Resolver,
		Status: result.Failed, Attempts: 1, Started: at(120 * ms), Duration: 2000 * ms,
		Failures: []result.Failure{{Expectation: "lookup",
			Message: "lookup: CNAME autodiscover.contoso.com: SERVFAIL from " + Resolver}},
		Diagnosis: &result.Diagnosis{
			Category: result.DNS,
			Summary:  "lookup: CNAME autodiscover.contoso.com: SERVFAIL from " + Resolver,
			Meaning:  "The CNAME lookup for autodiscover.contoso.com did not get the answer the check needs.",
			Fix:      "Check that the resolver answers for this name; SERVFAIL often means broken DNSSEC.",
		},
		Lookups: []result.Lookup{{Name: "autodiscover.contoso.com.", Type: "CNAME", Server: Resolver, Transport: "udp",
			Rcode: "SERVFAIL", Started: at(120 * ms), Duration: 2000 * ms}},
		DNS: &result.DNSOutcome{Name: "autodiscover.contoso.com", Type: "CNAME", Rcode: "SERVFAIL",
			Error: "CNAME autodiscover.contoso.com: SERVFAIL from " + Resolver},
	}

	dqsQuery := "5.113.0.203." + DQSKey + ".zen.dq.spamhaus.net."
	blocklist := &result.Check{
		Index: 5, Label: "egress IP is on no blocklist", Kind: "dnsbl",
		Target: "203.0.113.5", Resolver: Resolver,
		Status: result.Failed, Attempts: 1, Started: at(2200 * ms), Duration: 60 * ms,
		Failures: []result.Failure{{Expectation: "listed",
			Message: "listed: 203.0.113.5 is listed: zen.spamhaus.org: listed in Spamhaus PBL (ISP-maintained: end-user range that should not send directly) (127.0.0.10)"}},
		Diagnosis: &result.Diagnosis{
			Category: result.Reputation,
			Summary:  "listed: 203.0.113.5 is listed in zen.spamhaus.org",
			Meaning:  "Listed: zen.spamhaus.org: listed in Spamhaus PBL (127.0.0.10).",
			Fix:      "For a dynamic end-user IP (Spamhaus PBL), submit through smtp.office365.com:587 with SMTP AUTH instead of sending directly on port 25.",
			IP:       "203.0.113.5",
		},
		Lookups: []result.Lookup{
			lookup(2200*ms, dqsQuery, "A", "NOERROR", dqsQuery+"\t300\tIN\tA\t127.0.0.10"),
			lookup(2215*ms, dqsQuery, "TXT", "NOERROR", dqsQuery+"\t300\tIN\tTXT\t\"https://check.spamhaus.org/query/ip/203.0.113.5 key "+DQSKey+"\""),
			lookup(2230*ms, "5.113.0.203.b.barracudacentral.org.", "A", "NXDOMAIN"),
			lookup(2245*ms, "5.113.0.203.bl.spamcop.net.", "A", "NOERROR", "5.113.0.203.bl.spamcop.net.\t300\tIN\tA\t127.255.255.254"),
		},
		Blocklists: []result.Listing{
			{Zone: "zen.spamhaus.org", IP: "203.0.113.5", Query: dqsQuery, Status: result.Listed,
				Codes:  []string{"127.0.0.10"},
				Lists:  []string{"Spamhaus PBL (ISP-maintained: end-user range that should not send directly)"},
				Reason: "https://check.spamhaus.org/query/ip/203.0.113.5 key " + DQSKey,
				Delist: "https://www.spamhaus.org/lookup/"},
			{Zone: "b.barracudacentral.org", IP: "203.0.113.5", Query: "5.113.0.203.b.barracudacentral.org.", Status: result.NotListed,
				Delist: "https://www.barracudacentral.org/rbl/removal-request"},
			{Zone: "bl.spamcop.net", IP: "203.0.113.5", Query: "5.113.0.203.bl.spamcop.net.", Status: result.Inconclusive,
				Codes:       []string{"127.255.255.254"},
				Explanation: "127.255.255.254 is an error code of the zone, not a listing"},
		},
	}

	banned := "Access denied, banned sending IP [203.0.113.5]"
	mxLookups := []result.Lookup{
		lookup(2300*ms, "contoso.com.", "MX", "NOERROR", "contoso.com.\t3600\tIN\tMX\t0 contoso-com.mail.protection.outlook.com."),
		lookup(2312*ms, "contoso-com.mail.protection.outlook.com.", "A", "NOERROR", "contoso-com.mail.protection.outlook.com.\t10\tIN\tA\t198.51.100.25"),
	}
	proofLookups := []result.Lookup{
		lookup(3400*ms, "5.113.0.203.zen.spamhaus.org.", "A", "NOERROR", "5.113.0.203.zen.spamhaus.org.\t300\tIN\tA\t127.0.0.10"),
		lookup(3412*ms, "5.113.0.203.zen.spamhaus.org.", "TXT", "NOERROR", "5.113.0.203.zen.spamhaus.org.\t300\tIN\tTXT\t\"https://check.spamhaus.org/query/ip/203.0.113.5\""),
		lookup(3424*ms, "5.113.0.203.b.barracudacentral.org.", "A", "NXDOMAIN"),
		lookup(3436*ms, "5.113.0.203.bl.spamcop.net.", "A", "NXDOMAIN"),
	}
	direct := &result.Check{
		Index: 6, Label: "direct send from the copier", Kind: "smtp",
		Endpoint: "tenant", Target: "contoso-com.mail.protection.outlook.com:25", Resolver: Resolver,
		Status: result.Failed, Attempts: 1, Started: at(2300 * ms), Duration: 1150 * ms,
		Failures: []result.Failure{{Expectation: "rcpt", Message: `rcpt: expected "250", got 550 5.7.606 ` + banned}},
		Diagnosis: &result.Diagnosis{
			Category: result.Reputation,
			Summary:  "550 5.7.606 " + banned + " at RCPT",
			Meaning: "The sending IP is on Microsoft's block list. Blocklist lookup of 203.0.113.5: zen.spamhaus.org: listed in Spamhaus PBL " +
				"(ISP-maintained: end-user range that should not send directly) (127.0.0.10): https://check.spamhaus.org/query/ip/203.0.113.5; " +
				"b.barracudacentral.org: not listed; bl.spamcop.net: not listed.",
			Fix:    "Request delisting at https://sender.office.com/.",
			Source: "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/non-delivery-reports-in-exchange-online",
			IP:     "203.0.113.5",
		},
		Conversation: &result.Conversation{
			Host: "contoso-com.mail.protection.outlook.com", Port: 25, TLSMode: "starttls",
			RemoteAddr: "198.51.100.25:25", LocalAddr: "10.0.0.20:50200", ClientIP: "203.0.113.5",
			Started: at(2330 * ms), Duration: 1060 * ms,
			Steps: []result.StepRecord{
				{Step: result.StepConnect, Duration: 30 * ms},
				{Step: result.StepBanner, Reply: &esmtp.Reply{Code: 220, Lines: []string{"BN1PEPF0000.mail.protection.outlook.com Microsoft ESMTP MAIL Service ready"}}, Start: 30 * ms, Duration: 50 * ms},
				{Step: result.StepEHLO, Command: "EHLO scanner01.contoso.com", Reply: &esmtp.Reply{Code: 250, Lines: []string{"BN1PEPF0000.mail.protection.outlook.com Hello [203.0.113.5]", "SIZE 37748736", "STARTTLS"}}, Start: 80 * ms, Duration: 40 * ms},
				{Step: result.StepMail, Command: "MAIL FROM:<scanner@contoso.com>", Reply: &esmtp.Reply{Code: 250, Enhanced: "2.1.0", Lines: []string{"Sender OK"}}, Start: 120 * ms, Duration: 60 * ms},
				{Step: result.StepRcpt, Command: "RCPT TO:<helpdesk@contoso.com>", Reply: &esmtp.Reply{Code: 550, Enhanced: "5.7.606", Lines: []string{banned}}, Start: 180 * ms, Duration: 800 * ms},
				{Step: result.StepQuit, Command: "QUIT", Reply: &esmtp.Reply{Code: 221, Enhanced: "2.0.0", Lines: []string{"Service closing transmission channel"}}, Start: 980 * ms, Duration: 80 * ms},
			},
			EHLOBeforeTLS: esmtp.ParseEHLO([]string{"SIZE 37748736", "STARTTLS"}),
			Transcript: []result.TranscriptLine{
				{Offset: 0, Direction: result.Note, Text: "DNS MX contoso.com. @" + Resolver + "/udp: NOERROR, 1 record (12ms)"},
				{Offset: 0, Direction: result.Note, Text: "  contoso.com.\t3600\tIN\tMX\t0 contoso-com.mail.protection.outlook.com."},
				{Offset: 12 * ms, Direction: result.Note, Text: "DNS A contoso-com.mail.protection.outlook.com. @" + Resolver + "/udp: NOERROR, 1 record (12ms)"},
				{Offset: 12 * ms, Direction: result.Note, Text: "  contoso-com.mail.protection.outlook.com.\t10\tIN\tA\t198.51.100.25"},
				{Offset: 30 * ms, Direction: result.Note, Text: "connecting to contoso-com.mail.protection.outlook.com:25 (198.51.100.25)"},
				{Offset: 60 * ms, Direction: result.Server, Text: "220 BN1PEPF0000.mail.protection.outlook.com Microsoft ESMTP MAIL Service ready"},
				{Offset: 110 * ms, Direction: result.Client, Text: "EHLO scanner01.contoso.com"},
				{Offset: 150 * ms, Direction: result.Client, Text: "MAIL FROM:<scanner@contoso.com>"},
				{Offset: 210 * ms, Direction: result.Client, Text: "RCPT TO:<helpdesk@contoso.com>"},
				{Offset: 1010 * ms, Direction: result.Server, Text: "550 5.7.606 " + banned},
				{Offset: 1010 * ms, Direction: result.Client, Text: "QUIT"},
			},
		},
		Lookups: append(mxLookups, proofLookups...),
		Blocklists: []result.Listing{
			{Zone: "zen.spamhaus.org", IP: "203.0.113.5", Query: "5.113.0.203.zen.spamhaus.org.", Status: result.Listed,
				Codes:  []string{"127.0.0.10"},
				Lists:  []string{"Spamhaus PBL (ISP-maintained: end-user range that should not send directly)"},
				Reason: "https://check.spamhaus.org/query/ip/203.0.113.5",
				Delist: "https://www.spamhaus.org/lookup/"},
			{Zone: "b.barracudacentral.org", IP: "203.0.113.5", Query: "5.113.0.203.b.barracudacentral.org.", Status: result.NotListed,
				Delist: "https://www.barracudacentral.org/rbl/removal-request"},
			{Zone: "bl.spamcop.net", IP: "203.0.113.5", Query: "5.113.0.203.bl.spamcop.net.", Status: result.NotListed,
				Delist: "https://www.spamcop.net/bl.shtml (listings expire by themselves once the spam reports stop)"},
		},
	}

	return []*result.Suite{{
		Name: "contoso: DNS and blocklists", Description: "What receivers look up about contoso.com and the copier's IP",
		Path: "suites/contoso-dns.hcl", Started: start, Duration: 3450 * ms,
		Checks: []*result.Check{mx, spf, dmarc, fcrdns, servfail, blocklist, direct},
	}}
}

// LoopbackDNSResults returns one small suite, "contoso: dns", whose checks
// asked a resolver on 127.0.0.1:53: an MX lookup that passed, an SPF check
// that failed after a truncated answer, a dnsbl check with a listed and an
// inconclusive zone (its query name carries Secret, unmasked), and an smtp
// check whose 5.7.606 rejection got a blocklist proof. dns and dnsbl checks
// have no conversation. Every call returns fresh values.
func LoopbackDNSResults() []*result.Suite {
	at := func(ms int) time.Time { return Start.Add(time.Duration(ms) * time.Millisecond) }
	lookup := func(ms int, name, typ, rcode string, answers ...string) result.Lookup {
		return result.Lookup{Name: name, Type: typ, Server: "127.0.0.1:53", Transport: "udp", Rcode: rcode,
			Answers: answers, Started: at(ms), Duration: 2 * time.Millisecond}
	}
	pbl := result.Listing{Zone: "zen.spamhaus.org", IP: "192.0.2.99", Query: "99.2.0.192.zen.spamhaus.org.",
		Status: result.Listed, Codes: []string{"127.0.0.11"}, Lists: []string{"Spamhaus PBL (Spamhaus-maintained)"},
		Reason: "end-user range", Delist: "https://www.spamhaus.org/lookup/"}
	unsure := result.Listing{Zone: "bl.spamcop.net", IP: "192.0.2.99", Status: result.Inconclusive,
		Explanation: "A 99.2.0.192.bl.spamcop.net.: no answer from 127.0.0.1:53 within 5s"}
	return []*result.Suite{{
		Name: "contoso: dns", Path: "dns.hcl", Started: at(0), Duration: 40 * time.Millisecond,
		Checks: []*result.Check{
			{Index: 0, Label: "MX points at Exchange Online", Kind: "dns", Target: "MX contoso.com", Resolver: "127.0.0.1:53",
				Status: result.Passed, Attempts: 1, Started: at(0), Duration: 2 * time.Millisecond,
				Lookups: []result.Lookup{lookup(0, "contoso.com.", "MX", "NOERROR", "contoso.com.\t300\tIN\tMX\t0 contoso-com.mail.protection.outlook.com.")},
				DNS:     &result.DNSOutcome{Name: "contoso.com", Type: "MX", Rcode: "NOERROR", Records: []string{"0 contoso-com.mail.protection.outlook.com."}}},
			{Index: 1, Label: "SPF allows the copier", Kind: "dns", Target: "TXT contoso.com", Resolver: "127.0.0.1:53",
				Status: result.Failed, Attempts: 1, Started: at(2), Duration: 5 * time.Millisecond,
				Failures: []result.Failure{{Expectation: "spf_allows",
					Message: "spf_allows: the SPF record of contoso.com does not allow 203.0.113.5: softfail (matched ~all)"}},
				Diagnosis: &result.Diagnosis{Category: result.Policy, Summary: "spf_allows: ...",
					Meaning: "Receivers that check SPF do not see the sending IP as allowed.", Fix: "Add ip4:<IP>."},
				Lookups: []result.Lookup{lookup(2, "contoso.com.", "TXT", "NOERROR", `contoso.com.	300	IN	TXT	"v=spf1 include:spf.protection.outlook.com ~all"`),
					{Name: "contoso.com.", Type: "TXT", Server: "127.0.0.1:53", Transport: "udp", Truncated: true, Rcode: "NOERROR", Started: at(4)}}},
			{Index: 2, Label: "egress IP is on no blocklist", Kind: "dnsbl", Target: "192.0.2.99", Resolver: "127.0.0.1:53",
				Status: result.Failed, Attempts: 1, Started: at(7), Duration: 5 * time.Second,
				Failures: []result.Failure{{Expectation: "listed", Message: "listed: expected 192.0.2.99 on no blocklist, but " + pbl.String()}},
				Diagnosis: &result.Diagnosis{Category: result.Reputation, Summary: "listed", Meaning: "Listed: " + pbl.String() + ".",
					Fix: "Ask for removal.", IP: "192.0.2.99"},
				Blocklists: []result.Listing{pbl, unsure},
				Lookups: []result.Lookup{lookup(7, "99.2.0.192."+Secret+".zen.dq.spamhaus.net.", "A", "NOERROR", "99.2.0.192.zen.dq.spamhaus.net.\t300\tIN\tA\t127.0.0.11"),
					{Name: "99.2.0.192.bl.spamcop.net.", Type: "A", Server: "127.0.0.1:53", Transport: "udp",
						Error: "no answer from 127.0.0.1:53 within 5s", Started: at(9), Duration: 5 * time.Second}}},
			{Index: 3, Label: "scanner reaches the MX", Kind: "smtp", Endpoint: "mx", Target: "mx.contoso.com:25",
				Resolver: "127.0.0.1:53", Status: result.Failed, Attempts: 1, Started: at(10), Duration: 20 * time.Millisecond,
				Failures: []result.Failure{{Expectation: "rcpt", Message: `rcpt: expected "250", got 550 5.7.606 Access denied, banned sending IP [192.0.2.99]`}},
				Diagnosis: &result.Diagnosis{Category: result.Reputation, Summary: "550 5.7.606 at RCPT",
					Meaning: "The sending IP is on Microsoft's block list. Blocklist lookup of 192.0.2.99: " + pbl.String() + ".",
					Fix:     "Request delisting.", IP: "192.0.2.99"},
				Blocklists: []result.Listing{pbl},
				Conversation: &result.Conversation{Host: "mx.contoso.com", Port: 25, RemoteAddr: "127.0.0.1:25", ClientIP: "192.0.2.99",
					Transcript: []result.TranscriptLine{
						{Offset: 0, Direction: result.Note, Text: "DNS MX contoso.com. @127.0.0.1:53/udp: NOERROR, 1 record (1ms)"},
						{Offset: 3 * time.Millisecond, Direction: result.Server, Text: "550 5.7.606 Access denied, banned sending IP [192.0.2.99]"},
					}}},
		},
	}}
}
