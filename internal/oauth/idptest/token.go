package idptest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Grant types of the token endpoint (RFC 6749 section 4.4, RFC 8628
// section 3.4) and the client assertion type (RFC 7523 section 2.2).
const (
	grantClientCredentials = "client_credentials"
	grantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	// grantDeviceCodeShort is the short form Entra ID also accepts, and
	// the one MSAL Go sends.
	grantDeviceCodeShort = "device_code"
	assertionType        = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// Claims are what a token the identity provider signs says.
type Claims struct {
	TenantID string
	// Audience is aud; "" means ExchangeResource.
	Audience string
	AppID    string
	// ObjectID is oid: the service principal (app-only) or the user.
	ObjectID string
	// Roles (app-only) and Scopes (delegated, scp) are the permissions.
	Roles  []string
	Scopes []string
	// UPN makes a delegated (user) token; "" an app-only one.
	UPN string
	// IssuedAt defaults to now and ExpiresAt to an hour after IssuedAt.
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Issuer defaults to Issuer(TenantID).
	Issuer string
}

// Sign makes an access token with the claims c, signed (RS256) with the
// key of JWKS: what the token endpoint issues, for tests that need a
// token of a given shape without a grant.
func (p *IdP) Sign(c Claims) string {
	now := p.now()
	if c.IssuedAt.IsZero() {
		c.IssuedAt = now
	}
	if c.ExpiresAt.IsZero() {
		c.ExpiresAt = c.IssuedAt.Add(time.Hour)
	}
	if c.Issuer == "" {
		c.Issuer = p.Issuer(c.TenantID)
	}
	if c.Audience == "" {
		c.Audience = ExchangeResource
	}
	mc := jwt.MapClaims{
		"aud": c.Audience, "iss": c.Issuer,
		"iat": c.IssuedAt.Unix(), "nbf": c.IssuedAt.Unix(), "exp": c.ExpiresAt.Unix(),
		"appid": c.AppID, "appidacr": "1", "tid": c.TenantID, "oid": c.ObjectID, "sub": c.ObjectID,
		"ver": "1.0", "uti": newID(),
	}
	if len(c.Roles) > 0 {
		mc["roles"] = c.Roles
	}
	if len(c.Scopes) > 0 {
		mc["scp"] = strings.Join(c.Scopes, " ")
	}
	if c.UPN != "" {
		mc["upn"], mc["unique_name"], mc["idtyp"] = c.UPN, c.UPN, "user"
	} else {
		mc["idtyp"] = "app"
	}
	return p.sign(mc)
}

func (p *IdP) sign(mc jwt.MapClaims) string {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, mc)
	t.Header["kid"] = p.kid
	s, err := t.SignedString(p.key)
	if err != nil {
		panic("idptest: sign: " + err.Error())
	}
	return s
}

// token answers the token endpoint.
func (p *IdP) token(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("tenant")
	if err := r.ParseForm(); err != nil {
		p.refuse(w, Request{Endpoint: "token", Tenant: name}, 90014, params{})
		return
	}
	f := r.PostForm
	req := Request{Endpoint: "token", Tenant: name, ClientID: f.Get("client_id"), GrantType: f.Get("grant_type"), Scope: f.Get("scope")}
	switch {
	case f.Get("client_secret") != "":
		req.Credential = "client_secret"
	case f.Get("client_assertion") != "":
		req.Credential = "client_assertion"
	}
	t, ok := p.tenant(name)
	if !ok {
		p.refuse(w, req, 90002, params{tenant: name})
		return
	}
	if req.ClientID == "" {
		p.refuse(w, req, 900144, params{scope: "client_id"})
		return
	}
	app, ok := p.app(t.ID, req.ClientID)
	if !ok {
		p.refuse(w, req, 700016, params{appID: req.ClientID, tenant: t.ID})
		return
	}
	fill := params{appID: app.ClientID, appName: app.Name, tenant: t.ID}
	if code, ok := p.refusal(app.ClientID); ok {
		p.refuse(w, req, code, fill)
		return
	}
	switch req.GrantType {
	case grantClientCredentials:
		p.clientCredentials(w, r, req, t, app, fill)
	case grantDeviceCode, grantDeviceCodeShort:
		p.redeemDeviceCode(w, req, t, app, f.Get("device_code"), fill)
	default:
		p.refuse(w, req, 70003, fill)
	}
}

// clientCredentials checks the scope (one resource with /.default,
// AADSTS1002012; a resource the tenant has, AADSTS500011) and the client
// credential (a registered, unexpired secret: AADSTS7000215,
// AADSTS7000222; a client assertion signed with a registered
// certificate's key: AADSTS700027), then issues an app-only token whose
// roles are the app's application permissions.
func (p *IdP) clientCredentials(w http.ResponseWriter, r *http.Request, req Request, t Tenant, app *App, fill params) {
	scopes := splitScopes(req.Scope)
	if len(scopes) == 0 {
		p.refuse(w, req, 900144, params{scope: "scope"})
		return
	}
	fill.scope = strings.Join(scopes, " ")
	if len(scopes) != 1 || !strings.HasSuffix(scopes[0], "/.default") {
		p.refuse(w, req, 1002012, fill)
		return
	}
	resource := strings.TrimSuffix(scopes[0], "/.default")
	if !knownResource(resource) {
		fill.resource = resource
		p.refuse(w, req, 500011, fill)
		return
	}
	f := r.PostForm
	switch {
	case f.Get("client_secret") != "":
		if code := p.checkSecret(app, f.Get("client_secret")); code != 0 {
			p.refuse(w, req, code, fill)
			return
		}
	case f.Get("client_assertion") != "":
		if f.Get("client_assertion_type") != assertionType {
			p.refuse(w, req, 50027, fill)
			return
		}
		if code, thumb := p.checkAssertion(app, f.Get("client_assertion"), p.URL+r.URL.Path); code != 0 {
			fill.thumbprint = thumb
			p.refuse(w, req, code, fill)
			return
		}
	default:
		p.refuse(w, req, 7000218, fill)
		return
	}
	aud := resource
	if app.Audience != "" {
		aud = app.Audience
	}
	now := p.now()
	access := p.Sign(Claims{TenantID: t.ID, Audience: aud, AppID: app.ClientID, ObjectID: app.ObjectID,
		Roles: app.Roles, IssuedAt: now, ExpiresAt: now.Add(lifetime(app))})
	p.issue(access)
	req.Status = http.StatusOK
	p.record(req)
	expiresIn := int(lifetime(app) / time.Second)
	if expiresIn < 1 {
		expiresIn = 1 // MSAL needs a positive lifetime; the token's exp says the truth
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type": "Bearer", "expires_in": expiresIn, "ext_expires_in": expiresIn, "access_token": access,
	})
}

