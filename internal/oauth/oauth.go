// Package oauth acquires Microsoft Entra ID access tokens for SMTP XOAUTH2 through MSAL Go and describes them without ever revealing them.
package oauth

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

// Flow is the OAuth 2.0 grant a Config uses.
type Flow string

// The grants Exchange Online accepts tokens from for SMTP AUTH.
const (
	// ClientCredentials is the client credentials grant (RFC 6749 section
	// 4.4) of a confidential client: an app-only token, no user.
	ClientCredentials Flow = "client_credentials"
	// DeviceCode is the device authorization grant (RFC 8628) of a public
	// client: a user signs in on another device and the token is theirs.
	DeviceCode Flow = "device_code"
)

// Defaults and the names Exchange Online checks in a token.
const (
	// DefaultAuthority is Microsoft Entra ID's global authority host.
	DefaultAuthority = "https://login.microsoftonline.com"
	// AppOnlyScope is the scope of the client credentials grant for
	// Exchange Online: the resource with /.default.
	AppOnlyScope = "https://outlook.office365.com/.default"
	// DelegatedScope is the delegated permission SMTP AUTH needs.
	DelegatedScope = "https://outlook.office.com/SMTP.Send"
	// SendAsAppRole is the application permission (roles claim) of an
	// app-only token for SMTP.
	SendAsAppRole = "SMTP.SendAsApp"
	// SendScope is the delegated permission (scp claim) for SMTP.
	SendScope = "SMTP.Send"
	// DefaultHTTPTimeout bounds each request to the identity provider.
	DefaultHTTPTimeout = 30 * time.Second
)

// ExchangeAudiences are the audiences of tokens Exchange Online accepts:
// its resource URIs and the application ID of "Office 365 Exchange
// Online", which v2.0 tokens carry in aud.
var ExchangeAudiences = []string{
	"https://outlook.office365.com",
	"https://outlook.office.com",
	"00000002-0000-0ff1-ce00-000000000000",
}

// microsoftHosts are authority hosts that MSAL validates itself (its
// trusted host list); authority validation stays on for them.
var microsoftHosts = map[string]bool{
	"login.microsoftonline.com":        true,
	"login.microsoft.com":              true,
	"login.windows.net":                true,
	"sts.windows.net":                  true,
	"login.microsoftonline.us":         true,
	"login-us.microsoftonline.com":     true,
	"login.partner.microsoftonline.cn": true,
	"login.chinacloudapi.cn":           true,
	"login.usgovcloudapi.net":          true,
}

// Config says how to get a token: the suite's auth { oauth { ... } }
// block (SPEC section 8), decoded.
type Config struct {
	// Tenant is the directory: its ID (a GUID) or a verified domain
	// ("contoso.onmicrosoft.com").
	Tenant string
	// ClientID is the application (client) ID of the app registration.
	ClientID string
	// ClientSecret is the client secret's value (client credentials
	// only). It is never recorded or printed.
	ClientSecret string
	// CertificatePEM and KeyPEM, or CertificateFile and KeyFile, are the
	// certificate registered on the app and its RSA private key, PEM
	// (client credentials only; one PEM may hold both). The key is never
	// recorded or printed.
	CertificatePEM  []byte
	KeyPEM          []byte
	CertificateFile string
	KeyFile         string
	// Flow is the grant; "" means ClientCredentials.
	Flow Flow
	// Scope defaults to AppOnlyScope for ClientCredentials and to
	// DelegatedScope for DeviceCode.
	Scope string
	// Authority is the authority host URL without the tenant; default
	// DefaultAuthority. It must be https. MSAL's authority validation
	// (instance discovery) stays on for Microsoft's own hosts; any other
	// authority, such as package idptest's identity provider, is used
	// with instance discovery off (confidential.WithInstanceDiscovery(false)
	// and public.WithInstanceDiscovery(false)), so that MSAL reads
	// <authority>/<tenant>/v2.0/.well-known/openid-configuration directly
	// and accepts the issuer it names on the authority's host.
	Authority string
	// ExtraRoots are PEM certificates trusted for the authority's TLS
	// certificate in addition to the system roots: a test identity
	// provider's CA (the oauth block's ca_file). They go into the
	// http.Client MSAL is given (confidential.WithHTTPClient,
	// public.WithHTTPClient).
	ExtraRoots []byte
	// HTTPTimeout bounds each request to the identity provider; zero
	// means DefaultHTTPTimeout. The device code flow waits for the
	// sign-in until the context's deadline or the code's expiry.
	HTTPTimeout time.Duration
}

