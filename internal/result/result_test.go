package result

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
)

func reply(code int, enhanced, text string) *esmtp.Reply {
	return &esmtp.Reply{Code: code, Enhanced: enhanced, Lines: []string{text}}
}

func step(s Step, r *esmtp.Reply) StepRecord { return StepRecord{Step: s, Reply: r} }

func TestStop(t *testing.T) {
	ok := func(s Step) StepRecord { return step(s, reply(250, "", "OK")) }
	rcpt := func(code int) StepRecord { return step(StepRcpt, reply(code, "", "rcpt")) }
	quitFault := StepRecord{Step: StepQuit, Fault: &Fault{Kind: FaultClosed, Message: "closed"}}
	for _, tc := range []struct {
		name  string
		c     Conversation
		want  int // index of the stopping step, -1 for none
		usedH bool
	}{
		{"ran to its end", Conversation{Steps: []StepRecord{{Step: StepConnect}, ok(StepBanner), ok(StepEHLO), ok(StepMail), rcpt(250), ok(StepRset), ok(StepQuit)}}, -1, false},
		{"connect fault", Conversation{Steps: []StepRecord{{Step: StepConnect, Fault: &Fault{Kind: FaultRefused}}}}, 0, false},
		{"negative MAIL", Conversation{Steps: []StepRecord{{Step: StepConnect}, ok(StepBanner), ok(StepEHLO),
			step(StepMail, reply(530, "5.7.57", "no")), ok(StepQuit)}}, 3, false},
		// Every RCPT is tried: a rejected one does not stop the
		// conversation while another was accepted.
		{"one RCPT of two rejected", Conversation{Steps: []StepRecord{ok(StepMail), rcpt(550), rcpt(250), ok(StepRset)}}, -1, false},
		// With none accepted, the last RCPT is where it stopped.
		{"every RCPT rejected", Conversation{Steps: []StepRecord{ok(StepMail), rcpt(550), rcpt(550), ok(StepQuit)}}, 2, false},
		// A 5xx to EHLO followed by HELO is not a stop.
		{"EHLO rejected, HELO used", Conversation{UsedHELO: true, Steps: []StepRecord{ok(StepBanner),
			step(StepEHLO, reply(502, "", "no EHLO")), ok(StepEHLO), ok(StepQuit)}}, -1, true},
		{"EHLO rejected, no HELO", Conversation{Steps: []StepRecord{ok(StepBanner), step(StepEHLO, reply(554, "", "go away")), ok(StepQuit)}}, 1, false},
		// A negative reply to QUIT is not a stop; a fault at QUIT is.
		{"negative QUIT", Conversation{Steps: []StepRecord{ok(StepBanner), step(StepQuit, reply(421, "", "bye"))}}, -1, false},
		{"fault at QUIT", Conversation{Steps: []StepRecord{ok(StepBanner), quitFault}}, 1, false},
		{"no steps", Conversation{}, -1, false},
	} {
		got := tc.c.Stop()
		switch {
		case tc.want < 0 && got != nil:
			t.Errorf("%s: stopped at %+v", tc.name, *got)
		case tc.want >= 0 && got != &tc.c.Steps[tc.want]:
			t.Errorf("%s: Stop() = %+v, want step %d", tc.name, got, tc.want)
		}
	}
}

func TestLastEHLOAndStepsOf(t *testing.T) {
	c := Conversation{EHLOBeforeTLS: esmtp.ParseEHLO([]string{"STARTTLS"})}
	if !c.LastEHLO().Has("STARTTLS") {
		t.Error("LastEHLO without TLS is not the first EHLO")
	}
	c.EHLOAfterTLS = esmtp.ParseEHLO([]string{})
	if c.LastEHLO() == nil || c.LastEHLO().Has("STARTTLS") {
		t.Error("LastEHLO after TLS, even an empty one, is not the second EHLO")
	}
	c.Steps = []StepRecord{{Step: StepRcpt}, {Step: StepMail}, {Step: StepRcpt}}
	if got := c.StepsOf(StepRcpt); len(got) != 2 || got[0] != &c.Steps[0] || got[1] != &c.Steps[2] {
		t.Errorf("StepsOf = %v", got)
	}
	if c.Last() != &c.Steps[2] || (&Conversation{}).Last() != nil {
		t.Error("Last")
	}
}

