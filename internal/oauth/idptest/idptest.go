// Package idptest is an in-process stand-in for Microsoft Entra ID over HTTPS on 127.0.0.1 that MSAL Go talks to unchanged, for tests.
package idptest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/pki"
)

// Resources the identity provider issues tokens for. ExchangeAppID is
// the application ID of "Office 365 Exchange Online", which stands for
// its resource URIs in a scope.
const (
	ExchangeResource = "https://outlook.office365.com"
	OutlookResource  = "https://outlook.office.com"
	ExchangeAppID    = "00000002-0000-0ff1-ce00-000000000000"
	GraphResource    = "https://graph.microsoft.com"
)

// knownResources are the resources (service principals) every tenant
// has; a scope for another is AADSTS500011.
var knownResources = []string{ExchangeResource, OutlookResource, ExchangeAppID, GraphResource, "https://ps.outlook.com"}

// oidcScopes are the OpenID Connect scopes MSAL adds to every request;
// they name no resource.
var oidcScopes = []string{"openid", "profile", "offline_access", "email"}

// Tenant is a directory the identity provider knows.
type Tenant struct {
	// ID is the directory (tenant) ID, a GUID.
	ID string
	// Domain, when set, is a verified domain ("contoso.onmicrosoft.com")
	// accepted in place of ID.
	Domain string
}

// Secret is a client secret of an app registration.
type Secret struct {
	Value string
	// Expires is when the secret stops working; zero: never.
	Expires time.Time
}

// App is an app registration and its service principal (enterprise
// application) in a tenant.
type App struct {
	TenantID string
	ClientID string
	Name     string
	// ObjectID is the service principal's object ID: the oid claim of
	// the app's app-only tokens, and the OBJECT_ID of New-ServicePrincipal.
	ObjectID string
	Secrets  []Secret
	// Certificates are the certificates uploaded to the app registration
	// (Certificates & secrets); a client assertion must be signed with
	// one of their keys.
	Certificates []*x509.Certificate
	// Roles are the application permissions granted with admin consent;
	// app-only tokens carry them in the roles claim (SMTP.SendAsApp).
	Roles []string
	// Scopes are the delegated permissions users or an admin consented
	// to (SMTP.Send); a device code sign-in asking for another ends in
	// AADSTS65001.
	Scopes []string
	// PublicClient is "Allow public client flows": the device code flow
	// without a client credential. Without it the flow ends in
	// AADSTS7000218.
	PublicClient bool
	// Audience, when set, replaces the aud claim of the app's tokens (a
	// token for another resource than the scope's).
	Audience string
	// Lifetime of the app's access tokens; zero: an hour; negative: the
	// token has already expired when it is issued.
	Lifetime time.Duration
}

// Request is one request the identity provider answered, as tests see
// it: no secret, assertion or code.
type Request struct {
	Endpoint   string // "discovery", "keys", "token", "devicecode"
	Tenant     string // as the path named it
	ClientID   string
	GrantType  string
	Credential string // "client_secret", "client_assertion" or ""
	Scope      string
	Status     int
	// Code is the AADSTS code of a refusal, 0 for success.
	Code int
}

// IdP is a running identity provider. It answers like Microsoft Entra
// ID's v2.0 endpoints: the OpenID discovery document of each tenant, the
// token endpoint (client credentials with a client secret or a
// certificate's client assertion, and the device code grant), the device
// authorization endpoint and the JWKS of its signing key. Its refusals
// carry Entra ID's OAuth errors, AADSTS codes and wordings.
type IdP struct {
	// URL is the authority host, "https://127.0.0.1:port": an
	// oauth.Config's Authority.
	URL string
	// CAPEM is the certificate of the CA that issued the server's TLS
	// certificate: an oauth.Config's ExtraRoots.
	CAPEM []byte

	key *rsa.PrivateKey
	kid string
	srv *http.Server
	now func() time.Time

	mu       sync.Mutex
	tenants  []Tenant
	apps     map[string]*App // by tenant ID + "/" + client ID
	devices  map[string]*deviceGrant
	refusals map[string][]int // by client ID
	requests []Request
	issued   []string
	seq      int
}

// Start opens the identity provider on 127.0.0.1 with a port the system
// picks.
func Start() (*IdP, error) {
	ca, err := pki.NewCA("smtpdiag test identity provider CA")
	if err != nil {
		return nil, err
	}
	leaf, err := ca.Issue(pki.LeafOptions{Names: []string{"127.0.0.1", "localhost"}})
	if err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key.N.Bytes())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("idptest: listen: %w", err)
	}
	p := &IdP{
		URL:      "https://" + l.Addr().String(),
		CAPEM:    ca.PEM,
		key:      key,
		kid:      base64.RawURLEncoding.EncodeToString(sum[:12]),
		now:      time.Now,
		apps:     map[string]*App{},
		devices:  map[string]*deviceGrant{},
		refusals: map[string][]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", p.keys)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", p.token)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/devicecode", p.deviceAuthorization)
	p.srv = &http.Server{
		Handler:           mux,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go p.srv.ServeTLS(l, "", "")
	return p, nil
}

