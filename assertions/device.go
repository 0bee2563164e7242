package assertions

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// DeviceExpect holds the expect attributes of a device block: what a
// device (a copier, a scanner) must do when it talks to smtpdiag acting as
// its SMTP server. A nil pointer or nil slice means "not set".
type DeviceExpect struct {
	// StartTLS: true, the device sent STARTTLS and the handshake
	// succeeded; false, it never sent STARTTLS.
	StartTLS *bool
	// TLSVersion compares the negotiated TLS version ("1.2" is 1.2).
	TLSVersion *Comparison
	// OffersTLSVersions: each version ("1.2") must be offered in the
	// device's ClientHello.
	OffersTLSVersions []string
	// ECDHE: whether the ClientHello offers an ECDHE key exchange.
	ECDHE *bool
	// AuthMechanism is the SASL mechanism the device must use ("LOGIN"),
	// compared without regard to case.
	AuthMechanism *string
	// AuthUser is the user name the device must authenticate as, compared
	// without regard to case (Exchange Online user names are addresses).
	AuthUser *string
	// MailFrom is the envelope sender the device must give, compared
	// without regard to case, for every message of the session; "" is the
	// null reverse-path.
	MailFrom *string
	// RcptCount compares the number of recipients the device gave.
	RcptCount *Comparison
	// MessageSize must hold for every message the device sent.
	MessageSize *SizeComparison
}

// DeviceOutcome is what a device did in one session, as the expectations
// read it. The runner fills it from the listener's session record.
type DeviceOutcome struct {
	// StartTLS is true when the device sent STARTTLS.
	StartTLS bool
	// ImplicitTLS is true when the device started a TLS handshake at once
	// instead of speaking SMTP (implicit TLS, as on port 465).
	ImplicitTLS bool
	// HelloSeen is true when a ClientHello was recorded; OfferedVersions
	// ("1.0" to "1.3"), OfferedSuites (IANA names) and OffersECDHE come
	// from it.
	HelloSeen       bool
	OfferedVersions []string
	OfferedSuites   []string
	OffersECDHE     bool
	// TLSVersion is the negotiated version ("1.2"), "" without a TLS
	// session; HandshakeError says why a handshake failed.
	TLSVersion     string
	HandshakeError string
	// AuthMechanism and AuthUser are those of the device's last AUTH
	// command ("" when it sent none; AuthUser is "" when the exchange
	// ended before the user name was sent). AuthReply is the listener's
	// final reply to it ("504 5.7.4 ..."), AuthInClear is true when the
	// device sent its credentials without TLS.
	AuthMechanism string
	AuthUser      string
	AuthReply     string
	AuthRefused   bool
	AuthInClear   bool
	// MailFrom is the sender of the device's last MAIL command, nil when
	// it sent none; MessageFroms are the senders of the messages it sent,
	// one per message, in order.
	MailFrom     *string
	MessageFroms []string
	// RcptCount is the number of recipients the device gave.
	RcptCount int
	// MessageSizes are the sizes in octets of the messages it sent.
	MessageSizes []int64
	// CutShort, when not "", says why the session ended before the
	// device could go on ("the listener refused TLS 1.0 with 421 4.7.66"):
	// expectations on what it would have done next fail as not reached.
	CutShort string
	// Stopped says where the device stopped ("the device ended the
	// session after AUTH", "the device closed the connection during the
	// message, after 4096 octets of it"), for expectations it never
	// reached; EndedInMessage is true when it stopped inside a message.
	Stopped        string
	EndedInMessage bool
	// Rejections are the negative replies the device got, each on one
	// line with its command ("530 5.7.57 Client not authenticated to send
	// mail at MAIL FROM:<scanner@contoso.com>"). Any of them fails the
	// session: the device would have met the same reply from Microsoft
	// 365.
	Rejections []string
}

// EvaluateDevice checks a device block's expectations against one
// session. Without an expect block (e nil) the session passes when the
// device met no rejection and every TLS handshake it began succeeded; with
// one, every expectation must hold as well.
func EvaluateDevice(e *DeviceExpect, o *DeviceOutcome) []result.Failure {
	if e == nil {
		e = &DeviceExpect{}
	}
	ev := &deviceEval{o: o}
	ev.tls(e)
	ev.session(e)
	ev.unanticipated(e)
	return ev.out
}

