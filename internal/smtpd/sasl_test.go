package smtpd

import "testing"

func TestCredentialsMatches(t *testing.T) {
	// RFC 2195 section 2's example exchange.
	cram := Credentials{Mechanism: "CRAM-MD5", User: "tim", Secret: "b913a602c7eda7a495b4e6e7334d3890",
		challenge: "<1896.697170952@postoffice.reston.mci.net>"}
	if !cram.Matches("tanstaaftanstaaf") || cram.Matches("tanstaaf") {
		t.Error("CRAM-MD5 digest check")
	}
	login := Credentials{Mechanism: "LOGIN", User: "u", Secret: "pw"}
	if !login.Matches("pw") || login.Matches("pw ") || login.Matches("") {
		t.Error("password check")
	}
}

func TestParseXOAUTH2(t *testing.T) {
	tests := []struct {
		response, user, token string
		ok                    bool
	}{
		{"user=u@x\x01auth=Bearer tok\x01\x01", "u@x", "tok", true},
		{"auth=Bearer tok\x01user=u@x\x01\x01", "u@x", "tok", true},
		{"user=u@x\x01auth=Bearer \x01\x01", "u@x", "", true}, // no token: refused by whoever checks it
		{"user=u@x\x01auth=tok\x01\x01", "", "", false},
		{"user=u@x\x01auth=Bearer tok\x01auth=Basic b\x01\x01", "", "", false},
		{"user=u@x\x01\x01", "u@x", "", false},
		{"auth=Bearer tok\x01\x01", "", "tok", false},
		{"", "", "", false},
	}
	for _, tc := range tests {
		user, token, ok := parseXOAUTH2(tc.response)
		if user != tc.user || token != tc.token || ok != tc.ok {
			t.Errorf("parseXOAUTH2(%q) = %q, %q, %v; want %q, %q, %v", tc.response, user, token, ok, tc.user, tc.token, tc.ok)
		}
	}
}
