package smtpclient

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/safetext"
)

// DefaultTimeout bounds each step when Plan.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Client is one SMTP connection. Every method takes one step of the
// conversation and records it, with its transcript lines, in the
// result.Conversation returned by Conversation.
//
// A step that fails returns a *StepError. After a fault that leaves the
// stream unusable (timeout, closed, malformed reply, TLS failure) the
// connection is closed and later steps return a *StepError at once without
// recording anything.
type Client struct {
	plan    Plan
	timeout time.Duration
	now     func() time.Time
	conv    *result.Conversation
	// kept is the text the record holds, charged against MaxRecordBytes;
	// toldOmitted is set once the transcript says what it left out.
	kept        int
	toldOmitted bool
	// red masks the credentials, in every form the client puts on the
	// wire, and the suite's secrets in everything recorded, including
	// what a server echoes back.
	red *redact.Redactor

	raw   net.Conn      // the TCP connection
	conn  net.Conn      // raw, or the TLS connection over it
	r     *bufio.Reader // reads from conn
	inTLS bool
	// clientCert is what the handshake did about a client certificate:
	// whether the server asked for one, and the leaf sent.
	clientCert struct {
		requested bool
		sent      *result.Certificate
	}
	// tlsUnconfirmed is set from a TLS 1.3 handshake in which the server
	// asked for a client certificate until the first reply after it: till
	// then the server may still refuse the certificate.
	tlsUnconfirmed bool

	// ext holds the extensions of the last EHLO reply.
	ext esmtp.Extensions

	mu        sync.Mutex // guards canceled and the deadline of raw
	canceled  bool
	stopWatch func() bool
	// ctx is Connect's context; its cause names why a step was canceled.
	ctx context.Context
}

// StepError reports a step that did not succeed: the server answered
// negatively (Reply set), or the step ended without a usable reply (Fault
// set).
type StepError struct {
	Step  result.Step
	Reply *esmtp.Reply
	Fault *result.Fault
}

func (e *StepError) Error() string {
	if e.Fault != nil {
		return fmt.Sprintf("%s: %s: %s", e.Step, e.Fault.Kind, e.Fault.Error())
	}
	return fmt.Sprintf("%s: %s", e.Step, e.Reply)
}

// errNotConnected is returned by steps attempted without a connection.
var errNotConnected = errors.New("smtpclient: not connected")

// NewClient prepares a client for the plan; Connect opens the connection.
func NewClient(p Plan) *Client {
	c := &Client{plan: p, timeout: p.Timeout, now: p.Now, red: p.Redactor.Clone()}
	if a := p.Auth; a != nil {
		c.red.WithAuth(a.Username, a.Password).WithAuth(a.Username, a.Token)
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.plan.Port == 0 {
		c.plan.Port = 25
		if p.TLS == Implicit {
			c.plan.Port = 465
		}
	}
	if c.plan.TLS == "" {
		c.plan.TLS = StartTLS
	}
	c.conv = &result.Conversation{
		Host:    p.Host,
		Port:    c.plan.Port,
		TLSMode: string(c.plan.TLS),
		Started: c.now(),
	}
	return c
}

// Conversation returns the record the client fills.
func (c *Client) Conversation() *result.Conversation { return c.conv }

// Connected reports whether the connection is open.
func (c *Client) Connected() bool { return c.conn != nil }

// Connect opens the TCP connection (from Plan.SourceAddress, over IPv4 or
// IPv6 as Plan.IPVersion says) and, with implicit TLS, does the handshake.
// ctx bounds the whole connection: when it is done, the step in progress and
// every later one ends with a canceled fault.
func (c *Client) Connect(ctx context.Context) error {
	start := c.offset()
	addr := net.JoinHostPort(strings.Trim(c.plan.Host, "[]"), strconv.Itoa(c.plan.Port))
	c.note("connecting to %s", addr)
	network := "tcp"
	switch c.plan.IPVersion {
	case 4:
		network = "tcp4"
	case 6:
		network = "tcp6"
	}
	d := net.Dialer{Timeout: c.timeout}
	if c.plan.SourceAddress != "" {
		ip, err := netip.ParseAddr(c.plan.SourceAddress)
		if err != nil {
			return c.fail(result.StepConnect, "", start, nil, &result.Fault{
				Kind:    result.FaultNetwork,
				Message: fmt.Sprintf("source address %q is not an IP address", c.plan.SourceAddress),
			})
		}
		d.LocalAddr = &net.TCPAddr{IP: ip.AsSlice(), Zone: ip.Zone()}
	}
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return c.fail(result.StepConnect, "", start, nil, c.dialFault(ctx, err, addr))
	}
	c.raw, c.conn = conn, conn
	c.r = bufio.NewReader(conn)
	c.ctx = ctx
	c.stopWatch = context.AfterFunc(ctx, c.cancel)
	c.conv.RemoteAddr = conn.RemoteAddr().String()
	c.conv.LocalAddr = conn.LocalAddr().String()
	c.note("connected to %s from %s", c.conv.RemoteAddr, c.conv.LocalAddr)
	c.record(result.StepConnect, "", start, nil, nil)
	if c.plan.TLS == Implicit {
		return c.handshake()
	}
	return nil
}

