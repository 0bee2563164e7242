package smtpclient

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/safetext"
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
	// Kind is result.FaultMalformed or result.FaultTooLong.
	Kind result.FaultKind
	// Reason says what is wrong, e.g. "code 550 after 250 in one reply".
	Reason string
	// Line holds the offending line as received, at most 200 bytes.
	Line []byte
}

func (e *ProtocolError) Error() string {
	return e.Reason + ": " + strconv.Quote(string(e.Line))
}

func protocolError(kind result.FaultKind, line []byte, format string, args ...any) *ProtocolError {
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
func ReadReply(r *bufio.Reader) (reply esmtp.Reply, raw []byte, err error) {
	code := -1
	var texts []string
	for n := 0; ; n++ {
		line, err := readLine(r, MaxLineLength)
		raw = append(raw, line...)
		if err == errLineTooLong {
			return esmtp.Reply{}, raw, protocolError(result.FaultTooLong, line,
				"reply line longer than %d bytes", MaxLineLength)
		}
		if err != nil {
			if err == io.EOF && len(raw) > 0 {
				// The reply began but its last line never ended.
				err = io.ErrUnexpectedEOF
			}
			return esmtp.Reply{}, raw, err
		}
		if len(raw) > MaxReplySize {
			return esmtp.Reply{}, raw, protocolError(result.FaultTooLong, line,
				"reply longer than %d bytes", MaxReplySize)
		}
		if n >= MaxReplyLines {
			return esmtp.Reply{}, raw, protocolError(result.FaultTooLong, line,
				"reply longer than %d lines", MaxReplyLines)
		}
		text := trimEOL(line)
		c, final, rest, perr := esmtp.ParseReplyLine(text)
		if perr != nil {
			return esmtp.Reply{}, raw, protocolError(result.FaultMalformed, text, "%s", perr)
		}
		if code >= 0 && c != code {
			return esmtp.Reply{}, raw, protocolError(result.FaultMalformed, text,
				"code %d after %d in one reply", c, code)
		}
		code = c
		texts = append(texts, rest)
		if final {
			break
		}
	}
	reply = esmtp.NewReply(code, texts)
	for i, l := range reply.Lines {
		reply.Lines[i] = safetext.Line(l)
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
