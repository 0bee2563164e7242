// Package esmtp is the SMTP vocabulary every part of smtpdiag shares:
// replies with their RFC 3463 enhanced status codes, and the extensions an
// EHLO reply advertises. It reads and writes no connection.
package esmtp

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Reply is one SMTP reply, possibly multi-line (RFC 5321 section 4.2).
type Reply struct {
	// Code is the three-digit basic reply code.
	Code int `json:"code"`
	// Enhanced is the RFC 3463 enhanced status code ("5.7.606"), taken from
	// the first line that carries one, or "".
	Enhanced string `json:"enhanced,omitempty"`
	// Lines holds the text of each line, without the code, the separator
	// and the enhanced code where the line started with it.
	Lines []string `json:"lines"`
}

// Positive reports whether the reply is a positive completion or
// intermediate reply (2xx or 3xx).
func (r Reply) Positive() bool { return r.Code >= 200 && r.Code < 400 }

// Temporary reports whether the reply is a transient negative completion
// (4xx), the only kind of negative reply worth retrying.
func (r Reply) Temporary() bool { return r.Code >= 400 && r.Code < 500 }

// Permanent reports whether the reply is a permanent negative completion (5xx).
func (r Reply) Permanent() bool { return r.Code >= 500 && r.Code < 600 }

// Text joins the text lines with single spaces.
func (r Reply) Text() string { return strings.Join(r.Lines, " ") }

// Codes renders the reply's codes: "550 5.7.606", or "550" without an
// enhanced code.
func (r Reply) Codes() string {
	if r.Enhanced == "" {
		return strconv.Itoa(r.Code)
	}
	return strconv.Itoa(r.Code) + " " + r.Enhanced
}

// String renders the reply on one line: "550 5.7.606 Access denied, ...".
func (r Reply) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", r.Code)
	if r.Enhanced != "" {
		b.WriteString(" ")
		b.WriteString(r.Enhanced)
	}
	if t := r.Text(); t != "" {
		b.WriteString(" ")
		b.WriteString(t)
	}
	return b.String()
}

// BracketedIP returns the first IP address written in square brackets in
// text, or "": "[192.0.2.1]", "[2001:db8::1]" or the RFC 5321 section 4.1.3
// form "[IPv6:2001:db8::1]". Servers name the client IP this way in an
// EHLO greeting ("SN1NAM02FT0049.mail.protection.outlook.com Hello
// [18.209.86.113]") and in rejections ("banned sending IP [203.0.113.5]").
// An IPv4-mapped IPv6 address is returned as IPv4.
func BracketedIP(text string) string {
	for {
		open := strings.IndexByte(text, '[')
		if open < 0 {
			return ""
		}
		text = text[open+1:]
		end := strings.IndexByte(text, ']')
		if end < 0 {
			return ""
		}
		candidate := text[:end]
		if len(candidate) > 5 && strings.EqualFold(candidate[:5], "IPv6:") {
			candidate = candidate[5:]
		}
		if addr, err := netip.ParseAddr(candidate); err == nil && addr.Zone() == "" {
			return addr.Unmap().String()
		}
	}
}

// ParseReplyLine splits one reply line, without its line ending, into its
// code, whether it is the last line of the reply, and its text (RFC 5321
// section 4.2: Reply-code [ SP / "-" textstring ]). The error says what is
// wrong with a line that is not a reply line.
func ParseReplyLine(line []byte) (code int, final bool, text string, err error) {
	if len(line) < 3 {
		return 0, false, "", errors.New("reply line shorter than a reply code")
	}
	for _, c := range line[:3] {
		if c < '0' || c > '9' {
			return 0, false, "", errors.New("reply code is not three digits")
		}
	}
	// RFC 5321 section 4.2.1: the first digit is 2, 3, 4 or 5.
	if line[0] < '2' || line[0] > '5' {
		return 0, false, "", fmt.Errorf("reply code %s is not 2xx to 5xx", line[:3])
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
	return 0, false, "", errors.New("no space or hyphen after the reply code")
}

// NewReply builds a reply from its code and the text of each line. The
// enhanced status code is taken from the first line whose text starts with
// one (RFC 3463 section 2) and stripped from every line that starts with
// that same code.
func NewReply(code int, texts []string) Reply {
	r := Reply{Code: code, Lines: texts}
	for _, t := range texts {
		if ec := EnhancedPrefix(t); ec != "" {
			r.Enhanced = ec
			break
		}
	}
	if r.Enhanced == "" {
		return r
	}
	for i, t := range texts {
		if EnhancedPrefix(t) == r.Enhanced {
			texts[i] = strings.TrimLeft(t[len(r.Enhanced):], " ")
		}
	}
	return r
}

// ParseReply parses the lines of one complete reply ("250-first",
// "250 last"), without line endings.
func ParseReply(lines []string) (Reply, error) {
	if len(lines) == 0 {
		return Reply{}, errors.New("empty reply")
	}
	texts := make([]string, 0, len(lines))
	code := -1
	for i, line := range lines {
		c, final, text, err := ParseReplyLine([]byte(line))
		if err != nil {
			return Reply{}, err
		}
		if code >= 0 && c != code {
			return Reply{}, fmt.Errorf("code %d after %d in one reply", c, code)
		}
		if final != (i == len(lines)-1) {
			return Reply{}, errors.New("continuation marks do not end at the last line")
		}
		code = c
		texts = append(texts, text)
	}
	return NewReply(code, texts), nil
}
