// Package msreply holds Exchange Online's reply texts and the rewrite of
// go-smtp's replies into them. go-smtp hard-codes the texts of its
// positive replies ("250-Hello <helo>", "Roger, accepting mail from ...");
// the server front of internal/smtpd passes every reply go-smtp writes
// through a Rewriter, so that a client sees the wording of
// smtp.office365.com (m365-facts.md section 6).
package msreply

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// Replies the server front (internal/smtpd) sends itself, in Exchange
// Online's wording.
const (
	// SendHelloFirst refuses a command that needs a preceding EHLO, such
	// as any but AllowedBeforeHello after STARTTLS (RFC 3207 section 4.2).
	SendHelloFirst = "503 5.5.2 Send hello first"
	// ReadyToStartTLS accepts STARTTLS (RFC 3207 section 4).
	ReadyToStartTLS = "220 2.0.0 SMTP server ready"
	// TLSAlreadyActive refuses STARTTLS inside a TLS session.
	TLSAlreadyActive = "503 5.5.1 TLS already active"
)

// UnrecognizedAuth is Exchange Online's answer to AUTH with a mechanism
// it does not offer, which includes any AUTH before STARTTLS on
// smtp.office365.com (RFC 4954 section 4 leaves the code open; Exchange
// Online says 504 5.7.4). host is the server's name.
func UnrecognizedAuth(host string) *smtp.SMTPError {
	return refusal(504, 4, "Unrecognized authentication type", host)
}

// AuthUnsuccessful refuses credentials, or a SASL response that cannot
// be parsed (RFC 4954 section 6 has 535 5.7.8; Exchange Online says
// 535 5.7.3).
func AuthUnsuccessful(host string) *smtp.SMTPError {
	return refusal(535, 3, "Authentication unsuccessful", host)
}

// StartTLSRequired refuses MAIL before STARTTLS where TLS is required
// (RFC 3207 section 4: the server may refuse commands until TLS is up).
func StartTLSRequired(host string) *smtp.SMTPError {
	return refusal(451, 3, "STARTTLS is required to send mail", host)
}

// NotAuthenticated refuses MAIL before AUTH where AUTH is required (RFC
// 4954 section 6 has 530 5.7.0; Exchange Online says 530 5.7.57).
func NotAuthenticated(host string) *smtp.SMTPError {
	return refusal(530, 57, "Client not authenticated to send mail.", host)
}

// refusal is a security-policy refusal (enhanced code 5.7.detail, RFC
// 3463 section 3.8) with the server's name in brackets, as Exchange
// Online words them.
func refusal(code, detail int, text, host string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{5, 7, detail},
		Message: fmt.Sprintf("%s [%s]", text, host)}
}

// AllowedBeforeHello reports whether verb is accepted between STARTTLS
// and the EHLO that must follow it; anything else gets SendHelloFirst.
func AllowedBeforeHello(verb string) bool {
	switch verb {
	case "EHLO", "HELO", "QUIT", "NOOP", "RSET":
		return true
	}
	return false
}

// ParseCommand splits a command line the way go-smtp's parser does (a
// four-letter verb, or STARTTLS), so that the server front and go-smtp agree
// on what each line is. verb is "" for lines go-smtp rejects.
func ParseCommand(line string) (verb, arg string) {
	line = strings.TrimRight(line, "\r\n")
	switch {
	case strings.HasPrefix(strings.ToUpper(line), "STARTTLS"):
		return "STARTTLS", ""
	case len(line) == 4:
		return strings.ToUpper(line), ""
	case len(line) > 5 && line[4] == ' ':
		return strings.ToUpper(line[:4]), strings.TrimSpace(line[5:])
	}
	return "", ""
}

// ReplyBuffer gathers go-smtp's output, which may arrive in pieces, into
// complete replies.
type ReplyBuffer struct {
	partial []byte   // an incomplete line
	lines   []string // the lines of a multi-line reply seen so far
}

// Add takes more of go-smtp's output and calls send with each reply it
// completes, in order, its lines without CRLF. It stops at send's first
// error and returns it.
func (b *ReplyBuffer) Add(p []byte, send func(reply []string) error) error {
	b.partial = append(b.partial, p...)
	for {
		i := bytes.IndexByte(b.partial, '\n')
		if i < 0 {
			return nil
		}
		line := strings.TrimSuffix(string(b.partial[:i]), "\r")
		b.partial = b.partial[i+1:]
		b.lines = append(b.lines, line)
		// RFC 5321 section 4.2.1: "ddd-" continues a reply, "ddd " ends it.
		if len(line) >= 4 && line[3] == '-' {
			continue
		}
		reply := b.lines
		b.lines = nil
		if err := send(reply); err != nil {
			return err
		}
	}
}

// Rewriter turns go-smtp's replies on one connection into the replies
// Exchange Online gives in their place. Its fields are set before the
// first reply; it is used by one goroutine.
type Rewriter struct {
	// Hostname is the server's name in the banner, the EHLO reply and
	// queue IDs.
	Hostname string
	// ClientIP is echoed in the EHLO and HELO replies.
	ClientIP string
	// Now is the clock of the banner.
	Now func() time.Time
	// MessageID returns the local part of the queue ID of each message
	// accepted ("250 2.0.0 OK <id@host>").
	MessageID func() string

	greeted bool
}

