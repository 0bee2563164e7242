package knowledge

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// The fix for devices that cannot do TLS 1.2 (reference/m365-facts.md
// sections 1 and 2).
const (
	legacyTLSFix = "Update the device firmware to a version that supports TLS 1.2 and enable it in the device's SMTP security settings; " +
		"where the tenant still allows it, point the device at smtp-legacy.office365.com; " +
		"or let the device send through a relay on the local network that accepts its TLS and speaks TLS 1.2 to Microsoft 365."
	legacyTLSSetting = "Set-TransportConfig -AllowLegacyTLSClients $true (needed for smtp-legacy.office365.com; not available in GCC, GCC High or DoD)"
)

// DeviceNoShow explains why a device block failed when no device
// connected to the listener at listen.
func DeviceNoShow(listen string) *result.Diagnosis {
	return &result.Diagnosis{
		Category: result.Network,
		Summary:  fmt.Sprintf("no device connected to %s", listen),
		Meaning:  "Nothing opened a connection to the listener while it waited.",
		Fix: "Set the device's SMTP server to this computer's IP address and the listening port, make sure both are " +
			"on the same network (or routed), allow inbound TCP on that port in this computer's firewall, then send a " +
			"scan to e-mail or press the device's connection test.",
	}
}

// DeviceNoSMTP explains why a device block failed when connections came
// to the listener at listen but none of them spoke SMTP (no EHLO or
// HELO) or each was refused: connections of them.
func DeviceNoSMTP(listen string, connections int) *result.Diagnosis {
	return &result.Diagnosis{
		Category: result.Network,
		Summary:  fmt.Sprintf("no device spoke SMTP to %s (%d %s without EHLO or HELO, or refused)", listen, connections, plural(connections, "connection")),
		Meaning: "Something opened TCP connections to the listener but never greeted it with EHLO or HELO: a port scan, a " +
			"monitoring system's health check, or a device that gave up at once. They are listed, not judged.",
		Fix: "Check that the device's SMTP server and port point at this computer and that it sends a scan or its " +
			"connection test while smtpdiag listens; find out what else connects to that port (the addresses are listed).",
		Source: deviceSource,
	}
}

