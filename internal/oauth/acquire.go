package oauth

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
)

// DevicePrompt is what a user must do to complete the device code flow
// (RFC 8628 section 3.3): open VerificationURL on any device and enter
// UserCode before ExpiresOn.
type DevicePrompt struct {
	UserCode        string
	VerificationURL string
	// Message is the identity provider's instruction ("To sign in, use a
	// web browser to open the page ... and enter the code ... to
	// authenticate.").
	Message   string
	ExpiresOn time.Time
}

// Acquire gets a token for cfg from the identity provider, with no cache:
// the client credentials grant of a confidential client, or the device
// code flow of a public client, whose prompt is handed to prompt while
// Acquire waits for the sign-in until ctx ends or the code expires.
// It fails with a *ConfigError before any traffic, or with an *Error.
func Acquire(ctx context.Context, cfg Config, prompt func(DevicePrompt)) (*Token, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.Flow == DeviceCode && prompt == nil {
		return nil, &ConfigError{"flow", "the device code flow needs somewhere to show the code to enter"}
	}
	rec := Record{Authority: cfg.Authority, Tenant: cfg.Tenant, ClientID: cfg.ClientID, Scope: cfg.Scope, Grant: cfg.Flow}
	hc, err := httpClient(cfg)
	if err != nil {
		return nil, &ConfigError{"ca_file", err.Error()}
	}
	defer hc.CloseIdleConnections()

	start := time.Now()
	var (
		value     string
		expiresOn time.Time
	)
	if cfg.Flow == DeviceCode {
		value, expiresOn, err = deviceCode(ctx, cfg, hc, prompt, &rec)
	} else {
		value, expiresOn, err = clientCredentials(ctx, cfg, hc, &rec)
	}
	rec.Duration = time.Since(start)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Record.Duration = rec.Duration
		}
		return nil, err
	}
	t := &Token{value: value, ExpiresOn: expiresOn, Record: rec}
	t.Record.Outcome = Acquired
	claims, cerr := ParseClaims(value)
	if cerr != nil {
		t.Record.Problems = []string{Problem{"token", cerr.Error() + "; Exchange Online expects a JWT access token"}.String()}
		return t, nil
	}
	t.Claims = claims
	c := claims
	t.Record.Claims = &c
	for _, p := range claims.Check(cfg.Flow, time.Now()) {
		t.Record.Problems = append(t.Record.Problems, p.String())
	}
	return t, nil
}

// clientCredentials runs the client credentials grant with MSAL's
// confidential client.
func clientCredentials(ctx context.Context, cfg Config, hc *http.Client, rec *Record) (string, time.Time, error) {
	var cred confidential.Credential
	var err error
	if cfg.ClientSecret != "" {
		rec.Credential = "client secret"
		cred, err = confidential.NewCredFromSecret(cfg.ClientSecret)
		if err != nil {
			return "", time.Time{}, newError(ctx, err, cfg, *rec, "client secret")
		}
	} else {
		pemData, err := cfg.credentialPEM()
		if err != nil {
			return "", time.Time{}, credentialError(err, cfg, *rec)
		}
		certs, key, err := confidential.CertFromPEM(pemData, "")
		if err != nil {
			return "", time.Time{}, credentialError(err, cfg, *rec)
		}
		rec.Credential = "certificate " + thumbprint(certs, key)
		cred, err = confidential.NewCredFromCert(certs, key)
		if err != nil {
			return "", time.Time{}, credentialError(err, cfg, *rec)
		}
	}
	client, err := confidential.New(cfg.authorityURL(), cfg.ClientID, cred,
		confidential.WithHTTPClient(hc), confidential.WithInstanceDiscovery(cfg.validateAuthority()))
	if err != nil {
		return "", time.Time{}, newError(ctx, err, cfg, *rec, "MSAL")
	}
	res, err := client.AcquireTokenByCredential(ctx, []string{cfg.Scope})
	if err != nil {
		return "", time.Time{}, newError(ctx, err, cfg, *rec, "token request")
	}
	return res.AccessToken, res.ExpiresOn, nil
}

// deviceCode runs the device code flow with MSAL's public client.
func deviceCode(ctx context.Context, cfg Config, hc *http.Client, prompt func(DevicePrompt), rec *Record) (string, time.Time, error) {
	rec.Credential = "none (public client)"
	client, err := public.New(cfg.ClientID, public.WithAuthority(cfg.authorityURL()),
		public.WithHTTPClient(hc), public.WithInstanceDiscovery(cfg.validateAuthority()))
	if err != nil {
		return "", time.Time{}, newError(ctx, err, cfg, *rec, "MSAL")
	}
	dc, err := client.AcquireTokenByDeviceCode(ctx, []string{cfg.Scope})
	if err != nil {
		return "", time.Time{}, newError(ctx, err, cfg, *rec, "device code request")
	}
	// The device code itself stays inside MSAL: whoever holds it can
	// redeem the user's sign-in.
	prompt(DevicePrompt{UserCode: dc.Result.UserCode, VerificationURL: dc.Result.VerificationURL,
		Message: dc.Result.Message, ExpiresOn: dc.Result.ExpiresOn})
	res, err := dc.AuthenticationResult(ctx)
	if err != nil {
		return "", time.Time{}, newError(ctx, err, cfg, *rec, "device code sign-in")
	}
	return res.AccessToken, res.ExpiresOn, nil
}

// httpClient is the client MSAL talks through: the system roots plus
// cfg.ExtraRoots, TLS 1.2 or later, cfg.HTTPTimeout per request.
func httpClient(cfg Config) (*http.Client, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if len(cfg.ExtraRoots) > 0 && !roots.AppendCertsFromPEM(cfg.ExtraRoots) {
		return nil, errors.New("holds no PEM certificate")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: cfg.HTTPTimeout}, nil
}

// thumbprint is the SHA-1 thumbprint, in upper-case hex as the Microsoft
// Entra admin center shows it, of the certificate whose public key
// matches key (MSAL signs the client assertion with it).
func thumbprint(certs []*x509.Certificate, key crypto.PrivateKey) string {
	cert := certs[0]
	if k, ok := key.(*rsa.PrivateKey); ok {
		for _, c := range certs {
			if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && pub.Equal(&k.PublicKey) {
				cert = c
				break
			}
		}
	}
	sum := sha1.Sum(cert.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// stepOf names the request an MSAL call error came from, by its URL.
func stepOf(call msalerrors.CallErr, step string) string {
	if call.Req == nil || call.Req.URL == nil {
		return step
	}
	return stepOfURL(call.Req.URL, step)
}

// stepOfURL names the request to u.
func stepOfURL(u0 *url.URL, step string) string {
	u := *u0
	u.RawQuery, u.ForceQuery, u.Fragment, u.User = "", false, "", nil
	switch path := u.Path; {
	case strings.HasSuffix(path, "/openid-configuration"):
		return "tenant discovery (" + u.String() + ")"
	case strings.HasSuffix(path, "/devicecode"):
		return "device code request (" + u.String() + ")"
	case strings.HasSuffix(path, "/token"):
		return step + " (" + u.String() + ")"
	case strings.Contains(path, "/discovery/instance"):
		return "authority validation (" + u.String() + ")"
	}
	return step
}
