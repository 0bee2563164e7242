package simulator

import (
	"strings"

	"github.com/emersion/go-sasl"
)

// loginServer is the server side of the LOGIN mechanism
// (draft-murchison-sasl-login): the server asks "Username:" and then
// "Password:", each answered with one base64 line. A client may send the
// user name as the initial response (AUTH LOGIN <base64 user>).
type loginServer struct {
	authenticate func(username, password string) error
	username     string
	step         int
}

func (a *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch a.step {
	case 0:
		if response == nil {
			a.step = 1
			return []byte("Username:"), false, nil
		}
		a.username = string(response)
		a.step = 2
		return []byte("Password:"), false, nil
	case 1:
		a.username = string(response)
		a.step = 2
		return []byte("Password:"), false, nil
	case 2:
		a.step = 3
		return nil, true, a.authenticate(a.username, string(response))
	}
	return nil, false, sasl.ErrUnexpectedClientResponse
}

// xoauth2Server is the server side of XOAUTH2, which Exchange Online
// accepts with a bearer token for https://outlook.office.com/SMTP.Send. The
// client response is "user=" user "\x01auth=Bearer " token "\x01\x01"
// (m365-facts.md section 2). Without an initial response the server sends
// an empty challenge for it.
type xoauth2Server struct {
	authenticate func(username, token string) error
	malformed    func() error
	asked        bool
}

func (a *xoauth2Server) Next(response []byte) (challenge []byte, done bool, err error) {
	if response == nil && !a.asked {
		a.asked = true
		return []byte{}, false, nil
	}
	username, token, ok := parseXOAUTH2(string(response))
	if !ok {
		return nil, true, a.malformed()
	}
	return nil, true, a.authenticate(username, token)
}

// parseXOAUTH2 reads the user and bearer token of an XOAUTH2 response.
func parseXOAUTH2(response string) (username, token string, ok bool) {
	for _, field := range strings.Split(response, "\x01") {
		key, value, _ := strings.Cut(field, "=")
		switch key {
		case "user":
			username = value
		case "auth":
			token, _ = strings.CutPrefix(value, "Bearer ")
			if token == value {
				return "", "", false
			}
		}
	}
	return username, token, username != "" && token != ""
}
