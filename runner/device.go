package runner

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smtpdiag/smtpdiag/assertions"
	"github.com/smtpdiag/smtpdiag/internal/conversation"
	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/listener"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// Sources of the device diagnoses (reference/m365-facts.md sections 1
// and 2).
const (
	// deviceSetupSource compares SMTP AUTH submission, Direct Send and
	// relay for multifunction devices.
	deviceSetupSource = "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365"
	// legacyTLSSource is the link Exchange Online puts in 4.7.66.
	legacyTLSSource = "https://aka.ms/smtp_auth_tls"
	legacyTLSFix    = "Update the device firmware to a version that supports TLS 1.2 and enable it in the device's SMTP security settings; " +
		"where the tenant still allows it, point the device at smtp-legacy.office365.com; " +
		"or let the device send through a relay on the local network that accepts its TLS and speaks TLS 1.2 to Microsoft 365."
	legacyTLSSetting = "Set-TransportConfig -AllowLegacyTLSClients $true (needed for smtp-legacy.office365.com; not available in GCC, GCC High or DoD)"
)

// DeviceResult judges one recorded device session against a device
// block: the expectations (assertions.EvaluateDevice) and, when the
// session fails, a diagnosis that names Microsoft's requirement and the
// fix. label names the result (the device block's label, numbered when
// several sessions are judged).
func DeviceResult(d *suite.Device, s *listener.Session, label string, index int) *CheckResult {
	r := &CheckResult{
		Index:    index,
		Label:    label,
		Kind:     "device",
		Target:   s.Listen,
		Device:   s,
		Attempts: 1,
		Started:  s.Started,
		Duration: s.Duration,
		Status:   Passed,
	}
	o := DeviceOutcome(s)
	r.Failures = assertions.EvaluateDevice(d.Expect, o)
	if len(r.Failures) > 0 {
		r.Status = Failed
		r.Diagnosis = diagnoseDevice(d, s, r.Failures)
	}
	return r
}

// DeviceNoShow is the result of a device block when no device connected
// to listen within waited.
func DeviceNoShow(d *suite.Device, listen string, started time.Time, waited time.Duration, index int) *CheckResult {
	msg := fmt.Sprintf("connect: no device connected to %s within %s", listen, waited.Round(time.Second))
	return &CheckResult{
		Index:    index,
		Label:    d.Label,
		Kind:     "device",
		Target:   listen,
		Status:   Failed,
		Failures: []assertions.Failure{{Expectation: "connect", Message: msg}},
		Diagnosis: &knowledge.Diagnosis{
			Category: knowledge.Network,
			Summary:  fmt.Sprintf("no device connected to %s", listen),
			Meaning:  "Nothing opened a connection to the listener while it waited.",
			Fix: "Set the device's SMTP server to this computer's IP address and the listening port, make sure both are " +
				"on the same network (or routed), allow inbound TCP on that port in this computer's firewall, then send a " +
				"scan to e-mail or press the device's connection test.",
		},
		Started:  started,
		Duration: waited,
	}
}

// DeviceOutcome condenses a session into what the expectations read.
func DeviceOutcome(s *listener.Session) *assertions.DeviceOutcome {
	o := &assertions.DeviceOutcome{
		StartTLS:       s.StartTLS,
		ImplicitTLS:    s.ImplicitTLS,
		HandshakeError: s.HandshakeError,
		MailFrom:       s.MailFrom,
		RcptCount:      len(s.Recipients),
	}
	if h := s.ClientHello; h != nil {
		o.HelloSeen = true
		o.OfferedVersions = h.Versions
		o.OfferedSuites = h.CipherSuites
		o.OffersECDHE = h.ECDHE
	}
	if s.TLS != nil {
		o.TLSVersion = s.TLS.Version
	}
	if n := len(s.Auth); n > 0 {
		o.AuthMechanism = s.Auth[n-1].Mechanism
		o.AuthUser = s.Auth[n-1].User
	}
	for _, m := range s.Messages {
		o.MessageSizes = append(o.MessageSizes, m.Size)
	}
	for _, rej := range s.Rejections {
		o.Rejections = append(o.Rejections, rej.String())
		if strings.HasPrefix(rej.Reply, "421 ") {
			codes := rej.Reply
			if f := strings.Fields(codes); len(f) >= 2 && isEnhanced(f[1]) {
				codes = f[0] + " " + f[1]
			}
			o.CutShort = fmt.Sprintf("the listener ended the session with %s at %s", codes, rej.Command)
		}
	}
	switch {
	case s.ImplicitTLS:
		o.CutShort = "the device began TLS at once (implicit TLS), so no SMTP followed"
	case s.StartTLS && s.TLS == nil:
		o.CutShort = "the TLS handshake failed"
	}
	return o
}

