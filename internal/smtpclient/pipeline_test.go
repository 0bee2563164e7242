package smtpclient

import (
	"bufio"
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// pipeliningServer greets, answers EHLO with PIPELINING, then reads the
// lines of one pipelined group before it answers any of them: a client
// that waited for a reply between the commands would never get one. It
// then writes the replies (each write separately, or all at once when
// together is set) and answers what follows with the rest of after.
func pipeliningServer(t *testing.T, group []string, replies []string, together bool, after []exchange) int {
	t.Helper()
	return scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		conn.Write([]byte("220 mx.example ESMTP\r\n"))
		if line, _ := r.ReadString('\n'); line != "EHLO scanner01.contoso.example\r\n" {
			t.Errorf("server got %q, want EHLO", line)
			return
		}
		conn.Write([]byte("250-mx.example Hello [192.0.2.7]\r\n250-PIPELINING\r\n250 8BITMIME\r\n"))
		for _, want := range group {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Errorf("server: waiting for %q before answering: %v", want, err)
				return
			}
			if line != want+"\r\n" {
				t.Errorf("server got %q, want %q", line, want+"\r\n")
				return
			}
		}
		if together {
			conn.Write([]byte(strings.Join(replies, "")))
		} else {
			for _, reply := range replies {
				conn.Write([]byte(reply))
			}
		}
		for _, ex := range after {
			line, err := r.ReadString('\n')
			if err != nil || line != ex.expect+"\r\n" {
				t.Errorf("server got %q (%v), want %q", line, err, ex.expect)
				return
			}
			conn.Write([]byte(ex.reply))
		}
		if line, err := r.ReadString('\n'); err == nil {
			t.Errorf("server got %q after the script ended", line)
		}
	})
}

func pipelinePlan(port int, rcpts ...string) Plan {
	plan := basePlan(port)
	plan.TLS = NoTLS
	plan.MailFrom = ptr("scanner@contoso.example")
	plan.RcptTo = rcpts
	return plan
}

// TestPipelinedTransaction: with PIPELINING offered, MAIL, every RCPT and
// RSET go out in one group, and each reply, multi-line ones included, is
// recorded as the step of the command it answers, whether the replies
// arrive one by one or in a single segment.
func TestPipelinedTransaction(t *testing.T) {
	group := []string{
		"MAIL FROM:<scanner@contoso.example>",
		"RCPT TO:<gone@contoso.example>",
		"RCPT TO:<helpdesk@contoso.example>",
		"RSET",
	}
	replies := []string{
		"250 2.1.0 Sender OK\r\n",
		"550-5.1.1 User unknown\r\n550 5.1.1 see https://example.test/\r\n",
		"250 2.1.5 Recipient OK\r\n",
		"250 2.0.0 Resetting\r\n",
	}
	const want = `*: connecting to SERVER
*: connected to SERVER from CLIENT
S: 220 mx.example ESMTP
C: EHLO scanner01.contoso.example
S: 250-mx.example Hello [192.0.2.7]
S: 250-PIPELINING
S: 250 8BITMIME
C: MAIL FROM:<scanner@contoso.example>
C: RCPT TO:<gone@contoso.example>
C: RCPT TO:<helpdesk@contoso.example>
C: RSET
S: 250 2.1.0 Sender OK
S: 550-5.1.1 User unknown
S: 550 5.1.1 see https://example.test/
S: 250 2.1.5 Recipient OK
S: 250 2.0.0 Resetting
C: QUIT
S: 221 2.0.0 bye
`
	for _, together := range []bool{false, true} {
		name := "separate writes"
		if together {
			name = "one write"
		}
		t.Run(name, func(t *testing.T) {
			port := pipeliningServer(t, group, replies, together, []exchange{{"QUIT", "221 2.0.0 bye\r\n", ""}})
			conv := Converse(context.Background(), pipelinePlan(port, "gone@contoso.example", "helpdesk@contoso.example"))
			got := strings.ReplaceAll(strings.ReplaceAll(transcriptText(conv), conv.RemoteAddr, "SERVER"), conv.LocalAddr, "CLIENT")
			if got != want {
				t.Errorf("transcript:\n%s\nwant:\n%s", got, want)
			}
			if got, want := stepList(conv), "connect banner ehlo mail rcpt rcpt rset quit"; got != want {
				t.Fatalf("steps = %q, want %q", got, want)
			}
			mail := conv.StepsOf(result.StepMail)[0]
			rcpts := conv.StepsOf(result.StepRcpt)
			rset := conv.StepsOf(result.StepRset)[0]
			if mail.Command != group[0] || mail.Reply.Code != 250 || mail.Reply.Text() != "Sender OK" {
				t.Errorf("MAIL step = %q %v", mail.Command, mail.Reply)
			}
			if rcpts[0].Command != group[1] || rcpts[0].Reply.Code != 550 || rcpts[0].Reply.Enhanced != "5.1.1" ||
				!slices.Equal(rcpts[0].Reply.Lines, []string{"User unknown", "see https://example.test/"}) {
				t.Errorf("first RCPT step = %q %#v", rcpts[0].Command, rcpts[0].Reply)
			}
			if rcpts[1].Command != group[2] || rcpts[1].Reply.String() != "250 2.1.5 Recipient OK" {
				t.Errorf("second RCPT step = %q %v", rcpts[1].Command, rcpts[1].Reply)
			}
			if rset.Command != "RSET" || rset.Reply.Text() != "Resetting" {
				t.Errorf("RSET step = %q %v", rset.Command, rset.Reply)
			}
			if conv.Stop() != nil {
				t.Errorf("stopped at %+v", conv.Stop())
			}
		})
	}
}

