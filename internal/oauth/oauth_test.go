package oauth_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/oauth"
	"github.com/smtpdiag/smtpdiag/internal/oauth/idptest"
)

// The test directory: one tenant with an app that may send as an app
// (secret and certificate), one without the SMTP role, one public client
// for the device code flow.
const (
	tenantID     = "8c1b2f4e-3a5d-4e6f-9a0b-1c2d3e4f5a6b"
	tenantDomain = "contoso.onmicrosoft.com"
	sendApp      = "11111111-2222-4333-8444-555555555555"
	sendAppOID   = "6d0f1e2a-3b4c-4d5e-8f60-718293a4b5c6"
	noRoleApp    = "22222222-3333-4444-8555-666666666666"
	publicApp    = "33333333-4444-4555-8666-777777777777"
	consentless  = "44444444-5555-4666-8777-888888888888"
	confidential = "55555555-6666-4777-8888-999999999999"
	secret       = "Qx8~sEcReT.value-0123456789abcdefGHIJ"
	oldSecret    = "Zz9~ExPiReD.value-9876543210zyxwvuTSRQ"
	scanner      = "scanner@contoso.com"
)

type fixture struct {
	idp  *idptest.IdP
	cert idptest.Certificate
}

// newFixture starts the identity provider and registers the directory.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	idp, err := idptest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	cert, err := idptest.NewCertificate("smtpdiag scanner app")
	if err != nil {
		t.Fatal(err)
	}
	idp.AddTenant(idptest.Tenant{ID: tenantID, Domain: tenantDomain})
	idp.AddApp(idptest.App{TenantID: tenantID, ClientID: sendApp, Name: "scanner", ObjectID: sendAppOID,
		Secrets:      []idptest.Secret{{Value: secret}, {Value: oldSecret, Expires: time.Now().Add(-24 * time.Hour)}},
		Certificates: []*x509.Certificate{cert.Cert}, Roles: []string{"SMTP.SendAsApp"}})
	idp.AddApp(idptest.App{TenantID: tenantID, ClientID: noRoleApp, Name: "no role", ObjectID: idptestID(2),
		Secrets: []idptest.Secret{{Value: secret}}})
	idp.AddApp(idptest.App{TenantID: tenantID, ClientID: publicApp, Name: "device", PublicClient: true, Scopes: []string{"SMTP.Send"}})
	idp.AddApp(idptest.App{TenantID: tenantID, ClientID: consentless, Name: "unconsented", PublicClient: true})
	idp.AddApp(idptest.App{TenantID: tenantID, ClientID: confidential, Name: "web app", Scopes: []string{"SMTP.Send"}})
	return &fixture{idp: idp, cert: cert}
}

func idptestID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// config is an app-only config against the fixture's identity provider.
func (f *fixture) config(clientID string) oauth.Config {
	return oauth.Config{Tenant: tenantID, ClientID: clientID, ClientSecret: secret,
		Authority: f.idp.URL, ExtraRoots: f.idp.CAPEM, HTTPTimeout: 10 * time.Second}
}

func (f *fixture) deviceConfig(clientID string) oauth.Config {
	return oauth.Config{Tenant: tenantID, ClientID: clientID, Flow: oauth.DeviceCode,
		Authority: f.idp.URL, ExtraRoots: f.idp.CAPEM, HTTPTimeout: 10 * time.Second}
}

