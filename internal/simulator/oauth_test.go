package simulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/oauth"
	"github.com/smtpdiag/smtpdiag/internal/oauth/idptest"
)

const (
	oauthTenant = "8c1b2f4e-3a5d-4e6f-9a0b-1c2d3e4f5a6b"
	scannerApp  = "11111111-2222-4333-8444-555555555555"
	scannerSP   = "6d0f1e2a-3b4c-4d5e-8f60-718293a4b5c6"
	rbacApp     = "22222222-3333-4444-8555-666666666666"
	rbacSP      = "6d000000-0000-4000-8000-000000000002"
	strayApp    = "33333333-4444-4555-8666-777777777777"
)

// oauthSimulator starts an identity provider and a simulator that trusts
// its tokens: the scanner app may send as scanner@ and disabled@
// (FullAccess), the RBAC app as rbac@ (a management role assignment).
func oauthSimulator(t *testing.T) (*Simulator, *idptest.IdP, *syncBuffer) {
	t.Helper()
	idp, err := idptest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	idp.AddTenant(idptest.Tenant{ID: oauthTenant})
	users := DefaultUsers()
	users["helpdesk@contoso.com"] = User{}
	users["rbac@contoso.com"] = User{}
	var log syncBuffer
	sim := startSimulator(t, Options{Log: &log, Users: users, OAuth: &OAuthOptions{
		Issuer: idp.Issuer(oauthTenant),
		JWKS:   idp.JWKS(),
		ServicePrincipals: []ServicePrincipal{
			{AppID: scannerApp, ObjectID: scannerSP, FullAccess: []string{"scanner@contoso.com", "Disabled@contoso.com"}},
			{AppID: rbacApp, ObjectID: rbacSP, RBAC: []string{"rbac@contoso.com"}},
		},
	}})
	return sim, idp, &log
}

// authenticated runs AUTH XOAUTH2 on a fresh submission connection and
// returns the reply.
func authenticated(t *testing.T, sim *Simulator, user, token string) string {
	t.Helper()
	c := dial(t, sim.SubmissionAddr)
	c.reply()
	c.cmd("EHLO scanner01.contoso.com")
	c.startTLS(sim)
	c.cmd("EHLO scanner01.contoso.com")
	reply := strings.Join(c.cmd("AUTH XOAUTH2 "+xoauth2(user, token)), "\n")
	c.cmd("QUIT")
	return reply
}

func TestXOAUTH2Tokens(t *testing.T) {
	sim, idp, log := oauthSimulator(t)
	other, err := idptest.Start() // an identity provider the simulator does not trust
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	now := time.Now()
	app := idptest.Claims{TenantID: oauthTenant, Audience: idptest.ExchangeResource, AppID: scannerApp, ObjectID: scannerSP, Roles: []string{"SMTP.SendAsApp"}}
	user := idptest.Claims{TenantID: oauthTenant, Audience: idptest.OutlookResource, AppID: strayApp, ObjectID: "u1", Scopes: []string{"SMTP.Send"}, UPN: "scanner@contoso.com"}
	with := func(c idptest.Claims, edit func(*idptest.Claims)) string {
		edit(&c)
		return idp.Sign(c)
	}
	good := idp.Sign(app)
	host := DefaultSubmissionHostname
	refused := "535 5.7.3 Authentication unsuccessful [" + host + "]"
	tests := []struct {
		name, user, token, reply, reason string
	}{
		{"app-only token", "scanner@contoso.com", good, "235 2.7.0 Authentication successful", ""},
		{"app-only token, user name in another case", "Scanner@Contoso.com", good, "235 2.7.0", ""},
		{"v2.0 token for the Exchange Online app ID", "scanner@contoso.com", with(app, func(c *idptest.Claims) { c.Audience = idptest.ExchangeAppID }), "235", ""},
		{"delegated token", "scanner@contoso.com", idp.Sign(user), "235 2.7.0 Authentication successful", ""},
		{"RBAC for Applications, no role needed", "rbac@contoso.com", with(app, func(c *idptest.Claims) { c.AppID, c.ObjectID, c.Roles = rbacApp, rbacSP, nil }), "235", ""},
		{"wrong audience", "scanner@contoso.com", with(app, func(c *idptest.Claims) { c.Audience = idptest.GraphResource }), refused, "not for Exchange Online"},
		{"missing role", "scanner@contoso.com", with(app, func(c *idptest.Claims) { c.Roles = []string{"IMAP.AccessAsApp"} }), refused, "lack SMTP.SendAsApp"},
		{"expired", "scanner@contoso.com", with(app, func(c *idptest.Claims) { c.IssuedAt, c.ExpiresAt = now.Add(-2*time.Hour), now.Add(-time.Hour) }), refused, "the token expired at"},
		{"bad signature", "scanner@contoso.com", tamper(t, good), refused, "signature does not verify"},
		{"signed by another identity provider", "scanner@contoso.com", other.Sign(app), refused, "not a valid signed JWT"},
		{"another issuer", "scanner@contoso.com", with(app, func(c *idptest.Claims) { c.Issuer = "https://sts.windows.net/" + oauthTenant + "/" }), refused, "issuer"},
		{"token for another mailbox", "helpdesk@contoso.com", idp.Sign(user), refused, "issued to scanner@contoso.com, not to the mailbox helpdesk@contoso.com"},
		{"no permission on the mailbox", "helpdesk@contoso.com", good, refused, "has no permission on the mailbox helpdesk@contoso.com"},
		{"service principal not registered", "scanner@contoso.com", with(app, func(c *idptest.Claims) { c.AppID = strayApp }), refused, "no service principal for app " + strayApp},
		{"registered with the wrong object ID", "scanner@contoso.com", with(app, func(c *idptest.Claims) { c.ObjectID = "0bad0000-0000-4000-8000-000000000000" }), refused, "registered with object ID " + scannerSP},
		{"delegated without SMTP.Send", "scanner@contoso.com", with(user, func(c *idptest.Claims) { c.Scopes = []string{"IMAP.AccessAsUser.All"} }), refused, "lack SMTP.Send"},
		{"no such mailbox", "nobody@contoso.com", good, refused, "no such mailbox"},
		{"right token, SMTP AUTH disabled", "disabled@contoso.com", good, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.", ""},
		{"static demo token still works", "scanner@contoso.com", "demo-token", "235", ""},
		{"opaque wrong token", "scanner@contoso.com", "not-a-jwt", refused, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(log.String())
			got := authenticated(t, sim, tc.user, tc.token)
			if !strings.HasPrefix(got, tc.reply) {
				t.Errorf("reply %q, want %q", got, tc.reply)
			}
			logged := log.String()[before:]
			if tc.reason != "" && !strings.Contains(logged, "XOAUTH2 token refused for "+tc.user+": "+tc.reason) &&
				!(strings.Contains(logged, "XOAUTH2 token refused for "+tc.user+": ") && strings.Contains(logged, tc.reason)) {
				t.Errorf("log lacks the reason %q:\n%s", tc.reason, logged)
			}
			if tc.reason == "" && strings.Contains(logged, "XOAUTH2 token refused") {
				t.Errorf("log refuses:\n%s", logged)
			}
		})
	}
	for _, tc := range tests {
		if strings.Contains(tc.token, ".") && strings.Contains(log.String(), strings.Split(tc.token, ".")[2]) {
			t.Errorf("the log shows the token of %q", tc.name)
		}
	}
}

