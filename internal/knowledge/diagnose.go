package knowledge

import (
	"fmt"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// Diagnose explains the most telling problem of a conversation: the first
// negative reply that the knowledge base or RFC 3463 can explain, else the
// step where the conversation stopped, read together with the kind of
// endpoint it talked to (smtp.office365.com, a tenant MX endpoint). It
// returns nil when there is nothing to explain.
func Diagnose(c *result.Conversation) *result.Diagnosis {
	// A known negative reply anywhere is the most specific evidence (a
	// rejected RCPT does not stop the conversation but is what matters).
	for i := range c.Steps {
		s := &c.Steps[i]
		if s.Reply == nil || s.Reply.Positive() || s.Step == result.StepQuit {
			continue
		}
		lookup := Lookup
		if s.Step == result.StepAuth && isXOAUTH2(s.Command) {
			// Exchange Online refuses a token with the reply it gives a
			// wrong password; the mechanism tells them apart.
			lookup = LookupAfterXOAUTH2
		}
		if d := fromReply(s.Step, *s.Reply, lookup); d != nil {
			if s.Step == result.StepAuth && isMXEndpoint(c) {
				return authOnMX(c, d.Summary, s.Step)
			}
			return d
		}
	}
	stop := c.Stop()
	if stop == nil {
		return nil
	}
	if stop.Fault != nil {
		return fromFault(c, stop)
	}
	if stop.Step == result.StepAuth && isMXEndpoint(c) {
		return authOnMX(c, fmt.Sprintf("%s at AUTH", stop.Reply), stop.Step)
	}
	d := &result.Diagnosis{Summary: fmt.Sprintf("%s at %s", stop.Reply, strings.ToUpper(string(stop.Step))), Outcome: stop.Reply.String(),
		Step: stop.Step, Code: (*stop.Reply).Codes(), IP: esmtp.BracketedIP(stop.Reply.Text())}
	text, cat, source, _ := BasicMeaning(stop.Reply.Code)
	d.Category, d.Source = cat, source
	d.Meaning = fmt.Sprintf("RFC %s: %d %s.", rfcName(source), stop.Reply.Code, text)
	d.Fix = "Read the reply text; the server gave no enhanced status code that Exchange Online documents."
	return d
}

// FromReply explains one reply; nil when neither the knowledge base nor
// RFC 3463 has anything to say about it (no enhanced code).
func FromReply(step result.Step, r esmtp.Reply) *result.Diagnosis {
	return fromReply(step, r, Lookup)
}

// isXOAUTH2 reports whether an AUTH step's command (as recorded, masked)
// was AUTH XOAUTH2.
func isXOAUTH2(command string) bool {
	fields := strings.Fields(command)
	return len(fields) >= 2 && strings.EqualFold(fields[0], "AUTH") && strings.EqualFold(fields[1], "XOAUTH2")
}

// fromReply is FromReply with the knowledge base's lookup to use:
// LookupAfterXOAUTH2 for the reply to AUTH XOAUTH2.
func fromReply(step result.Step, r esmtp.Reply, lookup func(int, string, string) (Entry, bool)) (d *result.Diagnosis) {
	text := r.Text()
	summary := fmt.Sprintf("%s at %s", r.String(), strings.ToUpper(string(step)))
	defer func() {
		if d != nil {
			d.Outcome = r.String()
		}
	}()
	if e, ok := lookup(r.Code, r.Enhanced, text); ok {
		meaning := e.Meaning
		if e.Note != "" {
			meaning += " (" + e.Note + ")"
		}
		return &result.Diagnosis{Category: e.Category, Summary: summary, Meaning: meaning, Fix: e.Fix,
			Setting: e.Setting, Source: e.Source, IP: esmtp.BracketedIP(text), Step: step, Code: r.Codes()}
	}
	if !r.Positive() && strings.Contains(strings.ToUpper(text), "STARTTLS") {
		// Servers other than Exchange Online word the same refusal their own
		// way ("530 5.7.0 Must issue a STARTTLS command first" from Postfix).
		return &result.Diagnosis{Category: result.TLS, Summary: summary,
			Meaning: "The server requires STARTTLS before this command (RFC 3207 section 4).",
			Fix:     "Enable STARTTLS on the client; on Microsoft 365 this is the setting often labelled TLS (not SSL) for port 587.",
			Source:  "https://www.rfc-editor.org/rfc/rfc3207#section-4", IP: esmtp.BracketedIP(text), Step: step, Code: r.Codes()}
	}
	if m, ok := genericMeaning(r.Enhanced); ok {
		return &result.Diagnosis{Category: m.cat, Summary: summary, Meaning: "RFC 3463 " + r.Enhanced + ": " + m.text + ".",
			Fix:    "Read the reply text; the server gave no code Exchange Online documents.",
			Source: m.rfc(), IP: esmtp.BracketedIP(text), Step: step, Code: r.Codes()}
	}
	return nil
}

// where names a step in a sentence: "connect", "the banner", "the TLS
// handshake", or the command ("AUTH", "MAIL").
func where(step result.Step) string {
	switch step {
	case result.StepConnect:
		return "connect"
	case result.StepBanner:
		return "the banner"
	case result.StepTLS:
		return "the TLS handshake"
	case result.StepMessage:
		return "the end of the message"
	}
	return strings.ToUpper(string(step))
}

func rfcName(source string) string {
	switch source {
	case rfc4954Source:
		return "4954"
	case rfc3463Source:
		return "3463"
	}
	return "5321"
}

// isM365Submission reports whether the host is Microsoft 365's client
// submission service (smtp.office365.com, smtp-legacy.office365.com).
func isM365Submission(c *result.Conversation) bool {
	host := normalHost(c.Host)
	return host == "office365.com" || strings.HasSuffix(host, ".office365.com")
}

// isMXEndpoint reports whether the conversation went to a mail exchanger
// rather than a submission service: a tenant MX host
// (<tenant>.mail.protection.outlook.com, or <tenant>.<x>-v1.mx.microsoft for
// domains added from July 2026), or port 25 where no EHLO offered AUTH.
// MX endpoints accept mail for the tenant and never authenticate clients
// (m365-facts.md section 6).
func isMXEndpoint(c *result.Conversation) bool {
	host := normalHost(c.Host)
	if strings.HasSuffix(host, ".mail.protection.outlook.com") || strings.HasSuffix(host, ".mx.microsoft") {
		return true
	}
	if c.Port != 25 || isM365Submission(c) {
		return false
	}
	return !c.EHLOBeforeTLS.Has("AUTH") && !c.EHLOAfterTLS.Has("AUTH")
}

func normalHost(host string) string {
	return strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
}

// authOnMX explains AUTH attempted on an MX endpoint.
func authOnMX(c *result.Conversation, summary string, step result.Step) *result.Diagnosis {
	return &result.Diagnosis{
		Category: result.Configuration,
		Summary:  summary,
		Step:     step,
		Meaning: fmt.Sprintf("%s port %d is an MX endpoint: it accepts mail for the tenant's own recipients (Direct Send) "+
			"or from a relay connector, and never offers AUTH, before or after STARTTLS.", c.Host, c.Port),
		Fix: "To sign in with a mailbox, use smtp.office365.com port 587 with STARTTLS. To keep using the MX endpoint, " +
			"remove the credentials from the device: Direct Send reaches internal recipients only; external recipients " +
			"need an inbound connector that matches the device's static public IP.",
		Source: deviceSource,
	}
}

func fromFault(c *result.Conversation, s *result.StepRecord) *result.Diagnosis {
	d := &result.Diagnosis{Summary: fmt.Sprintf("%s at %s", s.Fault.Error(), where(s.Step)), Outcome: s.Fault.Error(), Step: s.Step}
	submission := isM365Submission(c)
	early := s.Step == result.StepConnect || s.Step == result.StepBanner || s.Step == result.StepTLS
	if c.Port == 465 && submission && early && s.Fault.Kind != result.FaultResolve {
		// Microsoft 365 client submission has no implicit-TLS service; a
		// device that defaults to 465 does not support SMTP AUTH client
		// submission (m365-facts.md section 1).
		d.Category = result.Configuration
		d.Meaning = fmt.Sprintf("%s does not offer SMTP on port 465 (implicit TLS, \"SSL\"): Microsoft 365 client submission is port 587 (or 25) with STARTTLS.", c.Host)
		d.Fix = "Set the device to port 587 with STARTTLS (often labelled TLS, not SSL). A device that only offers 465 does not support SMTP AUTH client submission to Microsoft 365: use a relay connector or a local relay instead."
		d.Source = deviceSource
		return d
	}
	switch s.Fault.Kind {
	case result.FaultRefused, result.FaultTimeout:
		stalled(c, s, d)
	case result.FaultResolve:
		d.Category = result.DNS
		d.Meaning = "The host name did not resolve."
		d.Fix = "Check the name and the resolver the machine uses."
	case result.FaultClosed, result.FaultNetwork:
		d.Category = result.Network
		d.Meaning = "The connection failed or was closed by the server during the " + string(s.Step) + " step."
		d.Fix = "Check the network path and whether the server limits connections from this IP."
	case result.FaultNotAdvertised:
		if notAdvertised(c, s, d, submission) {
			return authOnMX(c, d.Summary, s.Step)
		}
	case result.FaultUnsupported:
		d.Category = result.Auth
		d.Meaning = "The client and the server have no AUTH mechanism in common: smtpdiag sent no credentials for a mechanism the server does not offer."
		d.Fix = "Exchange Online offers AUTH LOGIN and XOAUTH2 (no PLAIN, no CRAM-MD5): set the device to LOGIN, or to OAuth."
		if strings.Contains(s.Fault.Message, "without TLS") {
			d.Category = result.TLS
			d.Meaning = "The conversation was not encrypted when AUTH was due, so smtpdiag did not send the credentials (RFC 4954 section 4 leaves it to policy; Exchange Online offers AUTH only after STARTTLS)."
			d.Fix = "Use STARTTLS (tls = \"starttls\") or implicit TLS; tls = \"none\" is the only way to send credentials in the clear, for a lab server."
			d.Source = "https://www.rfc-editor.org/rfc/rfc4954#section-4"
		}
		if s.Step != result.StepAuth {
			d.Category = result.Configuration
			d.Meaning = s.Fault.Message
			d.Fix = "Check the check's settings."
		}
	case result.FaultTLSHandshake:
		handshakeFailed(s, d)
	case result.FaultClientCertificate:
		d.Category = result.TLS
		d.Meaning = "The server asked for a TLS client certificate and then ended the session with an alert: it does not accept the certificate this client sent, or requires one and none was sent."
		d.Fix = "Give the endpoint client_certificate and client_key with a certificate the server trusts (for a connector that recognises the sender by its certificate, one whose name the connector names); the alert in the message says what the server objected to."
	case result.FaultCertificate:
		d.Category = result.TLS
		d.Meaning = "The server's certificate did not verify."
		d.Fix = "Use the DNS name the certificate is issued for (never an IP address), or add the issuing CA with ca_file."
	case result.FaultInjection:
		d.Category = result.TLS
		d.Meaning = "The server sent data before the TLS handshake: a STARTTLS command-injection risk (RFC 3207 section 4, CVE-2011-0411 class)."
		d.Fix = "Report it to the server's operator; a middlebox may be tampering with the session."
	case result.FaultPremature:
		d.Category = result.Network
		d.Meaning = "The server sent its reply to the message together with the 354 that invites it, before it could have read a byte of it (RFC 5321 section 4.1.1.4 wants the reply after the final \".\"): that reply proves nothing about the message, so smtpdiag did not send it."
		d.Fix = "Look for an SMTP proxy or firewall that answers on the server's behalf, or a server that does not read what it acknowledges; test the server directly."
		d.Source = "https://www.rfc-editor.org/rfc/rfc5321#section-4.1.1.4"
	case result.FaultMalformed, result.FaultTooLong:
		d.Category = result.Network
		d.Meaning = "The server sent something that is not a valid SMTP reply."
		d.Fix = "Check that the port speaks SMTP (not implicit TLS, not another protocol) and that no proxy rewrites the session."
	case result.FaultDeadline:
		d.Category = result.Network
		d.Meaning = "The check did not finish within its deadline (the check's max_duration, else --check-timeout, 2 minutes by default), although each reply may have come within the per-step timeout: the server answers too slowly for the steps the check holds."
		d.Fix = "Look for a server or a filter on the way that delays each reply (tarpitting, greylisting of unknown senders); if slow replies are expected, raise the deadline with --check-timeout."
	case result.FaultCanceled:
		d.Category = result.Network
		d.Meaning = "The run was interrupted during the " + string(s.Step) + " step."
		d.Fix = "Run it again."
	default:
		d.Category = result.Network
		d.Meaning = s.Fault.Message
		d.Fix = "Read the transcript."
	}
	return d
}

// stalled explains a refused or timed-out connection, or a server that
// stopped answering.
func stalled(c *result.Conversation, s *result.StepRecord, d *result.Diagnosis) {
	if s.Step == result.StepConnect {
		d.Category = result.Network
		d.Meaning = fmt.Sprintf("No SMTP server answered on %s port %d (%s).", c.Host, c.Port, s.Fault.Kind)
		d.Fix = "Check the host and port and any firewall on the way."
		switch c.Port {
		case 25:
			d.Meaning += " Many ISPs block outbound port 25 on consumer and small-business lines, so a device behind such a line cannot reach any MX endpoint."
			d.Fix = "Ask the ISP whether outbound port 25 is blocked (and for a business line that allows it), or submit through smtp.office365.com:587 with SMTP AUTH."
			d.Source = deviceSource
		case 587:
			d.Meaning += " Some networks and firewalls block outbound port 587 as well."
			d.Fix = "Check the firewall and the ISP for outbound port 587; compare from another line with smtpdiag probe."
		}
		return
	}
	d.Category = result.Network
	d.Meaning = "The server stopped answering during the " + string(s.Step) + " step."
	d.Fix = "Retry; if it persists, look for a firewall or proxy that inspects SMTP."
	if s.Step == result.StepBanner && s.Fault.Kind == result.FaultTimeout && c.TLSMode != "implicit" {
		// An implicit-TLS service (RFC 8314) says nothing until the
		// client has done the TLS handshake.
		d.Meaning = "The connection was accepted, but no greeting came. A port that expects implicit TLS (465, or a port labelled SMTPS or SSL) waits for the client's TLS handshake before it says anything."
		d.Fix = "If this is an implicit-TLS port, use tls = \"implicit\" (smtpdiag probe: --implicit-tls or smtps://HOST:PORT); otherwise look for a firewall or proxy that holds SMTP connections."
	}
}

// notAdvertised explains STARTTLS or AUTH missing from the EHLO reply; it
// reports true when the conversation went to an MX endpoint, which
// authOnMX explains instead.
func notAdvertised(c *result.Conversation, s *result.StepRecord, d *result.Diagnosis, submission bool) bool {
	if s.Step == result.StepStartTLS {
		d.Category = result.TLS
		d.Meaning = "The server did not advertise STARTTLS, so the conversation could not be encrypted. Exchange Online advertises STARTTLS on every endpoint."
		d.Fix = "Check that the endpoint is the right one; something on the path (an SMTP-inspecting firewall) may strip STARTTLS."
		d.Source = deviceSource
		return false
	}
	switch {
	case submission && c.TLS == nil:
		// smtp.office365.com lists AUTH only in the EHLO after
		// STARTTLS (m365-facts.md section 6).
		d.Category = result.TLS
		d.Meaning = fmt.Sprintf("%s advertises AUTH only after STARTTLS; this conversation was not encrypted, so AUTH was not on offer.", c.Host)
		d.Fix = "This is expected: the device must issue STARTTLS first, then AUTH (enable STARTTLS/TLS on the device)."
		d.Source = deviceSource
	case isMXEndpoint(c):
		return true
	default:
		d.Category = result.Auth
		d.Meaning = "The server did not advertise AUTH."
		d.Fix = "Check that this is a submission service; Microsoft 365 offers AUTH on smtp.office365.com:587 after STARTTLS."
	}
	return false
}

// handshakeFailed explains a TLS handshake that failed, from what
// crypto/tls said about it.
func handshakeFailed(s *result.StepRecord, d *result.Diagnosis) {
	d.Category = result.TLS
	d.Meaning = "The TLS handshake failed."
	d.Fix = "Check the TLS versions and cipher suites both sides allow."
	msg := strings.ToLower(s.Fault.Message)
	switch {
	case strings.Contains(msg, "does not look like a tls handshake"):
		// crypto/tls says so when the first bytes are not a TLS record:
		// typically the 220 banner of a plain SMTP port.
		d.Category = result.Configuration
		d.Meaning = "The server answered in plain text where a TLS handshake was expected: this port speaks plain SMTP with STARTTLS, not implicit TLS."
		d.Fix = "Use STARTTLS on this port (tls = \"starttls\"; on devices often labelled TLS rather than SSL), or the server's implicit-TLS port if it has one."
	case strings.Contains(msg, "version"):
		d.Meaning = "The TLS handshake failed on the protocol version: Exchange Online requires TLS 1.2 or newer (TLS 1.0 and 1.1 are disabled on its default endpoints since February 2022)."
		d.Fix = "Update the device firmware to support TLS 1.2, use smtp-legacy.office365.com where the tenant still allows it, or relay through a local server."
		d.Setting = "Set-TransportConfig -AllowLegacyTLSClients $true (for smtp-legacy.office365.com)"
		d.Source = legacyTLSSource
	case strings.Contains(msg, "handshake failure") || strings.Contains(msg, "cipher"):
		d.Meaning = "The TLS handshake failed with no common cipher suite or parameters. Devices limited to TLS_RSA cipher suites are reported to fail against Exchange Online since about February 2025 (UNVERIFIED, second-hand report)."
		d.Fix = "Update the device firmware so that it offers ECDHE cipher suites with TLS 1.2, or relay through a local server."
	}
}
