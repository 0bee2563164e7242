package listener

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
)

// The server sides of the SASL mechanisms devices use. Each accepts any
// secret: the listener tests the device, not its password. Only the user
// name leaves the exchange.

// loginServer is the server side of LOGIN (draft-murchison-sasl-login):
// "Username:" then "Password:", each answered with one base64 line. A
// device may send the user name as the initial response.
type loginServer struct {
	user     func(string)
	accept   func(user string) error
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
		a.setUser(response)
		return []byte("Password:"), false, nil
	case 1:
		a.setUser(response)
		return []byte("Password:"), false, nil
	case 2:
		a.step = 3
		return nil, true, a.accept(a.username)
	}
	return nil, false, sasl.ErrUnexpectedClientResponse
}

// setUser records the user name as soon as it is known, so that a device
// that gives up at the password prompt still shows who it logged in as.
func (a *loginServer) setUser(response []byte) {
	a.username = string(response)
	a.user(a.username)
	a.step = 2
}

// cramMD5Server is the server side of CRAM-MD5 (RFC 2195): a challenge
// in angle brackets, answered with "user hexdigest".
type cramMD5Server struct {
	hostname string
	accept   func(user string) error
	asked    bool
}

func (a *cramMD5Server) Next(response []byte) (challenge []byte, done bool, err error) {
	if !a.asked {
		a.asked = true
		nonce := make([]byte, 8)
		rand.Read(nonce)
		return fmt.Appendf(nil, "<%s.%d@%s>", hex.EncodeToString(nonce), time.Now().Unix(), a.hostname), false, nil
	}
	user, _, _ := strings.Cut(string(response), " ")
	return nil, true, a.accept(user)
}

// xoauth2Server is the server side of XOAUTH2 as Exchange Online accepts
// it: "user=" user "\x01auth=Bearer " token "\x01\x01" (m365-facts.md
// section 2). Without an initial response an empty challenge asks for it.
type xoauth2Server struct {
	accept    func(user string) error
	malformed func() error
	asked     bool
}

func (a *xoauth2Server) Next(response []byte) (challenge []byte, done bool, err error) {
	if response == nil && !a.asked {
		a.asked = true
		return []byte{}, false, nil
	}
	user, ok := xoauth2User(string(response))
	if !ok {
		return nil, true, a.malformed()
	}
	return nil, true, a.accept(user)
}

// xoauth2User reads the user of an XOAUTH2 response that carries a bearer
// token.
func xoauth2User(response string) (string, bool) {
	var user string
	bearer := false
	for _, field := range strings.Split(response, "\x01") {
		key, value, _ := strings.Cut(field, "=")
		switch key {
		case "user":
			user = value
		case "auth":
			bearer = strings.HasPrefix(value, "Bearer ")
		}
	}
	return user, user != "" && bearer
}