// deviceEval collects the failures of one device session.
type deviceEval struct {
	o   *DeviceOutcome
	out []result.Failure
}

func (ev *deviceEval) fail(name, format string, args ...any) {
	ev.out = append(ev.out, result.Failure{Expectation: name, Message: name + ": " + fmt.Sprintf(format, args...)})
}

// never says why the device did not send what: the session was cut
// short, or where the device stopped ("the device ended the session
// after AUTH; it never sent MAIL FROM").
func (ev *deviceEval) never(what string) string {
	switch {
	case ev.o.CutShort != "":
		return "not reached: " + ev.o.CutShort
	case ev.o.Stopped != "":
		return ev.o.Stopped + "; it never sent " + what
	}
	return "the device never sent " + what
}

// tls judges STARTTLS and what the device offered and negotiated.
func (ev *deviceEval) tls(e *DeviceExpect) {
	if e.StartTLS != nil {
		switch {
		case *e.StartTLS && ev.o.ImplicitTLS:
			ev.fail("starttls", "expected STARTTLS, but the device started TLS at once (implicit TLS, as on port 465)")
		case *e.StartTLS && !ev.o.StartTLS:
			ev.fail("starttls", "expected STARTTLS, but the device never sent it%s", plaintextNote(ev.o))
		case *e.StartTLS && ev.o.TLSVersion == "":
			ev.fail("starttls", "the device sent STARTTLS, but the TLS handshake failed: %s", orUnknown(ev.o.HandshakeError))
		case !*e.StartTLS && ev.o.StartTLS:
			ev.fail("starttls", "expected no STARTTLS, but the device sent it")
		}
	}
	if e.TLSVersion != nil {
		cmp := *e.TLSVersion
		switch {
		case ev.o.TLSVersion != "":
			if v, err := strconv.ParseFloat(ev.o.TLSVersion, 64); err != nil || !cmp.Holds(v) {
				ev.fail("tls_version", "expected %s, the device negotiated TLS %s%s", cmp.Source, ev.o.TLSVersion, offerNote(ev.o))
			}
		case ev.o.HelloSeen:
			ev.fail("tls_version", "expected %s, but no TLS session was established (%s)%s",
				cmp.Source, orUnknown(ev.o.HandshakeError), offerNote(ev.o))
		default:
			ev.fail("tls_version", "expected %s, but the device never started TLS", cmp.Source)
		}
	}
	for _, want := range e.OffersTLSVersions {
		switch {
		case !ev.o.HelloSeen:
			ev.fail("offers_tls_versions", "expected the device to offer TLS %s, but it never started TLS", want)
		case !slices.Contains(ev.o.OfferedVersions, want):
			ev.fail("offers_tls_versions", "expected the device to offer TLS %s; its ClientHello offers %s", want, versionList(ev.o.OfferedVersions))
		}
	}
	if e.ECDHE != nil {
		switch {
		case !ev.o.HelloSeen:
			ev.fail("ecdhe", "expected %s, but the device never started TLS", ecdheWord(*e.ECDHE))
		case *e.ECDHE && !ev.o.OffersECDHE:
			ev.fail("ecdhe", "expected an ECDHE cipher suite, but the device offers only %s", suiteList(ev.o.OfferedSuites))
		case !*e.ECDHE && ev.o.OffersECDHE:
			ev.fail("ecdhe", "expected no ECDHE cipher suite, but the device offers one")
		}
	}
}