// approve is a device code prompt that signs in as upn at once.
func (f *fixture) approve(t *testing.T, upn string) func(oauth.DevicePrompt) {
	return func(p oauth.DevicePrompt) {
		if !strings.Contains(p.Message, p.UserCode) || !strings.HasPrefix(p.VerificationURL, f.idp.URL) {
			t.Errorf("prompt %+v", p)
		}
		if err := f.idp.Approve(p.UserCode, upn); err != nil {
			t.Error(err)
		}
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestClientSecret(t *testing.T) {
	f := newFixture(t)
	tok, err := oauth.Acquire(ctx(t), f.config(sendApp), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := tok.Claims
	if !slices.Equal(c.Audience, []string{"https://outlook.office365.com"}) || !slices.Equal(c.Roles, []string{"SMTP.SendAsApp"}) ||
		c.AppID != sendApp || c.TenantID != tenantID || c.ObjectID != sendAppOID || c.ExpiresAt.Before(time.Now()) {
		t.Errorf("claims %+v", c)
	}
	r := tok.Record
	want := oauth.Record{Authority: f.idp.URL, Tenant: tenantID, ClientID: sendApp, Scope: oauth.AppOnlyScope,
		Grant: oauth.ClientCredentials, Credential: "client secret", Outcome: oauth.Acquired}
	r.Claims, r.Duration = nil, 0
	if fmt.Sprint(r) != fmt.Sprint(want) {
		t.Errorf("record\n got %+v\nwant %+v", r, want)
	}
	if len(tok.Problems()) != 0 || len(tok.Record.Problems) != 0 {
		t.Errorf("problems %v %v", tok.Problems(), tok.Record.Problems)
	}
	if got := f.idp.TokenRequests(); got != 1 {
		t.Errorf("%d token requests", got)
	}
	if issued := f.idp.IssuedTokens(); len(issued) != 1 || issued[0] != tok.Bearer() {
		t.Errorf("the identity provider issued %d tokens, not the one Acquire returned", len(issued))
	}
}

// TestValidateCertificate: Validate checks a certificate credential given
// as PEM as Acquire will use it, before any traffic, and names the
// attribute at fault without quoting the PEM.
func TestValidateCertificate(t *testing.T) {
	cert, err := idptest.NewCertificate("app")
	if err != nil {
		t.Fatal(err)
	}
	other, err := idptest.NewCertificate("other")
	if err != nil {
		t.Fatal(err)
	}
	both := append(append([]byte{}, cert.CertPEM...), cert.KeyPEM...)
	base := oauth.Config{Tenant: tenantID, ClientID: sendApp}
	for _, tc := range []struct {
		name       string
		cert, key  []byte
		field, msg string
	}{
		{"pair", cert.CertPEM, cert.KeyPEM, "", ""},
		{"one PEM with both", both, nil, "", ""},
		{"no certificate", []byte("not PEM"), cert.KeyPEM, "certificate", "holds no PEM certificate"},
		{"key as certificate", cert.KeyPEM, cert.KeyPEM, "certificate", "holds no PEM certificate"},
		{"two keys", both, other.KeyPEM, "key", "more than one private key"},
		{"no key", cert.CertPEM, nil, "key", "holds no private key"},
		{"not a pair", cert.CertPEM, other.KeyPEM, "key", "does not belong to the certificate"},
		{"broken certificate", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), cert.KeyPEM, "certificate", "does not parse"},
		{"broken key", cert.CertPEM, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "key", "does not parse as PKCS #8"},
		{"encrypted key", cert.CertPEM, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"), "key", "is encrypted"},
	} {
		c := base
		c.CertificatePEM, c.KeyPEM = tc.cert, tc.key
		err := c.Validate()
		var ce *oauth.ConfigError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.field != "" && (!errors.As(err, &ce) || ce.Field != tc.field || !strings.Contains(ce.Problem, tc.msg)):
			t.Errorf("%s: %v, want %s: ...%s...", tc.name, err, tc.field, tc.msg)
		case err != nil && strings.Contains(err.Error(), pemBody(cert.KeyPEM)[100:140]):
			t.Errorf("%s: the error quotes the key", tc.name)
		}
	}
	// A certificate named by file is read by Acquire, not by Validate.
	c := base
	c.CertificateFile, c.KeyFile = "/nonexistent/app.crt", "/nonexistent/app.key"
	if err := c.Validate(); err != nil {
		t.Errorf("files: %v", err)
	}
}

func TestCertificate(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "app.crt"), filepath.Join(dir, "app.key")
	os.WriteFile(certFile, f.cert.CertPEM, 0o600)
	os.WriteFile(keyFile, f.cert.KeyPEM, 0o600)
	for name, cfg := range map[string]oauth.Config{
		"PEM":               {CertificatePEM: f.cert.CertPEM, KeyPEM: f.cert.KeyPEM},
		"files":             {CertificateFile: certFile, KeyFile: keyFile},
		"one PEM with both": {CertificatePEM: append(append([]byte{}, f.cert.CertPEM...), f.cert.KeyPEM...)},
	} {
		t.Run(name, func(t *testing.T) {
			base := f.config(sendApp)
			base.ClientSecret = ""
			base.CertificatePEM, base.KeyPEM, base.CertificateFile, base.KeyFile = cfg.CertificatePEM, cfg.KeyPEM, cfg.CertificateFile, cfg.KeyFile
			tok, err := oauth.Acquire(ctx(t), base, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := "certificate " + idptest.Thumbprint(f.cert.Cert); tok.Record.Credential != want {
				t.Errorf("credential %q, want %q", tok.Record.Credential, want)
			}
			if !slices.Contains(tok.Claims.Roles, "SMTP.SendAsApp") {
				t.Errorf("roles %v", tok.Claims.Roles)
			}
		})
	}
	if reqs := f.idp.Requests(); !slices.ContainsFunc(reqs, func(r idptest.Request) bool {
		return r.Endpoint == "token" && r.Credential == "client_assertion" && r.Status == 200
	}) {
		t.Errorf("no client assertion among %+v", reqs)
	}
}

func TestDeviceCode(t *testing.T) {
	f := newFixture(t)
	tok, err := oauth.Acquire(ctx(t), f.deviceConfig(publicApp), f.approve(t, scanner))
	if err != nil {
		t.Fatal(err)
	}
	c := tok.Claims
	if !slices.Equal(c.Scopes, []string{"SMTP.Send"}) || c.UPN != scanner || !slices.Equal(c.Audience, []string{"https://outlook.office.com"}) {
		t.Errorf("claims %+v", c)
	}
	if r := tok.Record; r.Grant != oauth.DeviceCode || r.Scope != oauth.DelegatedScope || r.Credential != "none (public client)" || len(r.Problems) != 0 {
		t.Errorf("record %+v", r)
	}
}

// TestDeviceCodeDeadline: nobody signs in, the context ends.
func TestDeviceCodeDeadline(t *testing.T) {
	f := newFixture(t)
	c, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	prompted := false
	_, err := oauth.Acquire(c, f.deviceConfig(publicApp), func(oauth.DevicePrompt) { prompted = true })
	var e *oauth.Error
	if !errors.As(err, &e) || e.Kind != oauth.KindCanceled || !errors.Is(err, context.DeadlineExceeded) || !prompted {
		t.Fatalf("err %v (%#v), prompted %v", err, e, prompted)
	}
	if !strings.Contains(err.Error(), "nobody completed the sign-in") {
		t.Errorf("message %q", err)
	}
}

// TestRefusals: every failure Entra ID answers with arrives as an
// *oauth.Error with its AADSTS code.
func TestRefusals(t *testing.T) {
	f := newFixture(t)
	wrongCert, err := idptest.NewCertificate("not registered")
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		name   string
		cfg    func() oauth.Config
		code   int
		oauth  string
		status int
		text   string
		step   string
	}
	app := func(id string, edit func(*oauth.Config)) func() oauth.Config {
		return func() oauth.Config {
			c := f.config(id)
			if edit != nil {
				edit(&c)
			}
			return c
		}
	}
	device := func(id string, edit func(*oauth.Config)) func() oauth.Config {
		return func() oauth.Config {
			c := f.deviceConfig(id)
			if edit != nil {
				edit(&c)
			}
			return c
		}
	}
	tests := []tc{
		{"invalid secret", app(sendApp, func(c *oauth.Config) { c.ClientSecret = "not-the-secret-value" }), 7000215, "invalid_client", 401, "Invalid client secret provided", "token request"},
		{"expired secret", app(sendApp, func(c *oauth.Config) { c.ClientSecret = oldSecret }), 7000222, "invalid_client", 401, "are expired", "token request"},
		{"app not in tenant", app("99999999-0000-4000-8000-000000000000", nil), 700016, "unauthorized_client", 400, "was not found in the directory", "token request"},
		{"tenant not found", app(sendApp, func(c *oauth.Config) { c.Tenant = "fabrikam.onmicrosoft.com" }), 90002, "invalid_tenant", 400, "Tenant 'fabrikam.onmicrosoft.com' not found", "tenant discovery"},
		{"tenant by domain, wrong scope", app(sendApp, func(c *oauth.Config) {
			c.Tenant, c.Scope = tenantDomain, "https://outlook.office365.com/SMTP.SendAsApp"
		}), 1002012, "invalid_scope", 400, "Client credential flows must have a scope value with /.default", "token request"},
		{"unknown resource", app(sendApp, func(c *oauth.Config) { c.Scope = "https://outlook.office365.example/.default" }), 500011, "invalid_resource", 400, "resource principal named https://outlook.office365.example", "token request"},
		{"unregistered certificate", app(sendApp, func(c *oauth.Config) {
			c.ClientSecret, c.CertificatePEM, c.KeyPEM = "", wrongCert.CertPEM, wrongCert.KeyPEM
		}), 700027, "invalid_client", 401, "is not registered on application", "token request"},
		{"consent missing", device(consentless, nil), 65001, "invalid_grant", 400, "has not consented", "device code sign-in"},
		{"public client flows off", device(confidential, nil), 7000218, "invalid_client", 400, "'client_assertion' or 'client_secret'", "device code sign-in"},
		{"invalid delegated scope", device(publicApp, func(c *oauth.Config) { c.Scope = "https://outlook.office.com/" }), 70011, "invalid_scope", 400, "The scope https://outlook.office.com/ is not valid", "device code request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oauth.Acquire(ctx(t), tc.cfg(), f.approve(t, scanner))
			var e *oauth.Error
			if !errors.As(err, &e) {
				t.Fatalf("err %v is not an *oauth.Error", err)
			}
			if e.Kind != oauth.KindRefused || e.Code != tc.code || e.AADSTS() != fmt.Sprintf("AADSTS%d", tc.code) ||
				e.OAuthError != tc.oauth || e.Status != tc.status {
				t.Errorf("got kind %s code %d %q oauth %q status %d", e.Kind, e.Code, e.AADSTS(), e.OAuthError, e.Status)
			}
			if !strings.Contains(e.Description, tc.text) || !strings.HasPrefix(e.Description, e.AADSTS()+": ") ||
				!strings.HasPrefix(err.Error(), tc.step) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("description %q, message %q", e.Description, err)
			}
			if e.TraceID == "" || e.CorrelationID == "" || e.Timestamp == "" || strings.Contains(e.Description, "Trace ID") {
				t.Errorf("trace %q correlation %q timestamp %q", e.TraceID, e.CorrelationID, e.Timestamp)
			}
			if r := e.Record; r.Outcome != oauth.Failed || r.AADSTS != e.AADSTS() || r.Error != err.Error() || r.ClientID == "" {
				t.Errorf("record %+v", r)
			}
		})
	}
	// Any of Entra ID's codes can be scripted for the next request.
	for _, code := range []int{7000215, 7000222, 700016, 65001, 70011, 1002012} {
		f.idp.Refuse(sendApp, code)
		_, err := oauth.Acquire(ctx(t), f.config(sendApp), nil)
		var e *oauth.Error
		if !errors.As(err, &e) || e.Code != code {
			t.Errorf("Refuse(%d): %v", code, err)
		}
	}
	if _, err := oauth.Acquire(ctx(t), f.config(sendApp), nil); err != nil {
		t.Errorf("after the scripted refusals: %v", err)
	}
}