// TestPipelinedMailRefused: the replies to the commands pipelined after a
// refused MAIL are read and shown, but the record stops at MAIL exactly as
// the conversation held one command at a time would.
func TestPipelinedMailRefused(t *testing.T) {
	port := pipeliningServer(t,
		[]string{"MAIL FROM:<scanner@contoso.example>", "RCPT TO:<helpdesk@contoso.example>", "RSET"},
		[]string{"550 5.7.1 Sender denied\r\n", "503 5.5.1 Need MAIL before RCPT\r\n", "250 2.0.0 Resetting\r\n"},
		false, []exchange{{"QUIT", "221 2.0.0 bye\r\n", ""}})
	conv := Converse(context.Background(), pipelinePlan(port, "helpdesk@contoso.example"))
	if got, want := stepList(conv), "connect banner ehlo mail quit"; got != want {
		t.Fatalf("steps = %q, want %q\n%s", got, want, transcriptText(conv))
	}
	if stop := conv.Stop(); stop == nil || stop.Step != result.StepMail || stop.Reply.String() != "550 5.7.1 Sender denied" {
		t.Errorf("stop = %+v", stop)
	}
	if !strings.Contains(transcriptText(conv), `C: RCPT TO:<helpdesk@contoso.example>
C: RSET
S: 550 5.7.1 Sender denied
*: MAIL was refused: the replies to the RCPT and RSET commands pipelined after it are not steps of the conversation
S: 503 5.5.1 Need MAIL before RCPT
S: 250 2.0.0 Resetting
C: QUIT
`) {
		t.Errorf("transcript:\n%s", transcriptText(conv))
	}
}

// TestPipelinedThenData: with a message, MAIL and the RCPTs are pipelined
// and DATA waits for them: it is sent only because a recipient was
// accepted.
func TestPipelinedThenData(t *testing.T) {
	port := pipeliningServer(t,
		[]string{"MAIL FROM:<scanner@contoso.example>", "RCPT TO:<helpdesk@contoso.example>"},
		[]string{"250 2.1.0 ok\r\n", "250 2.1.5 ok\r\n"},
		true, []exchange{
			{"DATA", "554 5.3.4 not today\r\n", ""},
			{"QUIT", "221 bye\r\n", ""},
		})
	plan := pipelinePlan(port, "helpdesk@contoso.example")
	plan.Message = &Message{Subject: "s", Body: "b"}
	conv := Converse(context.Background(), plan)
	if got, want := stepList(conv), "connect banner ehlo mail rcpt data quit"; got != want {
		t.Fatalf("steps = %q, want %q\n%s", got, want, transcriptText(conv))
	}
	if !conv.DataSent {
		t.Error("DATA not sent")
	}
}

// TestPipelinedNoRecipientAccepted: every RCPT refused in the group means
// no DATA, as without pipelining.
func TestPipelinedNoRecipientAccepted(t *testing.T) {
	port := pipeliningServer(t,
		[]string{"MAIL FROM:<scanner@contoso.example>", "RCPT TO:<a@contoso.example>", "RCPT TO:<b@contoso.example>"},
		[]string{"250 ok\r\n", "550 5.1.1 unknown\r\n", "450 4.2.1 try later\r\n"},
		false, []exchange{{"QUIT", "221 bye\r\n", ""}})
	plan := pipelinePlan(port, "a@contoso.example", "b@contoso.example")
	plan.Message = &Message{Body: "never sent"}
	conv := Converse(context.Background(), plan)
	if got, want := stepList(conv), "connect banner ehlo mail rcpt rcpt quit"; got != want {
		t.Fatalf("steps = %q, want %q\n%s", got, want, transcriptText(conv))
	}
	if conv.DataSent || !strings.Contains(transcriptText(conv), "*: no recipient accepted: DATA not sent\n") {
		t.Errorf("DataSent %v\n%s", conv.DataSent, transcriptText(conv))
	}
	if stop := conv.Stop(); stop == nil || stop.Step != result.StepRcpt || stop.Reply.Code != 450 {
		t.Errorf("stop = %+v", stop)
	}
}

