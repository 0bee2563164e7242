package smtpclient

import (
	"context"
	"errors"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// Converse holds the conversation the plan describes (SPEC section 3):
// connect, banner, EHLO (HELO after a 5xx), STARTTLS with the handshake and
// EHLO again, AUTH, MAIL, every RCPT, then DATA and the message when the
// plan has one and a recipient was accepted, or RSET otherwise, and QUIT
// while the connection is open. When the server offers PIPELINING, MAIL,
// the RCPTs and RSET go out as one group (see transaction). It stops at the first negative reply or
// fault, except that every RCPT is tried. It never sends DATA without
// Plan.Message.
func Converse(ctx context.Context, p Plan) *result.Conversation {
	c := NewClient(p)
	c.converse(ctx)
	c.Close()
	return c.Conversation()
}

func (c *Client) converse(ctx context.Context) {
	p := c.plan
	if c.Connect(ctx) != nil || c.Banner() != nil || c.Hello() != nil {
		return
	}
	if p.TLS == StartTLS && (c.StartTLS() != nil || c.Hello() != nil) {
		return
	}
	if p.Auth != nil && c.Auth(*p.Auth) != nil {
		return
	}
	if p.MailFrom == nil {
		return
	}
	if c.canPipeline(*p.MailFrom, p.RcptTo) {
		c.pipelined(p)
		return
	}
	if c.Mail(*p.MailFrom) != nil {
		return
	}
	accepted := 0
	for _, to := range p.RcptTo {
		err := c.Rcpt(to)
		if err == nil {
			accepted++
			continue
		}
		var se *StepError
		if errors.As(err, &se) && se.Fault != nil && !c.Connected() {
			return
		}
	}
	if len(p.RcptTo) > 0 && accepted == 0 {
		c.note("no recipient accepted: DATA not sent")
		return
	}
	if p.Message != nil && accepted > 0 {
		c.sendMessage(p)
		return
	}
	c.Rset()
}

// pipelined is the mail transaction of converse when the server offers
// PIPELINING (RFC 2920): MAIL and every RCPT in one group, with RSET too
// when there is no message, so that the whole transaction of a check
// without DATA takes a single round trip. DATA is never pipelined: it is
// sent only once a recipient has been accepted.
func (c *Client) pipelined(p Plan) {
	// As one command at a time: DATA only when there is a message and a
	// recipient was accepted, RSET otherwise. RSET goes out with the group,
	// before the RCPT replies are known, so it is sent even when every
	// recipient is refused; one command at a time would skip it then.
	withMessage := p.Message != nil && len(p.RcptTo) > 0
	accepted, mailAccepted := c.transaction(*p.MailFrom, p.RcptTo, !withMessage)
	if !withMessage || !mailAccepted || !c.Connected() {
		return
	}
	if accepted == 0 {
		c.note("no recipient accepted: DATA not sent")
		return
	}
	c.sendMessage(p)
}

// sendMessage builds the plan's message and sends it with DATA.
func (c *Client) sendMessage(p Plan) {
	message, err := buildMessage(p, c.now())
	if err != nil {
		c.fail(result.StepData, "", c.offset(), nil, &result.Fault{Kind: result.FaultUnsupported, Message: err.Error()})
		return
	}
	c.Data(message)
}
