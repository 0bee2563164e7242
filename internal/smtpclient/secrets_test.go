package smtpclient

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
)

// forbidden lists every form of the credentials that must never appear in
// a recorded conversation.
func forbidden(a Auth) []string {
	out := []string{}
	for _, s := range []string{a.Password, a.Token} {
		if s != "" {
			out = append(out, s, b64(s), strings.TrimRight(b64(s), "="))
		}
	}
	if a.Password != "" {
		out = append(out, b64("\x00"+a.Username+"\x00"+a.Password))
	}
	if a.Token != "" {
		out = append(out, b64("user="+a.Username+"\x01auth=Bearer "+a.Token+"\x01\x01"))
	}
	return out
}

func assertNoSecrets(t *testing.T, v any, a Auth) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range forbidden(a) {
		if strings.Contains(string(b), s) {
			t.Errorf("the record holds %q:\n%s", s, b)
		}
	}
}

func TestSecretsNeverRecorded(t *testing.T) {
	for _, auth := range []Auth{
		{Username: testUser, Password: testPassword, Mechanism: "PLAIN"},
		{Username: testUser, Password: testPassword, Mechanism: "LOGIN"},
		{Username: testUser, Password: testPassword, Mechanism: "CRAM-MD5"},
		{Username: testUser, Token: testToken, Mechanism: "XOAUTH2"},
		{Username: testUser, Password: "wrong-" + testPassword, Mechanism: "PLAIN"},
		{Username: testUser, Token: "bad-" + testToken, Mechanism: "XOAUTH2"},
	} {
		t.Run(auth.Mechanism, func(t *testing.T) {
			be := &backend{mechanisms: []string{"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"}}
			plan := basePlan(startServer(t, be, serverOptions{allowInsecureAuth: true}))
			plan.TLS = NoTLS
			plan.Auth = &auth
			conv := Converse(context.Background(), plan)
			if len(conv.StepsOf("auth")) != 1 {
				t.Fatalf("steps %q", stepList(conv))
			}
			assertNoSecrets(t, conv, auth)
		})
	}
}

// TestEchoedSecretsMasked: a server that echoes the credentials back, in a
// challenge, a rejection or a malformed line, must not get them recorded.
func TestEchoedSecretsMasked(t *testing.T) {
	auth := Auth{Username: testUser, Password: testPassword, Mechanism: "PLAIN"}
	blob := b64("\x00" + testUser + "\x00" + testPassword)
	port := scriptedServer(t, func(conn net.Conn, r *bufio.Reader) {
		conn.Write([]byte("220 mx.example\r\n"))
		r.ReadString('\n')
		conn.Write([]byte("250-mx.example\r\n250 AUTH PLAIN\r\n"))
		r.ReadString('\n')
		conn.Write([]byte("535-5.7.8 bad credentials " + blob + "\r\n535-password was " + testPassword + "\r\n535 5.7.8 (" + b64(testPassword) + ")\r\n"))
		r.ReadString('\n')
		conn.Write([]byte("221-" + testPassword + "\r\n999 " + testPassword + "\r\n"))
	})
	plan := basePlan(port)
	plan.TLS = NoTLS
	plan.Auth = &auth
	conv := Converse(context.Background(), plan)
	if got, want := stepList(conv), "connect banner ehlo auth quit"; got != want {
		t.Fatalf("steps = %q, want %q", got, want)
	}
	if got := conv.Steps[3].Reply.Lines; len(got) != 3 || got[0] != "bad credentials ****" || got[1] != "password was ****" {
		t.Errorf("auth reply lines = %q", got)
	}
	if f := conv.Last().Fault; f == nil || f.Bytes != `"999 ****"` {
		t.Errorf("QUIT fault = %+v", f)
	}
	assertNoSecrets(t, conv, auth)
}
