package result

import (
	"fmt"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
)

// Step names one stage of an SMTP conversation, in the order of
// SPEC section 3: connect, banner, ehlo, [starttls, tls, ehlo], [auth],
// [mail], [rcpt ...], [rset | data, message], quit.
type Step string

// The steps of a conversation.
const (
	StepConnect  Step = "connect"  // TCP connect (and, with implicit TLS, the handshake)
	StepBanner   Step = "banner"   // the 220 greeting
	StepEHLO     Step = "ehlo"     // EHLO, or HELO after a 5xx to EHLO
	StepStartTLS Step = "starttls" // the STARTTLS command and its reply
	StepTLS      Step = "tls"      // the TLS handshake and certificate verification
	StepAuth     Step = "auth"     // the whole SASL exchange; the reply is the final one
	StepMail     Step = "mail"     // MAIL FROM
	StepRcpt     Step = "rcpt"     // one RCPT TO (a conversation has one per recipient)
	StepRset     Step = "rset"     // RSET, sent instead of DATA when there is no message
	StepData     Step = "data"     // the DATA command and its 354
	StepMessage  Step = "message"  // the message content and the final reply
	StepQuit     Step = "quit"     // QUIT
)

// FaultKind classifies a step that ended without a usable reply.
type FaultKind string

// The kinds of fault.
const (
	FaultRefused       FaultKind = "refused"         // connection refused
	FaultTimeout       FaultKind = "timeout"         // a step's deadline passed
	FaultClosed        FaultKind = "closed"          // the server closed or reset the connection
	FaultNetwork       FaultKind = "network"         // any other network error (no route, bad source address...)
	FaultResolve       FaultKind = "resolve"         // the host name did not resolve
	FaultTLSHandshake  FaultKind = "tls-handshake"   // the TLS handshake failed
	FaultCertificate   FaultKind = "certificate"     // the certificate did not verify (and verification was required)
	FaultMalformed     FaultKind = "malformed"       // the server sent something that is not an SMTP reply
	FaultTooLong       FaultKind = "too-long"        // a reply line or reply exceeded the client's bounds
	FaultNotAdvertised FaultKind = "not-advertised"  // STARTTLS or AUTH was needed but not offered
	FaultUnsupported   FaultKind = "unsupported"     // e.g. no AUTH mechanism in common
	FaultCanceled      FaultKind = "canceled"        // the run was interrupted
	FaultDeadline      FaultKind = "check-deadline"  // the whole check's deadline passed
	FaultInjection     FaultKind = "starttls-inject" // data arrived before the TLS handshake (RFC 3207 section 4)
	FaultPremature     FaultKind = "premature-reply" // a reply arrived with 354, before the message was sent
	// FaultClientCertificate: the server asked for a TLS client
	// certificate and then ended the session with an alert, refusing
	// the one sent or its absence.
	FaultClientCertificate FaultKind = "client-certificate"
)

// Fault describes a step that ended without a usable reply.
type Fault struct {
	Kind    FaultKind `json:"kind"`
	Message string    `json:"message"`
	// Bytes holds the offending bytes, quoted with Go escapes, for malformed
	// replies and injection attempts.
	Bytes string `json:"bytes,omitempty"`
}

func (f *Fault) Error() string {
	if f.Bytes != "" {
		return f.Message + ": " + f.Bytes
	}
	return f.Message
}

// StepRecord is one step as it happened.
type StepRecord struct {
	Step Step `json:"step"`
	// Command is what the client sent (AUTH exchanges masked), "" for
	// connect, banner and tls.
	Command string `json:"command,omitempty"`
	// AfterTLS is true for steps taken inside TLS (the second EHLO and
	// everything after it).
	AfterTLS bool `json:"after_tls,omitempty"`
	// Reply is the server's reply; nil when the step has none.
	Reply *esmtp.Reply `json:"reply,omitempty"`
	// Fault is set when the step ended without a usable reply.
	Fault *Fault `json:"fault,omitempty"`
	// Start is the offset from the start of the conversation.
	Start    time.Duration `json:"start_ns"`
	Duration time.Duration `json:"duration_ns"`
}