// ConfigError is a Config that cannot be used; nothing was sent.
type ConfigError struct {
	Field   string // the oauth block's attribute: "tenant", "client_secret", ...
	Problem string
}

// Error names the attribute and the problem.
func (e *ConfigError) Error() string { return "oauth " + e.Field + ": " + e.Problem }

// withDefaults returns c with its defaults applied and checks it: the
// tenant and client ID, exactly one credential for the client credentials
// grant and none for the device code flow, an https authority.
func (c Config) withDefaults() (Config, error) {
	if c.Flow == "" {
		c.Flow = ClientCredentials
	}
	if c.Scope == "" {
		c.Scope = AppOnlyScope
		if c.Flow == DeviceCode {
			c.Scope = DelegatedScope
		}
	}
	if c.Authority == "" {
		c.Authority = DefaultAuthority
	}
	c.Authority = strings.TrimRight(c.Authority, "/")
	if c.HTTPTimeout <= 0 {
		c.HTTPTimeout = DefaultHTTPTimeout
	}
	c.Tenant = strings.TrimSpace(c.Tenant)
	c.ClientID = strings.TrimSpace(c.ClientID)
	hasCert := len(c.CertificatePEM) > 0 || c.CertificateFile != ""
	switch {
	case c.Flow != ClientCredentials && c.Flow != DeviceCode:
		return c, &ConfigError{"flow", fmt.Sprintf("%q is not %q or %q", c.Flow, ClientCredentials, DeviceCode)}
	case c.Tenant == "":
		return c, &ConfigError{"tenant", "required: the directory (tenant) ID or a verified domain"}
	case strings.ContainsAny(c.Tenant, "/?#% "):
		return c, &ConfigError{"tenant", fmt.Sprintf("%q is not a tenant ID or domain", c.Tenant)}
	case c.ClientID == "":
		return c, &ConfigError{"client_id", "required: the application (client) ID"}
	case c.Flow == ClientCredentials && c.ClientSecret != "" && hasCert:
		return c, &ConfigError{"client_secret", "give a client secret or a certificate and key, not both"}
	case c.Flow == ClientCredentials && c.ClientSecret == "" && !hasCert:
		return c, &ConfigError{"client_secret", "the client credentials grant needs a client secret or a certificate and key"}
	case c.Flow == DeviceCode && (c.ClientSecret != "" || hasCert):
		return c, &ConfigError{"flow", "the device code flow signs in a user through a public client: remove the client secret or certificate"}
	}
	u, err := url.Parse(c.Authority)
	if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return c, &ConfigError{"authority", fmt.Sprintf("%q is not an https URL of an authority host such as %s", c.Authority, DefaultAuthority)}
	}
	return c, nil
}

// Validate reports what makes c unusable, without any network traffic:
// what withDefaults checks and, for a certificate credential given as PEM
// (CertificatePEM, KeyPEM), a certificate that does not parse and a key
// that Acquire could not sign the client assertion with (see
// checkCertificatePEM). Files named by CertificateFile and KeyFile are
// not read.
func (c Config) Validate() error {
	full, err := c.withDefaults()
	if err != nil {
		return err
	}
	return full.checkCertificatePEM()
}

