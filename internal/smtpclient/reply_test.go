package smtpclient

import (
	"bufio"
	"errors"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/safetext"
)

func TestReadReply(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  esmtp.Reply
	}{
		{"single", "220 mx.example ESMTP ready\r\n",
			esmtp.Reply{Code: 220, Lines: []string{"mx.example ESMTP ready"}}},
		{"enhanced", "250 2.1.0 Sender OK\r\n",
			esmtp.Reply{Code: 250, Enhanced: "2.1.0", Lines: []string{"Sender OK"}}},
		{"multi-line", "250-mx.example Hello [192.0.2.7]\r\n250-SIZE 157286400\r\n250-STARTTLS\r\n250 SMTPUTF8\r\n",
			esmtp.Reply{Code: 250, Lines: []string{"mx.example Hello [192.0.2.7]", "SIZE 157286400", "STARTTLS", "SMTPUTF8"}}},
		{"enhanced from a later line", "550-Recipient rejected\r\n550-5.1.1 User unknown\r\n550 5.1.1 see https://example.com/\r\n",
			esmtp.Reply{Code: 550, Enhanced: "5.1.1", Lines: []string{"Recipient rejected", "User unknown", "see https://example.com/"}}},
		{"other enhanced code kept", "550-5.7.606 Access denied\r\n550 5.7.1 more\r\n",
			esmtp.Reply{Code: 550, Enhanced: "5.7.606", Lines: []string{"Access denied", "5.7.1 more"}}},
		{"three-digit parts", "451 4.7.500 Server busy\r\n",
			esmtp.Reply{Code: 451, Enhanced: "4.7.500", Lines: []string{"Server busy"}}},
		{"enhanced code alone", "250 2.0.0\r\n",
			esmtp.Reply{Code: 250, Enhanced: "2.0.0", Lines: []string{""}}},
		{"not an enhanced code", "250 2.0.0.1 ok\r\n",
			esmtp.Reply{Code: 250, Lines: []string{"2.0.0.1 ok"}}},
		{"four-digit detail", "550 5.7.6060 x\r\n",
			esmtp.Reply{Code: 550, Lines: []string{"5.7.6060 x"}}},
		{"class 3 is no enhanced code", "354 3.0.0 go\r\n",
			esmtp.Reply{Code: 354, Lines: []string{"3.0.0 go"}}},
		{"bare code", "250\r\n",
			esmtp.Reply{Code: 250, Lines: []string{""}}},
		{"bare code ends a multi-line reply", "250-first\r\n250\r\n",
			esmtp.Reply{Code: 250, Lines: []string{"first", ""}}},
		{"empty text", "334 \r\n",
			esmtp.Reply{Code: 334, Lines: []string{""}}},
		{"bare LF", "250-a\n250 2.0.0 b\n",
			esmtp.Reply{Code: 250, Enhanced: "2.0.0", Lines: []string{"a", "b"}}},
		{"NUL and escape", "220 a\x00b\x1b[31mred\r\n",
			esmtp.Reply{Code: 220, Lines: []string{`a\x00b\x1b[31mred`}}},
		{"invalid UTF-8", "220 caf\xe9\r\n",
			esmtp.Reply{Code: 220, Lines: []string{`caf\xe9`}}},
		{"bidi override", "220 a\u202eb\r\n",
			esmtp.Reply{Code: 220, Lines: []string{`a\u202eb`}}},
		{"tab kept", "220 a\tb\r\n",
			esmtp.Reply{Code: 220, Lines: []string{"a\tb"}}},
		{"stray CR escaped", "220 a\rb\r\r\n",
			esmtp.Reply{Code: 220, Lines: []string{`a\rb\r`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bufio.NewReader(strings.NewReader(tt.input + "250 next\r\n"))
			got, raw, err := ReadReply(r)
			if err != nil {
				t.Fatalf("ReadReply: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("reply = %#v, want %#v", got, tt.want)
			}
			if string(raw) != tt.input {
				t.Errorf("raw = %q, want %q", raw, tt.input)
			}
			// The next reply must be untouched.
			next, _, err := ReadReply(r)
			if err != nil || next.Code != 250 || next.Text() != "next" {
				t.Errorf("next reply = %v, %v", next, err)
			}
		})
	}
}

func TestReadReplyErrors(t *testing.T) {
	long := strings.Repeat("x", MaxLineLength+1)
	var many strings.Builder
	for range MaxReplyLines + 1 {
		many.WriteString("250-x\r\n")
	}
	many.WriteString("250 end\r\n")
	var big strings.Builder
	for big.Len() <= MaxReplySize {
		big.WriteString("250-" + strings.Repeat("y", 1000) + "\r\n")
	}
	big.WriteString("250 end\r\n")

	tests := []struct {
		name   string
		input  string
		kind   result.FaultKind
		reason string
		line   string
	}{
		{"non-digit code", "2x0 hello\r\n", result.FaultMalformed, "reply code is not three digits", "2x0 hello"},
		{"two-digit code", "25 hello\r\n", result.FaultMalformed, "reply code is not three digits", "25 hello"},
		{"four-digit code", "2500 hello\r\n", result.FaultMalformed, "no space or hyphen after the reply code", "2500 hello"},
		{"short line", "25\r\n", result.FaultMalformed, "reply line shorter than a reply code", "25"},
		{"empty line", "\r\n", result.FaultMalformed, "reply line shorter than a reply code", ""},
		{"missing separator", "250_hello\r\n", result.FaultMalformed, "no space or hyphen after the reply code", "250_hello"},
		{"class out of range", "100 continue\r\n", result.FaultMalformed, "reply code 100 is not 2xx to 5xx", "100 continue"},
		{"code mismatch", "250-one\r\n550 two\r\n", result.FaultMalformed, "code 550 after 250 in one reply", "550 two"},
		{"HTTP", "HTTP/1.1 400 Bad Request\r\n", result.FaultMalformed, "reply code is not three digits", "HTTP/1.1 400 Bad Request"},
		{"line too long", "220 " + long + "\r\n", result.FaultTooLong, "reply line longer than 4096 bytes", ("220 " + long)[:quoteLimit]},
		{"too many lines", many.String(), result.FaultTooLong, "reply longer than 1000 lines", "250-x\r\n"},
		{"too many bytes", big.String(), result.FaultTooLong, "reply longer than 65536 bytes", ("250-" + strings.Repeat("y", 1000) + "\r\n")[:quoteLimit]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ReadReply(bufio.NewReader(strings.NewReader(tt.input)))
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ProtocolError", err)
			}
			if pe.Kind != tt.kind || pe.Reason != tt.reason || string(pe.Line) != tt.line {
				t.Errorf("got %s %q %q, want %s %q %q", pe.Kind, pe.Reason, pe.Line, tt.kind, tt.reason, tt.line)
			}
		})
	}
}

