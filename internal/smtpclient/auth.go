package smtpclient

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// mechanisms lists the SASL mechanisms the client implements, in the order
// it prefers them when the plan names none. XOAUTH2 is chosen only when a
// token is set; CRAM-MD5 keeps the password off the wire even without TLS.
var mechanisms = []string{"XOAUTH2", "CRAM-MD5", "PLAIN", "LOGIN"}

// maxAuthRounds bounds the 334 challenges of one AUTH exchange; a server
// that keeps challenging gets a "*" cancel (RFC 4954 section 4).
const maxAuthRounds = 4

// Auth runs the AUTH exchange (RFC 4954) with a.Mechanism, or with the best
// mechanism the last EHLO offered that the credentials allow. It is recorded as one StepAuth whose
// command is masked ("AUTH PLAIN ****"); every client response shows as
// "****" in the transcript. No credential leaves the client when the
// server does not advertise AUTH, when a.Mechanism is not among the
// mechanisms it offers (unless a.Force), or when the connection is not
// encrypted and the plan does not say tls = none: the step is recorded
// with a fault that says why. Credentials sent without TLS are noted in
// the transcript and the record.
func (c *Client) Auth(a Auth) error {
	if c.conn == nil {
		return c.notConnected(result.StepAuth)
	}
	c.red.WithAuth(a.Username, a.Password).WithAuth(a.Username, a.Token)
	start := c.offset()
	if !c.ext.Has("AUTH") {
		msg := "server does not advertise AUTH"
		if !c.inTLS {
			msg += " (without TLS)"
		}
		return c.fail(result.StepAuth, "", start, nil, &result.Fault{Kind: result.FaultNotAdvertised, Message: msg})
	}
	if !c.inTLS && c.plan.TLS != NoTLS {
		// RFC 4954 section 4 leaves it to policy; a client that would send
		// a password where STARTTLS failed or was skipped must not.
		return c.fail(result.StepAuth, "", start, nil, &result.Fault{Kind: result.FaultUnsupported,
			Message: "AUTH refused without TLS: the credentials would cross the network unencrypted (only tls = \"none\" allows it)"})
	}
	offered := c.ext.AuthMechanisms()
	name, err := chooseMechanism(a, offered)
	if err != nil {
		return c.fail(result.StepAuth, "", start, nil, &result.Fault{Kind: result.FaultUnsupported, Message: err.Error()})
	}
	if !slices.Contains(offered, name) {
		if !a.Force {
			return c.fail(result.StepAuth, "", start, nil, &result.Fault{Kind: result.FaultUnsupported,
				Message: fmt.Sprintf("%s is not among the mechanisms the server offers (%s); nothing was sent (force_mechanism = true sends it anyway)",
					name, strings.Join(offered, " "))})
		}
		c.note("%s is not among the offered mechanisms (%s); sending it anyway (force_mechanism = true)", name, strings.Join(offered, " "))
	}
	if !c.inTLS {
		c.conv.PlaintextAuth = true
		c.note("AUTH %s without TLS (tls = \"none\"): the credentials cross the network unencrypted", name)
	}
	mech := newMechanism(name, a)

	line, shown := "AUTH "+name, "AUTH "+name
	if ir, ok := mech.initial(); ok {
		line += " " + encodeResponse(ir)
		shown += " " + redact.Mask
	}
	if !c.arm() {
		return c.fail(result.StepAuth, shown, start, nil, c.canceledFault("AUTH"))
	}
	if err := c.send(line, shown); err != nil {
		return c.fail(result.StepAuth, shown, start, nil, c.fault("AUTH", err, false))
	}
	reply, err := c.readReply()
	for round := 0; err == nil && reply.Code == 334; round++ {
		if round > maxAuthRounds {
			err = &ProtocolError{Kind: result.FaultMalformed, Reason: "334 challenge after the client canceled AUTH", Line: []byte(reply.String())}
			break
		}
		challenge, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(strings.Join(reply.Lines, "")))
		var response []byte
		merr := derr
		if merr == nil && round < maxAuthRounds {
			if name == "XOAUTH2" {
				c.note("XOAUTH2 error from the server: %s", challenge)
			}
			response, merr = mech.next(round, challenge)
		}
		if merr != nil || round >= maxAuthRounds {
			err = c.send("*", "*")
		} else {
			shownResponse := redact.Mask
			if len(response) == 0 {
				shownResponse = ""
			}
			err = c.send(base64.StdEncoding.EncodeToString(response), shownResponse)
		}
		if err == nil {
			reply, err = c.readReply()
		}
	}
	if err != nil {
		return c.fail(result.StepAuth, shown, start, nil, c.fault("AUTH", err, true))
	}
	return c.finish(result.StepAuth, shown, start, &reply, 2)
}

