package knowledge

import (
	"strconv"
	"sync"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// Sources of the generic meanings.
const (
	rfc3463Source = "https://www.rfc-editor.org/rfc/rfc3463#section-3"
	rfc5321Source = "https://www.rfc-editor.org/rfc/rfc5321#section-4.2"
	rfc4954Source = "https://www.rfc-editor.org/rfc/rfc4954#section-6"
	rfc7372Source = "https://www.rfc-editor.org/rfc/rfc7372#section-3"
)

// genericMeaning is the RFC 3463 meaning of an enhanced code ("5.7.1:
// permanent failure: delivery not authorized, message refused") from its
// detail where the RFCs define one, else from its class and subject: the
// fallback for codes with no Exchange Online entry.
func genericMeaning(enhanced string) (meaning, bool) {
	e, ok := esmtp.ParseEnhanced(enhanced)
	if !ok {
		return meaning{}, false
	}
	word := classWord(e.Class)
	subject, detail := strconv.Itoa(e.Subject), strconv.Itoa(e.Detail)
	if m, ok := rfc3463Detail()[subject+"."+detail]; ok {
		m.text = word + ": " + m.text
		return m, true
	}
	if m, ok := rfc3463Subject()[subject]; ok {
		m.text = word + ": " + m.text
		return m, true
	}
	return meaning{}, false
}

// BasicMeaning returns the RFC 5321 (or RFC 4954 / RFC 3207) meaning of a
// basic reply code, for replies with no enhanced code.
func BasicMeaning(code int) (string, result.Category, string, bool) {
	if m, ok := basicCodes()[code]; ok {
		return m.text, m.cat, m.source, true
	}
	// RFC 5321 section 4.2.1: the first digit alone still says something.
	switch code / 100 {
	case 2:
		return "positive completion", result.Configuration, rfc5321Source, true
	case 3:
		return "positive intermediate reply", result.Configuration, rfc5321Source, true
	case 4:
		return "transient negative completion: the command was not accepted, trying again later may work", result.Configuration, rfc5321Source, true
	case 5:
		return "permanent negative completion: the command was not accepted and will not be on retry", result.Configuration, rfc5321Source, true
	}
	return "", "", "", false
}

type meaning struct {
	text   string
	cat    result.Category
	source string // "" = RFC 3463
}

// rfc returns the RFC that defines the meaning.
func (m meaning) rfc() string {
	if m.source != "" {
		return m.source
	}
	return rfc3463Source
}

// classWord returns the RFC 3463 section 2 name of an enhanced code's
// class.
func classWord(class int) string {
	switch class {
	case 2:
		return "success"
	case 4:
		return "temporary failure"
	}
	return "permanent failure"
}

// RFC 3463 section 3: the subjects.
var rfc3463Subject = sync.OnceValue(func() map[string]meaning {
	return map[string]meaning{
		"0": {"other or undefined status", result.Configuration, ""},
		"1": {"addressing status (a problem with an address)", result.Recipient, ""},
		"2": {"mailbox status", result.Recipient, ""},
		"3": {"mail system status", result.Configuration, ""},
		"4": {"network and routing status", result.Network, ""},
		"5": {"mail delivery protocol status", result.Configuration, ""},
		"6": {"message content or media status", result.Policy, ""},
		"7": {"security or policy status", result.Policy, ""},
	}
})

// RFC 3463 section 3 details, with the additions of RFC 4954 section 6
// (AUTH) and RFC 7372 section 3 (sender authentication).
var rfc3463Detail = sync.OnceValue(func() map[string]meaning {
	return map[string]meaning{
		"0.0":  {"other undefined status", result.Configuration, ""},
		"1.0":  {"other address status", result.Recipient, ""},
		"1.1":  {"bad destination mailbox address", result.Recipient, ""},
		"1.2":  {"bad destination system address", result.Recipient, ""},
		"1.3":  {"bad destination mailbox address syntax", result.Recipient, ""},
		"1.4":  {"destination mailbox address ambiguous", result.Recipient, ""},
		"1.5":  {"destination address valid", result.Recipient, ""},
		"1.6":  {"destination mailbox has moved, no forwarding address", result.Recipient, ""},
		"1.7":  {"bad sender's mailbox address syntax", result.Configuration, ""},
		"1.8":  {"bad sender's system address", result.Configuration, ""},
		"2.0":  {"other or undefined mailbox status", result.Recipient, ""},
		"2.1":  {"mailbox disabled, not accepting messages", result.Recipient, ""},
		"2.2":  {"mailbox full", result.Recipient, ""},
		"2.3":  {"message length exceeds administrative limit", result.Policy, ""},
		"2.4":  {"mailing list expansion problem", result.Recipient, ""},
		"3.0":  {"other or undefined mail system status", result.Configuration, ""},
		"3.1":  {"mail system full", result.Configuration, ""},
		"3.2":  {"system not accepting network messages", result.Configuration, ""},
		"3.3":  {"system not capable of selected features", result.Configuration, ""},
		"3.4":  {"message too big for system", result.Policy, ""},
		"3.5":  {"system incorrectly configured", result.Configuration, ""},
		"4.0":  {"other or undefined network or routing status", result.Network, ""},
		"4.1":  {"no answer from host", result.Network, ""},
		"4.2":  {"bad connection", result.Network, ""},
		"4.3":  {"directory server failure", result.Network, ""},
		"4.4":  {"unable to route", result.Network, ""},
		"4.5":  {"mail system congestion", result.Throttling, ""},
		"4.6":  {"routing loop detected", result.Network, ""},
		"4.7":  {"delivery time expired", result.Network, ""},
		"5.0":  {"other or undefined protocol status", result.Configuration, ""},
		"5.1":  {"invalid command", result.Configuration, ""},
		"5.2":  {"syntax error", result.Configuration, ""},
		"5.3":  {"too many recipients", result.Throttling, ""},
		"5.4":  {"invalid command arguments", result.Configuration, ""},
		"5.5":  {"wrong protocol version", result.Configuration, ""},
		"5.6":  {"authentication exchange line is too long (RFC 4954)", result.Auth, rfc4954Source},
		"6.0":  {"other or undefined media error", result.Policy, ""},
		"6.1":  {"media not supported", result.Policy, ""},
		"6.2":  {"conversion required and prohibited", result.Policy, ""},
		"6.3":  {"conversion required but not supported", result.Policy, ""},
		"6.4":  {"conversion with loss performed", result.Policy, ""},
		"6.5":  {"conversion failed", result.Policy, ""},
		"7.0":  {"other or undefined security status (RFC 4954 also uses it for \"authentication required\")", result.Policy, ""},
		"7.1":  {"delivery not authorized, message refused", result.Policy, ""},
		"7.2":  {"mailing list expansion prohibited", result.Policy, ""},
		"7.3":  {"security conversion required but not possible", result.TLS, ""},
		"7.4":  {"security features not supported", result.TLS, ""},
		"7.5":  {"cryptographic failure", result.TLS, ""},
		"7.6":  {"cryptographic algorithm not supported", result.TLS, ""},
		"7.7":  {"message integrity failure", result.Policy, ""},
		"7.8":  {"authentication credentials invalid (RFC 4954)", result.Auth, rfc4954Source},
		"7.9":  {"authentication mechanism is too weak (RFC 4954)", result.Auth, rfc4954Source},
		"7.11": {"encryption required for requested authentication mechanism (RFC 4954)", result.TLS, rfc4954Source},
		"7.12": {"a password transition is needed (RFC 4954)", result.Auth, rfc4954Source},
		"7.20": {"no passing DKIM signature found (RFC 7372)", result.DNS, rfc7372Source},
		"7.21": {"no acceptable DKIM signature found (RFC 7372)", result.DNS, rfc7372Source},
		"7.22": {"no valid author-matched DKIM signature found (RFC 7372)", result.DNS, rfc7372Source},
		"7.23": {"SPF validation failed (RFC 7372)", result.DNS, rfc7372Source},
		"7.24": {"SPF validation error (RFC 7372)", result.DNS, rfc7372Source},
		"7.25": {"reverse DNS validation failed (RFC 7372)", result.DNS, rfc7372Source},
		"7.26": {"multiple authentication checks failed (RFC 7372)", result.DNS, rfc7372Source},
	}
})

// basicCodes are the reply codes of RFC 5321 section 4.2.2/4.2.3, RFC 4954
// section 6 (AUTH) and RFC 3207 section 4 (STARTTLS).
var basicCodes = sync.OnceValue(func() map[int]meaning {
	return map[int]meaning{
		211: {"system status or help reply", result.Configuration, rfc5321Source},
		214: {"help message", result.Configuration, rfc5321Source},
		220: {"service ready", result.Configuration, rfc5321Source},
		221: {"service closing transmission channel", result.Configuration, rfc5321Source},
		235: {"authentication succeeded (RFC 4954)", result.Auth, rfc4954Source},
		250: {"requested mail action okay, completed", result.Configuration, rfc5321Source},
		251: {"user not local; will forward", result.Recipient, rfc5321Source},
		252: {"cannot verify the user, but will accept the message and attempt delivery", result.Recipient, rfc5321Source},
		334: {"server challenge during AUTH (RFC 4954)", result.Auth, rfc4954Source},
		354: {"start mail input; end with <CRLF>.<CRLF>", result.Configuration, rfc5321Source},
		421: {"service not available, closing transmission channel (the server is shutting down, overloaded or refuses this client for now)", result.Network, rfc5321Source},
		432: {"a password transition is needed (RFC 4954)", result.Auth, rfc4954Source},
		450: {"requested mail action not taken: mailbox unavailable (busy, or temporarily blocked for policy reasons)", result.Recipient, rfc5321Source},
		451: {"requested action aborted: local error in processing (on Exchange Online often a policy or throttling refusal; see the enhanced code)", result.Configuration, rfc5321Source},
		452: {"requested action not taken: insufficient system storage (or too many recipients)", result.Throttling, rfc5321Source},
		454: {"temporary authentication failure, or TLS not available for a temporary reason (RFC 4954, RFC 3207)", result.Auth, rfc4954Source},
		455: {"server unable to accommodate parameters", result.Configuration, rfc5321Source},
		500: {"syntax error, command unrecognized (or an AUTH line too long, RFC 4954)", result.Configuration, rfc5321Source},
		501: {"syntax error in parameters or arguments", result.Configuration, rfc5321Source},
		502: {"command not implemented", result.Configuration, rfc5321Source},
		503: {"bad sequence of commands (for example MAIL before AUTH, or AUTH twice)", result.Configuration, rfc5321Source},
		504: {"command parameter not implemented (for AUTH: unrecognized authentication type)", result.Auth, rfc5321Source},
		530: {"authentication required (RFC 4954), or must issue a STARTTLS command first (RFC 3207)", result.Auth, rfc4954Source},
		534: {"authentication mechanism is too weak (RFC 4954)", result.Auth, rfc4954Source},
		535: {"authentication credentials invalid (RFC 4954)", result.Auth, rfc4954Source},
		538: {"encryption required for requested authentication mechanism (RFC 4954)", result.TLS, rfc4954Source},
		550: {"requested action not taken: mailbox unavailable, or rejected for policy reasons", result.Recipient, rfc5321Source},
		551: {"user not local", result.Recipient, rfc5321Source},
		552: {"requested mail action aborted: exceeded storage allocation", result.Recipient, rfc5321Source},
		553: {"requested action not taken: mailbox name not allowed (bad address syntax or sender)", result.Configuration, rfc5321Source},
		554: {"transaction failed (or, in the greeting, no SMTP service here)", result.Policy, rfc5321Source},
		555: {"MAIL FROM/RCPT TO parameters not recognized or not implemented", result.Configuration, rfc5321Source},
	}
})
