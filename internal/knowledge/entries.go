package knowledge

import "github.com/smtpdiag/smtpdiag/internal/result"

// Sources of the entries. Each is the page the fact was taken from
// (collected in reference/m365-facts.md).
const (
	// ndrSource lists the Exchange Online NDR codes and their fixes.
	ndrSource = "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/non-delivery-reports-in-exchange-online"
	// deviceSource compares SMTP AUTH submission, Direct Send and relay.
	deviceSource = "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365"
	// basicAuthSource is the Basic auth for SMTP AUTH timeline of 2026-01-27.
	basicAuthSource = "https://techcommunity.microsoft.com/blog/exchange/updated-exchange-online-smtp-auth-basic-authentication-deprecation-timeline/4489835"
	// rejectDirectSendSource announced Set-OrganizationConfig -RejectDirectSend.
	rejectDirectSendSource = "https://techcommunity.microsoft.com/blog/exchange/introducing-more-control-over-direct-send-in-exchange-online/4408790"
	// smtpAuthDisabledSource is the link Exchange Online puts in 5.7.139.
	smtpAuthDisabledSource = "https://aka.ms/smtp_auth_disabled"
	// legacyTLSSource is the link Exchange Online puts in 4.7.66.
	legacyTLSSource = "https://aka.ms/smtp_auth_tls"
	// delistSource is Microsoft's delisting portal for 5.7.606-649.
	delistSource = "https://sender.office.com/"
	// spamhausSource is where a listed IP is looked up and delisted.
	spamhausSource = "https://check.spamhaus.org/"
)

// Shared wording of entries that have the same cause.
const (
	sendAsFix     = "Send as the authenticated mailbox (set the device's sender address to it), grant that mailbox Send As permission on the sender, or use a relay connector."
	sendAsSetting = "Send As permission: Add-RecipientPermission -Identity <sender> -Trustee <mailbox> -AccessRights SendAs"
)

// Entries is the Exchange Online knowledge base (m365-facts.md section 3),
// most specific first: an entry with text comes before one without for the
// same code, and a single code before the range that contains it.
var Entries = []Entry{
	// SMTP AUTH client submission (smtp.office365.com).
	{Basic: 530, Enhanced: "5.7.57", Category: result.Auth,
		Meaning: "The client tried to send without authenticating: smtp.office365.com accepts MAIL FROM only after a successful SMTP AUTH, which in turn needs STARTTLS first.",
		Fix:     "Enter the mailbox's user name and password (or OAuth) on the device, and make sure it does STARTTLS before AUTH. A device that cannot authenticate must use Direct Send or a relay connector on the MX endpoint instead.",
		Source:  ndrSource},
	{Basic: 535, Enhanced: "5.7.139", Category: result.Auth,
		Meaning: "The credentials were accepted, but SMTP AUTH is disabled for the tenant or the mailbox, Basic authentication is off, or security defaults block it.",
		Fix:     "Enable SMTP AUTH for this mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false), or move the device to OAuth (XOAUTH2) or a relay connector. Security defaults disable SMTP AUTH for the whole tenant.",
		Setting: "Set-TransportConfig -SmtpClientAuthenticationDisabled (tenant) / Set-CASMailbox -SmtpClientAuthenticationDisabled $true|$false|$null (mailbox; $null follows the tenant)",
		Source:  smtpAuthDisabledSource},
	{Basic: 535, Enhanced: "5.7.3", Category: result.Auth,
		Meaning: "Authentication failed: a wrong user name or password, MFA required on the account, or a Conditional Access or security defaults policy that blocks legacy authentication.",
		Fix:     "Check the user name (the full mailbox address) and the password; exclude the account from policies that block SMTP AUTH, or use OAuth (XOAUTH2).",
		Setting: "Microsoft Entra ID: security defaults and Conditional Access policies",
		Source:  ndrSource},
	{Basic: 550, Enhanced: "5.7.30", Category: result.Auth,
		Meaning: "Basic authentication is not supported for client submission: it is disabled for this tenant (or retired).",
		Fix:     "Use OAuth (XOAUTH2, scope https://outlook.office.com/SMTP.Send), a relay connector, or another sending method. Microsoft disables Basic auth for SMTP AUTH by default at the end of December 2026 (admins can re-enable it until the final removal, to be announced in the second half of 2027).",
		Source:  basicAuthSource},
	{Basic: 451, Enhanced: "5.7.3", Text: "STARTTLS", Category: result.TLS,
		Meaning: "The client tried to submit in plaintext; smtp.office365.com requires STARTTLS before AUTH and MAIL.",
		Fix:     "Enable STARTTLS on the device for port 587 (often labelled TLS, not SSL).",
		Source:  ndrSource},
	{Basic: 421, Enhanced: "4.7.66", Category: result.TLS,
		Meaning: "The client negotiated TLS 1.0 or 1.1, which Exchange Online does not accept on its default endpoints (unsupported since October 2020, disabled since February 2022).",
		Fix:     "Update the device firmware to support TLS 1.2, point it at smtp-legacy.office365.com where the tenant allows legacy TLS, or relay through a local server that speaks TLS 1.2.",
		Setting: "Set-TransportConfig -AllowLegacyTLSClients $true (for smtp-legacy.office365.com; not in GCC, GCC High or DoD)",
		Source:  legacyTLSSource,
		Note:    "UNVERIFIED: the exact 421 4.7.66 reply text comes from a third-party report."},
	{Basic: 550, Enhanced: "5.7.60", Category: result.Policy,
		Meaning: "The sender address (MAIL FROM or From) differs from the authenticated mailbox, and that mailbox has no permission to send as it.",
		Fix:     sendAsFix,
		Setting: sendAsSetting,
		Source:  ndrSource},
	{Basic: 554, Enhanced: "5.2.252", Category: result.Policy,
		Meaning: "SendAsDenied: the authenticated mailbox may not send as the given sender.",
		Fix:     sendAsFix,
		Setting: sendAsSetting,
		Source:  ndrSource},

	// The MX endpoint: Direct Send and relay connectors.
	{Basic: 550, Enhanced: "5.7.64", Category: result.Configuration,
		Meaning: "TenantAttribution; Relay Access Denied: the message was relayed to the MX endpoint, but no inbound connector matched the sending IP or certificate.",
		Fix:     "Update the inbound connector with the current static public IP (or the certificate's name), or send to internal recipients only (Direct Send). Dynamic IPs are not supported for connectors.",
		Setting: "Exchange admin center > Mail flow > Connectors (from your organization's email server to Microsoft 365)",
		Source:  ndrSource},
	{Basic: 550, Enhanced: "5.7.68", Category: result.Policy,
		Meaning: "TenantInboundAttribution: Direct Send is rejected for this organization (RejectDirectSend is on) and the envelope sender uses an accepted domain.",
		Fix:     "Create a partner inbound connector that matches the sender, or send through SMTP AUTH submission.",
		Setting: "Set-OrganizationConfig -RejectDirectSend $true|$false",
		Source:  rejectDirectSendSource},
	{Basic: 550, Enhanced: "5.4.1", Category: result.Recipient,
		Meaning: "Recipient address rejected by directory-based edge blocking (AS(201806281)): the recipient does not exist in the tenant, or relay was denied.",
		Fix:     "Check the recipient address and that the domain's MX points at this tenant; for external recipients use SMTP AUTH or a connector.",
		Setting: "Accepted domain type (Authoritative enables directory-based edge blocking)",
		Source:  ndrSource},
	{Basic: 550, Enhanced: "5.7.1", Text: "Spamhaus", Category: result.Reputation,
		Meaning: "The sending IP is listed by Spamhaus, and Exchange Online refuses mail from it.",
		Fix:     "Look the IP up at Spamhaus, fix the cause (an infected host, a dynamic IP on the PBL) and request delisting; for dynamic end-user IPs send through SMTP AUTH on port 587 instead of port 25.",
		Source:  spamhausSource},
	{Basic: 550, Enhanced: "5.7.1", Text: "relay|not authorized", Category: result.Configuration,
		Meaning: "Relay denied (unable to relay, delivery not authorized): the server does not relay for this client to that recipient. Exchange Online relays to external recipients only for SMTP AUTH submission or a connector that matches the sender.",
		Fix:     "Send through smtp.office365.com:587 with SMTP AUTH, or create an inbound connector (from your organization's email server) that matches the device's static public IP or certificate.",
		Source:  ndrSource},

	// Reputation: Microsoft's own block lists.
	{Basic: 550, Enhanced: "5.7.606-649", Category: result.Reputation,
		Meaning: "The sending IP is on Microsoft's block list (banned sending IP).",
		Fix:     "Request delisting at https://sender.office.com/ (one email address and IP per visit; takes up to 24 hours) and find out why the IP was listed.",
		Setting: "Delist portal https://sender.office.com/",
		Source:  ndrSource},
	{Basic: 550, Enhanced: "5.7.511", Category: result.Reputation,
		Meaning: "The sender is banned, and the delisting portal cannot help.",
		Fix:     "Forward the NDR to delist@messaging.microsoft.com.",
		Source:  ndrSource},
	{Enhanced: "5.7.501-503", Category: result.Reputation,
		Meaning: "Spam abuse was detected from this account (access denied, spam abuse detected / banned sender).",
		Fix:     "Secure the account (reset the password, check for compromise) and contact Microsoft support.",
		Source:  ndrSource},
	{Enhanced: "5.7.705", Category: result.Reputation,
		Meaning: "The tenant exceeded its threshold and is blocked for sending spam.",
		Fix:     "Contact Microsoft support.",
		Source:  ndrSource},
	{Enhanced: "5.7.708", Category: result.Reputation,
		Meaning: "Traffic is not accepted from this IP (low reputation, typical of new or trial tenants).",
		Fix:     "Contact Microsoft support, or send through a connector.",
		Source:  ndrSource},
	{Enhanced: "5.7.750", Category: result.Configuration,
		Meaning: "The client is blocked from sending from unregistered domains: the sending domain is not an accepted domain of the tenant.",
		Fix:     "Add and verify the sending domain as an accepted domain.",
		Setting: "Exchange admin center > Mail flow > Accepted domains",
		Source:  ndrSource},

	// Throttling.
	{Basic: 451, Enhanced: "4.7.650", Category: result.Throttling,
		Meaning: "The sending IP is temporarily rate limited because of its reputation.",
		Fix:     "Improve the IP's reputation and retry later.",
		Source:  ndrSource},
	{Basic: 451, Enhanced: "4.7.500-699", Category: result.Throttling,
		Meaning: "Exchange Online is throttling or greylisting this sender (access denied, please try again later / server busy).",
		Fix:     "Retry later; a sender that is throttled repeatedly needs a connector or a better IP reputation.",
		Source:  ndrSource},
	{Enhanced: "4.5.3", Category: result.Throttling,
		Meaning: "Too many recipients: more than 200 envelope recipients per domain.",
		Fix:     "Split the message into batches.",
		Source:  ndrSource},
	{Enhanced: "5.2.2", Category: result.Throttling,
		Meaning: "Submission quota exceeded (the mailbox's sending limit).",
		Fix:     "Wait for the quota to recover, or use a high-volume sending option.",
		Source:  ndrSource},
	{Basic: 550, Enhanced: "5.2.251-255", Category: result.Throttling,
		Meaning: "Continuous error throttling after repeated submission errors.",
		Fix:     "Fix the underlying error the device keeps making (see its earlier rejections).",
		Source:  ndrSource},

	// Sender authentication and account state.
	{Basic: 550, Enhanced: "5.7.23", Category: result.DNS,
		Meaning: "The message failed SPF (Sender Policy Framework violation).",
		Fix:     "Add the sending IP to the domain's SPF record: v=spf1 ip4:<IP> include:spf.protection.outlook.com ~all.",
		Source:  ndrSource},
	{Enhanced: "5.7.509", Category: result.DNS,
		Meaning: "The sending domain does not pass DMARC.",
		Fix:     "Align SPF or DKIM with the From domain.",
		Source:  ndrSource},
	{Enhanced: "5.1.8", Category: result.Policy,
		Meaning: "Bad outbound sender: the account is in Restricted Users (it sent spam).",
		Fix:     "Secure the account, then remove it from Restricted Users.",
		Setting: "Microsoft Defender portal > Restricted entities",
		Source:  ndrSource},
	{Enhanced: "4.4.62", Category: result.Configuration,
		Meaning: "Mail was sent to the wrong Office 365 region (a connector or region mismatch).",
		Fix:     "Fix the connector or the region settings.",
		Source:  ndrSource},
}
