package idptest

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const tid = "8c1b2f4e-3a5d-4e6f-9a0b-1c2d3e4f5a6b"

func start(t *testing.T) (*IdP, *http.Client) {
	t.Helper()
	p, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	p.AddTenant(Tenant{ID: tid, Domain: "contoso.onmicrosoft.com"})
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(p.CAPEM)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	t.Cleanup(c.CloseIdleConnections)
	return p, c
}

func getJSON(t *testing.T, c *http.Client, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	var resp *http.Response
	var err error
	if form == nil {
		resp, err = c.Get(u)
	} else {
		resp, err = c.PostForm(u, form)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// TestDiscovery: a tenant's configuration by ID or domain, Entra ID's
// refusal for an unknown one.
func TestDiscovery(t *testing.T) {
	p, c := start(t)
	for _, name := range []string{tid, "Contoso.onmicrosoft.com"} {
		status, doc := getJSON(t, c, p.URL+"/"+name+"/v2.0/.well-known/openid-configuration", nil)
		if status != 200 || doc["issuer"] != p.Issuer(tid) || doc["token_endpoint"] != p.URL+"/"+tid+"/oauth2/v2.0/token" {
			t.Errorf("%s: %d %v", name, status, doc)
		}
	}
	status, body := getJSON(t, c, p.URL+"/fabrikam.com/v2.0/.well-known/openid-configuration", nil)
	desc, _ := body["error_description"].(string)
	if status != 400 || body["error"] != "invalid_tenant" || fmt.Sprint(body["error_codes"]) != "[90002]" ||
		!strings.HasPrefix(desc, "AADSTS90002: Tenant 'fabrikam.com' not found.") || !strings.Contains(desc, "\r\nTrace ID: ") ||
		body["trace_id"] == "" || body["correlation_id"] == "" {
		t.Errorf("unknown tenant: %d %v", status, body)
	}
}

// TestSignedTokensVerifyWithJWKS: what Sign and the token endpoint issue
// verifies with the published keys.
func TestSignedTokensVerifyWithJWKS(t *testing.T) {
	p, c := start(t)
	p.AddApp(App{TenantID: tid, ClientID: "app", ObjectID: "sp", Secrets: []Secret{{Value: "s3cret"}}, Roles: []string{"SMTP.SendAsApp"}})
	status, keys := getJSON(t, c, p.URL+"/"+tid+"/discovery/v2.0/keys", nil)
	if status != 200 {
		t.Fatal(status)
	}
	k := keys["keys"].([]any)[0].(map[string]any)
	n, _ := base64.RawURLEncoding.DecodeString(k["n"].(string))
	e, _ := base64.RawURLEncoding.DecodeString(k["e"].(string))
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	status, tok := getJSON(t, c, p.URL+"/"+tid+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {"app"}, "client_secret": {"s3cret"}, "scope": {"https://outlook.office365.com/.default openid profile offline_access"}})
	if status != 200 || tok["token_type"] != "Bearer" {
		t.Fatalf("%d %v", status, tok)
	}
	for _, s := range []string{tok["access_token"].(string), p.Sign(Claims{TenantID: tid, UPN: "a@contoso.com", Scopes: []string{"SMTP.Send"}})} {
		claims := jwt.MapClaims{}
		if _, err := jwt.ParseWithClaims(s, claims, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"RS256"})); err != nil {
			t.Errorf("verify: %v", err)
		}
		if claims["iss"] != p.Issuer(tid) || claims["aud"] != ExchangeResource || claims["tid"] != tid {
			t.Errorf("claims %v", claims)
		}
	}
}

// TestCodes: every refusal carries its code as Entra ID writes it.
func TestCodes(t *testing.T) {
	for _, code := range Codes() {
		a := answerFor(code, params{appID: "app", tenant: "t", scope: "s", resource: "r"}, time.Now())
		desc, _ := a.body["error_description"].(string)
		if !strings.HasPrefix(desc, fmt.Sprintf("AADSTS%d: ", code)) || a.status < 400 || a.body["error"] == "" {
			t.Errorf("%d: %d %v", code, a.status, a.body)
		}
	}
}