// plural is word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// DiagnoseDevice explains a failed device session (smtpdiag listen) of the
// device block labelled label, most fundamental problem first: a TLS
// offer Microsoft 365 refuses, implicit TLS, a failed handshake,
// credentials sent without TLS, a session that outgrew its record, a
// rejection the knowledge base explains, then the failed expectations
// the device reached, and last where it stopped before the others.
func DiagnoseDevice(label string, s *result.DeviceSession, failures []result.Failure) *result.Diagnosis {
	if h := s.ClientHello; h != nil {
		if best := bestVersion(h.Versions); best < 1.2 {
			offer := "no TLS version at all (SSL 3.0 or older)"
			if len(h.Versions) > 0 {
				offer = "only TLS " + strings.Join(h.Versions, ", ")
			}
			summary, meaning := "the device offers "+offer, ""
			if !h.ECDHE {
				summary += " and no ECDHE cipher suite"
				meaning = " It offers no ECDHE cipher suite either (only " + keyExchanges(h.CipherSuites) + "), which Exchange " +
					"Online is reported to refuse since about February 2025 (UNVERIFIED: second-hand reports); the firmware " +
					"update must bring both."
			}
			return &result.Diagnosis{
				Category: result.TLS,
				Summary:  summary,
				Meaning: "Exchange Online requires TLS 1.2 or newer on smtp.office365.com: TLS 1.0 and 1.1 are unsupported since " +
					"October 2020 and disabled on the default endpoints since February 2022, where such a device gets " +
					"421 4.7.66 or a failed handshake. This device's ClientHello offers " + offer + "." + meaning,
				Fix:     legacyTLSFix,
				Setting: legacyTLSSetting,
				Source:  legacyTLSSource,
				Step:    result.StepTLS,
			}
		}
		if !h.ECDHE {
			return &result.Diagnosis{
				Category: result.TLS,
				Summary:  "the device offers no ECDHE cipher suite (only " + keyExchanges(h.CipherSuites) + ")",
				Meaning: "Exchange Online is reported to accept only ECDHE cipher suites since about February 2025, so that " +
					"devices limited to RSA key exchange (TLS_RSA_* suites, common in older Ricoh, Xerox, Kyocera and Sharp " +
					"firmware) fail with \"SSL negotiation failed\" (UNVERIFIED: second-hand reports, no Microsoft statement).",
				Fix: "Update the device firmware so that it offers ECDHE suites with TLS 1.2 (some devices hide them behind a " +
					"\"security level\" or \"encryption strength\" setting), or let it send through a relay on the local network.",
				Source: deviceSource,
				Step:   result.StepTLS,
			}
		}
	}
	if s.ImplicitTLS {
		return &result.Diagnosis{
			Category: result.Configuration,
			Summary:  "the device uses implicit TLS (as on port 465) instead of STARTTLS",
			Meaning: "smtp.office365.com offers client submission on port 587 (or 25) with STARTTLS only; Microsoft: if a device " +
				"recommends or defaults to port 465, it does not support SMTP AUTH client submission.",
			Fix: "Set the device to port 587 with STARTTLS (often labelled \"TLS\" or \"STARTTLS\" rather than \"SSL\"). A device " +
				"that can only do implicit TLS needs Direct Send, a relay connector, or a relay on the local network.",
			Source: deviceSource,
			Step:   result.StepTLS,
		}
	}
	if s.StartTLS && s.TLS == nil {
		return handshakeDiagnosis(s)
	}
	for _, a := range s.Auth {
		if a.InClear && a.Reply.Code >= 400 {
			return inClearDiagnosis(a)
		}
	}
	if s.BudgetReached {
		return &result.Diagnosis{
			Category: result.Configuration,
			Summary:  fmt.Sprintf("the session sent more than the listener records (%d KiB), so it was ended with 421 4.7.0", s.RecordBudget>>10),
			Meaning: "A copier sends a few dozen commands per scan; this client sent so many commands, recipients or " +
				"header lines in one session that its record reached the listener's budget. That is a misbehaving program " +
				"or a test tool rather than a device's scan to e-mail.",
			Fix:    "Find out what is at the client's address; test the device with a single scan to e-mail.",
			Source: deviceSource,
		}
	}
	for _, rej := range s.Rejections {
		if diag := FromReply(stepOf(rej.Command), rej.Reply); diag != nil {
			if rej.Command != "" {
				diag.Summary = rej.String()
			}
			return diag
		}
	}
	return expectationDiagnosis(label, s, failures)
}

// inClearDiagnosis explains AUTH credentials sent before STARTTLS that
// the listener refused, as smtp.office365.com does.
func inClearDiagnosis(a result.AuthAttempt) *result.Diagnosis {
	as := ""
	if a.User != "" {
		as = " as " + a.User
	}
	return &result.Diagnosis{
		Category: result.TLS,
		Summary:  fmt.Sprintf("the device sent its credentials without TLS (AUTH %s%s, before STARTTLS)", a.Mechanism, as),
		Meaning: "The device sent AUTH with its user name and password (or token) in plaintext, before any STARTTLS " +
			"(RFC 3207), although the listener did not offer AUTH there (" + a.Reply.Codes() + "). Anyone on the network " +
			"path could read the password; smtp.office365.com offers AUTH only inside TLS and refuses it before.",
		Fix: "Enable STARTTLS on the device (port 587; the security setting often labelled \"TLS\" or \"STARTTLS\", " +
			"not \"None\"), then change the mailbox's password: it crossed the network in the clear.",
		Source: deviceSource,
		Step:   result.StepAuth,
		Code:   a.Reply.Codes(),
	}
}

// certificateAlerts name the TLS alerts (RFC 8446 section 6) with which
// a client refuses the server's certificate.
var certificateAlerts = map[string]string{
	"bad_certificate":         "bad certificate",
	"unsupported_certificate": "unsupported certificate",
	"certificate_revoked":     "certificate revoked",
	"certificate_expired":     "certificate expired",
	"certificate_unknown":     "certificate unknown",
	"unknown_ca":              "unknown CA",
}

// certificateRefusal names why the device refused the listener's
// certificate, from the alert it sent or crypto/tls's words for it
// ("remote error: tls: unknown certificate authority"); "" when the
// handshake failed otherwise.
func certificateRefusal(s *result.DeviceSession) string {
	if why, ok := certificateAlerts[s.HandshakeAlert]; ok {
		return why
	}
	lower := strings.ToLower(s.HandshakeError)
	for _, w := range []struct{ text, why string }{
		{"unknown certificate authority", "unknown CA"}, {"unknown ca", "unknown CA"},
		{"bad certificate", "bad certificate"}, {"unknown certificate", "certificate unknown"},
		{"certificate unknown", "certificate unknown"}, {"expired certificate", "certificate expired"},
		{"revoked certificate", "certificate revoked"}, {"unsupported certificate", "unsupported certificate"},
	} {
		if strings.Contains(lower, w.text) {
			return w.why
		}
	}
	return ""
}