// checkCertificatePEM checks an inline certificate credential the way
// Acquire will use it: every CERTIFICATE block parses, there is exactly
// one unencrypted private key (PKCS #8 or PKCS #1, in KeyPEM or in
// CertificatePEM), and MSAL accepts the pair (confidential.NewCredFromCert:
// an RSA key whose public key is one of the certificates'). Its problems
// name the attribute, "certificate" or "key", and quote nothing of the
// PEM.
func (c Config) checkCertificatePEM() error {
	if c.Flow != ClientCredentials || len(c.CertificatePEM) == 0 {
		return nil
	}
	var (
		certs []*x509.Certificate
		keys  []crypto.PrivateKey
	)
	scan := func(data []byte, field string) error {
		for {
			block, rest := pem.Decode(data)
			if block == nil {
				return nil
			}
			data = rest
			if _, encrypted := block.Headers["DEK-Info"]; encrypted || block.Type == "ENCRYPTED PRIVATE KEY" {
				return &ConfigError{"key", "is encrypted; MSAL Go takes an unencrypted PKCS #8 or PKCS #1 key " +
					"(openssl pkcs8 -topk8 -nocrypt converts one): protect the file with its permissions instead"}
			}
			switch block.Type {
			case "CERTIFICATE":
				cert, err := x509.ParseCertificate(block.Bytes)
				if err != nil {
					return &ConfigError{field, "holds a CERTIFICATE block that does not parse: " + err.Error()}
				}
				certs = append(certs, cert)
			case "PRIVATE KEY":
				k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
				if err != nil {
					return &ConfigError{"key", "holds a PRIVATE KEY block that does not parse as PKCS #8"}
				}
				keys = append(keys, k)
			case "RSA PRIVATE KEY":
				k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
				if err != nil {
					return &ConfigError{"key", "holds an RSA PRIVATE KEY block that does not parse as PKCS #1"}
				}
				keys = append(keys, k)
			case "EC PRIVATE KEY":
				return &ConfigError{"key", "is an EC key; an app's certificate credential for MSAL Go needs an RSA key"}
			}
		}
	}
	if err := scan(c.CertificatePEM, "certificate"); err != nil {
		return err
	}
	if err := scan(c.KeyPEM, "key"); err != nil {
		return err
	}
	switch {
	case len(certs) == 0:
		return &ConfigError{"certificate", "holds no PEM certificate (a block starting with -----BEGIN CERTIFICATE-----)"}
	case len(keys) == 0:
		return &ConfigError{"key", "holds no private key (a block starting with -----BEGIN PRIVATE KEY-----)"}
	case len(keys) > 1:
		return &ConfigError{"key", "holds more than one private key: give only the key of the certificate registered on the app"}
	}
	if _, err := confidential.NewCredFromCert(certs, keys[0]); err != nil {
		if strings.Contains(err.Error(), "RSA") {
			return &ConfigError{"key", "is not an RSA key; an app's certificate credential for MSAL Go needs an RSA key"}
		}
		return &ConfigError{"key", "does not belong to the certificate: its public key is none of the certificate's (not a key pair)"}
	}
	return nil
}

// authorityURL is the authority with the tenant, as MSAL takes it.
func (c Config) authorityURL() string { return c.Authority + "/" + c.Tenant }

// validateAuthority reports whether MSAL's instance discovery should
// validate the authority: only for Microsoft's own hosts, which it knows.
func (c Config) validateAuthority() bool {
	u, err := url.Parse(c.Authority)
	return err == nil && microsoftHosts[strings.ToLower(u.Hostname())]
}

// key identifies the Config in a Source: two Configs that would ask for
// the same token share it. The secret and key take part as a hash only.
func (c Config) key() string {
	h := sha256.New()
	for _, part := range []string{string(c.Flow), c.Authority, strings.ToLower(c.Tenant), c.ClientID, c.Scope,
		c.ClientSecret, string(c.CertificatePEM), string(c.KeyPEM), c.CertificateFile, c.KeyFile, string(c.ExtraRoots)} {
		fmt.Fprintf(h, "%d:%s;", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// credentialPEM returns the certificate and key PEM, read from their
// files where the Config names files.
func (c Config) credentialPEM() ([]byte, error) {
	read := func(inline []byte, file, what string) ([]byte, error) {
		if len(inline) > 0 || file == "" {
			return inline, nil
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read the %s: %w", what, err)
		}
		return b, nil
	}
	cert, err := read(c.CertificatePEM, c.CertificateFile, "certificate")
	if err != nil {
		return nil, err
	}
	key, err := read(c.KeyPEM, c.KeyFile, "private key")
	if err != nil {
		return nil, err
	}
	out := append(append([]byte{}, cert...), '\n')
	return append(out, key...), nil
}

// String describes c without its client secret or key, should a Config
// ever be printed.
func (c Config) String() string {
	cred := "none"
	switch {
	case c.ClientSecret != "":
		cred = "client secret ****"
	case len(c.CertificatePEM) > 0 || c.CertificateFile != "":
		cred = "certificate and key ****"
	}
	return fmt.Sprintf("oauth.Config{tenant %s, client_id %s, flow %s, scope %s, authority %s, credential %s}",
		c.Tenant, c.ClientID, c.Flow, c.Scope, c.Authority, cred)
}

// GoString keeps %#v from printing the secret or the key.
func (c Config) GoString() string { return c.String() }

// MarshalJSON marshals what String shows.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }
