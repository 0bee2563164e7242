package smtpclient

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/safetext"
)

// Hostile servers: each test scripts a server that misbehaves in one way
// and checks that the conversation ends within its step timeout (plus a
// generous margin for a loaded machine), with a fault that says what
// happened, and without the client holding what the server sends in
// memory. The cases that scripted_test.go covers already (no banner, a
// byte every 100ms, mixed codes in one reply, injection in the STARTTLS
// reply's segment, a close at EHLO) are not repeated here.

// margin is the slack allowed beyond a step timeout: the bound that
// matters is the step deadline, and the machine may be busy.
const margin = 2 * time.Second

// hostileTimeout is the step timeout of the hostile conversations.
const hostileTimeout = 700 * time.Millisecond

// flood is a hostile server's output: it counts the bytes the server
// managed to write and tells when the server gave up because the client
// closed the connection.
type flood struct {
	written atomic.Int64
	done    chan struct{}
}

// write writes b until the client closes or a write fails.
func (f *flood) write(conn net.Conn, b []byte) error {
	n, err := conn.Write(b)
	f.written.Add(int64(n))
	return err
}

// hostilePlan is a plan without TLS unless the test sets it, with the
// real clock (timeouts are measured).
func hostilePlan(port int) Plan {
	p := basePlan(port)
	p.TLS = NoTLS
	p.Timeout = hostileTimeout
	p.Now = nil
	return p
}

// converseTimed holds the conversation, fails the test when it lasted
// longer than the step timeout (times steps) plus the margin, and returns
// it with the bytes the test process allocated meanwhile.
func converseTimed(t *testing.T, plan Plan, steps int) (*result.Conversation, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	conv := Converse(context.Background(), plan)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if limit := time.Duration(steps)*plan.Timeout + margin; elapsed > limit {
		t.Errorf("conversation took %v, want at most %v\n%s", elapsed, limit, transcriptText(conv))
	}
	return conv, after.TotalAlloc - before.TotalAlloc
}

// wantFault fails the test unless the conversation stopped at step with a
// fault of kind whose message is msg.
func wantFault(t *testing.T, conv *result.Conversation, step result.Step, kind result.FaultKind, msg string) {
	t.Helper()
	stop := conv.Stop()
	if stop == nil || stop.Fault == nil {
		t.Fatalf("no fault; stop %+v\n%s", stop, transcriptText(conv))
	}
	if stop.Step != step || stop.Fault.Kind != kind || stop.Fault.Message != msg {
		t.Errorf("stopped at %s with %s %q, want %s %s %q\n%s", stop.Step, stop.Fault.Kind, stop.Fault.Message, step, kind, msg, transcriptText(conv))
	}
}

// waitDone fails the test unless the hostile server noticed within the
// margin that the client had gone.
func waitDone(t *testing.T, done chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(margin):
		t.Error("the server is still writing: the client did not close the connection")
	}
}

// TestHostileHalfLineThenStall: half a banner line, then silence; the
// banner's deadline ends it.
func TestHostileHalfLineThenStall(t *testing.T) {
	port := scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		conn.Write([]byte("220 mx.exa"))
		r.ReadString('\n') // until the client hangs up
	})
	conv, _ := converseTimed(t, hostilePlan(port), 1)
	wantFault(t, conv, result.StepBanner, result.FaultTimeout, "no banner within 700ms")
	if !strings.Contains(transcriptText(conv), "S: 220 mx.exa\n") {
		t.Errorf("the partial line is not in the transcript:\n%s", transcriptText(conv))
	}
}

// TestHostileDripFeedOneBytePerSecond: a byte a second of a valid banner
// resets no idle timer: the step's total deadline holds.
func TestHostileDripFeedOneBytePerSecond(t *testing.T) {
	f := &flood{done: make(chan struct{})}
	stop := make(chan struct{})
	defer close(stop)
	port := scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		defer close(f.done)
		for _, b := range []byte("220 mx.example ESMTP ready\r\n") {
			if f.write(conn, []byte{b}) != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
		}
	})
	plan := hostilePlan(port)
	plan.Timeout = 1500 * time.Millisecond
	conv, _ := converseTimed(t, plan, 1)
	wantFault(t, conv, result.StepBanner, result.FaultTimeout, "no banner within 1.5s")
	if d := conv.Steps[1].Duration; d < plan.Timeout {
		t.Errorf("banner step lasted %v, less than its timeout", d)
	}
	if n := f.written.Load(); n > 4 {
		t.Errorf("the server wrote %d bytes at one a second within 1.5s", n)
	}
}

// TestHostileEndlessContinuation: "250-" forever. The client stops at
// MaxReplyLines and closes; it never buffers more than one reply's bound.
func TestHostileEndlessContinuation(t *testing.T) {
	f := &flood{done: make(chan struct{})}
	line := []byte("220-endless continuation line\r\n")
	chunk := bytes.Repeat(line, 1024)
	port := scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		defer close(f.done)
		conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		for f.write(conn, chunk) == nil {
		}
	})
	conv, allocated := converseTimed(t, hostilePlan(port), 1)
	wantFault(t, conv, result.StepBanner, result.FaultTooLong, "banner: reply longer than 1000 lines")
	waitDone(t, f.done)
	if allocated > 8<<20 {
		t.Errorf("the conversation allocated %d bytes for a reply bounded to %d", allocated, MaxReplySize)
	}
	t.Logf("the server wrote %d bytes before the client closed; the client allocated %d", f.written.Load(), allocated)
}

// TestHostileHugeLine: 10 MB with no line ending. The client reads at most
// MaxLineLength bytes of it and closes.
func TestHostileHugeLine(t *testing.T) {
	f := &flood{done: make(chan struct{})}
	huge := append([]byte("220 "), bytes.Repeat([]byte{'a'}, 10<<20)...)
	port := scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		defer close(f.done)
		conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		f.write(conn, huge)
	})
	conv, allocated := converseTimed(t, hostilePlan(port), 1)
	wantFault(t, conv, result.StepBanner, result.FaultTooLong, "banner: reply line longer than 4096 bytes")
	waitDone(t, f.done)
	if n := f.written.Load(); n >= int64(len(huge)) {
		t.Errorf("the server wrote all %d bytes: the client kept reading", n)
	}
	if allocated > 4<<20 {
		t.Errorf("the conversation allocated %d bytes for a line bounded to %d", allocated, MaxLineLength)
	}
	if b := conv.Stop().Fault.Bytes; len(b) > 2*quoteLimit {
		t.Errorf("fault quotes %d bytes", len(b))
	}
}

// TestHostileControlAndInvalidUTF8: NUL, escape sequences, bidi controls
// and invalid UTF-8 in replies reach no output as they are: the
// conversation goes on, and every recorded text is valid, printable UTF-8.
func TestHostileControlAndInvalidUTF8(t *testing.T) {
	port := script(t, "220 mx\x00.example \xff\xfe ready \x1b[2J\r\n", []exchange{
		{"EHLO scanner01.contoso.example", "250-mx.example Hello [192.0.2.7]\x00\r\n250-SIZE\u202e 1000\r\n250 8BITMIME\r\n", ""},
		{"QUIT", "221 bye \xc3\r\n", ""},
	})
	conv, _ := converseTimed(t, hostilePlan(port), 4)
	if conv.Stop() != nil {
		t.Fatalf("stopped: %+v\n%s", conv.Stop(), transcriptText(conv))
	}
	if got, want := conv.Steps[1].Reply.Text(), `mx\x00.example \xff\xfe ready \x1b[2J`; got != want {
		t.Errorf("banner text %q, want %q", got, want)
	}
	if conv.ClientIP != "192.0.2.7" {
		t.Errorf("ClientIP = %q", conv.ClientIP)
	}
	for _, l := range conv.Transcript {
		if !utf8.ValidString(l.Text) || strings.ContainsFunc(l.Text, safetext.Unsafe) {
			t.Errorf("transcript line %q is not safe text", l.Text)
		}
	}
	for _, e := range conv.EHLOBeforeTLS.Lines() {
		if strings.ContainsFunc(e, safetext.Unsafe) {
			t.Errorf("EHLO extension %q is not safe text", e)
		}
	}
}

