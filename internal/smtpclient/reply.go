package smtpclient

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/smtpdiag/smtpdiag/internal/conversation"
)

// Bounds on what ReadReply accepts. RFC 5321 section 4.5.3.1.5 limits a
// reply line to 512 octets; real servers exceed that (long banners, SIZE
// lists), so the client tolerates eight times as much and stops only where
// a server is clearly hostile or broken.
const (
	MaxLineLength = 4096     // bytes of one reply line, without its line ending
	MaxReplySize  = 64 << 10 // bytes of one whole reply
	MaxReplyLines = 1000     // lines of one multi-line reply
)

// quoteLimit bounds the offending bytes kept in a ProtocolError.
const quoteLimit = 200

// ProtocolError reports bytes from the server that are not an acceptable
// SMTP reply: malformed (RFC 5321 section 4.2) or beyond the client's bounds.
type ProtocolError struct {
	// Kind is conversation.FaultMalformed or conversation.FaultTooLong.
	Kind conversation.FaultKind
	// Reason says what is wrong, e.g. "code 550 after 250 in one reply".
	Reason string
	// Line holds the offending line as received, at most 200 bytes.
	Line []byte
}

func (e *ProtocolError) Error() string {
	return e.Reason + ": " + strconv.Quote(string(e.Line))
}

func protocolError(kind conversation.FaultKind, line []byte, format string, args ...any) *ProtocolError {
	if len(line) > quoteLimit {
		line = line[:quoteLimit]
	}
	return &ProtocolError{Kind: kind, Reason: fmt.Sprintf(format, args...), Line: append([]byte(nil), line...)}
}

// errLineTooLong is returned by readLine with the first MaxLineLength bytes.
var errLineTooLong = errors.New("line too long")

// ReadReply reads one SMTP reply, possibly multi-line (RFC 5321 section
// 4.2.1: "250-" continues, "250 " or a bare "250" ends it). It returns the
// parsed reply and the raw bytes consumed, line endings included; raw is
// returned on error too, so the caller can record what arrived.
//
// The enhanced status code (RFC 3463 section 2) is taken from the first line
// whose text starts with one, and stripped from every line that starts with
// that same code. Text is made safe for any output: invalid UTF-8 becomes
// U+FFFD and control characters other than tab are escaped.
//
// Errors: io.EOF when the connection ended before the first byte,
// io.ErrUnexpectedEOF when it ended inside a reply, a *ProtocolError for a
// malformed or oversized reply, or the reader's own error.
func ReadReply(r *bufio.Reader) (reply conversation.Reply, raw []byte, err error) {
	code := -1
	for n := 0; ; n++ {
		line, err := readLine(r, MaxLineLength)
		raw = append(raw, line...)
		if err == errLineTooLong {
			return conversation.Reply{}, raw, protocolError(conversation.FaultTooLong, line,
				"reply line longer than %d bytes", MaxLineLength)
		}
		if err != nil {
			if err == io.EOF && len(raw) > 0 {
				// The reply began but its last line never ended.
				err = io.ErrUnexpectedEOF
			}
			return conversation.Reply{}, raw, err
		}
		if len(raw) > MaxReplySize {
			return conversation.Reply{}, raw, protocolError(conversation.FaultTooLong, line,
				"reply longer than %d bytes", MaxReplySize)
		}
		if n >= MaxReplyLines {
			return conversation.Reply{}, raw, protocolError(conversation.FaultTooLong, line,
				"reply longer than %d lines", MaxReplyLines)
		}
		text := trimEOL(line)
		c, final, rest, perr := parseLine(text)
		if perr != nil {
			return conversation.Reply{}, raw, perr
		}
		if code >= 0 && c != code {
			return conversation.Reply{}, raw, protocolError(conversation.FaultMalformed, text,
				"code %d after %d in one reply", c, code)
		}
		code = c
		reply.Lines = append(reply.Lines, rest)
		if final {
			break
		}
	}
	reply.Code = code
	for _, l := range reply.Lines {
		if ec := enhancedCode(l); ec != "" {
			reply.Enhanced = ec
			break
		}
	}
	for i, l := range reply.Lines {
		if reply.Enhanced != "" && enhancedCode(l) == reply.Enhanced {
			l = strings.TrimLeft(l[len(reply.Enhanced):], " ")
		}
		reply.Lines[i] = SafeText(l)
	}
	return reply, raw, nil
}

// readLine reads up to and including '\n'. It never holds more than max
// bytes (plus the line ending) in memory: a longer line ends the read with
// errLineTooLong and the bytes read so far, leaving the rest unread.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		line = append(line, frag...)
		if contentLen(line) > max {
			if len(line) > max+2 {
				line = line[:max+2]
			}
			return line, errLineTooLong
		}
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}

// contentLen is the length of a line without its line ending, also while
// the ending is still incomplete (a "\r" whose "\n" has not been read).
func contentLen(line []byte) int {
	n := len(line)
	if n > 0 && line[n-1] == '\n' {
		n--
	}
	if n > 0 && line[n-1] == '\r' {
		n--
	}
	return n
}

// trimEOL drops a trailing "\n" and a "\r" before it; bare LF line endings
// are tolerated (RFC 5321 section 2.3.8 requires CRLF, but being strict here
// would only hide the server's actual answer).
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// parseLine splits one reply line into its code, whether it is the last line
// of the reply, and its text (RFC 5321 section 4.2: Reply-code [ SP / "-"
// textstring ]).
func parseLine(line []byte) (code int, final bool, text string, err error) {
	if len(line) < 3 {
		return 0, false, "", protocolError(conversation.FaultMalformed, line, "reply line shorter than a reply code")
	}
	for _, c := range line[:3] {
		if c < '0' || c > '9' {
			return 0, false, "", protocolError(conversation.FaultMalformed, line, "reply code is not three digits")
		}
	}
	// RFC 5321 section 4.2.1: the first digit is 2, 3, 4 or 5.
	if line[0] < '2' || line[0] > '5' {
		return 0, false, "", protocolError(conversation.FaultMalformed, line, "reply code %s is not 2xx to 5xx", line[:3])
	}
	code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	if len(line) == 3 {
		return code, true, "", nil
	}
	switch line[3] {
	case ' ':
		return code, true, string(line[4:]), nil
	case '-':
		return code, false, string(line[4:]), nil
	}
	return 0, false, "", protocolError(conversation.FaultMalformed, line, "no space or hyphen after the reply code")
}

// enhancedCode returns the RFC 3463 status code at the start of text
// (class "." subject "." detail; class 2, 4 or 5, subject and detail one to
// three digits), followed by a space or the end of the text, or "".
func enhancedCode(text string) string {
	if len(text) < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.' {
		return ""
	}
	i := 2
	for part := 0; part < 2; part++ {
		start := i
		for i < len(text) && i-start < 4 && text[i] >= '0' && text[i] <= '9' {
			i++
		}
		if n := i - start; n < 1 || n > 3 {
			return ""
		}
		if part == 0 {
			if i >= len(text) || text[i] != '.' {
				return ""
			}
			i++
		}
	}
	if i < len(text) && text[i] != ' ' {
		return ""
	}
	return text[:i]
}

// SafeText makes text from the server safe to print anywhere (terminals,
// JSON, XML, HTML): invalid UTF-8 becomes U+FFFD; control characters except
// tab, the Unicode line and paragraph separators and the bidirectional
// controls become Go-style escapes such as \x00 or \u202e.
func SafeText(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError:
			b.WriteRune(utf8.RuneError)
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	switch {
	case r == '\t':
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	case r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi controls
		return true
	}
	return false
}