func TestRedact(t *testing.T) {
	secret := "S3cr3t"
	c := &Conversation{
		Host:          "smtp." + secret,
		EHLOBeforeTLS: esmtp.ParseEHLO([]string{"AUTH " + secret}),
		Steps: []StepRecord{{Step: StepAuth, Command: "AUTH PLAIN " + secret, Reply: reply(535, "5.7.3", "bad "+secret),
			Fault: &Fault{Message: secret, Bytes: secret}}},
		TLS:        &TLSInfo{VerifyError: secret},
		Transcript: []TranscriptLine{{Text: "C: " + secret}},
	}
	c.Redact(func(s string) string { return strings.ReplaceAll(s, secret, "****") })
	b, _ := json.Marshal(c)
	if strings.Contains(string(b), secret) {
		t.Errorf("the secret survives Redact: %s", b)
	}
	if !c.EHLOBeforeTLS.Has("AUTH") || c.EHLOBeforeTLS.AuthMechanisms()[0] != "****" {
		t.Errorf("the masked EHLO is not parsed again: %v", c.EHLOBeforeTLS)
	}
}

func TestCheckTranscriptAndCounts(t *testing.T) {
	at := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	dnsOnly := &Check{Status: Passed, Lookups: []Lookup{
		{Name: "contoso.com", Type: "MX", Server: "192.0.2.53:53", Transport: "udp", Rcode: "NOERROR", Answers: []string{"contoso.com. 3600 IN MX 0 mx.contoso.com."}, Started: at, Duration: 12 * time.Millisecond},
		{Name: "mx.contoso.com", Type: "A", Server: "192.0.2.53:53", Transport: "udp", Error: "timeout", Started: at.Add(20 * time.Millisecond)},
	}}
	lines := dnsOnly.TranscriptLines()
	if len(lines) != 3 || lines[0].Direction != Note || lines[2].Offset != 20*time.Millisecond ||
		lines[0].Text != "DNS MX contoso.com @192.0.2.53:53/udp: NOERROR, 1 record (12ms)" ||
		!strings.HasPrefix(lines[2].Text, "DNS A mx.contoso.com @192.0.2.53:53/udp: timeout") {
		t.Errorf("lookups as transcript: %+v", lines)
	}
	conv := &Check{Conversation: &Conversation{Transcript: []TranscriptLine{{Text: "C: QUIT"}}}}
	if got := conv.TranscriptLines(); len(got) != 1 || got[0].Text != "C: QUIT" {
		t.Errorf("conversation transcript: %+v", got)
	}
	suites := []*Suite{{Checks: []*Check{dnsOnly, {Status: Failed}, {Status: Errored}}}, {Checks: []*Check{{Status: Skipped}, {Status: Failed}}}}
	if c := Tally(suites); c != (Counts{Passed: 1, Failed: 2, Errored: 1, Skipped: 1}) || c.Total() != 5 {
		t.Errorf("Tally = %+v", c)
	}
	if (&Check{Error: "boom"}).FirstFailure() != "boom" || (&Check{Failures: []Failure{{Message: "m"}}, Error: "e"}).FirstFailure() != "m" {
		t.Error("FirstFailure")
	}
}

func TestRejection(t *testing.T) {
	r := Rejection{Command: "MAIL FROM:<a@b.c>", Reply: esmtp.Reply{Code: 530, Enhanced: "5.7.57", Lines: []string{"Client not authenticated"}}}
	if r.String() != "530 5.7.57 Client not authenticated at MAIL FROM:<a@b.c>" {
		t.Errorf("%q", r)
	}
	b, err := json.Marshal(r)
	if err != nil || string(b) != `{"command":"MAIL FROM:\u003ca@b.c\u003e","reply":{"code":530,"enhanced":"5.7.57","lines":["Client not authenticated"]}}` {
		t.Errorf("%s, %v", b, err)
	}
}

// An interruption's unfinished checks are those not run and those
// canceled while they ran; a connection listen listed without judging
// it is neither.
func TestUnfinished(t *testing.T) {
	canceled := &Conversation{}
	canceled.Steps = append(canceled.Steps, StepRecord{Step: StepRcpt, Fault: &Fault{Kind: FaultCanceled, Message: "interrupted"}})
	s := &Suite{Checks: []*Check{
		{Label: "ran", Status: Passed},
		{Label: "not run", Status: Skipped, Error: "not run: interrupted"},
		{Label: "canceled", Status: Failed, Conversation: canceled},
		{Label: "scan", Status: Skipped, Error: "not judged: a connection without SMTP", Device: &DeviceSession{Number: 2}},
	}}
	if got := s.Unfinished(); got != 2 {
		t.Errorf("Unfinished = %d, want 2 (not run, canceled)", got)
	}
}