// TestHostileReplyCodes: codes that are not three digits from 2 to 5 are
// malformed replies, quoted in the fault.
func TestHostileReplyCodes(t *testing.T) {
	for _, tc := range []struct{ banner, reason, bytes string }{
		{"22 short\r\n", "reply code is not three digits", `"22 short"`},
		{"2\r\n", "reply line shorter than a reply code", `"2"`},
		{"2200 four digits\r\n", "no space or hyphen after the reply code", `"2200 four digits"`},
		{"abc hello\r\n", "reply code is not three digits", `"abc hello"`},
		{"22a hello\r\n", "reply code is not three digits", `"22a hello"`},
		{"650 out of range\r\n", "reply code 650 is not 2xx to 5xx", `"650 out of range"`},
		{"\r\n", "reply line shorter than a reply code", `""`},
		{"220-first\r\n 220 indented\r\n", "reply code is not three digits", `" 220 indented"`},
	} {
		t.Run(tc.banner, func(t *testing.T) {
			port := scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
				conn.Write([]byte(tc.banner))
				r.ReadString('\n')
			})
			conv, _ := converseTimed(t, hostilePlan(port), 1)
			wantFault(t, conv, result.StepBanner, result.FaultMalformed, "banner: "+tc.reason)
			if f := conv.Stop().Fault; f.Bytes != tc.bytes {
				t.Errorf("fault bytes %s, want %s", f.Bytes, tc.bytes)
			}
			if len(conv.Steps) != 2 {
				t.Errorf("steps %q: the client went on after a malformed banner", stepList(conv))
			}
		})
	}
}

// starttlsServer greets, offers STARTTLS, answers it with 220 and hands
// the connection to then.
func starttlsServer(t *testing.T, then func(conn net.Conn, r *bufio.Reader)) int {
	t.Helper()
	return scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		conn.Write([]byte("220 mx.example ESMTP\r\n"))
		r.ReadString('\n')
		conn.Write([]byte("250-mx.example\r\n250 STARTTLS\r\n"))
		if line, _ := r.ReadString('\n'); line != "STARTTLS\r\n" {
			t.Errorf("server got %q, want STARTTLS", line)
			return
		}
		conn.Write([]byte("220 2.0.0 Ready to start TLS\r\n"))
		then(conn, r)
	})
}

func startTLSPlan(port int) Plan {
	p := hostilePlan(port)
	p.TLS = StartTLS
	return p
}

// TestHostileCloseAfterStartTLSReply: the server says 220 and hangs up.
func TestHostileCloseAfterStartTLSReply(t *testing.T) {
	port := starttlsServer(t, func(net.Conn, *bufio.Reader) {})
	conv, _ := converseTimed(t, startTLSPlan(port), 4)
	wantFault(t, conv, result.StepTLS, result.FaultTLSHandshake, "TLS handshake failed: the server closed the connection")
}

// TestHostileResetAfterStartTLSReply: the server says 220 and resets.
func TestHostileResetAfterStartTLSReply(t *testing.T) {
	port := starttlsServer(t, func(conn net.Conn, r *bufio.Reader) {
		r.ReadByte() // the ClientHello has arrived
		conn.(*net.TCPConn).SetLinger(0)
	})
	conv, _ := converseTimed(t, startTLSPlan(port), 4)
	wantFault(t, conv, result.StepTLS, result.FaultTLSHandshake, "TLS handshake failed: the server reset the connection")
}

