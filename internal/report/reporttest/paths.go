package reporttest

import (
	"time"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// MigrationResults returns one suite, "contoso: ways off Basic auth", as
// suites/basic-auth-migration.hcl leaves it: a Basic auth check that
// passed, an OAuth check its suite disabled (enabled = false), a connector
// check refused with 550 5.7.64, and the suite's decision on the ways to
// send, about the mailbox scanner@contoso.com. Every call returns fresh
// values.
func MigrationResults() []*result.Suite {
	ms := time.Millisecond
	start := Start.Add(2 * time.Minute)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	reply := func(code int, enhanced, text string) *esmtp.Reply {
		return &esmtp.Reply{Code: code, Enhanced: enhanced, Lines: []string{text}}
	}
	basic := &result.Check{
		Index: 0, Label: "Basic auth: the mailbox signs in with its password", Kind: "smtp", Path: "basic_auth", Line: 120,
		Endpoint: "submission", Target: "smtp.office365.com:587", Status: result.Passed, Attempts: 1,
		Started: at(0), Duration: 800 * ms,
		Conversation: &result.Conversation{
			Host: "smtp.office365.com", Port: 587, TLSMode: "starttls", RemoteAddr: "198.51.100.7:587", Started: at(0), Duration: 800 * ms,
			Steps: []result.StepRecord{
				{Step: result.StepConnect, Duration: 40 * ms},
				{Step: result.StepBanner, Reply: reply(220, "", "smtp.office365.com ready"), Start: 40 * ms, Duration: 60 * ms},
				{Step: result.StepAuth, Command: "AUTH LOGIN", AfterTLS: true, Reply: reply(235, "2.7.0", "Authentication successful"), Start: 300 * ms, Duration: 200 * ms},
				{Step: result.StepQuit, Command: "QUIT", AfterTLS: true, Reply: reply(221, "2.0.0", "Bye"), Start: 760 * ms, Duration: 40 * ms},
			},
			Transcript: []result.TranscriptLine{
				{Offset: 40 * ms, Direction: result.Server, Text: "220 smtp.office365.com ready"},
				{Offset: 300 * ms, Direction: result.Client, Text: "AUTH LOGIN ****"},
				{Offset: 500 * ms, Direction: result.Server, Text: "235 2.7.0 Authentication successful"},
			},
		},
	}
	oauth := &result.Check{
		Index: 1, Label: "OAuth: the app signs in for the mailbox with XOAUTH2", Kind: "smtp", Path: "oauth", Line: 140,
		Status: result.Skipped, Error: result.NotTested + `enabled = var.client_id != "" && var.client_secret != ""`, Started: at(0),
	}
	refused := reply(550, "5.7.64", "TenantAttribution; Relay Access Denied [SN1NAM02FT0049.mail.protection.outlook.com]")
	connector := &result.Check{
		Index: 2, Label: "Connector: the MX endpoint relays to an external recipient", Kind: "smtp", Path: "connector", Line: 200,
		Endpoint: "mx", Target: "contoso-com.mail.protection.outlook.com:25", Status: result.Failed, Attempts: 1,
		Started: at(0), Duration: 600 * ms,
		Failures: []result.Failure{{Expectation: "rcpt", Message: `rcpt: expected "250", got ` + refused.String()}},
		Diagnosis: &result.Diagnosis{Category: result.Configuration, Code: "550 5.7.64",
			Summary: "No inbound connector matched the sending IP address or certificate.",
			Fix:     "Add the site's static IP to the connector, or send through smtp.office365.com."},
		Conversation: &result.Conversation{
			Host: "contoso-com.mail.protection.outlook.com", Port: 25, TLSMode: "starttls", RemoteAddr: "52.101.0.1:25",
			Started: at(0), Duration: 600 * ms, ClientIP: "203.0.113.5",
			Steps: []result.StepRecord{
				{Step: result.StepConnect, Duration: 30 * ms},
				{Step: result.StepRcpt, Command: "RCPT TO:<partner@fabrikam.com>", AfterTLS: true, Reply: refused, Start: 500 * ms, Duration: 50 * ms},
			},
			Transcript: []result.TranscriptLine{
				{Offset: 500 * ms, Direction: result.Client, Text: "RCPT TO:<partner@fabrikam.com>"},
				{Offset: 550 * ms, Direction: result.Server, Text: refused.String()},
			},
		},
	}
	microsoft := "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365"
	notTested := "It was not tested in this run."
	paths := &result.PathDecision{
		Subject: "scanner@contoso.com",
		Basis:   "this run (this tenant, this machine)",
		Summary: "this run (this tenant, this machine): a connector is out; maybe Basic auth, OAuth, HVE, the ACS relay or Direct Send; nothing remains for certain",
		Paths: []result.PathVerdict{
			{Path: "basic_auth", Name: "SMTP AUTH client submission with a password (Basic authentication)", Short: "Basic auth", Usable: "maybe", Recipients: "any",
				Reasons: []string{"Its check passed, so Basic auth works today for this tenant from this machine; after the switch-off: Basic authentication for SMTP AUTH is disabled by default from the end of December 2026."},
				Sources: []string{microsoft}},
			{Path: "oauth", Name: "SMTP AUTH client submission with OAuth 2.0 (XOAUTH2)", Short: "OAuth", Usable: "maybe", Recipients: "any",
				Reasons: []string{`It was not tested in this run: its check was skipped (enabled = var.client_id != "" && var.client_secret != "").`},
				Needs:   []string{"An app registration in Microsoft Entra ID."}, Sources: []string{microsoft}},
			{Path: "hve", Name: "High Volume Email for Microsoft 365 (HVE)", Short: "HVE", Usable: "maybe", Recipients: "internal",
				Reasons: []string{notTested, "It reaches only recipients inside the tenant."}, Needs: []string{"An HVE account."}},
			{Path: "acs_relay", Name: "Azure Communication Services Email SMTP relay", Short: "the ACS relay", Usable: "maybe", Recipients: "any",
				Reasons: []string{notTested}},
			{Path: "direct_send", Name: "Direct Send to the tenant's MX endpoint", Short: "Direct Send", Usable: "maybe", Recipients: "internal",
				Reasons: []string{notTested, "It reaches only recipients inside the tenant."}},
			{Path: "connector", Name: "SMTP relay through an inbound connector (Microsoft 365 SMTP relay)", Short: "a connector", Usable: "no", Recipients: "any",
				Reasons: []string{"Its check failed: rcpt: expected \"250\", got 550 5.7.64 TenantAttribution; Relay Access Denied."},
				Needs:   []string{"A static public IP address of the site."},
				Sources: []string{microsoft, "https://learn.microsoft.com/en-us/exchange/troubleshoot/email-delivery/ndr/fix-error-code-5-7-64-in-exchange-online"}},
		},
	}
	return []*result.Suite{{
		Name: "contoso: ways off Basic auth", Path: "suites/basic-auth-migration.hcl", Started: start, Duration: 900 * ms,
		Checks: []*result.Check{basic, oauth, connector}, Paths: paths,
	}}
}
