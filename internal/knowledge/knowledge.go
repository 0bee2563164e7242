// Package knowledge explains SMTP replies and conversation faults the way an
// Exchange Online engineer would: a typed table of Microsoft 365 reply codes
// (each with its source), the RFC 3463 generic meanings as fallback, and the
// diagnosis of a failed conversation from the step where it stopped.
package knowledge

import (
	"regexp"
	"strconv"
	"strings"
)

// Category groups diagnoses by what has to change.
type Category string

// The categories of SPEC section 4.
const (
	Network       Category = "network"
	DNS           Category = "dns"
	TLS           Category = "tls"
	Auth          Category = "auth"
	Policy        Category = "policy"
	Reputation    Category = "reputation"
	Recipient     Category = "recipient"
	Throttling    Category = "throttling"
	Configuration Category = "configuration"
)

// Entry is one known reply.
type Entry struct {
	// Basic is the basic reply code, 0 when any.
	Basic int
	// Enhanced is the enhanced status code, or a range "5.7.606-649".
	Enhanced string
	// Text, when set, must appear in the reply text (case-insensitive); it
	// tells apart entries that share a code.
	Text     string
	Category Category
	Meaning  string
	Fix      string
	// Setting names the Microsoft setting involved, if any.
	Setting string
	Source  string
}

const ndrSource = "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/non-delivery-reports-in-exchange-online"