// encodeResponse encodes an initial response; an empty one is "="
// (RFC 4954 section 4).
func encodeResponse(b []byte) string {
	if len(b) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(b)
}

// chooseMechanism picks the plan's mechanism, or the first of mechanisms
// that the server offers and the credentials allow.
func chooseMechanism(a Auth, offered []string) (string, error) {
	if a.Mechanism != "" {
		name := strings.ToUpper(a.Mechanism)
		if !slices.Contains(mechanisms, name) {
			return "", fmt.Errorf("AUTH mechanism %s is not supported (supported: %s)", name, strings.Join(mechanisms, " "))
		}
		return name, nil
	}
	for _, name := range mechanisms {
		usable := a.Password != "" || a.Token == ""
		if name == "XOAUTH2" {
			usable = a.Token != ""
		}
		if usable && slices.Contains(offered, name) {
			return name, nil
		}
	}
	return "", fmt.Errorf("no AUTH mechanism in common: the server offers %s", strings.Join(offered, " "))
}

// mechanism is the client side of one SASL mechanism.
type mechanism interface {
	// initial returns the initial response, if the mechanism sends one.
	initial() ([]byte, bool)
	// next answers the round'th 334 challenge.
	next(round int, challenge []byte) ([]byte, error)
}

var errUnexpectedChallenge = errors.New("unexpected challenge")

func newMechanism(name string, a Auth) mechanism {
	switch name {
	case "PLAIN":
		return plainMechanism{a}
	case "LOGIN":
		return loginMechanism{a}
	case "CRAM-MD5":
		return cramMD5Mechanism{a}
	}
	return xoauth2Mechanism{a}
}

// plainMechanism is SASL PLAIN (RFC 4616): authzid NUL authcid NUL passwd,
// sent as the initial response.
type plainMechanism struct{ a Auth }

func (m plainMechanism) initial() ([]byte, bool) { return plainResponse(m.a), true }
func (m plainMechanism) next(int, []byte) ([]byte, error) {
	return nil, errUnexpectedChallenge
}

func plainResponse(a Auth) []byte { return []byte("\x00" + a.Username + "\x00" + a.Password) }

// loginMechanism is the LOGIN mechanism (draft-murchison-sasl-login): the
// user name, then the password, each answering a challenge. The challenges'
// text ("Username:", "Password:") varies between servers, so the order
// decides.
type loginMechanism struct{ a Auth }

func (m loginMechanism) initial() ([]byte, bool) { return nil, false }
func (m loginMechanism) next(round int, _ []byte) ([]byte, error) {
	switch round {
	case 0:
		return []byte(m.a.Username), nil
	case 1:
		return []byte(m.a.Password), nil
	}
	return nil, errUnexpectedChallenge
}

// cramMD5Mechanism is CRAM-MD5 (RFC 2195): the user name, a space, and the
// hex HMAC-MD5 of the server's challenge keyed with the password.
type cramMD5Mechanism struct{ a Auth }

func (m cramMD5Mechanism) initial() ([]byte, bool) { return nil, false }
func (m cramMD5Mechanism) next(round int, challenge []byte) ([]byte, error) {
	if round > 0 {
		return nil, errUnexpectedChallenge
	}
	h := hmac.New(md5.New, []byte(m.a.Password))
	h.Write(challenge)
	return []byte(m.a.Username + " " + hex.EncodeToString(h.Sum(nil))), nil
}

// xoauth2Mechanism is Google's and Microsoft's XOAUTH2: the initial response
// "user=" user ^A "auth=Bearer " token ^A ^A. On failure the server sends a
// 334 with a base64 JSON error, to which the client answers with an empty
// line to get the final reply.
type xoauth2Mechanism struct{ a Auth }

func (m xoauth2Mechanism) initial() ([]byte, bool) { return xoauth2Response(m.a), true }
func (m xoauth2Mechanism) next(round int, _ []byte) ([]byte, error) {
	if round > 0 {
		return nil, errUnexpectedChallenge
	}
	return []byte{}, nil
}

func xoauth2Response(a Auth) []byte {
	return []byte("user=" + a.Username + "\x01auth=Bearer " + a.Token + "\x01\x01")
}