// TestHostileTLSGarbage: binary garbage where the server's TLS records
// should be.
func TestHostileTLSGarbage(t *testing.T) {
	port := starttlsServer(t, func(conn net.Conn, r *bufio.Reader) {
		r.ReadByte()
		conn.Write([]byte{0x16, 0x03, 0x03, 0x00, 0x05, 0xff, 0x00, 0x13, 0x37, 0x42, 0x99, 0x98})
		r.ReadByte()
	})
	conv, _ := converseTimed(t, startTLSPlan(port), 4)
	stop := conv.Stop()
	if stop == nil || stop.Step != result.StepTLS || stop.Fault == nil || stop.Fault.Kind != result.FaultTLSHandshake ||
		!strings.HasPrefix(stop.Fault.Message, "TLS handshake failed: ") {
		t.Errorf("stop = %+v\n%s", stop, transcriptText(conv))
	}
	if conv.TLS != nil {
		t.Errorf("TLS recorded as %+v", conv.TLS)
	}
}

// TestHostileTLSServerStalls: a server that never finishes the handshake
// is bounded by the handshake step's deadline.
func TestHostileTLSServerStalls(t *testing.T) {
	port := starttlsServer(t, func(conn net.Conn, r *bufio.Reader) {
		io.Copy(io.Discard, r) // the ClientHello, unanswered, until the client hangs up
	})
	conv, _ := converseTimed(t, startTLSPlan(port), 4)
	wantFault(t, conv, result.StepTLS, result.FaultTimeout, "TLS handshake not finished within 700ms")
}

// TestHostileInjectionInLaterSegment: a man in the middle answers the
// STARTTLS in one segment and sends a forged EHLO reply in the next, before
// the TLS handshake: the handshake finds plaintext, reported as injection.
func TestHostileInjectionInLaterSegment(t *testing.T) {
	port := starttlsServer(t, func(conn net.Conn, r *bufio.Reader) {
		conn.Write([]byte("250-mx.example\r\n250 AUTH PLAIN\r\n"))
		r.ReadByte()
	})
	conv, _ := converseTimed(t, startTLSPlan(port), 4)
	stop := conv.Stop()
	if stop == nil || stop.Fault == nil || stop.Fault.Kind != result.FaultInjection {
		t.Fatalf("stop = %+v\n%s", stop, transcriptText(conv))
	}
	// The bytes may have come with the 220 after all (then StartTLS saw
	// them) or later (then the handshake did): either way it is reported.
	switch stop.Step {
	case result.StepTLS:
		if stop.Fault.Message != "plaintext arrived after the reply to STARTTLS, where the TLS handshake should be" || stop.Fault.Bytes != `"250-m"` {
			t.Errorf("fault = %+v", stop.Fault)
		}
	case result.StepStartTLS:
	default:
		t.Errorf("injection reported at %s", stop.Step)
	}
	if conv.EHLOAfterTLS != nil || conv.TLS != nil && conv.TLS.Verified {
		t.Errorf("the forged reply was taken: EHLO after TLS %q", conv.EHLOAfterTLS)
	}
}

// TestHostileAnswersBeforeCommand: the server sends the 220 to STARTTLS
// and a forged EHLO reply before the client has even sent STARTTLS. They
// are read as the reply to STARTTLS and what follows it: an injection.
func TestHostileAnswersBeforeCommand(t *testing.T) {
	port := scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		conn.Write([]byte("220 mx.example ESMTP\r\n"))
		r.ReadString('\n')
		conn.Write([]byte("250-mx.example\r\n250 STARTTLS\r\n220 2.0.0 Ready\r\n250-mx.example\r\n250 AUTH PLAIN\r\n"))
		r.ReadString('\n')
		r.ReadByte()
	})
	conv, _ := converseTimed(t, startTLSPlan(port), 4)
	stop := conv.Stop()
	if stop == nil || stop.Step != result.StepStartTLS || stop.Fault == nil || stop.Fault.Kind != result.FaultInjection ||
		stop.Fault.Bytes != `"250-mx.example\r\n250 AUTH PLAIN\r\n"` {
		t.Errorf("stop = %+v\n%s", stop, transcriptText(conv))
	}
}