// dialFault classifies a failed connect.
func (c *Client) dialFault(ctx context.Context, err error, addr string) *result.Fault {
	var dnsErr *net.DNSError
	switch {
	case ctx.Err() != nil && deadlineOf(ctx) != nil:
		return &result.Fault{Kind: result.FaultDeadline, Message: deadlineOf(ctx).Error() + " while connecting to " + addr}
	case errors.Is(ctx.Err(), context.Canceled):
		return &result.Fault{Kind: result.FaultCanceled, Message: "interrupted while connecting to " + addr}
	case errors.As(err, &dnsErr) && !dnsErr.IsTimeout:
		return &result.Fault{Kind: result.FaultResolve, Message: fmt.Sprintf("cannot resolve %s: %s", dnsErr.Name, dnsErr.Err)}
	case isRefused(err):
		return &result.Fault{Kind: result.FaultRefused, Message: "connection to " + addr + " refused"}
	case isTimeout(err) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &result.Fault{Kind: result.FaultTimeout, Message: fmt.Sprintf("no connection to %s within %s", addr, c.timeout)}
	}
	return &result.Fault{Kind: result.FaultNetwork, Message: err.Error()}
}

// cancel runs when the Connect context is done: it marks the client
// canceled and moves the deadline into the past, which unblocks any read,
// write or handshake in progress.
func (c *Client) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.canceled = true
	if c.raw != nil {
		c.raw.SetDeadline(time.Unix(1, 0))
	}
}

// arm starts a step's deadline: the whole step, however the server
// trickles its bytes, must finish within the timeout. It reports false when
// the context is already done.
func (c *Client) arm() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.canceled {
		return false
	}
	c.raw.SetDeadline(time.Now().Add(c.timeout))
	return true
}

// Banner reads the server's greeting (RFC 5321 section 4.3.1: 220, or 554
// for a server that will not talk).
func (c *Client) Banner() error {
	_, err := c.exchange(result.StepBanner, "", "", 2)
	return err
}

// Rset sends RSET, ending the mail transaction without a message
// (RFC 5321 section 4.1.1.5).
func (c *Client) Rset() error {
	_, err := c.exchange(result.StepRset, "RSET", "RSET", 2)
	return err
}

// Quit sends QUIT and closes the connection (RFC 5321 section 4.1.1.10).
// Without an open connection it does nothing.
func (c *Client) Quit() error {
	if c.conn == nil {
		return nil
	}
	start := c.offset()
	if !c.arm() {
		return c.fail(result.StepQuit, "QUIT", start, nil, c.canceledFault("QUIT"))
	}
	err := c.send("QUIT", "QUIT")
	var reply esmtp.Reply
	if err == nil {
		reply, err = c.readReply()
	}
	return c.quitDone(start, reply, err)
}

