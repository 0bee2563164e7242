package smtpclient

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"sort"
	"strings"
	"time"
)

// maxLine is the longest text line RFC 5321 section 4.5.3.1.6 allows
// (1000 octets with CRLF); longer body lines are sent quoted-printable.
const maxLine = 998

// buildMessage composes the RFC 5322 message of the plan: Date, From, To,
// Subject, Message-ID, the MIME headers, the extra headers sorted by name
// (an extra header named like a standard one replaces it), a blank line and
// the body. Line endings are "\n"; Data makes them CRLF.
func buildMessage(p Plan, now time.Time) ([]byte, error) {
	m := p.Message
	from := m.From
	if from == "" && p.MailFrom != nil {
		from = *p.MailFrom
	}
	to := m.To
	if len(to) == 0 {
		to = p.RcptTo
	}
	date := m.Date
	if date.IsZero() {
		date = now
	}
	id := m.MessageID
	if id == "" {
		domain := p.Helo
		if domain == "" {
			domain = "localhost"
		}
		var b [12]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:]) + "@" + domain
	}
	if !strings.HasPrefix(id, "<") {
		id = "<" + id + ">"
	}
	body, encoding := encodeBody(m.Body)

	type field struct{ name, value string }
	fields := []field{
		{"Date", date.Format(time.RFC1123Z)},
		{"From", from},
		{"To", strings.Join(to, ", ")},
		{"Subject", mime.QEncoding.Encode("utf-8", m.Subject)},
		{"Message-ID", id},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", encoding},
	}
	names := make([]string, 0, len(m.Headers))
	for name := range m.Headers {
		if !validFieldName(name) {
			return nil, fmt.Errorf("header name %q is not a valid RFC 5322 field name", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		value := m.Headers[name]
		replaced := false
		for i := range fields {
			if strings.EqualFold(fields[i].name, name) {
				fields[i].value, replaced = value, true
			}
		}
		if !replaced {
			fields = append(fields, field{name, value})
		}
	}

	var b bytes.Buffer
	for _, f := range fields {
		b.WriteString(fold(f.name + ": " + headerValue(f.value)))
		b.WriteString("\n")
	}
	b.WriteString("\n")
	b.WriteString(body)
	return b.Bytes(), nil
}

// validFieldName reports whether name is printable US-ASCII without colon
// (RFC 5322 section 2.2).
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] < 33 || name[i] > 126 || name[i] == ':' {
			return false
		}
	}
	return true
}

// headerValue removes line breaks and NULs from a header value, so that no
// value can end its header and start another one (header injection).
func headerValue(v string) string {
	return strings.Join(strings.FieldsFunc(v, func(r rune) bool {
		return r == '\r' || r == '\n' || r == 0
	}), " ")
}

// fold breaks a header line longer than 78 characters before white space
// (RFC 5322 section 2.2.3).
func fold(line string) string {
	if len(line) <= 78 {
		return line
	}
	words := strings.Split(line, " ")
	var b strings.Builder
	n := 0
	for i, w := range words {
		if i > 0 {
			if n+1+len(w) > 78 && n > 0 {
				b.WriteString("\n")
				n = 0
			}
			b.WriteString(" ")
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

// encodeBody returns the body and its Content-Transfer-Encoding: 7bit when
// it is ASCII in short lines, otherwise quoted-printable (RFC 2045 section
// 6.7), which needs neither 8BITMIME nor long-line support from the server.
func encodeBody(body string) (string, string) {
	body = strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\r", "\n")
	plain := true
	for _, line := range strings.Split(body, "\n") {
		if len(line) > maxLine {
			plain = false
		}
	}
	for i := 0; i < len(body) && plain; i++ {
		if body[i] >= 0x80 || body[i] == 0 {
			plain = false
		}
	}
	if plain {
		return body, "7bit"
	}
	var b strings.Builder
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(body))
	w.Close()
	return strings.ReplaceAll(b.String(), "\r\n", "\n"), "quoted-printable"
}

// dotStuff makes message ready for the wire after DATA: CRLF line endings
// (a bare CR or LF becomes one, RFC 5321 section 2.3.8), a "." doubled at
// the start of every line (RFC 5321 section 4.5.2), and the CRLF.CRLF that
// ends the data.
func dotStuff(message []byte) []byte {
	text := strings.ReplaceAll(strings.ReplaceAll(string(message), "\r\n", "\n"), "\r", "\n")
	text = strings.TrimSuffix(text, "\n")
	var b bytes.Buffer
	b.Grow(len(text) + len(text)/40 + 8)
	if text != "" {
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, ".") {
				b.WriteByte('.')
			}
			b.WriteString(line)
			b.WriteString("\r\n")
		}
	}
	b.WriteString(".\r\n")
	return b.Bytes()
}
