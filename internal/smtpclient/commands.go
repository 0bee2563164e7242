package smtpclient

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// Hello sends EHLO (RFC 5321 section 4.1.1.1) and records the extensions the
// server advertises and the client IP it echoes. When EHLO is rejected with
// 5xx it falls back to HELO (RFC 5321 section 3.2), recorded as a second
// StepEHLO.
func (c *Client) Hello() error {
	helo := c.plan.Helo
	if helo == "" {
		helo = "localhost"
	}
	reply, err := c.exchange(result.StepEHLO, "EHLO "+helo, "EHLO "+helo, 2)
	c.noteClientIP(reply)
	var se *StepError
	if errors.As(err, &se) && se.Fault == nil && se.Reply.Permanent() {
		c.conv.UsedHELO = true
		reply, err = c.exchange(result.StepEHLO, "HELO "+helo, "HELO "+helo, 2)
		c.noteClientIP(reply)
		if err == nil {
			// HELO carries no extensions.
			reply = &esmtp.Reply{Lines: reply.Lines[:1]}
		}
	}
	if err != nil {
		return err
	}
	c.setExtensions(reply.Lines[1:])
	return nil
}

// noteClientIP records the first address the server echoed in the first
// line of an EHLO or HELO reply, as Exchange Online does:
// "SN1NAM02FT0049.mail.protection.outlook.com Hello [18.209.86.113]".
func (c *Client) noteClientIP(reply *esmtp.Reply) {
	if reply == nil || len(reply.Lines) == 0 || c.conv.ClientIP != "" {
		return
	}
	c.conv.ClientIP = esmtp.BracketedIP(reply.Lines[0])
}

// setExtensions records the extension lines of an EHLO reply (RFC 5321
// section 4.1.1.1: keyword, then parameters separated by spaces).
func (c *Client) setExtensions(lines []string) {
	c.ext = esmtp.ParseEHLO(append([]string{}, lines...))
	if c.inTLS {
		c.conv.EHLOAfterTLS = c.ext
	} else {
		c.conv.EHLOBeforeTLS = c.ext
	}
}

// StartTLS sends STARTTLS and runs the TLS handshake (RFC 3207). A server
// that does not advertise STARTTLS gets no command: the step is recorded
// with a not-advertised fault. Bytes that arrive together with the 220 reply
// are an injection attempt (RFC 3207 section 4, CVE-2011-0411): they are
// recorded and the connection is closed, because they would otherwise be
// read as if they had come through TLS. Call Hello again afterwards.
func (c *Client) StartTLS() error {
	if c.conn == nil {
		return c.notConnected(result.StepStartTLS)
	}
	if !c.ext.Has("STARTTLS") {
		return c.fail(result.StepStartTLS, "", c.offset(), nil, &result.Fault{
			Kind:    result.FaultNotAdvertised,
			Message: "server does not advertise STARTTLS",
		})
	}
	if _, err := c.exchange(result.StepStartTLS, "STARTTLS", "STARTTLS", 2); err != nil {
		return err
	}
	if n := c.r.Buffered(); n > 0 {
		injected, _ := c.r.Peek(min(n, quoteLimit))
		fault := &result.Fault{
			Kind:    result.FaultInjection,
			Message: fmt.Sprintf("%d bytes arrived after the reply to STARTTLS, before the TLS handshake", n),
			Bytes:   strconv.Quote(c.red.String(string(injected))),
		}
		c.conv.Last().Fault = fault
		c.note("%s: %s", fault.Kind, fault.Error())
		c.close()
		return &StepError{Step: result.StepStartTLS, Reply: c.conv.Last().Reply, Fault: fault}
	}
	return c.handshake()
}

// Mail sends MAIL FROM:<from> (RFC 5321 section 4.1.1.2); "" is the null
// reverse-path.
func (c *Client) Mail(from string) error {
	if err := c.checkAddress(result.StepMail, "MAIL", from); err != nil {
		return err
	}
	line := "MAIL FROM:<" + from + ">"
	_, err := c.exchange(result.StepMail, line, line, 2)
	return err
}

// Rcpt sends RCPT TO:<to> (RFC 5321 section 4.1.1.3).
func (c *Client) Rcpt(to string) error {
	if err := c.checkAddress(result.StepRcpt, "RCPT", to); err != nil {
		return err
	}
	line := "RCPT TO:<" + to + ">"
	_, err := c.exchange(result.StepRcpt, line, line, 2)
	return err
}

// checkAddress refuses an address that would break the command line it is
// put in. Suites validate addresses already; this is the protocol's own
// guard.
func (c *Client) checkAddress(step result.Step, verb, addr string) error {
	if c.conn == nil {
		return c.notConnected(step)
	}
	if sendableAddress(addr) {
		return nil
	}
	return c.fail(step, "", c.offset(), nil, &result.Fault{
		Kind:    result.FaultUnsupported,
		Message: fmt.Sprintf("refusing to send %s: address %s contains a space, angle bracket, line break or NUL", verb, strconv.Quote(addr)),
	})
}

// transcriptMessageLines bounds how much of a message the transcript shows.
const transcriptMessageLines = 100

// Data sends DATA (RFC 5321 section 4.1.1.4), and after the 354 the message:
// line endings made CRLF, lines starting with "." doubled (RFC 5321 section
// 4.5.2), ended by CRLF.CRLF. The DATA command and the message with its
// final reply are recorded as two steps.
func (c *Client) Data(message []byte) error {
	if c.conn == nil {
		return c.notConnected(result.StepData)
	}
	c.conv.DataSent = true
	if _, err := c.exchange(result.StepData, "DATA", "DATA", 3); err != nil {
		return err
	}
	start := c.offset()
	payload := dotStuff(message)
	shown := fmt.Sprintf("<message: %d bytes>", len(payload))
	name := stepName(result.StepMessage, shown)
	if n := c.r.Buffered(); n > 0 {
		// Bytes that came with the 354 were sent before the server could
		// read the message: a final reply among them would say nothing
		// about the message (a proxy or a server that does not read), so
		// the message is not sent and no reply is taken from them.
		early, _ := c.r.Peek(min(n, quoteLimit))
		fault := &result.Fault{
			Kind:    result.FaultPremature,
			Message: fmt.Sprintf("%d bytes arrived together with the 354 reply to DATA, before the message was sent", n),
			Bytes:   strconv.Quote(c.red.String(string(early))),
		}
		return c.fail(result.StepMessage, shown, start, nil, fault)
	}
	// Split no more than the transcript shows: a message can be large.
	lines := strings.SplitN(strings.TrimSuffix(string(payload), "\r\n"), "\r\n", transcriptMessageLines+1)
	for i, line := range lines {
		if i == transcriptMessageLines {
			if rest := strings.Count(line, "\r\n"); rest > 0 {
				c.note("%d more lines of the message not shown", rest)
				line = line[strings.LastIndex(line, "\r\n")+2:]
			}
		}
		c.transcript(result.Client, line)
	}
	if !c.arm() {
		return c.fail(result.StepMessage, shown, start, nil, c.canceledFault(name))
	}
	if _, err := c.conn.Write(payload); err != nil {
		return c.fail(result.StepMessage, shown, start, nil, c.fault(name, &writeError{err}, false))
	}
	reply, err := c.readReply()
	if err != nil {
		return c.fail(result.StepMessage, shown, start, nil, c.fault(name, err, true))
	}
	return c.finish(result.StepMessage, shown, start, &reply, 2)
}