// Failed reports whether the step ended the conversation: a fault or a
// negative (4xx/5xx) reply.
func (s *StepRecord) Failed() bool {
	return s.Fault != nil || (s.Reply != nil && !s.Reply.Positive())
}

// Outcome renders the reply or fault on one line.
func (s *StepRecord) Outcome() string {
	switch {
	case s.Fault != nil:
		return s.Fault.Error()
	case s.Reply != nil:
		return s.Reply.String()
	}
	return "ok"
}

// Certificate is one certificate of the chain the server presented.
type Certificate struct {
	Subject      string    `json:"subject"`
	Issuer       string    `json:"issuer"`
	DNSNames     []string  `json:"dns_names,omitempty"`
	IPAddresses  []string  `json:"ip_addresses,omitempty"`
	SerialNumber string    `json:"serial_number"`
	NotBefore    time.Time `json:"not_before"`
	NotAfter     time.Time `json:"not_after"`
	// SHA256 is the hex fingerprint of the DER encoding.
	SHA256 string `json:"sha256"`
}

// TLSInfo describes the negotiated TLS session.
type TLSInfo struct {
	// Version is "1.0", "1.1", "1.2" or "1.3".
	Version     string `json:"version"`
	CipherSuite string `json:"cipher_suite"`
	// ServerName is the name sent as SNI and verified against.
	ServerName string `json:"server_name"`
	// Chain is the peer's chain as presented, leaf first.
	Chain []Certificate `json:"chain"`
	// Verified reports whether the chain verified against the trust anchors
	// and the name matched.
	Verified bool `json:"verified"`
	// VerifyError is why verification failed, "" when it succeeded.
	VerifyError string `json:"verify_error,omitempty"`
	// ClientCertificateRequested reports whether the server asked for a
	// client certificate (a CertificateRequest in the handshake).
	ClientCertificateRequested bool `json:"client_certificate_requested,omitempty"`
	// ClientCertificate is the leaf this client presented; nil when it
	// presented none (not asked, or none configured).
	ClientCertificate *Certificate `json:"client_certificate,omitempty"`
}

// Direction says who a transcript line came from.
type Direction string

// Transcript directions.
const (
	Client   Direction = "C"   // sent by the client
	Server   Direction = "S"   // received from the server
	TLSEvent Direction = "TLS" // a TLS event (handshake start, result, certificate)
	Note     Direction = "*"   // anything else worth recording (connect, DNS, faults)
)

// TranscriptLine is one line of the transcript.
type TranscriptLine struct {
	Offset    time.Duration `json:"offset_ns"`
	Direction Direction     `json:"dir"`
	Text      string        `json:"text"`
}

// String renders the line as "  12ms C: EHLO host".
func (l TranscriptLine) String() string {
	return fmt.Sprintf("%6dms %s: %s", l.Offset.Milliseconds(), l.Direction, l.Text)
}