// tamper changes a claim of a signed token and keeps its signature.
func tamper(t *testing.T, token string) string {
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	json.Unmarshal(payload, &claims)
	claims["exp"] = time.Now().Add(24 * time.Hour).Unix()
	b, _ := json.Marshal(claims)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
}

// TestXOAUTH2WithMSAL: a token MSAL got from the identity provider with
// the client credentials grant opens the mailbox; one without the role
// does not, and package oauth says so before it is sent.
func TestXOAUTH2WithMSAL(t *testing.T) {
	sim, idp, log := oauthSimulator(t)
	const secret = "Qx8~sEcReT.value-0123456789abcdefGHIJ"
	idp.AddApp(idptest.App{TenantID: oauthTenant, ClientID: scannerApp, ObjectID: scannerSP,
		Secrets: []idptest.Secret{{Value: secret}}, Roles: []string{"SMTP.SendAsApp"}})
	idp.AddApp(idptest.App{TenantID: oauthTenant, ClientID: strayApp, ObjectID: "6d000000-0000-4000-8000-000000000003",
		Secrets: []idptest.Secret{{Value: secret}}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	src := oauth.NewSource(nil)
	for _, tc := range []struct {
		app, reply string
		problems   int
	}{
		{scannerApp, "235 2.7.0 Authentication successful", 0},
		{strayApp, "535 5.7.3 Authentication unsuccessful", 1},
	} {
		tok, err := src.Token(ctx, oauth.Config{Tenant: oauthTenant, ClientID: tc.app, ClientSecret: secret,
			Authority: idp.URL, ExtraRoots: idp.CAPEM})
		if err != nil {
			t.Fatal(err)
		}
		if len(tok.Problems()) != tc.problems {
			t.Errorf("%s: problems %v", tc.app, tok.Problems())
		}
		if got := authenticated(t, sim, "scanner@contoso.com", tok.Bearer()); !strings.HasPrefix(got, tc.reply) {
			t.Errorf("%s: reply %q, want %q", tc.app, got, tc.reply)
		}
		if strings.Contains(log.String(), tok.Bearer()) {
			t.Error("the log shows the token")
		}
	}
}

func TestOAuthOptionsJWKS(t *testing.T) {
	for _, jwks := range []string{"", "{}", `{"keys":[{"kty":"EC","kid":"x"}]}`, `{"keys":[{"kty":"RSA","kid":"x","n":"!!","e":"AQAB"}]}`} {
		if _, err := Start(Options{OAuth: &OAuthOptions{JWKS: []byte(jwks)}}); err == nil {
			t.Errorf("Start accepted the JWKS %q", jwks)
		}
	}
}