// handshakeDiagnosis explains a failed handshake after STARTTLS.
func handshakeDiagnosis(s *result.DeviceSession) *result.Diagnosis {
	err := s.HandshakeError
	if why := certificateRefusal(s); why != "" {
		meaning := "The device verifies the server certificate and does not trust the listener's self-signed one. " +
			"smtp.office365.com presents a certificate from a public CA, which the device accepts only if its CA list " +
			"and clock are current."
		if strings.Contains(err, "plaintext record") {
			meaning += " Under TLS 1.3 the device sent its alert unencrypted, as OpenSSL-based clients do, which Go's TLS " +
				"stack reports as \"bad record MAC\"; smtpdiag read the alert itself."
		}
		return &result.Diagnosis{
			Category: result.TLS,
			Summary:  "the device refused the listener's certificate (" + why + ")",
			Meaning:  meaning,
			Fix: "For this test, switch off certificate verification on the device, import the listener's certificate, or " +
				"give the device block a certificate the device trusts (certificate and key). Before going live, check the " +
				"device's date and time and that its firmware knows Microsoft's root CAs (DigiCert).",
			Source: deviceSource,
			Step:   result.StepTLS,
		}
	}
	return &result.Diagnosis{
		Category: result.TLS,
		Summary:  "the TLS handshake with the device failed: " + err,
		Meaning: "The device sent STARTTLS but the handshake did not complete, although the listener accepts TLS 1.0 to 1.3 " +
			"and every cipher suite Go implements; Microsoft 365, which accepts far less, will fail it too.",
		Fix:    "Update the device firmware; check its TLS or \"SSL\" settings (TLS 1.2, no SSL 3.0); or relay through a local server.",
		Source: deviceSource,
		Step:   result.StepTLS,
	}
}

// expectationDiagnosis explains failed expectations that no rejection or
// TLS problem accounts for. Only those the device reached count: one it
// never reached (a connection test ends after AUTH, before MAIL FROM)
// gets no advice meant for a different fault; when no other failed, the
// diagnosis says where the device stopped.
func expectationDiagnosis(label string, s *result.DeviceSession, failures []result.Failure) *result.Diagnosis {
	var names []string
	first := ""
	for _, f := range failures {
		if unreached(s, f.Expectation) {
			continue
		}
		if first == "" {
			first = f.Message
		}
		names = append(names, f.Expectation)
	}
	if len(names) == 0 {
		return stoppedDiagnosis(s, failures[0].Message)
	}
	switch {
	case slices.Contains(names, "starttls") || slices.Contains(names, "tls_version"):
		e, _ := Lookup(451, "5.7.3", "STARTTLS")
		return &result.Diagnosis{Category: result.TLS, Summary: first, Meaning: e.Meaning, Fix: e.Fix, Source: e.Source,
			Step: result.StepStartTLS}
	case slices.Contains(names, "auth_mechanism") || slices.Contains(names, "auth_user"):
		return &result.Diagnosis{
			Category: result.Auth,
			Summary:  first,
			Meaning: "smtp.office365.com offers AUTH LOGIN and XOAUTH2 only after STARTTLS, and the user name is the " +
				"mailbox's full address (its UPN).",
			Fix: "Enter the mailbox address as the device's SMTP user name and enable SMTP authentication on the device " +
				"(LOGIN, or OAuth 2.0 where the firmware supports it).",
			Source: deviceSource,
			Step:   result.StepAuth,
		}
	case slices.Contains(names, "mail_from"):
		e, _ := Lookup(550, "5.7.60", "")
		return &result.Diagnosis{Category: e.Category, Summary: first, Meaning: e.Meaning, Fix: e.Fix, Setting: e.Setting,
			Source: e.Source, Step: result.StepMail}
	case slices.Contains(names, "message_size"):
		return &result.Diagnosis{
			Category: result.Policy,
			Summary:  first,
			Meaning:  "The scan is larger than this suite allows; Exchange Online rejects messages above the mailbox's or tenant's size limit.",
			Fix:      "Lower the scan resolution, use compression or PDF instead of TIFF, or split large jobs on the device.",
			Step:     result.StepMessage,
		}
	}
	return &result.Diagnosis{
		Category: result.Configuration,
		Summary:  first,
		Meaning:  fmt.Sprintf("The device did not do what the device block %q expects.", label),
		Fix:      "Compare the device's SMTP settings (server, port 587, STARTTLS, authentication, sender address) with the suite.",
		Source:   deviceSource,
	}
}