// TestUntrustedAuthority: without the CA in ExtraRoots the TLS handshake
// fails, and the error says where the CA goes.
func TestUntrustedAuthority(t *testing.T) {
	f := newFixture(t)
	cfg := f.config(sendApp)
	cfg.ExtraRoots = nil
	_, err := oauth.Acquire(ctx(t), cfg, nil)
	var e *oauth.Error
	if !errors.As(err, &e) || e.Kind != oauth.KindNetwork || !strings.Contains(err.Error(), "ca_file") {
		t.Fatalf("err %v", err)
	}
	cfg.ExtraRoots = []byte("not PEM")
	var ce *oauth.ConfigError
	if _, err := oauth.Acquire(ctx(t), cfg, nil); !errors.As(err, &ce) || ce.Field != "ca_file" {
		t.Errorf("err %v", err)
	}
	if got := f.idp.TokenRequests(); got != 0 {
		t.Errorf("%d token requests", got)
	}
}

// TestClaimProblems: tokens Exchange Online will refuse are flagged
// before they are sent.
func TestClaimProblems(t *testing.T) {
	f := newFixture(t)
	f.idp.AddApp(idptest.App{TenantID: tenantID, ClientID: "aaaaaaaa-0000-4000-8000-000000000001", Secrets: []idptest.Secret{{Value: secret}},
		Roles: []string{"SMTP.SendAsApp"}, Audience: "https://graph.microsoft.com"})
	f.idp.AddApp(idptest.App{TenantID: tenantID, ClientID: "aaaaaaaa-0000-4000-8000-000000000002", Secrets: []idptest.Secret{{Value: secret}},
		Roles: []string{"SMTP.SendAsApp"}, Lifetime: -time.Minute})
	f.idp.AddApp(idptest.App{TenantID: tenantID, ClientID: "aaaaaaaa-0000-4000-8000-000000000003", PublicClient: true, Scopes: []string{"IMAP.AccessAsUser.All"}})
	for _, tc := range []struct {
		name   string
		cfg    oauth.Config
		claims []string
	}{
		{"no SMTP.SendAsApp role", f.config(noRoleApp), []string{"roles"}},
		{"wrong audience", f.config("aaaaaaaa-0000-4000-8000-000000000001"), []string{"aud"}},
		{"expired", f.config("aaaaaaaa-0000-4000-8000-000000000002"), []string{"exp"}},
		{"delegated without SMTP.Send", func() oauth.Config {
			c := f.deviceConfig("aaaaaaaa-0000-4000-8000-000000000003")
			c.Scope = "https://outlook.office.com/IMAP.AccessAsUser.All"
			return c
		}(), []string{"scp"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := oauth.Acquire(ctx(t), tc.cfg, f.approve(t, scanner))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range tok.Problems() {
				got = append(got, p.Claim)
			}
			if !slices.Equal(got, tc.claims) || len(tok.Record.Problems) != len(tc.claims) {
				t.Errorf("problems %v / %v, want %v", tok.Problems(), tok.Record.Problems, tc.claims)
			}
		})
	}
}