// quitDone records the QUIT step from its reply or read error and closes
// the connection.
func (c *Client) quitDone(start time.Duration, reply esmtp.Reply, err error) error {
	if err != nil {
		fault := c.fault("QUIT", err, true)
		if fault.Kind == result.FaultClosed {
			// A server that hangs up instead of answering 221 has still ended
			// the session; that is not worth failing a check over.
			c.note("connection closed without a reply to QUIT")
			c.record(result.StepQuit, "QUIT", start, nil, nil)
			c.close()
			return nil
		}
		return c.fail(result.StepQuit, "QUIT", start, nil, fault)
	}
	c.close()
	return c.finish(result.StepQuit, "QUIT", start, &reply, 2)
}

// Close sends QUIT when the connection is still open, closes it, and
// completes the record's duration.
func (c *Client) Close() error {
	err := c.Quit()
	c.close()
	c.conv.Duration = c.now().Sub(c.conv.Started)
	if (c.conv.OmittedLines > 0 || c.conv.OmittedBytes > 0) && !c.toldOmitted {
		c.toldOmitted = true
		// Outside the budget: the record must say what it left out.
		c.conv.Transcript = append(c.conv.Transcript, result.TranscriptLine{Offset: c.offset(), Direction: result.Note,
			Text: fmt.Sprintf("this record reached its budget of %d KiB: %d transcript lines and %d bytes of text were not kept",
				MaxRecordBytes>>10, c.conv.OmittedLines, c.conv.OmittedBytes)})
	}
	return err
}