// Entries is the Exchange Online knowledge base, most specific first.
var Entries = []Entry{
	{Basic: 530, Enhanced: "5.7.57", Category: Auth,
		Meaning: "The client tried to send without authenticating; smtp.office365.com requires SMTP AUTH after STARTTLS.",
		Fix:     "Enter the mailbox credentials on the device and make sure it does STARTTLS before AUTH.",
		Source:  ndrSource},
	{Basic: 535, Enhanced: "5.7.139", Category: Auth,
		Meaning: "SMTP AUTH is disabled for the tenant or the mailbox, Basic authentication is off, or security defaults block it.",
		Fix:     "Enable SMTP AUTH for this mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false), or move the device to OAuth (XOAUTH2) or a relay connector.",
		Setting: "Set-TransportConfig -SmtpClientAuthenticationDisabled / Set-CASMailbox -SmtpClientAuthenticationDisabled",
		Source:  "https://aka.ms/smtp_auth_disabled"},
	{Basic: 535, Enhanced: "5.7.3", Category: Auth,
		Meaning: "Authentication failed: wrong credentials, MFA required, Conditional Access or security defaults.",
		Fix:     "Check the user name and password; exclude the account from MFA/Conditional Access policies that block legacy SMTP AUTH, or use OAuth.",
		Source:  ndrSource},
	{Basic: 550, Enhanced: "5.7.30", Category: Auth,
		Meaning: "Basic authentication is not supported for client submission (retired or disabled for the tenant).",
		Fix:     "Use OAuth (XOAUTH2), a relay connector, or another sending method. Microsoft disables Basic auth for SMTP AUTH by default at the end of December 2026.",
		Source:  "https://techcommunity.microsoft.com/blog/exchange/updated-exchange-online-smtp-auth-basic-authentication-deprecation-timeline/4489835"},
	{Basic: 451, Enhanced: "5.7.3", Text: "STARTTLS", Category: TLS,
		Meaning: "The client tried to submit in plaintext; STARTTLS is required.",
		Fix:     "Enable STARTTLS (often called TLS, not SSL) on the device for port 587.",
		Source:  ndrSource},
	{Basic: 421, Enhanced: "4.7.66", Category: TLS,
		Meaning: "The client negotiated TLS 1.0 or 1.1, which Exchange Online no longer accepts.",
		Fix:     "Update the device firmware to support TLS 1.2, use smtp-legacy.office365.com where the tenant still allows it, or relay through a local server.",
		Setting: "Set-TransportConfig -AllowLegacyTLSClients $true (for smtp-legacy.office365.com)",
		Source:  "https://aka.ms/smtp_auth_tls"},
	{Basic: 550, Enhanced: "5.7.60", Category: Policy,
		Meaning: "The sender address differs from the authenticated mailbox, which has no permission to send as it.",
		Fix:     "Send as the authenticated mailbox, grant Send As permission, or use a relay connector.",
		Source:  ndrSource},
	{Basic: 554, Enhanced: "5.2.252", Category: Policy,
		Meaning: "SendAsDenied: the authenticated mailbox may not send as the given sender.",
		Fix:     "Send as the authenticated mailbox, grant Send As permission, or use a relay connector.",
		Source:  ndrSource},
	{Basic: 550, Enhanced: "5.7.64", Category: Configuration,
		Meaning: "TenantAttribution; Relay Access Denied: the inbound connector did not match the sending IP or certificate.",
		Fix:     "Update the inbound connector with the current public IP or certificate, or send to internal recipients only (Direct Send).",
		Setting: "Exchange admin center > Mail flow > Connectors (from your organization's email server)",
		Source:  ndrSource},
	{Basic: 550, Enhanced: "5.7.68", Category: Policy,
		Meaning: "Direct Send is rejected for this organization (RejectDirectSend is on).",
		Fix:     "Create a partner inbound connector for the sender, or use SMTP AUTH submission.",
		Setting: "Set-OrganizationConfig -RejectDirectSend",
		Source:  ndrSource},
	{Basic: 550, Enhanced: "5.4.1", Category: Recipient,
		Meaning: "Recipient address rejected by directory-based edge blocking: the recipient does not exist in the tenant, or relay was denied.",
		Fix:     "Check the recipient address and that the domain's MX points at this tenant.",
		Source:  ndrSource},
	{Basic: 550, Enhanced: "5.7.1", Text: "Spamhaus", Category: Reputation,
		Meaning: "The sending IP is listed by Spamhaus.",
		Fix:     "Look the IP up at Spamhaus, fix the cause and request delisting; for dynamic end-user IPs send through SMTP AUTH submission instead of port 25.",
		Source:  "https://www.spamhaus.org/lookup/"},
	{Basic: 550, Enhanced: "5.7.1", Text: "relay", Category: Configuration,
		Meaning: "Relay denied: the server does not relay for this client to that recipient.",
		Fix:     "Use SMTP AUTH submission or configure a relay connector for the sending IP.",
		Source:  ndrSource},
	{Basic: 550, Enhanced: "5.7.606-649", Category: Reputation,
		Meaning: "The sending IP is on Microsoft's block list.",
		Fix:     "Request delisting at https://sender.office.com/ (one address and IP per visit; takes up to 24 hours) and find out why the IP was listed.",
		Source:  ndrSource},
	{Enhanced: "5.7.511", Category: Reputation,
		Meaning: "The sender is banned and the delisting portal cannot help.",
		Fix:     "Forward the NDR to delist@messaging.microsoft.com.",
		Source:  ndrSource},
	{Enhanced: "5.7.501-503", Category: Reputation,
		Meaning: "Spam abuse was detected from this account or sender.",
		Fix:     "Secure the account and contact Microsoft support.",
		Source:  ndrSource},
	{Enhanced: "5.7.705", Category: Reputation,
		Meaning: "The tenant exceeded its threshold and is blocked for spam.",
		Fix:     "Contact Microsoft support.",
		Source:  ndrSource},
	{Enhanced: "5.7.708", Category: Reputation,
		Meaning: "Traffic is not accepted from this IP (low reputation, common on new or trial tenants).",
		Fix:     "Contact Microsoft support or send through a connector.",
		Source:  ndrSource},
	{Enhanced: "5.7.750", Category: Configuration,
		Meaning: "The client is blocked from sending from unregistered domains: the sending domain is not an accepted domain.",
		Fix:     "Add and verify the domain as an accepted domain in the tenant.",
		Source:  ndrSource},
	{Basic: 451, Enhanced: "4.7.650", Category: Throttling,
		Meaning: "The sending IP is temporarily rate limited because of its reputation.",
		Fix:     "Improve the IP's reputation; retry later.",
		Source:  ndrSource},
	{Enhanced: "4.7.500-699", Category: Throttling,
		Meaning: "Exchange Online is throttling or greylisting this sender.",
		Fix:     "Retry later; a sender that is throttled repeatedly needs a connector or a better IP reputation.",
		Source:  ndrSource},
	{Enhanced: "5.7.23", Category: Policy,
		Meaning: "The message failed SPF.",
		Fix:     "Add the sending IP to the domain's SPF record (v=spf1 ip4:<IP> include:spf.protection.outlook.com ~all).",
		Source:  ndrSource},
	{Enhanced: "5.7.509", Category: Policy,
		Meaning: "The sending domain does not pass DMARC.",
		Fix:     "Align SPF or DKIM with the From domain.",
		Source:  ndrSource},
	{Enhanced: "5.1.8", Category: Policy,
		Meaning: "Bad outbound sender: the account is in Restricted Users.",
		Fix:     "Remove the account from Restricted Users after securing it.",
		Source:  ndrSource},
	{Enhanced: "4.5.3", Category: Throttling,
		Meaning: "Too many recipients (more than 200 envelope recipients per domain).",
		Fix:     "Split the message into batches.",
		Source:  ndrSource},
	{Enhanced: "5.2.2", Category: Throttling,
		Meaning: "Submission quota exceeded.",
		Fix:     "Wait for the quota to recover, or use a high-volume sending option.",
		Source:  ndrSource},
	{Enhanced: "5.2.251-255", Category: Throttling,
		Meaning: "Continuous error throttling after repeated submission errors.",
		Fix:     "Fix the underlying error the device keeps making.",
		Source:  ndrSource},
	{Enhanced: "4.4.62", Category: Configuration,
		Meaning: "Mail was sent to the wrong Office 365 region.",
		Fix:     "Fix the connector or region settings.",
		Source:  ndrSource},
}