// Conversation is the complete record of one SMTP conversation.
type Conversation struct {
	// Host and Port are what was dialed; TLSMode is starttls, implicit or none.
	Host    string `json:"host"`
	Port    int    `json:"port"`
	TLSMode string `json:"tls_mode"`
	// RemoteAddr is the resolved address connected to ("192.0.2.1:587");
	// LocalAddr the local end.
	RemoteAddr string `json:"remote_addr,omitempty"`
	LocalAddr  string `json:"local_addr,omitempty"`

	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`

	Steps []StepRecord `json:"steps"`

	// EHLOBeforeTLS and EHLOAfterTLS hold the extension lines of the EHLO
	// replies (every line after the greeting line), e.g. "AUTH LOGIN PLAIN".
	// Nil when that EHLO did not happen (absent from JSON), empty when it
	// offered nothing ([] in JSON).
	EHLOBeforeTLS esmtp.Extensions `json:"ehlo_before_tls,omitzero"`
	EHLOAfterTLS  esmtp.Extensions `json:"ehlo_after_tls,omitzero"`
	// UsedHELO is true when EHLO was rejected with 5xx and HELO was used.
	UsedHELO bool `json:"used_helo,omitempty"`

	TLS *TLSInfo `json:"tls,omitempty"`

	// ClientIP is the address the server echoed in its EHLO greeting
	// ("Hello [203.0.113.5]"), "" when it echoed none.
	ClientIP string `json:"client_ip,omitempty"`

	// DataSent is true when the DATA command was sent.
	DataSent bool `json:"data_sent"`
	// PlaintextAuth is true when credentials were sent without TLS (an
	// endpoint with tls = "none"): they crossed the network unencrypted.
	PlaintextAuth bool `json:"plaintext_auth,omitempty"`

	Transcript []TranscriptLine `json:"transcript"`
	// OmittedLines and OmittedBytes count what the record did not keep
	// once it reached its budget: transcript lines, and reply text past
	// the start of each reply's first line (its codes are always kept).
	// The transcript ends with a note that says so.
	OmittedLines int   `json:"omitted_lines,omitempty"`
	OmittedBytes int64 `json:"omitted_bytes,omitempty"`
}

// Last returns the last step taken, or nil.
func (c *Conversation) Last() *StepRecord {
	if len(c.Steps) == 0 {
		return nil
	}
	return &c.Steps[len(c.Steps)-1]
}

// Stop returns the step that ended the conversation early: the first step
// with a fault, or the first negative reply other than a RCPT (every RCPT is
// tried) and other than QUIT, or the last RCPT when no RCPT was accepted. A
// rejected EHLO followed by HELO does not count. Nil when the conversation
// ran to its end.
func (c *Conversation) Stop() *StepRecord {
	for i := range c.Steps {
		s := &c.Steps[i]
		if s.Fault != nil {
			return s
		}
		if s.Reply == nil || s.Reply.Positive() || s.Step == StepQuit {
			continue
		}
		if s.Step == StepRcpt {
			// Every RCPT is tried; the conversation stops after them only
			// when none was accepted (checked below).
			continue
		}
		if s.Step == StepEHLO && c.UsedHELO && i+1 < len(c.Steps) && c.Steps[i+1].Step == StepEHLO {
			continue
		}
		return s
	}
	rcpts := c.StepsOf(StepRcpt)
	for _, r := range rcpts {
		if !r.Failed() {
			return nil
		}
	}
	if len(rcpts) > 0 {
		// No recipient was accepted, so nothing after them could be sent.
		return rcpts[len(rcpts)-1]
	}
	return nil
}

// StepsOf returns the records of one step kind, in order.
func (c *Conversation) StepsOf(step Step) []*StepRecord {
	var out []*StepRecord
	for i := range c.Steps {
		if c.Steps[i].Step == step {
			out = append(out, &c.Steps[i])
		}
	}
	return out
}

// LastEHLO returns the extensions of the last EHLO reply.
func (c *Conversation) LastEHLO() esmtp.Extensions {
	if c.EHLOAfterTLS != nil {
		return c.EHLOAfterTLS
	}
	return c.EHLOBeforeTLS
}

// Redact passes every string of the record through mask, so that sensitive
// values never leave the process. It changes c in place.
func (c *Conversation) Redact(mask func(string) string) {
	c.Host = mask(c.Host)
	for i := range c.Steps {
		s := &c.Steps[i]
		s.Command = mask(s.Command)
		if s.Reply != nil {
			redactReply(s.Reply, mask)
		}
		if s.Fault != nil {
			s.Fault.Message = mask(s.Fault.Message)
			s.Fault.Bytes = mask(s.Fault.Bytes)
		}
	}
	c.EHLOBeforeTLS = redactExtensions(c.EHLOBeforeTLS, mask)
	c.EHLOAfterTLS = redactExtensions(c.EHLOAfterTLS, mask)
	if c.TLS != nil {
		c.TLS.VerifyError = mask(c.TLS.VerifyError)
	}
	for i := range c.Transcript {
		c.Transcript[i].Text = mask(c.Transcript[i].Text)
	}
}

// redactExtensions masks the lines of an EHLO reply and parses them again.
func redactExtensions(x esmtp.Extensions, mask func(string) string) esmtp.Extensions {
	lines := x.Lines()
	for i := range lines {
		lines[i] = mask(lines[i])
	}
	return esmtp.ParseEHLO(lines)
}

func redactReply(r *esmtp.Reply, mask func(string) string) {
	for i := range r.Lines {
		r.Lines[i] = mask(r.Lines[i])
	}
}
