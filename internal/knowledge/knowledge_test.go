package knowledge

import (
	"strings"
	"testing"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// referenceReplies has one row per code in reference/m365-facts.md section
// 3, with the reply text as Exchange Online sends it, and the entry and
// category it must resolve to.
var referenceReplies = []struct {
	reply    string
	code     string // the matching entry's Code()
	category result.Category
	ip       string // the bracketed IP the reply names
}{
	{"530 5.7.57 Client not authenticated to send mail. [SN1PR80CA0001.outlook.office365.com]", "530 5.7.57", result.Auth, ""},
	{"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.", "535 5.7.139", result.Auth, ""},
	{"535 5.7.3 Authentication unsuccessful [SN1PR80CA0001.outlook.office365.com]", "535 5.7.3", result.Auth, ""},
	{"550 5.7.30 Basic authentication is not supported for Client Submission.", "550 5.7.30", result.Auth, ""},
	{"451 5.7.3 STARTTLS is required to send mail [SN1PR80CA0001.outlook.office365.com]", "451 5.7.3", result.TLS, ""},
	{"421 4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support TLS 1.2. Visit https://aka.ms/smtp_auth_tls", "421 4.7.66", result.TLS, ""},
	{"550 5.7.60 SMTP; Client does not have permissions to send as this sender", "550 5.7.60", result.Policy, ""},
	{"554 5.2.252 SendAsDenied; scanner@contoso.com not allowed to send as ceo@contoso.com", "554 5.2.252", result.Policy, ""},
	{"550 5.7.64 TenantAttribution; Relay Access Denied [SN1NAM02FT0049.mail.protection.outlook.com]", "550 5.7.64", result.Configuration, ""},
	{"550 5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources", "550 5.7.68", result.Policy, ""},
	{"550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [SN1NAM02FT0049.eop-nam02.prod.protection.outlook.com]", "550 5.4.1", result.Recipient, ""},
	{"550 5.7.1 Service unavailable, Client host [203.0.113.5] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/203.0.113.5 AS(1450)", "550 5.7.1", result.Reputation, "203.0.113.5"},
	{"550 5.7.1 Unable to relay", "550 5.7.1", result.Configuration, ""},
	{"550 5.7.1 Delivery not authorized, message refused", "550 5.7.1", result.Configuration, ""},
	{"550 5.7.606 Access denied, banned sending IP [203.0.113.5]. To request removal from this list please visit https://sender.office.com/ and follow the directions.", "550 5.7.606-649", result.Reputation, "203.0.113.5"},
	{"550 5.7.649 Access denied, banned sending IP [2001:db8::5]", "550 5.7.606-649", result.Reputation, "2001:db8::5"},
	{"550 5.7.511 Access denied, banned sender[203.0.113.5]. To request removal from this list, forward this message to delist@messaging.microsoft.com.", "550 5.7.511", result.Reputation, "203.0.113.5"},
	{"550 5.7.501 Access denied, spam abuse detected", "5.7.501-503", result.Reputation, ""},
	{"550 5.7.502 Access denied, banned sender", "5.7.501-503", result.Reputation, ""},
	{"550 5.7.503 Access denied, banned sender", "5.7.501-503", result.Reputation, ""},
	{"550 5.7.705 Access denied, tenant has exceeded threshold", "5.7.705", result.Reputation, ""},
	{"550 5.7.708 Access denied, traffic not accepted from this IP", "5.7.708", result.Reputation, ""},
	{"550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains", "5.7.750", result.Configuration, ""},
	{"451 4.7.500 Server busy. Please try again later from [203.0.113.5]. (S77719) [SN1NAM02FT0049.mail.protection.outlook.com]", "451 4.7.500-699", result.Throttling, "203.0.113.5"},
	{"451 4.7.699 Access denied, please try again later", "451 4.7.500-699", result.Throttling, ""},
	{"451 4.7.650 The mail server [203.0.113.5] has been temporarily rate limited due to IP reputation", "451 4.7.650", result.Throttling, "203.0.113.5"},
	{"550 5.7.23 The message was rejected because of Sender Policy Framework violation", "550 5.7.23", result.DNS, ""},
	{"550 5.7.509 Access denied, sending domain [contoso.com] does not pass DMARC verification and has a DMARC policy of reject", "5.7.509", result.DNS, ""},
	{"550 5.1.8 Access denied, bad outbound sender", "5.1.8", result.Policy, ""},
	{"452 4.5.3 Too many recipients", "4.5.3", result.Throttling, ""},
	{"554 5.2.2 Submission quota exceeded", "5.2.2", result.Throttling, ""},
	{"550 5.2.251 Continuous error throttling", "550 5.2.251-255", result.Throttling, ""},
	{"550 5.2.255 Continuous error throttling", "550 5.2.251-255", result.Throttling, ""},
	{"451 4.4.62 Mail sent to the wrong Office 365 region. ATTR35", "4.4.62", result.Configuration, ""},
}

func TestReferenceReplies(t *testing.T) {
	hit := map[string]bool{}
	for _, tc := range referenceReplies {
		t.Run(tc.reply[:min(len(tc.reply), 40)], func(t *testing.T) {
			basic, enhanced := ParseCodes(tc.reply)
			e, ok := Lookup(basic, enhanced, tc.reply)
			if !ok {
				t.Fatalf("no entry for %q (parsed %d %q)", tc.reply, basic, enhanced)
			}
			if e.Code() != tc.code || e.Category != tc.category {
				t.Fatalf("%q: got entry %s (%s), want %s (%s)", tc.reply, e.Code(), e.Category, tc.code, tc.category)
			}
			if got := esmtp.BracketedIP(tc.reply); got != tc.ip {
				t.Errorf("BracketedIP = %q, want %q", got, tc.ip)
			}
			hit[e.Code()+"|"+e.Text] = true
		})
	}
	// Every entry is reached by some reference reply, so the table and the
	// reference stay in step.
	for _, e := range Entries {
		if !hit[e.Code()+"|"+e.Text] {
			t.Errorf("entry %s (text %q) is reached by no reference reply", e.Code(), e.Text)
		}
	}
}

func TestEntriesAreComplete(t *testing.T) {
	valid := map[result.Category]bool{result.Network: true, result.DNS: true, result.TLS: true, result.Auth: true, result.Policy: true,
		result.Reputation: true, result.Recipient: true, result.Throttling: true, result.Configuration: true}
	seen := map[string]bool{}
	for _, e := range Entries {
		key := e.Code() + "|" + strings.ToLower(e.Text)
		if seen[key] {
			t.Errorf("duplicate entry %s", key)
		}
		seen[key] = true
		if !valid[e.Category] {
			t.Errorf("%s: category %q", e.Code(), e.Category)
		}
		if e.Meaning == "" || e.Fix == "" {
			t.Errorf("%s: meaning or fix missing", e.Code())
		}
		if !strings.HasPrefix(e.Source, "https://") {
			t.Errorf("%s: source %q is not a URL", e.Code(), e.Source)
		}
		if !isEnhanced(strings.Split(e.Enhanced, "-")[0]) {
			t.Errorf("%s: enhanced code %q does not parse", e.Code(), e.Enhanced)
		}
		if e.Note != "" && !strings.HasPrefix(e.Note, "UNVERIFIED") {
			t.Errorf("%s: note %q must start with UNVERIFIED", e.Code(), e.Note)
		}
	}
}

func TestLookupRangesAndText(t *testing.T) {
	tests := []struct {
		basic    int
		enhanced string
		text     string
		want     string // Code() and Text of the entry, "" for none
	}{
		{550, "5.7.605", "", ""},                                       // just below the range
		{550, "5.7.650", "", ""},                                       // just above it
		{550, "5.7.1", "Something else entirely", ""},                  // 5.7.1 needs a telling text
		{550, "5.7.1", "blocked using SPAMHAUS", "550 5.7.1|Spamhaus"}, // case-insensitive
		{550, "5.7.1", "Delivery not authorized", "550 5.7.1|relay|not authorized"},
		{550, "5.7.1", "Unable to relay", "550 5.7.1|relay|not authorized"},
		{0, "5.7.139", "", "535 5.7.139|"}, // no basic code: any matches
		{535, "5.7.57", "", ""},            // basic code must agree
		{451, "5.7.3", "STARTTLS is required", "451 5.7.3|STARTTLS"},
		{535, "5.7.3", "Authentication unsuccessful", "535 5.7.3|"},
		{451, "4.7.650", "", "451 4.7.650|"}, // the single code before its range
		{451, "4.7.651", "", "451 4.7.500-699|"},
		{550, "5.7.6o6", "", ""},
		{550, "", "banned sending IP", ""},
	}
	for _, tc := range tests {
		e, ok := Lookup(tc.basic, tc.enhanced, tc.text)
		got := ""
		if ok {
			got = e.Code() + "|" + e.Text
		}
		if got != tc.want {
			t.Errorf("Lookup(%d, %q, %q) = %q, want %q", tc.basic, tc.enhanced, tc.text, got, tc.want)
		}
	}
}

func TestGenericFallback(t *testing.T) {
	tests := []struct {
		enhanced string
		want     string
		cat      result.Category
		source   string
	}{
		{"5.1.1", "permanent failure: bad destination mailbox address", result.Recipient, rfc3463Source},
		{"4.4.7", "temporary failure: delivery time expired", result.Network, rfc3463Source},
		{"5.7.8", "permanent failure: authentication credentials invalid (RFC 4954)", result.Auth, rfc4954Source},
		{"4.7.12", "temporary failure: a password transition is needed (RFC 4954)", result.Auth, rfc4954Source},
		{"5.7.25", "permanent failure: reverse DNS validation failed (RFC 7372)", result.DNS, rfc7372Source},
		{"5.7.999", "permanent failure: security or policy status", result.Policy, rfc3463Source}, // subject only
		{"2.0.0", "success: other undefined status", result.Configuration, rfc3463Source},
		{"4.3.2", "temporary failure: system not accepting network messages", result.Configuration, rfc3463Source},
	}
	for _, tc := range tests {
		got, cat, ok := Generic(tc.enhanced)
		if !ok || got != tc.want || cat != tc.cat {
			t.Errorf("Generic(%q) = %q, %q, %v; want %q, %q", tc.enhanced, got, cat, ok, tc.want, tc.cat)
		}
		if s := GenericSource(tc.enhanced); s != tc.source {
			t.Errorf("GenericSource(%q) = %q, want %q", tc.enhanced, s, tc.source)
		}
	}
	for _, bad := range []string{"", "5.7", "6.1.1", "3.0.0", "5.9.1", "5.x.1", "5.7.1000"} {
		if m, _, ok := Generic(bad); ok {
			t.Errorf("Generic(%q) = %q, want no meaning", bad, m)
		}
	}
}

func TestBasicMeaning(t *testing.T) {
	tests := []struct {
		code   int
		substr string
		cat    result.Category
		ok     bool
	}{
		{530, "authentication required", result.Auth, true},
		{535, "credentials invalid", result.Auth, true},
		{421, "service not available", result.Network, true},
		{554, "transaction failed", result.Policy, true},
		{599, "permanent negative completion", result.Configuration, true},
		{499, "transient negative completion", result.Configuration, true},
		{199, "", "", false},
		{600, "", "", false},
	}
	for _, tc := range tests {
		text, cat, source, ok := BasicMeaning(tc.code)
		if ok != tc.ok || !strings.Contains(text, tc.substr) || cat != tc.cat {
			t.Errorf("BasicMeaning(%d) = %q, %q, %v", tc.code, text, cat, ok)
		}
		if ok && !strings.HasPrefix(source, "https://www.rfc-editor.org/") {
			t.Errorf("BasicMeaning(%d) source %q", tc.code, source)
		}
	}
}