// unreached reports whether the session ended before the device could
// meet the expectation: no AUTH, no MAIL FROM, no recipient or no whole
// message.
func unreached(s *result.DeviceSession, expectation string) bool {
	switch expectation {
	case "auth_mechanism", "auth_user":
		return len(s.Auth) == 0
	case "mail_from":
		return s.MailFrom == nil && len(s.Messages) == 0
	case "rcpt_count":
		return len(s.Recipients) == 0 && len(s.Messages) == 0
	case "message_size":
		return len(s.Messages) == 0
	}
	return false
}

// stoppedDiagnosis explains a session whose failed expectations all lie
// beyond where the device stopped: summary is the first of them.
func stoppedDiagnosis(s *result.DeviceSession, summary string) *result.Diagnosis {
	stopped := s.Stopped()
	if s.EndedInMessage {
		d := &result.Diagnosis{
			Category: result.Network,
			Summary:  summary,
			Meaning: "Part of a message arrived, but not its end (the \".\" line of RFC 5321 section 4.1.1.4, or the last " +
				"BDAT chunk): " + stopped + ". The listener accepts messages up to 150 MB and did not refuse this one, " +
				"so the transfer broke off on the device's side or on the way.",
			Fix: "Look in the device's log or job history for why the transfer stopped; check the network between the " +
				"device and this computer (cable, Wi-Fi, switch port) and the device's SMTP timeout setting, then send the " +
				"scan again.",
			Source: "https://www.rfc-editor.org/rfc/rfc5321#section-4.1.1.4",
			Step:   result.StepMessage,
		}
		if s.EndedBy == result.EndedByTimeout {
			d.Meaning = "Part of a message arrived, then the device sent nothing more until the listener's idle timeout: " +
				stopped + "."
		}
		return d
	}
	return &result.Diagnosis{
		Category: result.Configuration,
		Summary:  summary,
		Meaning: "Everything the device did is recorded above, but " + stopped + ": what it would have sent next (the " +
			"sender, the recipients, the message) was never seen, so the expectations on it could not be checked. A " +
			"device's connection test stops like this.",
		Fix: "Send a real scan to e-mail (not the connection test) while smtpdiag listens; if a real scan stops at the " +
			"same place, look in the device's log or job history for the reason.",
		Source: deviceSource,
	}
}

// bestVersion is the newest offered TLS version as a number (1.2), 0
// when none is known.
func bestVersion(versions []string) float64 {
	best := 0.0
	for _, v := range versions {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f > best {
			best = f
		}
	}
	return best
}

// keyExchanges names the key exchanges of the offered suites: "RSA key
// exchange", "RSA key exchange and DHE".
func keyExchanges(suites []string) string {
	var kinds []string
	for _, name := range suites {
		kind := "RSA key exchange"
		switch {
		case strings.HasPrefix(name, "TLS_DHE_"):
			kind = "DHE"
		case strings.HasPrefix(name, "TLS_ECDH_"):
			kind = "static ECDH"
		case !strings.HasPrefix(name, "TLS_RSA_"):
			kind = "other"
		}
		if !slices.Contains(kinds, kind) {
			kinds = append(kinds, kind)
		}
	}
	if len(kinds) == 0 {
		return "no cipher suite"
	}
	return strings.Join(kinds, " and ")
}

// stepOf maps a device command to the conversation step it stands for.
func stepOf(command string) result.Step {
	verb, _, _ := strings.Cut(strings.ToUpper(command), " ")
	switch verb {
	case "AUTH":
		return result.StepAuth
	case "MAIL":
		return result.StepMail
	case "RCPT":
		return result.StepRcpt
	case "DATA", "BDAT":
		return result.StepData
	case "STARTTLS":
		return result.StepStartTLS
	case "":
		return result.StepTLS
	}
	return result.StepEHLO
}