// TestPipelinedReplyTimeout: each pipelined step's timeout bounds the wait
// for its own reply; a server that answers MAIL and then stalls gets a
// timeout at the first RCPT, within the step timeout.
func TestPipelinedReplyTimeout(t *testing.T) {
	port := pipeliningServer(t,
		[]string{"MAIL FROM:<scanner@contoso.example>", "RCPT TO:<helpdesk@contoso.example>", "RSET"},
		[]string{"250 ok\r\n"}, false, nil)
	plan := pipelinePlan(port, "helpdesk@contoso.example")
	plan.Timeout = 300 * time.Millisecond
	plan.Now = nil
	start := time.Now()
	conv := Converse(context.Background(), plan)
	if elapsed := time.Since(start); elapsed > 300*time.Millisecond+2*time.Second {
		t.Errorf("took %v with a 300ms step timeout", elapsed)
	}
	if got, want := stepList(conv), "connect banner ehlo mail rcpt"; got != want {
		t.Fatalf("steps = %q, want %q\n%s", got, want, transcriptText(conv))
	}
	if f := conv.Last().Fault; f == nil || f.Kind != result.FaultTimeout || f.Message != "no reply to RCPT within 300ms" {
		t.Errorf("fault = %+v", f)
	}
	if !strings.HasSuffix(transcriptText(conv), "*: 1 pipelined commands after RCPT got no reply\n") {
		t.Errorf("transcript:\n%s", transcriptText(conv))
	}
}

// TestPipelinedWithRealServer: go-smtp offers PIPELINING; the whole
// conversation against it, with a refused recipient, records the same
// steps and replies as one held a command at a time.
func TestPipelinedWithRealServer(t *testing.T) {
	be := &backend{rejectRcpt: map[string]bool{"gone@contoso.example": true}}
	port := startServer(t, be, serverOptions{allowInsecureAuth: true})
	plan := pipelinePlan(port, "gone@contoso.example", "helpdesk@contoso.example")
	conv := Converse(context.Background(), plan)
	if got, want := stepList(conv), "connect banner ehlo mail rcpt rcpt rset quit"; got != want {
		t.Fatalf("steps = %q, want %q\n%s", got, want, transcriptText(conv))
	}
	rcpts := conv.StepsOf(result.StepRcpt)
	if rcpts[0].Reply.Code != 550 || rcpts[0].Reply.Enhanced != "5.1.1" || rcpts[1].Reply.Code != 250 {
		t.Errorf("RCPT replies %v %v", rcpts[0].Reply, rcpts[1].Reply)
	}
	if !strings.Contains(transcriptText(conv), "C: MAIL FROM:<scanner@contoso.example>\nC: RCPT TO:<gone@contoso.example>\nC: RCPT TO:<helpdesk@contoso.example>\nC: RSET\nS: 250") {
		t.Errorf("not pipelined:\n%s", transcriptText(conv))
	}
	if _, rcptsSeen, _, _ := be.snapshot(); !slices.Equal(rcptsSeen, []string{"helpdesk@contoso.example"}) {
		t.Errorf("backend accepted %q", rcptsSeen)
	}
}

// TestPipelinedMessageWithoutRecipients: a message but no recipient is
// RSET, never DATA, as one command at a time.
func TestPipelinedMessageWithoutRecipients(t *testing.T) {
	port := pipeliningServer(t,
		[]string{"MAIL FROM:<scanner@contoso.example>", "RSET"},
		[]string{"250 ok\r\n", "250 reset\r\n"},
		false, []exchange{{"QUIT", "221 bye\r\n", ""}})
	plan := pipelinePlan(port)
	plan.Message = &Message{Body: "never sent"}
	conv := Converse(context.Background(), plan)
	if got, want := stepList(conv), "connect banner ehlo mail rset quit"; got != want {
		t.Fatalf("steps = %q, want %q\n%s", got, want, transcriptText(conv))
	}
	if conv.DataSent {
		t.Error("DATA sent without a recipient")
	}
}