func (c *Client) close() {
	if c.stopWatch != nil {
		c.stopWatch()
		c.stopWatch = nil
	}
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// exchange sends one command (unless line is "") and reads its reply. shown
// is the command as recorded; want is the reply class (2 or 3) that lets the
// conversation go on.
func (c *Client) exchange(step result.Step, line, shown string, want int) (*esmtp.Reply, error) {
	if c.conn == nil {
		return nil, c.notConnected(step)
	}
	start := c.offset()
	name := stepName(step, shown)
	if !c.arm() {
		return nil, c.fail(step, shown, start, nil, c.canceledFault(name))
	}
	if line != "" {
		if err := c.send(line, shown); err != nil {
			return nil, c.fail(step, shown, start, nil, c.fault(name, err, false))
		}
	}
	reply, err := c.readReply()
	if err != nil {
		return nil, c.fail(step, shown, start, nil, c.fault(name, err, true))
	}
	return &reply, c.finish(step, shown, start, &reply, want)
}

// notConnected is the error of a step attempted after the connection was
// closed; nothing is recorded.
func (c *Client) notConnected(step result.Step) error {
	return &StepError{Step: step, Fault: &result.Fault{Kind: result.FaultClosed, Message: errNotConnected.Error()}}
}

// finish records a step that got a reply. A positive reply of the wrong
// class (say 250 to DATA, or 354 to MAIL) means client and server no longer
// agree on the state of the session (RFC 5321 section 4.3.2), so it is
// treated like a malformed reply.
func (c *Client) finish(step result.Step, shown string, start time.Duration, reply *esmtp.Reply, want int) error {
	if reply.Positive() && reply.Code/100 != want {
		fault := &result.Fault{
			Kind:    result.FaultMalformed,
			Message: fmt.Sprintf("unexpected %d reply to %s", reply.Code, stepName(step, shown)),
		}
		c.note("%s: %s", fault.Kind, fault.Message)
		c.record(step, shown, start, reply, fault)
		c.close()
		return &StepError{Step: step, Reply: reply, Fault: fault}
	}
	c.record(step, shown, start, reply, nil)
	if !reply.Positive() {
		return &StepError{Step: step, Reply: reply}
	}
	return nil
}

// fail records a step that ended with a fault and returns it as an error.
func (c *Client) fail(step result.Step, shown string, start time.Duration, reply *esmtp.Reply, fault *result.Fault) error {
	c.note("%s: %s", fault.Kind, fault.Error())
	c.record(step, shown, start, reply, fault)
	switch fault.Kind {
	case result.FaultNotAdvertised, result.FaultUnsupported:
		// Nothing was sent or read; the session is still in step.
	default:
		c.close()
	}
	return &StepError{Step: step, Reply: reply, Fault: fault}
}

// MaxRecordBytes bounds the text one conversation's record keeps
// (transcript lines and reply lines): a server that answers 2,000 RCPTs
// with 60 KB each cannot make a run, or its reports, hold gigabytes.
// Past it, transcript lines are counted, not kept, and replies keep their
// codes and the start of their first line.
const MaxRecordBytes = 1 << 20

// keptReplyText is what a reply past the budget keeps of its first line.
const keptReplyText = 200

// keep charges n bytes of text to the record's budget and reports whether
// they fit; what does not fit is counted as omitted.
func (c *Client) keep(n int) bool {
	if c.kept+n <= MaxRecordBytes {
		c.kept += n
		return true
	}
	c.conv.OmittedBytes += int64(n)
	return false
}

// record appends a step record, masking secrets the server may have echoed.
func (c *Client) record(step result.Step, shown string, start time.Duration, reply *esmtp.Reply, fault *result.Fault) {
	if reply != nil {
		size := 0
		for _, l := range reply.Lines {
			size += len(l)
		}
		if !c.keep(size) {
			first := ""
			if len(reply.Lines) > 0 {
				first = reply.Lines[0]
			}
			if len(first) > keptReplyText {
				first = strings.ToValidUTF8(first[:keptReplyText], "") + "…"
			}
			reply.Lines = []string{first}
		}
		for i, l := range reply.Lines {
			reply.Lines[i] = c.red.String(l)
		}
	}
	if fault != nil {
		fault.Message = c.red.String(fault.Message)
	}
	c.conv.Steps = append(c.conv.Steps, result.StepRecord{
		Step:     step,
		Command:  c.red.String(shown),
		AfterTLS: c.inTLS && step != result.StepTLS,
		Reply:    reply,
		Fault:    fault,
		Start:    start,
		Duration: c.offset() - start,
	})
}

// send writes one command line. shown is what the transcript records.
func (c *Client) send(line, shown string) error {
	if strings.ContainsAny(line, "\r\n\x00") {
		// Suites validate addresses and names; this guards the protocol
		// against anything that slipped through (RFC 5321 section 2.3.8).
		return &commandError{fmt.Sprintf("refusing to send %s: it contains a line break or NUL", stepName("", shown))}
	}
	c.transcript(result.Client, shown)
	_, err := io.WriteString(c.conn, line+"\r\n")
	if err != nil {
		return &writeError{err}
	}
	return nil
}

// commandError is a command the client refuses to send.
type commandError struct{ msg string }

func (e *commandError) Error() string { return e.msg }

// writeError marks an error that happened while sending.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// readReply reads one reply and records its lines in the transcript.
func (c *Client) readReply() (esmtp.Reply, error) {
	if !c.inTLS && c.r.Buffered() == 0 {
		// Over TLS, quickAckConn does this for every read.
		quickAck(c.raw)
	}
	reply, raw, err := ReadReply(c.r)
	if err == nil {
		c.tlsUnconfirmed = false
	}
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i+1], raw[i+1:]
		} else {
			raw = nil
		}
		var pe *ProtocolError
		if errors.As(err, &pe) && len(raw) == 0 {
			// The offending line is reported by the fault, quoted.
			break
		}
		c.transcript(result.Server, string(trimEOL(line)))
	}
	return reply, err
}

