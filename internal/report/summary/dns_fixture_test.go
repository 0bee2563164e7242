package summary

import (
	"time"

	"github.com/smtpdiag/smtpdiag/assertions"
	"github.com/smtpdiag/smtpdiag/internal/conversation"
	"github.com/smtpdiag/smtpdiag/internal/dns"
	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/report/reporttest"
	"github.com/smtpdiag/smtpdiag/runner"
)

// dnsResults is a suite of dns and dnsbl checks, which have no
// conversation, and an smtp check whose rejection got a blocklist proof.
func dnsResults() []*runner.SuiteResult {
	at := func(ms int) time.Time { return reporttest.Start.Add(time.Duration(ms) * time.Millisecond) }
	lookup := func(ms int, name, typ, rcode string, answers ...string) dns.Lookup {
		return dns.Lookup{Name: name, Type: typ, Server: "127.0.0.1:53", Transport: "udp", Rcode: rcode,
			Answers: answers, Started: at(ms), Duration: 2 * time.Millisecond}
	}
	pbl := dns.ListingResult{Zone: "zen.spamhaus.org", IP: "192.0.2.99", Query: "99.2.0.192.zen.spamhaus.org.",
		Status: dns.Listed, Codes: []string{"127.0.0.11"}, Lists: []string{"Spamhaus PBL (Spamhaus-maintained)"},
		Reason: "end-user range", Delist: "https://www.spamhaus.org/lookup/"}
	unsure := dns.ListingResult{Zone: "bl.spamcop.net", IP: "192.0.2.99", Status: dns.Inconclusive,
		Explanation: "A 99.2.0.192.bl.spamcop.net.: no answer from 127.0.0.1:53 within 5s"}
	return []*runner.SuiteResult{{
		Name: "contoso: dns", Path: "dns.hcl", Started: at(0), Duration: 40 * time.Millisecond,
		Checks: []*runner.CheckResult{
			{Index: 0, Label: "MX points at Exchange Online", Kind: "dns", Target: "MX contoso.com", Resolver: "127.0.0.1:53",
				Status: runner.Passed, Attempts: 1, Started: at(0), Duration: 2 * time.Millisecond,
				Lookups: []dns.Lookup{lookup(0, "contoso.com.", "MX", "NOERROR", "contoso.com.\t300\tIN\tMX\t0 contoso-com.mail.protection.outlook.com.")},
				DNS:     &assertions.DNSOutcome{Name: "contoso.com", Type: "MX", Rcode: "NOERROR", Records: []string{"0 contoso-com.mail.protection.outlook.com."}}},
			{Index: 1, Label: "SPF allows the copier", Kind: "dns", Target: "TXT contoso.com", Resolver: "127.0.0.1:53",
				Status: runner.Failed, Attempts: 1, Started: at(2), Duration: 5 * time.Millisecond,
				Failures: []assertions.Failure{{Expectation: "spf_allows",
					Message: "spf_allows: the SPF record of contoso.com does not allow 203.0.113.5: softfail (matched ~all)"}},
				Diagnosis: &knowledge.Diagnosis{Category: knowledge.Policy, Summary: "spf_allows: ...",
					Meaning: "Receivers that check SPF do not see the sending IP as allowed.", Fix: "Add ip4:<IP>."},
				Lookups: []dns.Lookup{lookup(2, "contoso.com.", "TXT", "NOERROR", `contoso.com.	300	IN	TXT	"v=spf1 include:spf.protection.outlook.com ~all"`),
					{Name: "contoso.com.", Type: "TXT", Server: "127.0.0.1:53", Transport: "udp", Truncated: true, Rcode: "NOERROR", Started: at(4)}}},
			{Index: 2, Label: "egress IP is on no blocklist", Kind: "dnsbl", Target: "192.0.2.99", Resolver: "127.0.0.1:53",
				Status: runner.Failed, Attempts: 1, Started: at(7), Duration: 5 * time.Second,
				Failures: []assertions.Failure{{Expectation: "listed", Message: "listed: expected 192.0.2.99 on no blocklist, but " + pbl.String()}},
				Diagnosis: &knowledge.Diagnosis{Category: knowledge.Reputation, Summary: "listed", Meaning: "Listed: " + pbl.String() + ".",
					Fix: "Ask for removal.", IP: "192.0.2.99"},
				Blocklists: []dns.ListingResult{pbl, unsure},
				Lookups: []dns.Lookup{lookup(7, "99.2.0.192."+reporttest.Secret+".zen.dq.spamhaus.net.", "A", "NOERROR", "99.2.0.192.zen.dq.spamhaus.net.\t300\tIN\tA\t127.0.0.11"),
					{Name: "99.2.0.192.bl.spamcop.net.", Type: "A", Server: "127.0.0.1:53", Transport: "udp",
						Error: "no answer from 127.0.0.1:53 within 5s", Started: at(9), Duration: 5 * time.Second}}},
			{Index: 3, Label: "scanner reaches the MX", Kind: "smtp", Endpoint: "mx", Target: "mx.contoso.com:25",
				Resolver: "127.0.0.1:53", Status: runner.Failed, Attempts: 1, Started: at(10), Duration: 20 * time.Millisecond,
				Failures: []assertions.Failure{{Expectation: "rcpt", Message: `rcpt: expected "250", got 550 5.7.606 Access denied, banned sending IP [192.0.2.99]`}},
				Diagnosis: &knowledge.Diagnosis{Category: knowledge.Reputation, Summary: "550 5.7.606 at RCPT",
					Meaning: "The sending IP is on Microsoft's block list. Blocklist lookup of 192.0.2.99: " + pbl.String() + ".",
					Fix:     "Request delisting.", IP: "192.0.2.99"},
				Blocklists: []dns.ListingResult{pbl},
				Conversation: &conversation.Conversation{Host: "mx.contoso.com", Port: 25, RemoteAddr: "127.0.0.1:25", ClientIP: "192.0.2.99",
					Transcript: []conversation.TranscriptLine{
						{Offset: 0, Direction: conversation.Note, Text: "DNS MX contoso.com. @127.0.0.1:53/udp: NOERROR, 1 record (1ms)"},
						{Offset: 3 * time.Millisecond, Direction: conversation.Server, Text: "550 5.7.606 Access denied, banned sending IP [192.0.2.99]"},
					}}},
		},
	}}
}
