package knowledge

import (
	"strconv"
	"sync"
)

// Sources of the generic meanings.
const (
	rfc3463Source = "https://www.rfc-editor.org/rfc/rfc3463#section-3"
	rfc5321Source = "https://www.rfc-editor.org/rfc/rfc5321#section-4.2"
	rfc4954Source = "https://www.rfc-editor.org/rfc/rfc4954#section-6"
	rfc7372Source = "https://www.rfc-editor.org/rfc/rfc7372#section-3"
)

// Generic returns the RFC 3463 meaning of an enhanced code ("5.7.1:
// permanent failure: delivery not authorized, message refused") from its
// detail where the RFCs define one, else from its class and subject. It is
// the fallback for codes with no Exchange Online entry.
func Generic(enhanced string) (string, Category, bool) {
	m, ok := genericMeaning(enhanced)
	return m.text, m.cat, ok
}

// GenericSource returns the RFC that defines an enhanced code's meaning.
func GenericSource(enhanced string) string {
	m, _ := genericMeaning(enhanced)
	return m.rfc()
}

func genericMeaning(enhanced string) (meaning, bool) {
	class, subject, detail, ok := splitEnhanced(enhanced)
	word, classOK := classWord(class)
	if !ok || !classOK || !isNumber(subject) || !isNumber(detail) {
		return meaning{}, false
	}
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
func BasicMeaning(code int) (string, Category, string, bool) {
	if m, ok := basicCodes()[code]; ok {
		return m.text, m.cat, m.source, true
	}
	// RFC 5321 section 4.2.1: the first digit alone still says something.
	switch code / 100 {
	case 2:
		return "positive completion", Configuration, rfc5321Source, true
	case 3:
		return "positive intermediate reply", Configuration, rfc5321Source, true
	case 4:
		return "transient negative completion: the command was not accepted, trying again later may work", Configuration, rfc5321Source, true
	case 5:
		return "permanent negative completion: the command was not accepted and will not be on retry", Configuration, rfc5321Source, true
	}
	return "", "", "", false
}

func isNumber(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 999 && len(s) <= 3
}

type meaning struct {
	text   string
	cat    Category
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
func classWord(class string) (string, bool) {
	switch class {
	case "2":
		return "success", true
	case "4":
		return "temporary failure", true
	case "5":
		return "permanent failure", true
	}
	return "", false
}

// RFC 3463 section 3: the subjects.
var rfc3463Subject = sync.OnceValue(func() map[string]meaning {
	return map[string]meaning{
		"0": {"other or undefined status", Configuration, ""},
		"1": {"addressing status (a problem with an address)", Recipient, ""},
		"2": {"mailbox status", Recipient, ""},
		"3": {"mail system status", Configuration, ""},
		"4": {"network and routing status", Network, ""},
		"5": {"mail delivery protocol status", Configuration, ""},
		"6": {"message content or media status", Policy, ""},
		"7": {"security or policy status", Policy, ""},
	}
})

// RFC 3463 section 3 details, with the additions of RFC 4954 section 6
// (AUTH) and RFC 7372 section 3 (sender authentication).
var rfc3463Detail = sync.OnceValue(func() map[string]meaning {
	return map[string]meaning{
		"0.0":  {"other undefined status", Configuration, ""},
		"1.0":  {"other address status", Recipient, ""},
		"1.1":  {"bad destination mailbox address", Recipient, ""},
		"1.2":  {"bad destination system address", Recipient, ""},
		"1.3":  {"bad destination mailbox address syntax", Recipient, ""},
		"1.4":  {"destination mailbox address ambiguous", Recipient, ""},
		"1.5":  {"destination address valid", Recipient, ""},
		"1.6":  {"destination mailbox has moved, no forwarding address", Recipient, ""},
		"1.7":  {"bad sender's mailbox address syntax", Configuration, ""},
		"1.8":  {"bad sender's system address", Configuration, ""},
		"2.0":  {"other or undefined mailbox status", Recipient, ""},
		"2.1":  {"mailbox disabled, not accepting messages", Recipient, ""},
		"2.2":  {"mailbox full", Recipient, ""},
		"2.3":  {"message length exceeds administrative limit", Policy, ""},
		"2.4":  {"mailing list expansion problem", Recipient, ""},
		"3.0":  {"other or undefined mail system status", Configuration, ""},
		"3.1":  {"mail system full", Configuration, ""},
		"3.2":  {"system not accepting network messages", Configuration, ""},
		"3.3":  {"system not capable of selected features", Configuration, ""},
		"3.4":  {"message too big for system", Policy, ""},
		"3.5":  {"system incorrectly configured", Configuration, ""},
		"4.0":  {"other or undefined network or routing status", Network, ""},
		"4.1":  {"no answer from host", Network, ""},
		"4.2":  {"bad connection", Network, ""},
		"4.3":  {"directory server failure", Network, ""},
		"4.4":  {"unable to route", Network, ""},
		"4.5":  {"mail system congestion", Throttling, ""},
		"4.6":  {"routing loop detected", Network, ""},
		"4.7":  {"delivery time expired", Network, ""},
		"5.0":  {"other or undefined protocol status", Configuration, ""},
		"5.1":  {"invalid command", Configuration, ""},
		"5.2":  {"syntax error", Configuration, ""},
		"5.3":  {"too many recipients", Throttling, ""},
		"5.4":  {"invalid command arguments", Configuration, ""},
		"5.5":  {"wrong protocol version", Configuration, ""},
		"5.6":  {"authentication exchange line is too long (RFC 4954)", Auth, rfc4954Source},
		"6.0":  {"other or undefined media error", Policy, ""},
		"6.1":  {"media not supported", Policy, ""},
		"6.2":  {"conversion required and prohibited", Policy, ""},
		"6.3":  {"conversion required but not supported", Policy, ""},
		"6.4":  {"conversion with loss performed", Policy, ""},
		"6.5":  {"conversion failed", Policy, ""},
		"7.0":  {"other or undefined security status (RFC 4954 also uses it for \"authentication required\")", Policy, ""},
		"7.1":  {"delivery not authorized, message refused", Policy, ""},
		"7.2":  {"mailing list expansion prohibited", Policy, ""},
		"7.3":  {"security conversion required but not possible", TLS, ""},
		"7.4":  {"security features not supported", TLS, ""},
		"7.5":  {"cryptographic failure", TLS, ""},
		"7.6":  {"cryptographic algorithm not supported", TLS, ""},
		"7.7":  {"message integrity failure", Policy, ""},
		"7.8":  {"authentication credentials invalid (RFC 4954)", Auth, rfc4954Source},
		"7.9":  {"authentication mechanism is too weak (RFC 4954)", Auth, rfc4954Source},
		"7.11": {"encryption required for requested authentication mechanism (RFC 4954)", TLS, rfc4954Source},
		"7.12": {"a password transition is needed (RFC 4954)", Auth, rfc4954Source},
		"7.20": {"no passing DKIM signature found (RFC 7372)", DNS, rfc7372Source},
		"7.21": {"no acceptable DKIM signature found (RFC 7372)", DNS, rfc7372Source},
		"7.22": {"no valid author-matched DKIM signature found (RFC 7372)", DNS, rfc7372Source},
		"7.23": {"SPF validation failed (RFC 7372)", DNS, rfc7372Source},
		"7.24": {"SPF validation error (RFC 7372)", DNS, rfc7372Source},
		"7.25": {"reverse DNS validation failed (RFC 7372)", DNS, rfc7372Source},
		"7.26": {"multiple authentication checks failed (RFC 7372)", DNS, rfc7372Source},
	}
})

// basicCodes are the reply codes of RFC 5321 section 4.2.2/4.2.3, RFC 4954
// section 6 (AUTH) and RFC 3207 section 4 (STARTTLS).
var basicCodes = sync.OnceValue(func() map[int]meaning {
	return map[int]meaning{
		211: {"system status or help reply", Configuration, rfc5321Source},
		214: {"help message", Configuration, rfc5321Source},
		220: {"service ready", Configuration, rfc5321Source},
		221: {"service closing transmission channel", Configuration, rfc5321Source},
		235: {"authentication succeeded (RFC 4954)", Auth, rfc4954Source},
		250: {"requested mail action okay, completed", Configuration, rfc5321Source},
		251: {"user not local; will forward", Recipient, rfc5321Source},
		252: {"cannot verify the user, but will accept the message and attempt delivery", Recipient, rfc5321Source},
		334: {"server challenge during AUTH (RFC 4954)", Auth, rfc4954Source},
		354: {"start mail input; end with <CRLF>.<CRLF>", Configuration, rfc5321Source},
		421: {"service not available, closing transmission channel (the server is shutting down, overloaded or refuses this client for now)", Network, rfc5321Source},
		432: {"a password transition is needed (RFC 4954)", Auth, rfc4954Source},
		450: {"requested mail action not taken: mailbox unavailable (busy, or temporarily blocked for policy reasons)", Recipient, rfc5321Source},
		451: {"requested action aborted: local error in processing (on Exchange Online often a policy or throttling refusal; see the enhanced code)", Configuration, rfc5321Source},
		452: {"requested action not taken: insufficient system storage (or too many recipients)", Throttling, rfc5321Source},
		454: {"temporary authentication failure, or TLS not available for a temporary reason (RFC 4954, RFC 3207)", Auth, rfc4954Source},
		455: {"server unable to accommodate parameters", Configuration, rfc5321Source},
		500: {"syntax error, command unrecognized (or an AUTH line too long, RFC 4954)", Configuration, rfc5321Source},
		501: {"syntax error in parameters or arguments", Configuration, rfc5321Source},
		502: {"command not implemented", Configuration, rfc5321Source},
		503: {"bad sequence of commands (for example MAIL before AUTH, or AUTH twice)", Configuration, rfc5321Source},
		504: {"command parameter not implemented (for AUTH: unrecognized authentication type)", Auth, rfc5321Source},
		530: {"authentication required (RFC 4954), or must issue a STARTTLS command first (RFC 3207)", Auth, rfc4954Source},
		534: {"authentication mechanism is too weak (RFC 4954)", Auth, rfc4954Source},
		535: {"authentication credentials invalid (RFC 4954)", Auth, rfc4954Source},
		538: {"encryption required for requested authentication mechanism (RFC 4954)", TLS, rfc4954Source},
		550: {"requested action not taken: mailbox unavailable, or rejected for policy reasons", Recipient, rfc5321Source},
		551: {"user not local", Recipient, rfc5321Source},
		552: {"requested mail action aborted: exceeded storage allocation", Recipient, rfc5321Source},
		553: {"requested action not taken: mailbox name not allowed (bad address syntax or sender)", Configuration, rfc5321Source},
		554: {"transaction failed (or, in the greeting, no SMTP service here)", Policy, rfc5321Source},
		555: {"MAIL FROM/RCPT TO parameters not recognized or not implemented", Configuration, rfc5321Source},
	}
})