// Lookup finds the most specific entry for a reply: the first entry whose
// basic code (if set), enhanced code or range, and text (if set) match.
func Lookup(basic int, enhanced, text string) (Entry, bool) {
	lower := strings.ToLower(text)
	for _, e := range Entries {
		if e.Basic != 0 && basic != 0 && e.Basic != basic {
			continue
		}
		if !enhancedMatches(e.Enhanced, enhanced) {
			continue
		}
		if e.Text != "" && !strings.Contains(lower, strings.ToLower(e.Text)) {
			continue
		}
		return e, true
	}
	return Entry{}, false
}

func enhancedMatches(want, got string) bool {
	if want == "" || got == "" {
		return false
	}
	wc, ws, wd, ok := splitEnhanced(want)
	if !ok {
		return false
	}
	gc, gs, gd, ok := splitEnhanced(got)
	if !ok || wc != gc || ws != gs {
		return false
	}
	lo, hi, found := strings.Cut(wd, "-")
	if !found {
		return wd == gd
	}
	n, err1 := strconv.Atoi(gd)
	l, err2 := strconv.Atoi(lo)
	h, err3 := strconv.Atoi(hi)
	return err1 == nil && err2 == nil && err3 == nil && n >= l && n <= h
}

func splitEnhanced(s string) (class, subject, detail string, ok bool) {
	parts := strings.SplitN(s, ".", 3)
	if len(parts) != 3 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// Generic returns the RFC 3463 meaning of an enhanced code's class and
// subject ("5.7.x: security or policy status"), for codes with no entry.
func Generic(enhanced string) (string, Category, bool) {
	class, subject, detail, ok := splitEnhanced(enhanced)
	if !ok {
		return "", "", false
	}
	if m, ok := rfc3463Detail[subject+"."+detail]; ok {
		return classWord[class] + ": " + m.text, m.cat, true
	}
	if m, ok := rfc3463Subject[subject]; ok {
		return classWord[class] + ": " + m.text, m.cat, true
	}
	return "", "", false
}

type meaning struct {
	text string
	cat  Category
}

var classWord = map[string]string{"2": "success", "4": "temporary failure", "5": "permanent failure"}

// RFC 3463 section 3: subjects.
var rfc3463Subject = map[string]meaning{
	"0": {"other or undefined status", Configuration},
	"1": {"addressing status (a problem with an address)", Recipient},
	"2": {"mailbox status", Recipient},
	"3": {"mail system status", Configuration},
	"4": {"network and routing status", Network},
	"5": {"mail delivery protocol status", Configuration},
	"6": {"message content or media status", Policy},
	"7": {"security or policy status", Policy},
}

// RFC 3463 section 3, selected details (and RFC 4954 for 5.7.8/5.7.0 AUTH).
var rfc3463Detail = map[string]meaning{
	"1.1":  {"bad destination mailbox address", Recipient},
	"1.2":  {"bad destination system address", Recipient},
	"1.3":  {"bad destination mailbox address syntax", Recipient},
	"1.7":  {"bad sender's mailbox address syntax", Configuration},
	"1.8":  {"bad sender's system address", Configuration},
	"2.1":  {"mailbox disabled, not accepting messages", Recipient},
	"2.2":  {"mailbox full", Recipient},
	"2.3":  {"message length exceeds administrative limit", Policy},
	"3.4":  {"message too big for system", Policy},
	"4.1":  {"no answer from host", Network},
	"4.2":  {"bad connection", Network},
	"4.7":  {"delivery time expired", Network},
	"5.1":  {"invalid command", Configuration},
	"5.2":  {"syntax error", Configuration},
	"5.3":  {"too many recipients", Throttling},
	"7.0":  {"other or undefined security status", Policy},
	"7.1":  {"delivery not authorized, message refused", Policy},
	"7.8":  {"authentication credentials invalid (RFC 4954)", Auth},
	"7.9":  {"authentication mechanism is too weak (RFC 4954)", Auth},
	"7.11": {"encryption required for requested authentication mechanism (RFC 4954)", TLS},
}

var bracketIP = regexp.MustCompile(`\[((?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)\]`)

// BracketedIP returns the first IP address written in square brackets in a
// reply text ("banned sending IP [203.0.113.5]"), or "".
func BracketedIP(text string) string {
	m := bracketIP.FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	return m[1]
}
