package evidence

import (
	"fmt"
	"strings"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// Step is one row of the step timeline.
type Step struct {
	Name     string
	AfterTLS bool
	Command  Text
	Outcome  Text
	// Negative is true for a fault or a 4xx/5xx reply.
	Negative bool
	Start    string
	Duration string
	// BarLeft and BarWidth place the step's bar on the timeline, in
	// percent of the conversation's duration ("12.50").
	BarLeft  string
	BarWidth string
}

// TLS is the negotiated TLS session.
type TLS struct {
	Version     Text
	CipherSuite Text
	ServerName  Text
	Verified    bool
	VerifyError Text
	Chain       []Certificate
}

// Certificate is one certificate of the presented chain, leaf first.
type Certificate struct {
	Subject   Text
	Issuer    Text
	Names     []Text
	Serial    Text
	NotBefore string
	NotAfter  string
	// DaysLeft is the number of whole days from the check to NotAfter
	// (negative when it had expired).
	DaysLeft int
	SHA256   Text
}

func (b builder) steps(conv *result.Conversation) []Step {
	total := conv.Duration
	for _, s := range conv.Steps {
		total = max(total, s.Start+s.Duration)
	}
	pct := func(d time.Duration) float64 {
		if total <= 0 {
			return 0
		}
		return 100 * float64(d) / float64(total)
	}
	var out []Step
	for _, s := range conv.Steps {
		left := min(pct(s.Start), 99.5)
		// A step too short to see still gets a sliver of bar.
		width := min(max(pct(s.Duration), 0.5), 100-left)
		// The handshake is a step of its own, not a step inside TLS.
		afterTLS := s.AfterTLS && s.Step != result.StepTLS
		out = append(out, Step{
			Name:     strings.ToUpper(string(s.Step)),
			AfterTLS: afterTLS,
			Command:  b.text(s.Command),
			Outcome:  b.text(outcome(&s)),
			Negative: s.Failed(),
			Start:    fmt.Sprintf("%dms", s.Start.Milliseconds()),
			Duration: fmt.Sprintf("%dms", s.Duration.Milliseconds()),
			BarLeft:  fmt.Sprintf("%.2f", left),
			BarWidth: fmt.Sprintf("%.2f", width),
		})
	}
	return out
}

// outcome renders a step's reply or fault on one line. A positive EHLO
// reply shows only its greeting line: its extension lines are listed
// apart, and joined on one line they would crowd the timeline.
func outcome(s *result.StepRecord) string {
	if s.Step == result.StepEHLO && s.Fault == nil && s.Reply != nil && s.Reply.Positive() && len(s.Reply.Lines) > 1 {
		greeting := *s.Reply
		greeting.Lines = greeting.Lines[:1]
		return fmt.Sprintf("%s (+%d extension lines)", greeting.String(), len(s.Reply.Lines)-1)
	}
	return s.Outcome()
}

func (b builder) tls(t *result.TLSInfo, at time.Time) *TLS {
	out := &TLS{
		Version:     b.text(t.Version),
		CipherSuite: b.text(t.CipherSuite),
		ServerName:  b.text(t.ServerName),
		Verified:    t.Verified,
		VerifyError: b.text(t.VerifyError),
	}
	for _, c := range t.Chain {
		names := append(append([]string(nil), c.DNSNames...), c.IPAddresses...)
		cert := Certificate{
			Subject:   b.text(c.Subject),
			Issuer:    b.text(c.Issuer),
			Names:     b.texts(names),
			Serial:    b.text(c.SerialNumber),
			NotBefore: utc(c.NotBefore),
			NotAfter:  utc(c.NotAfter),
		}
		if !at.IsZero() {
			cert.DaysLeft = int(c.NotAfter.Sub(at).Hours() / 24)
		}
		cert.SHA256 = b.text(c.SHA256)
		out.Chain = append(out.Chain, cert)
	}
	return out
}