// Rewrite returns the reply to send in place of go-smtp's reply. encrypted
// reports whether TLS is up (STARTTLS is offered only before it); lastWord
// is the first word of the client's last command line, echoed in the
// reply to an unknown command. hello reports that the reply accepts EHLO
// or HELO. Negative replies of the session already carry Microsoft's
// texts and pass unchanged.
func (r *Rewriter) Rewrite(reply []string, encrypted bool, lastWord string) (out []string, hello bool) {
	first := reply[0]
	if !r.greeted {
		r.greeted = true
		if strings.HasPrefix(first, "220 ") {
			return []string{r.banner()}, false
		}
	}
	host := r.Hostname
	switch {
	case strings.HasPrefix(first, "250-Hello "):
		return r.ehloReply(reply[1:], encrypted), true
	case strings.HasPrefix(first, "250 2.0.0 Hello "):
		return []string{fmt.Sprintf("250 %s Hello [%s]", host, r.ClientIP)}, true
	case len(reply) > 1:
		return reply, false
	case first == "250 2.0.0 OK: queued":
		return []string{fmt.Sprintf("250 2.0.0 OK <%s@%s> [Hostname=%s]", r.MessageID(), host, host)}, false
	case strings.HasPrefix(first, "500 5.5.2 Syntax errors, "), first == "501 5.5.2 Bad command":
		// go-smtp's replies to unknown verbs and to lines it cannot split
		// into a verb.
		return []string{fmt.Sprintf("500 5.3.3 Unrecognized command '%s'", lastWord)}, false
	}
	for _, g := range goSMTPReplies {
		if strings.HasPrefix(first, g.goSMTP) {
			return []string{g.exchange}, false
		}
	}
	return reply, false
}

// goSMTPReplies maps the start of go-smtp's fixed replies to the replies
// Exchange Online gives in the same place (m365-facts.md section 6).
var goSMTPReplies = []struct{ goSMTP, exchange string }{
	{"250 2.0.0 Roger, accepting mail from ", "250 2.1.0 Sender OK"},
	{"250 2.0.0 I'll make sure ", "250 2.1.5 Recipient OK"},
	{"354 ", "354 Start mail input; end with <CRLF>.<CRLF>"},
	{"235 ", "235 2.7.0 Authentication successful"},
	{"221 ", "221 2.0.0 Service closing transmission channel"},
	{"250 2.0.0 Session reset", "250 2.0.0 Resetting"},
	{"250 2.0.0 I have successfully done nothing", "250 2.0.0 OK"},
	{"502 5.5.1 Please introduce yourself first.", SendHelloFirst},
	{"502 5.5.1 Missing MAIL FROM command.", "503 5.5.2 Need mail command"},
	{"502 5.5.1 Missing RCPT TO command.", "503 5.5.2 Need rcpt command"},
}

// banner is Exchange Online's greeting (m365-facts.md section 6).
func (r *Rewriter) banner() string {
	return fmt.Sprintf("220 %s Microsoft ESMTP MAIL Service ready at %s",
		r.Hostname, r.Now().UTC().Format(time.RFC1123Z))
}

// ehloReply renders the EHLO reply with Exchange Online's greeting line,
// which echoes the client's IP ("Hello [203.0.113.5]") rather than its
// EHLO argument, and its order of extensions.
func (r *Rewriter) ehloReply(extensions []string, encrypted bool) []string {
	keywords := make([]string, 0, len(extensions)+1)
	for _, line := range extensions {
		keywords = append(keywords, line[4:])
	}
	if !encrypted {
		// RFC 3207 section 4: offered only before TLS; go-smtp does not
		// offer it because the server front answers STARTTLS.
		keywords = append(keywords, "STARTTLS")
	}
	sort.SliceStable(keywords, func(i, j int) bool {
		return extensionRank(keywords[i]) < extensionRank(keywords[j])
	})
	out := []string{fmt.Sprintf("250-%s Hello [%s]", r.Hostname, r.ClientIP)}
	for i, kw := range keywords {
		sep := "-"
		if i == len(keywords)-1 {
			sep = " "
		}
		out = append(out, "250"+sep+kw)
	}
	return out
}

// extensionRank is a keyword line's place in Exchange Online's EHLO reply
// (AUTH takes the place of STARTTLS once TLS is up); unknown keywords come
// last.
func extensionRank(keywordLine string) int {
	kw, _, _ := strings.Cut(keywordLine, " ")
	switch strings.ToUpper(kw) {
	case "SIZE":
		return 1
	case "PIPELINING":
		return 2
	case "DSN":
		return 3
	case "ENHANCEDSTATUSCODES":
		return 4
	case "STARTTLS", "AUTH":
		return 5
	case "8BITMIME":
		return 6
	case "BINARYMIME":
		return 7
	case "CHUNKING":
		return 8
	case "SMTPUTF8":
		return 9
	}
	return 10
}

// BDATChunkSize parses the arguments of a BDAT command (RFC 3030 section
// 2: "BDAT chunk-size [LAST]") the way go-smtp does, so that the server front
// and the server behind it agree on how many bytes of chunk follow.
func BDATChunkSize(arg string) (int64, bool) {
	args := strings.Fields(arg)
	if len(args) == 0 || len(args) > 2 || (len(args) == 2 && !strings.EqualFold(args[1], "LAST")) {
		return 0, false
	}
	size, err := strconv.ParseUint(args[0], 10, 32)
	if err != nil {
		return 0, false
	}
	return int64(size), true
}