// TestHostileResetMidReply: half of a multi-line EHLO reply, then a TCP
// reset.
func TestHostileResetMidReply(t *testing.T) {
	port := scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		conn.Write([]byte("220 mx.example\r\n"))
		r.ReadString('\n')
		conn.Write([]byte("250-mx.example\r\n250-SIZE 1000\r\n250-PIPE"))
		time.Sleep(50 * time.Millisecond)
		conn.(*net.TCPConn).SetLinger(0)
	})
	conv, _ := converseTimed(t, hostilePlan(port), 2)
	stop := conv.Stop()
	if stop == nil || stop.Step != result.StepEHLO || stop.Fault == nil || stop.Fault.Kind != result.FaultClosed {
		t.Fatalf("stop = %+v\n%s", stop, transcriptText(conv))
	}
	// A reset may discard the bytes not yet read; the client says which
	// of the two it saw.
	switch stop.Fault.Message {
	case "connection reset by the server at EHLO", "connection closed by the server in the middle of a reply at EHLO":
	default:
		t.Errorf("fault message %q", stop.Fault.Message)
	}
}

// TestHostileNeverReads: the server answers up to DATA's 354 and then
// reads nothing more; sending a large message blocks and the step's
// deadline ends it.
func TestHostileNeverReads(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	port := scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		conn.Write([]byte("220 mx.example\r\n"))
		for _, reply := range []string{"250 mx.example\r\n", "250 ok\r\n", "250 ok\r\n", "354 go ahead\r\n"} {
			r.ReadString('\n')
			conn.Write([]byte(reply))
		}
		// Never read again, until the test is over.
		<-release
	})
	plan := hostilePlan(port)
	plan.MailFrom = ptr("scanner@contoso.example")
	plan.RcptTo = []string{"helpdesk@contoso.example"}
	// Far more than the kernel's socket buffers on both sides hold.
	plan.Message = &Message{Body: strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n", 1<<18)}
	conv, _ := converseTimed(t, plan, 5)
	wantFault(t, conv, result.StepMessage, result.FaultTimeout, "could not send the message within 700ms")
}

// TestHostileImplicitTLSToPlaintext: a plaintext SMTP server on a port the
// suite says is implicit TLS.
func TestHostileImplicitTLSToPlaintext(t *testing.T) {
	port := scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		conn.Write([]byte("220 mx.example ESMTP\r\n"))
		r.ReadByte()
	})
	plan := hostilePlan(port)
	plan.TLS = Implicit
	conv, _ := converseTimed(t, plan, 2)
	wantFault(t, conv, result.StepTLS, result.FaultTLSHandshake, "TLS handshake failed: tls: first record does not look like a TLS handshake")
}

// TestLargeMessageTranscriptBounded: the transcript shows the first 100
// lines of a message, a count of the rest and the last line (the lone
// "."); the server gets all of it.
func TestLargeMessageTranscriptBounded(t *testing.T) {
	for _, n := range []int{80, 92, 5000} {
		be := &backend{}
		plan := basePlan(startServer(t, be, serverOptions{}))
		plan.TLS = NoTLS
		plan.MailFrom = ptr("scanner@contoso.example")
		plan.RcptTo = []string{"helpdesk@contoso.example"}
		var body strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&body, "line %d\n", i)
		}
		plan.Message = &Message{Body: body.String()}
		conv := Converse(context.Background(), plan)
		if conv.Stop() != nil {
			t.Fatalf("%d lines: stopped at %+v", n, conv.Stop())
		}
		_, _, _, messages := be.snapshot()
		if len(messages) != 1 || strings.Count(string(messages[0]), "\r\nline ") != n {
			t.Fatalf("%d lines: the server did not get the whole message", n)
		}
		total := strings.Count(string(messages[0]), "\r\n") + 1 // and the lone "."
		var shown []string
		var notes []string
		inMessage := false
		for _, l := range conv.Transcript {
			switch {
			case l.Direction == result.Server:
				inMessage = strings.HasPrefix(l.Text, "354")
			case inMessage && l.Direction == result.Client:
				shown = append(shown, l.Text)
			case inMessage && l.Direction == result.Note:
				notes = append(notes, l.Text)
			}
		}
		if shown[len(shown)-1] != "." {
			t.Errorf("%d lines: last line shown %q", n, shown[len(shown)-1])
		}
		if total <= transcriptMessageLines+1 {
			if len(shown) != total || len(notes) != 0 {
				t.Errorf("%d lines: %d of %d lines shown, notes %q", n, len(shown), total, notes)
			}
			continue
		}
		want := fmt.Sprintf("%d more lines of the message not shown", total-transcriptMessageLines-1)
		if len(shown) != transcriptMessageLines+1 || len(notes) != 1 || notes[0] != want {
			t.Errorf("%d lines: %d lines shown, notes %q, want %d and %q", n, len(shown), notes, transcriptMessageLines+1, want)
		}
	}
}