// session judges AUTH, the envelope and the messages.
func (ev *deviceEval) session(e *DeviceExpect) {
	if e.AuthMechanism != nil {
		switch {
		case ev.o.AuthMechanism == "":
			ev.fail("auth_mechanism", "expected AUTH %s, but %s", strings.ToUpper(*e.AuthMechanism), ev.never("AUTH"))
		case !strings.EqualFold(ev.o.AuthMechanism, *e.AuthMechanism):
			ev.fail("auth_mechanism", "expected AUTH %s, the device used AUTH %s", strings.ToUpper(*e.AuthMechanism), ev.o.AuthMechanism)
		}
	}
	if e.AuthUser != nil {
		switch {
		case ev.o.AuthMechanism == "":
			ev.fail("auth_user", "expected to authenticate as %s, but %s", *e.AuthUser, ev.never("AUTH"))
		case ev.o.AuthUser == "" && ev.o.AuthRefused:
			ev.fail("auth_user", "expected to authenticate as %s, but the listener refused AUTH %s (%s) before the device sent a user name",
				*e.AuthUser, ev.o.AuthMechanism, ev.o.AuthReply)
		case ev.o.AuthUser == "":
			ev.fail("auth_user", "expected to authenticate as %s, but the device sent no user name", *e.AuthUser)
		case !strings.EqualFold(ev.o.AuthUser, *e.AuthUser):
			ev.fail("auth_user", "expected %s, the device authenticated as %s", *e.AuthUser, ev.o.AuthUser)
		}
	}
	if e.MailFrom != nil {
		switch {
		case len(ev.o.MessageFroms) > 0:
			// Every message's sender, not only the last MAIL FROM's.
			for i, from := range ev.o.MessageFroms {
				if strings.EqualFold(from, *e.MailFrom) {
					continue
				}
				which := "the message"
				if len(ev.o.MessageFroms) > 1 {
					which = fmt.Sprintf("message %d", i+1)
				}
				ev.fail("mail_from", "expected MAIL FROM:<%s>, the device sent %s with MAIL FROM:<%s>", *e.MailFrom, which, from)
			}
		case ev.o.MailFrom == nil:
			ev.fail("mail_from", "expected MAIL FROM:<%s>, but %s", *e.MailFrom, ev.never("MAIL FROM"))
		case !strings.EqualFold(*ev.o.MailFrom, *e.MailFrom):
			ev.fail("mail_from", "expected MAIL FROM:<%s>, the device sent MAIL FROM:<%s>", *e.MailFrom, *ev.o.MailFrom)
		}
	}
	if e.RcptCount != nil && !e.RcptCount.Holds(float64(ev.o.RcptCount)) {
		if ev.o.RcptCount == 0 && (ev.o.CutShort != "" || ev.o.MailFrom == nil) {
			ev.fail("rcpt_count", "expected %s, but %s", e.RcptCount.Source, ev.never("RCPT TO"))
		} else {
			ev.fail("rcpt_count", "expected %s, the device gave %d %s", e.RcptCount.Source, ev.o.RcptCount, plural(ev.o.RcptCount, "recipient"))
		}
	}
	if e.MessageSize != nil {
		if len(ev.o.MessageSizes) == 0 {
			switch {
			case ev.o.CutShort == "" && ev.o.EndedInMessage:
				ev.fail("message_size", "expected %s, but %s; no message arrived whole", e.MessageSize.Source, ev.o.Stopped)
			case ev.o.CutShort != "" || ev.o.Stopped != "":
				ev.fail("message_size", "expected %s, but %s", e.MessageSize.Source, ev.never("a message"))
			default:
				ev.fail("message_size", "expected %s, but the device sent no message", e.MessageSize.Source)
			}
		}
		for i, n := range ev.o.MessageSizes {
			if e.MessageSize.Holds(n) {
				continue
			}
			which := "the message"
			if len(ev.o.MessageSizes) > 1 {
				which = fmt.Sprintf("message %d", i+1)
			}
			ev.fail("message_size", "expected %s, %s is %s", e.MessageSize.Source, which, FormatSize(n))
		}
	}
}

// unanticipated fails a TLS failure no expectation covers, and every
// rejection the listener gave.
func (ev *deviceEval) unanticipated(e *DeviceExpect) {
	if ev.o.ImplicitTLS && e.StartTLS == nil {
		ev.fail("tls", "the device started TLS at once (implicit TLS, as on port 465) instead of STARTTLS")
	} else if ev.o.StartTLS && ev.o.TLSVersion == "" && e.StartTLS == nil && e.TLSVersion == nil {
		ev.fail("tls", "the TLS handshake failed: %s%s", orUnknown(ev.o.HandshakeError), offerNote(ev.o))
	}
	for _, r := range ev.o.Rejections {
		ev.out = append(ev.out, result.Failure{Expectation: "step", Message: "rejected: " + r})
	}
}