// TestSource: one acquisition per distinct config per run, shared by
// concurrent checks; failures are shared, cancellations are not.
func TestSource(t *testing.T) {
	f := newFixture(t)
	src := oauth.NewSource(nil)
	var wg sync.WaitGroup
	outcomes := make([]oauth.Outcome, 8)
	values := make([]string, 8)
	for i := range outcomes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := src.Token(ctx(t), f.config(sendApp))
			if err != nil {
				t.Error(err)
				return
			}
			outcomes[i], values[i] = tok.Record.Outcome, tok.Bearer()
		}()
	}
	wg.Wait()
	if n := f.idp.TokenRequests(); n != 1 {
		t.Errorf("%d token requests for 8 checks", n)
	}
	if slices.Index(outcomes, oauth.Acquired) < 0 || len(slices.DeleteFunc(slices.Clone(outcomes), func(o oauth.Outcome) bool { return o == oauth.Cached })) != 1 {
		t.Errorf("outcomes %v", outcomes)
	}
	if values[0] == "" || slices.ContainsFunc(values, func(v string) bool { return v != values[0] }) {
		t.Error("the checks got different tokens")
	}
	// Another scope is another token; the same config with the tenant's
	// domain is another too (it is another request to Entra ID).
	other := f.config(sendApp)
	other.Scope = "https://outlook.office365.com/.default "
	if _, err := src.Token(ctx(t), other); err != nil {
		t.Fatal(err)
	}
	if n := f.idp.TokenRequests(); n != 2 {
		t.Errorf("%d token requests", n)
	}
	// A refusal is not asked for again.
	bad := f.config(sendApp)
	bad.ClientSecret = "wrong-secret-value"
	_, err1 := src.Token(ctx(t), bad)
	_, err2 := src.Token(ctx(t), bad)
	if err1 == nil || err1 != err2 || f.idp.TokenRequests() != 3 {
		t.Errorf("errors %v, %v; %d token requests", err1, err2, f.idp.TokenRequests())
	}
	// A canceled acquisition is retried by the next caller.
	var prompts atomic.Int32
	dev := oauth.NewSource(func(p oauth.DevicePrompt) {
		if prompts.Add(1) == 2 {
			f.idp.Approve(p.UserCode, scanner)
		}
	})
	c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var e *oauth.Error
	if _, err := dev.Token(c, f.deviceConfig(publicApp)); !errors.As(err, &e) || e.Kind != oauth.KindCanceled {
		t.Fatalf("without a sign-in: %v", err)
	}
	if tok, err := dev.Token(ctx(t), f.deviceConfig(publicApp)); err != nil || tok.Record.Outcome != oauth.Acquired {
		t.Fatalf("after a canceled sign-in: %v", err)
	}
}