// TestRecordBudget: a server that answers hundreds of RCPTs with replies
// of 60 KB each cannot grow the record past its budget: the transcript
// stops keeping lines, replies keep their codes and the start of their
// first line, every RCPT is still judged by its code, and the record says
// what it left out.
func TestRecordBudget(t *testing.T) {
	const rcpts = 300
	var big strings.Builder
	for i := 0; i < 15; i++ {
		big.WriteString("550-5.1.1 ")
		big.WriteString(strings.Repeat("x", 3990))
		big.WriteString("\r\n")
	}
	big.WriteString("550 5.1.1 recipient rejected\r\n")
	port := scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		conn.Write([]byte("220 mx.example\r\n"))
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch {
			case strings.HasPrefix(line, "EHLO"):
				conn.Write([]byte("250 mx.example\r\n"))
			case strings.HasPrefix(line, "RCPT"):
				conn.Write([]byte(big.String()))
			case strings.HasPrefix(line, "QUIT"):
				conn.Write([]byte("221 bye\r\n"))
				return
			default:
				conn.Write([]byte("250 ok\r\n"))
			}
		}
	})
	plan := hostilePlan(port)
	plan.MailFrom = ptr("a@contoso.example")
	for i := range rcpts {
		plan.RcptTo = append(plan.RcptTo, fmt.Sprintf("r%d@contoso.example", i))
	}
	conv := Converse(context.Background(), plan)
	kept := 0
	for _, l := range conv.Transcript {
		kept += len(l.Text)
	}
	for _, s := range conv.Steps {
		if s.Reply != nil {
			for _, l := range s.Reply.Lines {
				kept += len(l)
			}
		}
	}
	if kept > MaxRecordBytes+64<<10 {
		t.Errorf("the record keeps %d bytes, budget %d", kept, MaxRecordBytes)
	}
	rcptSteps := conv.StepsOf(result.StepRcpt)
	if len(rcptSteps) != rcpts {
		t.Fatalf("%d RCPT steps, want %d", len(rcptSteps), rcpts)
	}
	for _, s := range rcptSteps {
		if s.Reply == nil || s.Reply.Code != 550 || s.Reply.Enhanced != "5.1.1" {
			t.Fatalf("RCPT reply %+v lost its codes", s.Reply)
		}
	}
	if last := rcptSteps[rcpts-1].Reply; len(last.Lines) != 1 || len(last.Lines[0]) > 210 {
		t.Errorf("a reply past the budget keeps %d lines", len(last.Lines))
	}
	end := conv.Transcript[len(conv.Transcript)-1]
	if conv.OmittedLines == 0 || conv.OmittedBytes < 10<<20 || end.Direction != result.Note ||
		!strings.Contains(end.Text, "this record reached its budget of 1024 KiB") {
		t.Errorf("omitted %d lines, %d bytes; last line %+v", conv.OmittedLines, conv.OmittedBytes, end)
	}
}