// diagnoseDevice explains a failed session, most fundamental problem
// first: a TLS offer Microsoft 365 refuses, implicit TLS, a failed
// handshake, a rejection the knowledge base explains, then the failed
// expectations themselves.
func diagnoseDevice(d *suite.Device, s *listener.Session, failures []assertions.Failure) *knowledge.Diagnosis {
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
			return &knowledge.Diagnosis{
				Category: knowledge.TLS,
				Summary:  summary,
				Meaning: "Exchange Online requires TLS 1.2 or newer on smtp.office365.com: TLS 1.0 and 1.1 are unsupported since " +
					"October 2020 and disabled on the default endpoints since February 2022, where such a device gets " +
					"421 4.7.66 or a failed handshake. This device's ClientHello offers " + offer + "." + meaning,
				Fix:     legacyTLSFix,
				Setting: legacyTLSSetting,
				Source:  legacyTLSSource,
				Step:    conversation.StepTLS,
			}
		}
		if !h.ECDHE {
			return &knowledge.Diagnosis{
				Category: knowledge.TLS,
				Summary:  "the device offers no ECDHE cipher suite (only " + keyExchanges(h.CipherSuites) + ")",
				Meaning: "Exchange Online is reported to accept only ECDHE cipher suites since about February 2025, so that " +
					"devices limited to RSA key exchange (TLS_RSA_* suites, common in older Ricoh, Xerox, Kyocera and Sharp " +
					"firmware) fail with \"SSL negotiation failed\" (UNVERIFIED: second-hand reports, no Microsoft statement).",
				Fix: "Update the device firmware so that it offers ECDHE suites with TLS 1.2 (some devices hide them behind a " +
					"\"security level\" or \"encryption strength\" setting), or let it send through a relay on the local network.",
				Source: deviceSetupSource,
				Step:   conversation.StepTLS,
			}
		}
	}
	if s.ImplicitTLS {
		return &knowledge.Diagnosis{
			Category: knowledge.Configuration,
			Summary:  "the device uses implicit TLS (as on port 465) instead of STARTTLS",
			Meaning: "smtp.office365.com offers client submission on port 587 (or 25) with STARTTLS only; Microsoft: if a device " +
				"recommends or defaults to port 465, it does not support SMTP AUTH client submission.",
			Fix: "Set the device to port 587 with STARTTLS (often labelled \"TLS\" or \"STARTTLS\" rather than \"SSL\"). A device " +
				"that can only do implicit TLS needs Direct Send, a relay connector, or a relay on the local network.",
			Source: deviceSetupSource,
			Step:   conversation.StepTLS,
		}
	}
	if s.StartTLS && s.TLS == nil {
		return handshakeDiagnosis(s)
	}
	for _, rej := range s.Rejections {
		reply, ok := parseReply(rej.Reply)
		if !ok {
			continue
		}
		step := stepOf(rej.Command)
		if diag := knowledge.FromReply(step, reply); diag != nil {
			if rej.Command != "" {
				diag.Summary = rej.String()
			}
			return diag
		}
	}
	return expectationDiagnosis(d, s, failures)
}

// handshakeDiagnosis explains a failed handshake after STARTTLS.
func handshakeDiagnosis(s *listener.Session) *knowledge.Diagnosis {
	err := s.HandshakeError
	lower := strings.ToLower(err)
	if strings.Contains(lower, "bad certificate") || strings.Contains(lower, "unknown certificate") ||
		strings.Contains(lower, "certificate unknown") || strings.Contains(lower, "unknown ca") {
		return &knowledge.Diagnosis{
			Category: knowledge.TLS,
			Summary:  "the device refused the listener's certificate: " + err,
			Meaning: "The device verifies the server certificate and does not trust the listener's self-signed one. " +
				"smtp.office365.com presents a certificate from a public CA, which the device accepts only if its CA list " +
				"and clock are current.",
			Fix: "For this test, switch off certificate verification on the device, import the listener's certificate, or " +
				"give the device block a certificate the device trusts (certificate and key). Before going live, check the " +
				"device's date and time and that its firmware knows Microsoft's root CAs (DigiCert).",
			Source: deviceSetupSource,
			Step:   conversation.StepTLS,
		}
	}
	return &knowledge.Diagnosis{
		Category: knowledge.TLS,
		Summary:  "the TLS handshake with the device failed: " + err,
		Meaning: "The device sent STARTTLS but the handshake did not complete, although the listener accepts TLS 1.0 to 1.3 " +
			"and every cipher suite Go implements; Microsoft 365, which accepts far less, will fail it too.",
		Fix:    "Update the device firmware; check its TLS or \"SSL\" settings (TLS 1.2, no SSL 3.0); or relay through a local server.",
		Source: deviceSetupSource,
		Step:   conversation.StepTLS,
	}
}

