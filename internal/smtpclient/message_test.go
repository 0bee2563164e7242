package smtpclient

import (
	"strings"
	"testing"
)

func TestDotStuff(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ".\r\n"},
		{"a", "a\r\n.\r\n"},
		{"a\r\n", "a\r\n.\r\n"},
		{"a\nb\rc\r\nd", "a\r\nb\r\nc\r\nd\r\n.\r\n"},
		{".\n..\n.x\nx.", "..\r\n...\r\n..x\r\nx.\r\n.\r\n"},
		{"a\n\n", "a\r\n\r\n.\r\n"},
		{"a\r\n.\r\nQUIT\r\n", "a\r\n..\r\nQUIT\r\n.\r\n"},
	}
	for _, tt := range tests {
		if got := string(dotStuff([]byte(tt.in))); got != tt.want {
			t.Errorf("dotStuff(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBuildMessage(t *testing.T) {
	from := "scanner@contoso.example"
	plan := Plan{
		Helo:     "scanner01.contoso.example",
		MailFrom: &from,
		RcptTo:   []string{"a@contoso.example"},
		Message: &Message{
			From:    "Scanner <scanner@contoso.example>",
			Subject: "plain",
			Body:    "Grüße\n" + strings.Repeat("x", 1200),
			Headers: map[string]string{"date": "Mon, 02 Jan 2006 15:04:05 -0700"},
		},
	}
	b, err := buildMessage(plan, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	msg := string(b)
	for _, want := range []string{
		"\nFrom: Scanner <scanner@contoso.example>\n",
		"\nTo: a@contoso.example\n",
		"Date: Mon, 02 Jan 2006 15:04:05 -0700\n",
		"\nContent-Transfer-Encoding: quoted-printable\n",
		"\n\nGr=C3=BC=C3=9Fe\n",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Count(msg, "Date:") != 1 {
		t.Errorf("the extra Date header did not replace the standard one:\n%s", msg)
	}
	for _, line := range strings.Split(msg, "\n") {
		if len(line) > maxLine {
			t.Errorf("line of %d bytes", len(line))
		}
	}

	plan.Message.Headers = map[string]string{"Bad Name": "x"}
	if _, err := buildMessage(plan, fixedNow); err == nil || err.Error() != `header name "Bad Name" is not a valid RFC 5322 field name` {
		t.Errorf("err = %v", err)
	}
}

func TestFold(t *testing.T) {
	var to []string
	for range 10 {
		to = append(to, "recipient@contoso.example,")
	}
	folded := fold("To: " + strings.Join(to, " "))
	for _, line := range strings.Split(folded, "\n") {
		if len(line) > 78 {
			t.Errorf("line %q longer than 78", line)
		}
		if line != strings.Split(folded, "\n")[0] && !strings.HasPrefix(line, " ") {
			t.Errorf("continuation %q does not start with white space", line)
		}
	}
	if unfolded := strings.ReplaceAll(folded, "\n", ""); unfolded != "To: "+strings.Join(to, " ") {
		t.Errorf("unfolding gives %q", unfolded)
	}
}
