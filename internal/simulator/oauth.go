package simulator

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Names Exchange Online checks in an access token
// (learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth).
const (
	sendAsAppRole = "SMTP.SendAsApp" // application permission, roles claim
	sendScope     = "SMTP.Send"      // delegated permission, scp claim
)

// exchangeAudiences are the aud values of tokens for Exchange Online: its
// resource URIs and the application ID of "Office 365 Exchange Online".
var exchangeAudiences = []string{
	"https://outlook.office365.com",
	"https://outlook.office.com",
	"00000002-0000-0ff1-ce00-000000000000",
}

// OAuthOptions make XOAUTH2 accept signed access tokens, checked the way
// Exchange Online checks the tokens of Microsoft Entra ID: the signature
// against the issuer's keys, the issuer, the audience, the expiry, the
// role SMTP.SendAsApp and the service principal's permission on the
// mailbox for an app-only token, the scope SMTP.Send and the mailbox's
// own sign-in for a delegated one. Every refusal is the same 535 5.7.3
// Authentication unsuccessful, as on Exchange Online; the protocol log
// (Options.Log) says which check failed.
type OAuthOptions struct {
	// Issuer is the iss tokens must carry; "" accepts any issuer whose
	// keys are in JWKS.
	Issuer string
	// JWKS is the issuer's JSON Web Key Set (RFC 7517): the RSA keys the
	// tokens are signed with (RS256).
	JWKS []byte
	// Audiences are the accepted aud values; nil means Exchange Online's:
	// https://outlook.office365.com, https://outlook.office.com and
	// 00000002-0000-0ff1-ce00-000000000000 (the application ID of "Office
	// 365 Exchange Online", which v2.0 tokens carry).
	Audiences []string
	// ServicePrincipals are the applications registered in Exchange
	// Online with New-ServicePrincipal, and what each may use.
	ServicePrincipals []ServicePrincipal
	// Now is the clock exp and nbf are judged by; nil means time.Now.
	Now func() time.Time
}

// ServicePrincipal is an application registered in Exchange Online
// (New-ServicePrincipal -AppId <APPLICATION_ID> -ObjectId <OBJECT_ID>).
type ServicePrincipal struct {
	AppID string
	// ObjectID is the Object ID it was registered with. Microsoft's page
	// warns that it must be the Enterprise application's, which app-only
	// tokens carry in oid; another one fails authentication.
	ObjectID string
	// FullAccess are the mailboxes granted with Add-MailboxPermission
	// -Identity <mailbox> -User <SERVICE_PRINCIPAL_ID> -AccessRights
	// FullAccess: a token with the role SMTP.SendAsApp may send as them.
	FullAccess []string
	// RBAC are the mailboxes in the scope of an 'Application
	// SMTP.SendAsApp' management role assignment (RBAC for Applications,
	// smtp-app-rbac-onboarding): the app may send as them with or without
	// the role in its token.
	RBAC []string
}

// tokenChecker checks XOAUTH2 bearer tokens against OAuthOptions.
type tokenChecker struct {
	opts OAuthOptions
	keys map[string]*rsa.PublicKey // by kid
}

