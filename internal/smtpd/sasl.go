package smtpd

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/smtpdiag/smtpdiag/internal/msreply"
)

// Mechanisms are the SASL mechanisms the front can run: PLAIN (RFC 4616),
// LOGIN (draft-murchison-sasl-login), XOAUTH2 (Microsoft's and Google's
// bearer-token mechanism) and CRAM-MD5 (RFC 2195).
var Mechanisms = []string{"PLAIN", "LOGIN", "XOAUTH2", "CRAM-MD5"}

// Credentials are what a client sent in a SASL exchange of AUTH (RFC 4954
// section 4).
type Credentials struct {
	// Mechanism is the SASL mechanism, upper-case.
	Mechanism string
	// Identity is PLAIN's authorization identity (RFC 4616 section 2),
	// "" when the client sent none.
	Identity string
	// User is the user name (the authentication identity).
	User string
	// Secret is the password (PLAIN, LOGIN), the bearer token (XOAUTH2)
	// or the keyed digest in hex (CRAM-MD5). It is never recorded.
	Secret string
	// challenge is the CRAM-MD5 challenge the digest answers.
	challenge string
}

// Matches reports, in constant time, whether the credentials prove
// knowledge of secret: equal to it, or for CRAM-MD5 the HMAC-MD5 of the
// challenge keyed with it (RFC 2195 section 2).
func (c Credentials) Matches(secret string) bool {
	want := secret
	if c.Mechanism == "CRAM-MD5" {
		mac := hmac.New(md5.New, []byte(secret))
		mac.Write([]byte(c.challenge))
		want = hex.EncodeToString(mac.Sum(nil))
	}
	return subtle.ConstantTimeCompare([]byte(c.Secret), []byte(want)) == 1
}

// saslExchange is what a SASL server reports: named as soon as the user
// name is known (LOGIN asks for it before the password), authenticate
// once the exchange is complete.
type saslExchange struct {
	hostname     string
	named        func(user string)
	authenticate func(Credentials) error
}

// done names the user and decides on the credentials.
func (x *saslExchange) done(cred Credentials) error {
	x.named(cred.User)
	return x.authenticate(cred)
}

// newSASLServer is the server side of mech, nil when mech is not one of
// Mechanisms. A response that cannot be parsed is refused: PLAIN's with
// go-sasl's error, XOAUTH2's with msreply.AuthUnsuccessful.
func newSASLServer(mech string, x *saslExchange) sasl.Server {
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(identity, user, password string) error {
			return x.done(Credentials{Mechanism: mech, Identity: identity, User: user, Secret: password})
		})
	case "LOGIN":
		return &loginServer{x: x}
	case "CRAM-MD5":
		return &cramMD5Server{x: x}
	case "XOAUTH2":
		return &xoauth2Server{x: x}
	}
	return nil
}

// loginServer is the server side of LOGIN (draft-murchison-sasl-login):
// "Username:" then "Password:", each answered with one base64 line. A
// client may send the user name as the initial response (AUTH LOGIN
// <base64 user>).
type loginServer struct {
	x        *saslExchange
	username string
	step     int
}

func (a *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch a.step {
	case 0:
		if response == nil {
			a.step = 1
			return []byte("Username:"), false, nil
		}
		return a.named(response)
	case 1:
		return a.named(response)
	case 2:
		a.step = 3
		return nil, true, a.x.authenticate(Credentials{Mechanism: "LOGIN", User: a.username, Secret: string(response)})
	}
	return nil, false, sasl.ErrUnexpectedClientResponse
}

// named takes the user name and asks for the password. The name is
// reported at once, so that a client that gives up at the password
// prompt still shows who it logged in as.
func (a *loginServer) named(response []byte) ([]byte, bool, error) {
	a.username, a.step = string(response), 2
	a.x.named(a.username)
	return []byte("Password:"), false, nil
}

// cramMD5Server is the server side of CRAM-MD5 (RFC 2195): a challenge
// in angle brackets, answered with "user hexdigest".
type cramMD5Server struct {
	x         *saslExchange
	challenge string
}

func (a *cramMD5Server) Next(response []byte) (challenge []byte, done bool, err error) {
	if a.challenge == "" {
		nonce := make([]byte, 8)
		rand.Read(nonce)
		a.challenge = fmt.Sprintf("<%s.%d@%s>", hex.EncodeToString(nonce), time.Now().Unix(), a.x.hostname)
		return []byte(a.challenge), false, nil
	}
	user, digest, _ := strings.Cut(string(response), " ")
	return nil, true, a.x.done(Credentials{Mechanism: "CRAM-MD5", User: user, Secret: digest, challenge: a.challenge})
}

// xoauth2Server is the server side of XOAUTH2, which Exchange Online
// accepts with a bearer token for https://outlook.office.com/SMTP.Send.
// Without an initial response an empty challenge asks for it.
type xoauth2Server struct {
	x     *saslExchange
	asked bool
}

func (a *xoauth2Server) Next(response []byte) (challenge []byte, done bool, err error) {
	if response == nil && !a.asked {
		a.asked = true
		return []byte{}, false, nil
	}
	user, token, ok := parseXOAUTH2(string(response))
	if !ok {
		return nil, true, msreply.AuthUnsuccessful(a.x.hostname)
	}
	return nil, true, a.x.done(Credentials{Mechanism: "XOAUTH2", User: user, Secret: token})
}

// parseXOAUTH2 reads an XOAUTH2 client response, "user=" user
// "\x01auth=Bearer " token "\x01\x01" (m365-facts.md section 2). ok is
// false without a user name or with an auth field that is not a bearer
// token; the token may be empty.
func parseXOAUTH2(response string) (user, token string, ok bool) {
	bearer := false
	for _, field := range strings.Split(response, "\x01") {
		key, value, _ := strings.Cut(field, "=")
		switch key {
		case "user":
			user = value
		case "auth":
			t, isBearer := strings.CutPrefix(value, "Bearer ")
			if !isBearer {
				return "", "", false
			}
			token, bearer = t, true
		}
	}
	return user, token, user != "" && bearer
}