// TestConfig: what Validate refuses, before any traffic.
func TestConfig(t *testing.T) {
	ok := oauth.Config{Tenant: tenantID, ClientID: sendApp, ClientSecret: secret}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit  func(*oauth.Config)
		field string
	}{
		{func(c *oauth.Config) { c.Tenant = "" }, "tenant"},
		{func(c *oauth.Config) { c.Tenant = "a/b" }, "tenant"},
		{func(c *oauth.Config) { c.ClientID = " " }, "client_id"},
		{func(c *oauth.Config) { c.ClientSecret = "" }, "client_secret"},
		{func(c *oauth.Config) { c.CertificateFile = "app.pem" }, "client_secret"},
		{func(c *oauth.Config) { c.Flow = oauth.DeviceCode }, "flow"},
		{func(c *oauth.Config) { c.Flow = "password" }, "flow"},
		{func(c *oauth.Config) { c.Authority = "http://login.microsoftonline.com" }, "authority"},
		{func(c *oauth.Config) { c.Authority = "https://login.microsoftonline.com/contoso" }, "authority"},
	} {
		c := ok
		tc.edit(&c)
		var ce *oauth.ConfigError
		if err := c.Validate(); !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("%+v: %v, want a problem with %s", c, err, tc.field)
		}
	}
	dev := oauth.Config{Tenant: tenantID, ClientID: publicApp, Flow: oauth.DeviceCode}
	if err := dev.Validate(); err != nil {
		t.Error(err)
	}
	var ce *oauth.ConfigError
	if _, err := oauth.Acquire(context.Background(), dev, nil); !errors.As(err, &ce) {
		t.Errorf("device code without a prompt: %v", err)
	}
}