// fault classifies an error of a step. reading says whether the client was
// waiting for a reply (for the timeout message).
func (c *Client) fault(name string, err error, reading bool) *result.Fault {
	var pe *ProtocolError
	var ce *commandError
	var we *writeError
	if errors.As(err, &we) {
		reading = false
	}
	switch {
	case errors.As(err, &ce):
		return &result.Fault{Kind: result.FaultUnsupported, Message: ce.msg}
	case errors.As(err, &pe):
		return &result.Fault{
			Kind:    pe.Kind,
			Message: fmt.Sprintf("%s: %s", name, pe.Reason),
			Bytes:   strconv.Quote(c.red.String(string(pe.Line))),
		}
	case c.isCanceled():
		return c.canceledFault(name)
	case isTimeout(err):
		what := "no reply to " + name
		switch {
		case !reading:
			what = "could not send " + name
		case name == "banner":
			what = "no banner"
		}
		return &result.Fault{Kind: result.FaultTimeout, Message: fmt.Sprintf("%s within %s", what, c.timeout)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		msg := "connection closed by the server"
		if errors.Is(err, io.ErrUnexpectedEOF) {
			msg += " in the middle of a reply"
		}
		return &result.Fault{Kind: result.FaultClosed, Message: msg + " at " + name}
	case isBroken(err):
		return &result.Fault{Kind: result.FaultClosed, Message: "connection reset by the server at " + name}
	}
	if c.tlsUnconfirmed {
		// Under TLS 1.3 the client's handshake ends before the server has
		// judged its certificate: the refusal is the first read's error.
		if f := c.clientCertRefusal(err); f != nil {
			f.Message = name + ": " + f.Message
			return f
		}
	}
	return &result.Fault{Kind: result.FaultNetwork, Message: name + ": " + err.Error()}
}

func (c *Client) isCanceled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.canceled
}

func (c *Client) canceledFault(name string) *result.Fault {
	if d := deadlineOf(c.ctx); d != nil {
		return &result.Fault{Kind: result.FaultDeadline, Message: d.Error() + " at " + name}
	}
	return &result.Fault{Kind: result.FaultCanceled, Message: "interrupted at " + name}
}

// CheckDeadline is the cause with which a whole check's context ends when
// its deadline passes (context.WithTimeoutCause): the step in progress
// ends with a check-deadline fault instead of a canceled one.
type CheckDeadline struct {
	Limit time.Duration
}

func (d *CheckDeadline) Error() string {
	return fmt.Sprintf("the check's deadline of %s passed", d.Limit)
}

// deadlineOf returns the CheckDeadline that ended ctx, or nil.
func deadlineOf(ctx context.Context) *CheckDeadline {
	if ctx == nil {
		return nil
	}
	var d *CheckDeadline
	if errors.As(context.Cause(ctx), &d) {
		return d
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// stepName names a step in messages by the command sent ("EHLO", "HELO",
// "RCPT"), or by what it is ("banner", "the message").
func stepName(step result.Step, shown string) string {
	if verb, _, _ := strings.Cut(shown, " "); verb != "" && step != result.StepMessage {
		return strings.ToUpper(verb)
	}
	switch step {
	case result.StepMessage:
		return "the message"
	case result.StepTLS:
		return "the TLS handshake"
	case result.StepConnect, result.StepBanner:
		return string(step)
	}
	return strings.ToUpper(string(step))
}

// offset is the time since the conversation started.
func (c *Client) offset() time.Duration { return c.now().Sub(c.conv.Started) }

func (c *Client) transcript(dir result.Direction, text string) {
	if !c.keep(len(text)) {
		c.conv.OmittedLines++
		return
	}
	c.conv.Transcript = append(c.conv.Transcript, result.TranscriptLine{
		Offset:    c.offset(),
		Direction: dir,
		Text:      safetext.Line(c.red.String(text)),
	})
}

func (c *Client) note(format string, args ...any) {
	c.transcript(result.Note, fmt.Sprintf(format, args...))
}