// expectationDiagnosis explains failed expectations that no rejection or
// TLS problem accounts for.
func expectationDiagnosis(d *suite.Device, s *listener.Session, failures []assertions.Failure) *knowledge.Diagnosis {
	names := make([]string, 0, len(failures))
	for _, f := range failures {
		names = append(names, f.Expectation)
	}
	first := failures[0].Message
	switch {
	case slices.Contains(names, "starttls") || slices.Contains(names, "tls_version"):
		e, _ := knowledge.Lookup(451, "5.7.3", "STARTTLS")
		return &knowledge.Diagnosis{Category: knowledge.TLS, Summary: first, Meaning: e.Meaning, Fix: e.Fix, Source: e.Source,
			Step: conversation.StepStartTLS}
	case slices.Contains(names, "auth_mechanism") || slices.Contains(names, "auth_user"):
		return &knowledge.Diagnosis{
			Category: knowledge.Auth,
			Summary:  first,
			Meaning: "smtp.office365.com offers AUTH LOGIN and XOAUTH2 only after STARTTLS, and the user name is the " +
				"mailbox's full address (its UPN).",
			Fix: "Enter the mailbox address as the device's SMTP user name and enable SMTP authentication on the device " +
				"(LOGIN, or OAuth 2.0 where the firmware supports it).",
			Source: deviceSetupSource,
			Step:   conversation.StepAuth,
		}
	case slices.Contains(names, "mail_from"):
		e, _ := knowledge.Lookup(550, "5.7.60", "")
		return &knowledge.Diagnosis{Category: e.Category, Summary: first, Meaning: e.Meaning, Fix: e.Fix, Setting: e.Setting,
			Source: e.Source, Step: conversation.StepMail}
	case slices.Contains(names, "message_size"):
		return &knowledge.Diagnosis{
			Category: knowledge.Policy,
			Summary:  first,
			Meaning:  "The scan is larger than this suite allows; Exchange Online rejects messages above the mailbox's or tenant's size limit.",
			Fix:      "Lower the scan resolution, use compression or PDF instead of TIFF, or split large jobs on the device.",
			Step:     conversation.StepMessage,
		}
	}
	return &knowledge.Diagnosis{
		Category: knowledge.Configuration,
		Summary:  first,
		Meaning:  fmt.Sprintf("The device did not do what the device block %q expects.", d.Label),
		Fix:      "Compare the device's SMTP settings (server, port 587, STARTTLS, authentication, sender address) with the suite.",
		Source:   deviceSetupSource,
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

// parseReply reads a one-line reply such as "530 5.7.57 Client not
// authenticated" back into its parts.
func parseReply(s string) (conversation.Reply, bool) {
	if len(s) < 3 {
		return conversation.Reply{}, false
	}
	code, err := strconv.Atoi(s[:3])
	if err != nil {
		return conversation.Reply{}, false
	}
	r := conversation.Reply{Code: code}
	rest := strings.TrimSpace(s[3:])
	if word, text, _ := strings.Cut(rest, " "); isEnhanced(word) {
		r.Enhanced, rest = word, text
	}
	r.Lines = []string{rest}
	return r, true
}

func isEnhanced(w string) bool {
	parts := strings.Split(w, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil {
			return false
		}
	}
	return true
}

// stepOf maps a device command to the conversation step it stands for.
func stepOf(command string) conversation.Step {
	verb, _, _ := strings.Cut(strings.ToUpper(command), " ")
	switch verb {
	case "AUTH":
		return conversation.StepAuth
	case "MAIL":
		return conversation.StepMail
	case "RCPT":
		return conversation.StepRcpt
	case "DATA", "BDAT":
		return conversation.StepData
	case "STARTTLS":
		return conversation.StepStartTLS
	case "":
		return conversation.StepTLS
	}
	return conversation.StepEHLO
}