func plaintextNote(o *DeviceOutcome) string {
	if o.MailFrom != nil {
		return " (it sent MAIL FROM in plaintext)"
	}
	return ""
}

// offerNote adds what the ClientHello offered to a version failure.
func offerNote(o *DeviceOutcome) string {
	if !o.HelloSeen {
		return ""
	}
	return "; its ClientHello offers " + versionList(o.OfferedVersions)
}

func orUnknown(s string) string {
	if s == "" {
		return "no reason recorded"
	}
	return s
}

func ecdheWord(want bool) string {
	if want {
		return "an ECDHE cipher suite"
	}
	return "no ECDHE cipher suite"
}

// versionList renders offered versions: "TLS 1.0 and 1.1", "TLS 1.2".
func versionList(vs []string) string {
	switch len(vs) {
	case 0:
		return "no TLS version (SSL 3.0 or older)"
	case 1:
		return "TLS " + vs[0]
	}
	return "TLS " + strings.Join(vs[:len(vs)-1], ", ") + " and " + vs[len(vs)-1]
}

// suiteList names at most four suites, then counts the rest.
func suiteList(names []string) string {
	if len(names) == 0 {
		return "no cipher suite"
	}
	const shown = 4
	if len(names) <= shown {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more without ECDHE", strings.Join(names[:shown], ", "), len(names)-shown)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// SizeComparison is a parsed size comparison such as "< 10MB" or ">= 1 KB"
// (operators as in Comparison; a bare size means =).
type SizeComparison struct {
	Source string
	Op     string
	Bytes  int64
}

// sizeUnits are the units a size may carry. KB, MB and GB are binary
// multiples, as in Exchange Online's own limits: its SIZE 157286400 is
// the 150 MB message size limit.
var sizeUnits = []struct {
	suffix string
	factor float64
}{
	{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30},
	{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30},
	{"B", 1},
}

// ParseSizeComparison parses a size comparison: an optional operator,
// a number and an optional unit (B, KB, MB, GB; KB = 1024 octets),
// as in "< 10MB", "<= 512 KB" or "1048576".
func ParseSizeComparison(s string) (SizeComparison, error) {
	src := strings.TrimSpace(s)
	fail := func(what string) (SizeComparison, error) {
		return SizeComparison{}, fmt.Errorf("invalid size comparison %q: %s; write an operator and a size, as in \"< 10MB\" or \">= 1KB\" (KB, MB and GB are multiples of 1024)", src, what)
	}
	op, rest := splitOperator(src)
	if rest == "" {
		return fail("the size is missing")
	}
	factor := 1.0
	upper := strings.ToUpper(rest)
	for _, u := range sizeUnits {
		if strings.HasSuffix(upper, u.suffix) {
			factor = u.factor
			rest = strings.TrimSpace(rest[:len(rest)-len(u.suffix)])
			break
		}
	}
	v, err := strconv.ParseFloat(rest, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return fail(fmt.Sprintf("%q is not a size", rest))
	}
	n := v * factor
	if n > math.MaxInt64/2 {
		return fail("the size is too large")
	}
	return SizeComparison{Source: src, Op: op, Bytes: int64(math.Round(n))}, nil
}

// String returns the comparison as written.
func (c SizeComparison) String() string { return c.Source }

// Holds reports whether a size of n octets satisfies the comparison.
func (c SizeComparison) Holds(n int64) bool {
	return Comparison{Op: c.Op, Value: float64(c.Bytes)}.Holds(float64(n))
}

// FormatSize renders a size in octets for a person: "812 octets",
// "1.5 KB (1536 octets)", "12.3 MB (12897485 octets)".
func FormatSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d %s", n, plural(int(n), "octet"))
	case n < 1<<20:
		return fmt.Sprintf("%.1f KB (%d octets)", float64(n)/(1<<10), n)
	case n < 1<<30:
		return fmt.Sprintf("%.1f MB (%d octets)", float64(n)/(1<<20), n)
	}
	return fmt.Sprintf("%.1f GB (%d octets)", float64(n)/(1<<30), n)
}