func TestParseClaims(t *testing.T) {
	f := newFixture(t)
	exp := time.Unix(1_900_000_000, 0).UTC()
	c, err := oauth.ParseClaims(f.idp.Sign(idptest.Claims{TenantID: tenantID, AppID: sendApp, ObjectID: sendAppOID,
		Roles: []string{"SMTP.SendAsApp"}, ExpiresAt: exp}))
	if err != nil || c.ExpiresAt != exp || c.AppID != sendApp || c.Audience[0] != "https://outlook.office365.com" {
		t.Errorf("%+v, %v", c, err)
	}
	if p := c.Check(oauth.ClientCredentials, exp.Add(-time.Hour)); len(p) != 0 {
		t.Errorf("problems %v", p)
	}
	if p := c.Check(oauth.ClientCredentials, exp); len(p) != 1 || p[0].Claim != "exp" {
		t.Errorf("problems at exp %v", p)
	}
	if p := c.Check(oauth.DeviceCode, exp.Add(-time.Hour)); len(p) != 1 || p[0].Claim != "scp" {
		t.Errorf("as delegated %v", p)
	}
	// v2.0 tokens: aud a list or the app ID, azp instead of appid.
	c, err = oauth.ParseClaims("eyJhbGciOiJub25lIn0." + b64(`{"aud":["00000002-0000-0ff1-ce00-000000000000"],"azp":"x","scp":"SMTP.Send offline_access","preferred_username":"a@b","exp":1900000000.5}`) + ".")
	if err != nil || c.AppID != "x" || c.UPN != "a@b" || !slices.Equal(c.Scopes, []string{"SMTP.Send", "offline_access"}) ||
		len(c.Check(oauth.DeviceCode, exp.Add(-time.Hour))) != 0 {
		t.Errorf("%+v, %v", c, err)
	}
	for _, bad := range []string{"opaque-token", "a.!!!.c", "a." + b64(`[1]`) + ".c", "a." + b64(`{"aud":1}`) + ".c"} {
		if _, err := oauth.ParseClaims(bad); err == nil {
			t.Errorf("ParseClaims(%q) succeeded", bad)
		}
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// TestNothingSecretIsShown: the client secret, the private key and the
// token appear in no record, transcript line, error or formatting of
// them, for successes and for every kind of failure.
func TestNothingSecretIsShown(t *testing.T) {
	f := newFixture(t)
	keyBody := pemBody(f.cert.KeyPEM)
	var outputs []string
	var tokens []string
	show := func(v ...any) {
		for _, x := range v {
			outputs = append(outputs, fmt.Sprintf("%v|%+v|%#v|%s", x, x, x, x))
			if b, err := json.Marshal(x); err == nil {
				outputs = append(outputs, string(b))
			}
		}
	}
	certCfg := f.config(sendApp)
	certCfg.ClientSecret, certCfg.CertificatePEM, certCfg.KeyPEM = "", f.cert.CertPEM, f.cert.KeyPEM
	badKey := certCfg
	badKey.KeyPEM = []byte("-----BEGIN PRIVATE KEY-----\n" + keyBody[:40] + "\n-----END PRIVATE KEY-----\n")
	wrongSecret := f.config(sendApp)
	wrongSecret.ClientSecret = secret + "-but-wrong"
	untrusted := f.config(sendApp)
	untrusted.ExtraRoots = nil
	src := oauth.NewSource(f.approve(t, scanner))
	for _, cfg := range []oauth.Config{f.config(sendApp), f.config(sendApp), certCfg, badKey, wrongSecret, untrusted, f.deviceConfig(publicApp), f.deviceConfig(consentless)} {
		show(cfg, &cfg)
		tok, err := src.Token(ctx(t), cfg)
		if tok != nil {
			tokens = append(tokens, tok.Bearer())
			show(tok, *tok, tok.Record, tok.Claims, tok.Problems())
			outputs = append(outputs, tok.Record.Lines()...)
			outputs = append(outputs, tok.String(), tok.GoString())
		}
		if err != nil {
			show(err)
			outputs = append(outputs, err.Error())
			var e *oauth.Error
			if errors.As(err, &e) {
				show(e.Record, *e)
				outputs = append(outputs, e.Record.Lines()...)
				if u := errors.Unwrap(err); u != nil {
					show(u)
				}
			}
		}
	}
	if len(tokens) < 3 {
		t.Fatalf("only %d tokens", len(tokens))
	}
	// The key's first bytes are the same in every PKCS #8 RSA key; its
	// middle and end are the key.
	secrets := append([]string{secret, keyBody[200:264], keyBody[len(keyBody)-80 : len(keyBody)-16]}, tokens...)
	for _, tok := range tokens {
		secrets = append(secrets, strings.Split(tok, ".")[2]) // the signature alone
	}
	for _, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("a secret (%.12s...) shows in %.300s", s, out)
			}
		}
	}
}

// pemBody is the base64 of a PEM block, on one line.
func pemBody(p []byte) string {
	var b strings.Builder
	for _, line := range strings.Split(string(p), "\n") {
		if !strings.HasPrefix(line, "-----") {
			b.WriteString(strings.TrimSpace(line))
		}
	}
	return b.String()
}