func lifetime(app *App) time.Duration {
	if app.Lifetime == 0 {
		return time.Hour
	}
	return app.Lifetime
}

// checkSecret compares secret with the app's secrets in constant time:
// AADSTS7000215 for none, AADSTS7000222 for an expired one.
func (p *IdP) checkSecret(app *App, secret string) int {
	for _, s := range app.Secrets {
		if subtle.ConstantTimeCompare([]byte(s.Value), []byte(secret)) == 1 {
			if !s.Expires.IsZero() && !p.now().Before(s.Expires) {
				return 7000222
			}
			return 0
		}
	}
	return 7000215
}

// checkAssertion verifies a client assertion (RFC 7523) the way Entra ID
// does (certificate-credentials): the certificate named by x5t#S256 (or
// x5t) must be registered on the app, the signature (PS256 or RS256)
// must verify with its key, iss and sub must be the client ID, aud the
// token endpoint, and the time range current. It returns the AADSTS code
// of the failure (0 for none) and the thumbprint the client used.
func (p *IdP) checkAssertion(app *App, assertion, endpoint string) (int, string) {
	var used string
	var unknown bool
	keyFunc := func(t *jwt.Token) (any, error) {
		for _, h := range []string{"x5t#S256", "x5t"} {
			v, _ := t.Header[h].(string)
			if v == "" {
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				raw, err = base64.RawURLEncoding.DecodeString(v)
			}
			if err != nil {
				return nil, err
			}
			used = strings.ToUpper(hex.EncodeToString(raw))
			for _, c := range app.Certificates {
				var sum []byte
				if h == "x5t" {
					s := sha1.Sum(c.Raw)
					sum = s[:]
				} else {
					s := sha256.Sum256(c.Raw)
					sum = s[:]
				}
				if subtle.ConstantTimeCompare(sum, raw) == 1 {
					return c.PublicKey, nil
				}
			}
			unknown = true
			return nil, errors.New("certificate not registered")
		}
		return nil, errors.New("no x5t#S256 or x5t header")
	}
	tok, err := jwt.Parse(assertion, keyFunc,
		jwt.WithValidMethods([]string{"PS256", "RS256"}),
		jwt.WithTimeFunc(p.now), jwt.WithLeeway(5*time.Minute), jwt.WithExpirationRequired())
	switch {
	case unknown:
		return 700027, used
	case errors.Is(err, jwt.ErrTokenExpired) || errors.Is(err, jwt.ErrTokenNotValidYet):
		return 700024, ""
	case err != nil:
		return 700027, ""
	}
	mc, _ := tok.Claims.(jwt.MapClaims)
	iss, _ := mc.GetIssuer()
	sub, _ := mc.GetSubject()
	if !strings.EqualFold(iss, app.ClientID) || !strings.EqualFold(sub, app.ClientID) {
		return 700021, ""
	}
	aud, _ := mc.GetAudience()
	for _, a := range aud {
		if strings.EqualFold(a, endpoint) {
			return 0, ""
		}
	}
	return 50027, ""
}

// Certificate is a self-signed certificate and its RSA key, as an app
// registration's certificate credential.
type Certificate struct {
	Cert    *x509.Certificate
	CertPEM []byte
	KeyPEM  []byte // PKCS #8
}

// NewCertificate makes a self-signed RSA 2048 certificate for an app's
// certificate credential (Entra ID accepts self-signed ones).
func NewCertificate(commonName string) (Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return Certificate{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Certificate{}, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Certificate{}, err
	}
	return Certificate{
		Cert:    cert,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
	}, nil
}

// Thumbprint is a certificate's SHA-1 thumbprint in upper-case hex, as
// the Microsoft Entra admin center shows it.
func Thumbprint(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// clientInfo is the client_info of a token response: base64url JSON of
// the user's object ID and tenant ID, from which MSAL keys its cache.
func clientInfo(uid, utid string) string {
	b, _ := json.Marshal(map[string]string{"uid": uid, "utid": utid})
	return base64.RawURLEncoding.EncodeToString(b)
}
