package smtpclient

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// maxPipelined bounds the commands of one pipelined group. RFC 2920
// section 3.1 warns that a client writing a long group while the server
// writes its replies can deadlock when both sides' buffers fill; a group
// this size stays far below any socket buffer. Longer recipient lists are
// sent one command at a time.
const maxPipelined = 100

// pipelinedCommand is one command of a pipelined group.
type pipelinedCommand struct {
	step result.Step
	line string
}

// canPipeline reports whether the mail transaction can be sent as one
// pipelined group: the last EHLO advertised PIPELINING (RFC 2920 section 2;
// a HELO session has no extensions), the group is small enough, and every
// address is one the client would send (the one-at-a-time path records the
// refusal of any other).
func (c *Client) canPipeline(from string, rcpts []string) bool {
	if !c.ext.Has("PIPELINING") || c.conn == nil || len(rcpts)+2 > maxPipelined {
		return false
	}
	for _, addr := range append([]string{from}, rcpts...) {
		if !sendableAddress(addr) {
			return false
		}
	}
	return true
}

// transaction sends MAIL FROM, every RCPT TO and, when withoutMessage is
// true, RSET as one pipelined group (RFC 2920 section 3.1: MAIL, RCPT and
// RSET may appear anywhere in a group), then reads the replies in order, one
// step each. It returns how many RCPTs were accepted, and whether MAIL was.
//
// QUIT is left out of the group although RFC 2920 would allow it last: it
// is sent on its own by Close, which handles a server that hangs up instead
// of answering it, for every path alike.
//
// The record is the one the same conversation held one command at a time
// would give, so that expectations judge it alike: each reply is recorded
// as the step of the command it answers (replies come in command order,
// RFC 2920 section 3.1), and each step's timeout bounds the wait for its
// own reply. The commands were nevertheless all sent, so the transcript
// shows them where they went on the wire. When MAIL is refused, the
// replies to the RCPT and RSET commands that followed it are read to keep
// the session in step and shown in the transcript, but they are not steps:
// the sequential conversation would have stopped at MAIL.
func (c *Client) transaction(from string, rcpts []string, withoutMessage bool) (accepted int, mailAccepted bool) {
	group := []pipelinedCommand{{result.StepMail, "MAIL FROM:<" + from + ">"}}
	for _, to := range rcpts {
		group = append(group, pipelinedCommand{result.StepRcpt, "RCPT TO:<" + to + ">"})
	}
	if withoutMessage {
		group = append(group, pipelinedCommand{result.StepRset, "RSET"})
	}

	start := c.offset()
	if !c.arm() {
		c.fail(result.StepMail, group[0].line, start, nil, c.canceledFault("MAIL"))
		return 0, false
	}
	if err := c.sendGroup(group); err != nil {
		c.fail(result.StepMail, group[0].line, start, nil, c.fault("MAIL", err, false))
		return 0, false
	}
	mailRefused := false
	for i, cmd := range group {
		name := stepName(cmd.step, cmd.line)
		if i > 0 {
			start = c.offset()
			if !c.arm() {
				c.fail(cmd.step, cmd.line, start, nil, c.canceledFault(name))
				return accepted, mailAccepted
			}
		}
		reply, err := c.readReply()
		if mailRefused {
			if err != nil {
				c.note("no reply to %s: %s", name, c.fault(name, err, true).Error())
				c.close()
				return accepted, false
			}
			continue
		}
		if err != nil {
			c.fail(cmd.step, cmd.line, start, nil, c.fault(name, err, true))
			if left := len(group) - i - 1; left > 0 {
				c.note("%d pipelined commands after %s got no reply", left, name)
			}
			return accepted, mailAccepted
		}
		err = c.finish(cmd.step, cmd.line, start, &reply, 2)
		var se *StepError
		switch {
		case err == nil && cmd.step == result.StepMail:
			mailAccepted = true
		case err == nil && cmd.step == result.StepRcpt:
			accepted++
		case errors.As(err, &se) && se.Fault != nil:
			// A reply of the wrong class: client and server disagree on the
			// session's state, and finish has closed the connection.
			return accepted, mailAccepted
		case err != nil && cmd.step == result.StepMail:
			mailRefused = true
			if len(group) > 1 {
				c.note("MAIL was refused: the replies to the RCPT and RSET commands pipelined after it are not steps of the conversation")
			}
		}
	}
	return accepted, mailAccepted
}

// sendGroup writes the commands of a pipelined group with a single write,
// recording each in the transcript.
func (c *Client) sendGroup(group []pipelinedCommand) error {
	var b strings.Builder
	for _, cmd := range group {
		if strings.ContainsAny(cmd.line, "\r\n\x00") {
			return &commandError{fmt.Sprintf("refusing to send %s: it contains a line break or NUL", stepName(cmd.step, cmd.line))}
		}
		b.WriteString(cmd.line)
		b.WriteString("\r\n")
	}
	for _, cmd := range group {
		c.transcript(result.Client, cmd.line)
	}
	if _, err := io.WriteString(c.conn, b.String()); err != nil {
		return &writeError{err}
	}
	return nil
}

// sendableAddress reports whether an address can go into MAIL FROM:<> or
// RCPT TO:<> as it is (see checkAddress).
func sendableAddress(addr string) bool {
	return !strings.ContainsAny(addr, "<>\r\n\x00 \t")
}
