package suite

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"unicode"
)

// Checks on strings that end up on the wire. SMTP commands and header
// fields are lines ended by CRLF (RFC 5321 section 2.3.8, RFC 5322 section
// 2.2), so a CR or LF inside a value would end the command early and let
// the rest be read as a command of its own: a suite must never be able to
// inject SMTP commands or header fields.

// checkLine rejects CR, LF and NUL.
func checkLine(s string) error {
	for _, r := range s {
		switch r {
		case '\r':
			return errors.New("contains a carriage return (CR); it would end the SMTP line early and start a new command")
		case '\n':
			return errors.New("contains a line feed (LF); it would end the SMTP line early and start a new command")
		case 0:
			return errors.New("contains a NUL character")
		}
	}
	return nil
}

// checkWord rejects what checkLine rejects and any whitespace or control
// character: the value is a single token of an SMTP command.
func checkWord(s string) error {
	if err := checkLine(s); err != nil {
		return err
	}
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			return fmt.Errorf("contains whitespace (%q)", r)
		case unicode.IsControl(r):
			return fmt.Errorf("contains a control character (%q)", r)
		}
	}
	return nil
}

// checkAddress checks a mailbox for MAIL FROM, RCPT TO or a message header.
// It is deliberately lenient about syntax (RFC 5321 section 4.1.2 allows
// quoted local parts, and RCPT TO:<postmaster> has no domain) but rejects
// everything that could break out of the command: line breaks, NUL,
// whitespace, angle brackets (the client adds them) and a second @.
func checkAddress(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	if err := checkWord(s); err != nil {
		return err
	}
	if strings.ContainsAny(s, "<>") {
		return errors.New("contains an angle bracket; write the bare address (a@example.com), smtpdiag adds the brackets")
	}
	if strings.Count(s, "@") > 1 {
		return errors.New("contains more than one @")
	}
	if strings.HasPrefix(s, "@") || strings.HasSuffix(s, "@") {
		return errors.New("has an empty local part or domain around the @")
	}
	return nil
}

// checkHost checks a host name or IP literal to connect to.
func checkHost(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	if err := checkWord(s); err != nil {
		return err
	}
	if strings.HasPrefix(s, "[") {
		inner := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		if _, err := netip.ParseAddr(inner); err == nil && strings.HasSuffix(s, "]") {
			return fmt.Errorf("is an IP literal in brackets; write it without them: %q", inner)
		}
		if h, p, err := net.SplitHostPort(s); err == nil {
			return fmt.Errorf("includes a port; write host = %q and port = %s", h, p)
		}
		return errors.New("is neither a host name nor an IP address")
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	if h, p, err := net.SplitHostPort(s); err == nil {
		return fmt.Errorf("includes a port; write host = %q and port = %s", h, p)
	}
	name := strings.TrimSuffix(s, ".")
	if len(name) > 253 {
		return errors.New("is longer than 253 characters")
	}
	for _, label := range strings.Split(name, ".") {
		if err := checkHostLabel(label); err != nil {
			return err
		}
	}
	return nil
}

// checkHostLabel checks one label of a DNS name (RFC 1123 section 2.1,
// with underscores tolerated as many resolvers do).
func checkHostLabel(label string) error {
	switch {
	case label == "":
		return errors.New("has an empty label (two dots in a row, or a leading dot)")
	case len(label) > 63:
		return fmt.Errorf("has a label longer than 63 characters (%q)", label)
	case strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-"):
		return fmt.Errorf("has a label that starts or ends with a hyphen (%q)", label)
	}
	for _, r := range label {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
		case r > unicode.MaxASCII:
			return errors.New("contains non-ASCII characters; write internationalized names in their xn-- (punycode) form")
		default:
			return fmt.Errorf("contains %q, which is not allowed in a host name", r)
		}
	}
	return nil
}

// checkHeaderName checks a header field name: printable US-ASCII except
// the colon (RFC 5322 section 3.6.8).
func checkHeaderName(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	for _, r := range s {
		if r < 33 || r > 126 || r == ':' {
			return fmt.Errorf("contains %q; a header name is printable ASCII without spaces or colons", r)
		}
	}
	return nil
}