// newTokenChecker reads the JWKS.
func newTokenChecker(opts OAuthOptions) (*tokenChecker, error) {
	if opts.Audiences == nil {
		opts.Audiences = exchangeAudiences
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(opts.JWKS, &set); err != nil {
		return nil, fmt.Errorf("simulator: OAuth JWKS: %w", err)
	}
	c := &tokenChecker{opts: opts, keys: map[string]*rsa.PublicKey{}}
	for _, k := range set.Keys {
		if k.Kty != "RSA" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("simulator: OAuth JWKS: key %q is not a valid RSA key", k.Kid)
		}
		c.keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	if len(c.keys) == 0 {
		return nil, errors.New("simulator: OAuth JWKS holds no RSA key")
	}
	return c, nil
}

// looksLikeJWT tells a signed token from the static demo tokens.
func looksLikeJWT(token string) bool { return strings.Count(token, ".") == 2 }

// tokenClaims are the claims Exchange Online reads.
type tokenClaims struct {
	jwt.RegisteredClaims
	Roles      []string `json:"roles"`
	Scp        string   `json:"scp"`
	AppID      string   `json:"appid"`
	Azp        string   `json:"azp"`
	Oid        string   `json:"oid"`
	UPN        string   `json:"upn"`
	Preferred  string   `json:"preferred_username"`
	UniqueName string   `json:"unique_name"`
}

// check decides on a bearer token presented for mailbox. It returns ""
// when Exchange Online would accept it, else why it would not, for the
// protocol log (the client only ever sees 535 5.7.3).
func (c *tokenChecker) check(mailbox, token string) string {
	var claims tokenClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k, ok := c.keys[kid]; ok {
			return k, nil
		}
		if kid == "" && len(c.keys) == 1 {
			for _, k := range c.keys {
				return k, nil
			}
		}
		return nil, fmt.Errorf("no key %q in the issuer's JWKS", kid)
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(c.opts.Now), jwt.WithExpirationRequired())
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		exp := "?"
		if claims.ExpiresAt != nil {
			exp = claims.ExpiresAt.UTC().Format(time.RFC3339)
		}
		return "the token expired at " + exp
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "the token is not valid yet (nbf)"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "the token's signature does not verify with the issuer's keys"
	case err != nil:
		return "the token is not a valid signed JWT: " + err.Error()
	}
	if c.opts.Issuer != "" && claims.Issuer != c.opts.Issuer {
		return fmt.Sprintf("the token's issuer %q is not %q", claims.Issuer, c.opts.Issuer)
	}
	if !slices.ContainsFunc(claims.Audience, func(a string) bool { return containsFold(c.opts.Audiences, strings.TrimRight(a, "/")) }) {
		return fmt.Sprintf("the token is for %s, not for Exchange Online", strings.Join(claims.Audience, " "))
	}
	if claims.Scp != "" {
		return c.checkDelegated(mailbox, claims)
	}
	return c.checkAppOnly(mailbox, claims)
}

// checkDelegated: a user's token needs the scope SMTP.Send and is good
// for that user's own mailbox.
func (c *tokenChecker) checkDelegated(mailbox string, claims tokenClaims) string {
	if !containsFold(strings.Fields(claims.Scp), sendScope) {
		return fmt.Sprintf("the delegated token's scopes (%s) lack %s", claims.Scp, sendScope)
	}
	user := claims.UPN
	for _, u := range []string{claims.Preferred, claims.UniqueName} {
		if user == "" {
			user = u
		}
	}
	if !strings.EqualFold(user, mailbox) {
		return fmt.Sprintf("the token was issued to %s, not to the mailbox %s", user, mailbox)
	}
	return ""
}

// checkAppOnly: an application's token needs its service principal
// registered in Exchange Online with the Enterprise application's object
// ID, and a permission on the mailbox: FullAccess with the role
// SMTP.SendAsApp, or an RBAC for Applications assignment.
func (c *tokenChecker) checkAppOnly(mailbox string, claims tokenClaims) string {
	app := claims.AppID
	if app == "" {
		app = claims.Azp
	}
	i := slices.IndexFunc(c.opts.ServicePrincipals, func(sp ServicePrincipal) bool { return strings.EqualFold(sp.AppID, app) })
	if i < 0 {
		return fmt.Sprintf("no service principal for app %s is registered in Exchange Online (New-ServicePrincipal)", app)
	}
	sp := c.opts.ServicePrincipals[i]
	if !strings.EqualFold(sp.ObjectID, claims.Oid) {
		return fmt.Sprintf("the service principal of app %s was registered with object ID %s, but the token's oid is %s (the Enterprise application's Object ID)", app, sp.ObjectID, claims.Oid)
	}
	if containsFold(sp.RBAC, mailbox) {
		return ""
	}
	if !containsFold(claims.Roles, sendAsAppRole) {
		return fmt.Sprintf("the app-only token's roles (%s) lack %s", strings.Join(claims.Roles, " "), sendAsAppRole)
	}
	if !containsFold(sp.FullAccess, mailbox) {
		return fmt.Sprintf("the service principal of app %s has no permission on the mailbox %s (Add-MailboxPermission)", app, mailbox)
	}
	return ""
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}