// TestReadReplyLongLineBounded checks that a hostile endless line is not
// read into memory: the reader stops right after the limit.
func TestReadReplyLongLineBounded(t *testing.T) {
	endless := &countingReader{}
	_, raw, err := ReadReply(bufio.NewReader(endless))
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Kind != result.FaultTooLong {
		t.Fatalf("err = %v, want too-long", err)
	}
	if endless.n > MaxLineLength+8192 {
		t.Errorf("read %d bytes of an endless line, want at most %d", endless.n, MaxLineLength+8192)
	}
	if len(raw) > MaxLineLength+2 {
		t.Errorf("raw holds %d bytes", len(raw))
	}
}

// countingReader is an endless "220 xxxx..." line.
type countingReader struct{ n int }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
		if r.n+i < 4 {
			p[i] = "220 "[r.n+i]
		}
	}
	r.n += len(p)
	return len(p), nil
}

func TestReadReplyEOF(t *testing.T) {
	tests := []struct {
		input string
		want  error
		raw   string
	}{
		{"", io.EOF, ""},
		{"250-first\r\n", io.ErrUnexpectedEOF, "250-first\r\n"},
		{"250 no newline", io.ErrUnexpectedEOF, "250 no newline"},
	}
	for _, tt := range tests {
		_, raw, err := ReadReply(bufio.NewReader(strings.NewReader(tt.input)))
		if err != tt.want || string(raw) != tt.raw {
			t.Errorf("ReadReply(%q) = raw %q, %v; want raw %q, %v", tt.input, raw, err, tt.raw, tt.want)
		}
	}
}

var enhancedPattern = regexp.MustCompile(`^[245]\.[0-9]{1,3}\.[0-9]{1,3}$`)

func FuzzReadReply(f *testing.F) {
	for _, seed := range []string{
		"220 mx.example ESMTP\r\n",
		"250-mx.example Hello [192.0.2.1]\r\n250-AUTH LOGIN PLAIN\r\n250 2.0.0 OK\r\n",
		"550-Rejected\r\n550 5.7.606 Access denied, banned sending IP [192.0.2.1]\r\n",
		"250\r\n",
		"250-a\n250 b\n",
		"2x0 bad\r\n",
		"250-a\r\n550 b\r\n",
		"220 \x00\xff\xfe\u202e\r\n",
		"334 VXNlcm5hbWU6\r\n",
		"250 " + strings.Repeat("a", 5000) + "\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(strings.NewReader(string(data)))
		consumed := 0
		for range 100 {
			reply, raw, err := ReadReply(r)
			consumed += len(raw)
			if consumed > len(data) {
				t.Fatalf("raw bytes (%d) exceed the input (%d)", consumed, len(data))
			}
			if len(raw) > MaxReplySize+MaxLineLength+2 {
				t.Fatalf("raw holds %d bytes", len(raw))
			}
			if err != nil {
				var pe *ProtocolError
				if errors.As(err, &pe) && len(pe.Line) > quoteLimit {
					t.Fatalf("ProtocolError.Line holds %d bytes", len(pe.Line))
				}
				return
			}
			if reply.Code < 200 || reply.Code > 599 {
				t.Fatalf("code %d", reply.Code)
			}
			if len(reply.Lines) == 0 || len(reply.Lines) > MaxReplyLines {
				t.Fatalf("%d lines", len(reply.Lines))
			}
			if reply.Enhanced != "" && !enhancedPattern.MatchString(reply.Enhanced) {
				t.Fatalf("enhanced code %q", reply.Enhanced)
			}
			for _, l := range reply.Lines {
				if !utf8.ValidString(l) {
					t.Fatalf("invalid UTF-8 in %q", l)
				}
				for _, c := range l {
					if c != '\t' && safetext.Unsafe(c) {
						t.Fatalf("unsafe rune %s in %q", strconv.QuoteRune(c), l)
					}
				}
			}
		}
	})
}