// Close stops the identity provider and ends its connections.
func (p *IdP) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.srv.Shutdown(ctx); err != nil {
		return p.srv.Close()
	}
	return nil
}

// AddTenant makes a directory known.
func (p *IdP) AddTenant(t Tenant) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t.ID = strings.ToLower(t.ID)
	p.tenants = append(p.tenants, t)
}

// AddApp registers an app in its tenant, replacing one with the same
// client ID there.
func (p *IdP) AddApp(a App) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a.TenantID = strings.ToLower(a.TenantID)
	p.apps[a.TenantID+"/"+strings.ToLower(a.ClientID)] = &a
}

// Refuse makes the next token request of clientID fail with Entra ID's
// answer for AADSTS code (see Codes), whatever it sends. Refusals queue
// up, one per request.
func (p *IdP) Refuse(clientID string, code int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := strings.ToLower(clientID)
	p.refusals[id] = append(p.refusals[id], code)
}

// Issuer is the issuer of the tokens for tenantID, as the tenant's
// discovery document names it.
func (p *IdP) Issuer(tenantID string) string {
	return p.URL + "/" + strings.ToLower(tenantID) + "/v2.0"
}

// JWKS is the JSON Web Key Set (RFC 7517) of the key that signs every
// token the identity provider issues.
func (p *IdP) JWKS() []byte {
	b, _ := json.Marshal(map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": p.kid,
		"n": base64.RawURLEncoding.EncodeToString(p.key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(p.key.E)).Bytes()),
	}}})
	return b
}

// Requests returns the requests answered so far, in order.
func (p *IdP) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.requests)
}

// IssuedTokens returns the access tokens issued so far, in order: for
// tests that prove a token never shows in any output.
func (p *IdP) IssuedTokens() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.issued)
}

// issue remembers an access token the token endpoint hands out.
func (p *IdP) issue(token string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.issued = append(p.issued, token)
}

// TokenRequests counts the requests to the token endpoint.
func (p *IdP) TokenRequests() int {
	n := 0
	for _, r := range p.Requests() {
		if r.Endpoint == "token" {
			n++
		}
	}
	return n
}

// tenant finds a directory by ID or domain.
func (p *IdP) tenant(name string) (Tenant, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.tenants {
		if strings.EqualFold(t.ID, name) || (t.Domain != "" && strings.EqualFold(t.Domain, name)) {
			return t, true
		}
	}
	return Tenant{}, false
}

// app finds an app registration in a tenant.
func (p *IdP) app(tenantID, clientID string) (*App, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.apps[tenantID+"/"+strings.ToLower(clientID)]
	return a, ok
}

// refusal takes the next queued refusal of clientID.
func (p *IdP) refusal(clientID string) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := strings.ToLower(clientID)
	q := p.refusals[id]
	if len(q) == 0 {
		return 0, false
	}
	p.refusals[id] = q[1:]
	return q[0], true
}

func (p *IdP) record(r Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = append(p.requests, r)
}

// newID returns a fresh GUID-shaped identifier.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// idFor derives a stable GUID-shaped identifier from a name (a user's
// object ID from the UPN).
func idFor(name string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(name)))
	h := hex.EncodeToString(sum[:16])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// discovery answers a tenant's OpenID Provider configuration, the
// document MSAL resolves the endpoints from; an unknown tenant gets
// AADSTS90002, as from login.microsoftonline.com.
func (p *IdP) discovery(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("tenant")
	req := Request{Endpoint: "discovery", Tenant: name}
	t, ok := p.tenant(name)
	if !ok {
		p.refuse(w, req, 90002, params{tenant: name})
		return
	}
	base := p.URL + "/" + t.ID
	req.Status = http.StatusOK
	p.record(req)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                p.Issuer(t.ID),
		"request_uri_parameter_supported":       false,
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
	})
}

// keys answers the JWKS.
func (p *IdP) keys(w http.ResponseWriter, r *http.Request) {
	p.record(Request{Endpoint: "keys", Tenant: r.PathValue("tenant"), Status: http.StatusOK})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(p.JWKS())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// refuse answers an OAuth error the way Entra ID does and records it.
func (p *IdP) refuse(w http.ResponseWriter, req Request, code int, f params) {
	a := answerFor(code, f, p.now())
	req.Status, req.Code = a.status, code
	p.record(req)
	writeJSON(w, a.status, a.body)
}

// splitScopes drops the OpenID Connect scopes MSAL adds.
func splitScopes(scope string) []string {
	var out []string
	for _, s := range strings.Fields(scope) {
		if !slices.Contains(oidcScopes, strings.ToLower(s)) {
			out = append(out, s)
		}
	}
	return out
}

// resourceOf splits a scope into its resource and permission: a scope
// without a resource is Microsoft Graph's (Entra ID's default).
func resourceOf(scope string) (resource, permission string) {
	i := strings.LastIndexByte(scope, '/')
	if i < 0 {
		return GraphResource, scope
	}
	return scope[:i], scope[i+1:]
}

func knownResource(resource string) bool {
	return slices.ContainsFunc(knownResources, func(k string) bool { return strings.EqualFold(strings.TrimRight(resource, "/"), k) })
}
