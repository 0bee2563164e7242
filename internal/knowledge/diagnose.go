package knowledge

import (
	"fmt"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/conversation"
)

// Diagnosis explains why a conversation did not go as expected.
type Diagnosis struct {
	Category Category `json:"category"`
	// Summary is one line: what happened, where.
	Summary string `json:"summary"`
	Meaning string `json:"meaning"`
	Fix     string `json:"fix"`
	Setting string `json:"setting,omitempty"`
	Source  string `json:"source,omitempty"`
	// IP is an address the reply named in brackets, if any.
	IP string `json:"ip,omitempty"`
}

// Diagnose explains the most telling problem of a conversation: the first
// negative reply that the knowledge base knows, else the step where the
// conversation stopped. It returns nil when there is nothing to explain.
func Diagnose(c *conversation.Conversation) *Diagnosis {
	// A known negative reply anywhere is the most specific evidence (a
	// rejected RCPT does not stop the conversation but is what matters).
	for i := range c.Steps {
		s := &c.Steps[i]
		if s.Reply == nil || s.Reply.Positive() || s.Step == conversation.StepQuit {
			continue
		}
		if d := FromReply(s.Step, *s.Reply); d != nil {
			return d
		}
	}
	stop := c.Stop()
	if stop == nil {
		return nil
	}
	if stop.Fault != nil {
		return fromFault(c, stop)
	}
	return FromReply(stop.Step, *stop.Reply)
}

// FromReply explains one reply; nil when neither the knowledge base nor
// RFC 3463 has anything to say about it.
func FromReply(step conversation.Step, r conversation.Reply) *Diagnosis {
	text := r.Text()
	summary := fmt.Sprintf("%s at %s", r.String(), strings.ToUpper(string(step)))
	if e, ok := Lookup(r.Code, r.Enhanced, text); ok {
		return &Diagnosis{Category: e.Category, Summary: summary, Meaning: e.Meaning, Fix: e.Fix,
			Setting: e.Setting, Source: e.Source, IP: BracketedIP(text)}
	}
	if m, cat, ok := Generic(r.Enhanced); ok {
		return &Diagnosis{Category: cat, Summary: summary, Meaning: "RFC 3463 " + r.Enhanced + ": " + m,
			Fix:    "Read the reply text; the server gave no code Exchange Online documents.",
			Source: "https://www.rfc-editor.org/rfc/rfc3463#section-3", IP: BracketedIP(text)}
	}
	return nil
}

func fromFault(c *conversation.Conversation, s *conversation.StepRecord) *Diagnosis {
	d := &Diagnosis{Summary: fmt.Sprintf("%s: %s", s.Step, s.Fault.Error())}
	isM365 := strings.HasSuffix(strings.ToLower(c.Host), ".office365.com")
	switch s.Fault.Kind {
	case conversation.FaultRefused, conversation.FaultTimeout:
		if s.Step == conversation.StepConnect {
			d.Category = Network
			d.Meaning = fmt.Sprintf("No SMTP server answered on %s port %d.", c.Host, c.Port)
			d.Fix = "Check the host and port and any firewall on the way."
			if c.Port == 25 {
				d.Meaning += " Many ISPs block outbound port 25 on consumer and small-business lines."
				d.Fix = "Ask the ISP whether outbound port 25 is blocked, or submit through smtp.office365.com:587 with SMTP AUTH."
			}
			if c.Port == 465 && isM365 {
				d.Category = Configuration
				d.Meaning = "smtp.office365.com does not offer implicit TLS on port 465."
				d.Fix = "Use port 587 with STARTTLS. A device that only offers 465 does not support SMTP AUTH client submission to Microsoft 365."
			}
			return d
		}
		d.Category = Network
		d.Meaning = "The server stopped answering during the " + string(s.Step) + " step."
		d.Fix = "Retry; if it persists, look for a firewall or proxy that inspects SMTP."
	case conversation.FaultResolve:
		d.Category = DNS
		d.Meaning = "The host name did not resolve."
		d.Fix = "Check the name and the resolver the machine uses."
	case conversation.FaultClosed, conversation.FaultNetwork:
		d.Category = Network
		d.Meaning = "The connection failed or was closed by the server during the " + string(s.Step) + " step."
		d.Fix = "Check the network path and whether the server limits connections from this IP."
	case conversation.FaultNotAdvertised:
		if s.Step == conversation.StepStartTLS {
			d.Category = TLS
			d.Meaning = "The server did not advertise STARTTLS, so the conversation could not be encrypted."
			d.Fix = "Check that the endpoint is the right one; something on the path (an SMTP-inspecting firewall) may strip STARTTLS."
		} else {
			d.Category = Auth
			d.Meaning = "The server did not advertise AUTH."
			d.Fix = "Microsoft 365 MX endpoints (port 25) never offer AUTH: use smtp.office365.com:587 for SMTP AUTH, or Direct Send / a connector without AUTH."
			if isM365 && c.TLS == nil {
				d.Meaning = "smtp.office365.com advertises AUTH only after STARTTLS."
				d.Fix = "This is expected: the device must issue STARTTLS first, then AUTH."
			}
		}
	case conversation.FaultTLSHandshake:
		d.Category = TLS
		d.Meaning = "The TLS handshake failed."
		d.Fix = "Check the TLS versions and cipher suites both sides allow."
		if strings.Contains(strings.ToLower(s.Fault.Message), "version") {
			d.Meaning = "The TLS handshake failed on the protocol version: Exchange Online requires TLS 1.2 or newer."
			d.Fix = "Update the device firmware to support TLS 1.2, use smtp-legacy.office365.com where still allowed, or relay through a local server."
		}
	case conversation.FaultCertificate:
		d.Category = TLS
		d.Meaning = "The server's certificate did not verify."
		d.Fix = "Use the DNS name the certificate is issued for (never an IP address), or add the issuing CA with ca_file."
	case conversation.FaultInjection:
		d.Category = TLS
		d.Meaning = "The server sent data before the TLS handshake: a STARTTLS command-injection risk (RFC 3207 section 4, CVE-2011-0411 class)."
		d.Fix = "Report it to the server's operator; a middlebox may be tampering with the session."
	case conversation.FaultMalformed, conversation.FaultTooLong:
		d.Category = Network
		d.Meaning = "The server sent something that is not a valid SMTP reply."
		d.Fix = "Check that the port speaks SMTP and that no proxy rewrites the session."
	default:
		d.Category = Network
		d.Meaning = s.Fault.Message
	}
	return d
}
