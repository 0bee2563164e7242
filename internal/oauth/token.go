package oauth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Token is an access token and what may be shown of it. The bearer value
// is reachable only through Bearer: formatting a Token (%v, %+v, %#v) or
// marshalling it to JSON shows its Record, never the value.
type Token struct {
	value string
	// ExpiresOn is when the identity provider says the token expires.
	ExpiresOn time.Time
	// Claims are the token's non-secret claims, decoded without
	// verifying the signature (only Exchange Online can verify it).
	Claims Claims
	// Record is what the transcript shows of the acquisition.
	Record Record
}

// Bearer returns the access token, for the XOAUTH2 initial response
// ("user=" user ^A "auth=Bearer " token ^A ^A) and for nothing else.
func (t *Token) Bearer() string { return t.value }

// String describes the token without its value.
func (t Token) String() string {
	return fmt.Sprintf("oauth token for %s (%s, expires %s)", t.Record.Scope, t.Record.Grant, t.ExpiresOn.UTC().Format(time.RFC3339))
}

// GoString keeps %#v from printing the value.
func (t Token) GoString() string { return "&oauth.Token{" + t.String() + "}" }

// MarshalJSON marshals the Record only.
func (t Token) MarshalJSON() ([]byte, error) { return json.Marshal(t.Record) }

// Problems are what the token's claims say Exchange Online will refuse
// (see Claims.Check), as of now.
func (t *Token) Problems() []Problem { return t.Claims.Check(t.Record.Grant, time.Now()) }

// Claims are the claims of an access token that say whether Exchange
// Online will accept it; none of them is secret.
type Claims struct {
	// Audience is aud: the resource the token is for.
	Audience []string `json:"aud"`
	// Roles is roles: the application permissions of an app-only token.
	Roles []string `json:"roles,omitempty"`
	// Scopes is scp split at spaces: the delegated permissions.
	Scopes []string `json:"scp,omitempty"`
	// AppID is appid (v1.0 tokens) or azp (v2.0): the client.
	AppID string `json:"appid,omitempty"`
	// TenantID is tid.
	TenantID string `json:"tid,omitempty"`
	// ObjectID is oid: the service principal of an app-only token (the
	// OBJECT_ID of New-ServicePrincipal), or the user.
	ObjectID string `json:"oid,omitempty"`
	// UPN is upn, preferred_username or unique_name: the user of a
	// delegated token.
	UPN string `json:"upn,omitempty"`
	// Issuer is iss.
	Issuer string `json:"iss,omitempty"`
	// ExpiresAt is exp.
	ExpiresAt time.Time `json:"exp"`
}

// ParseClaims decodes the claims of a JWT access token without verifying
// it. It fails for a token that is not a JWT (three base64url parts).
func ParseClaims(token string) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, errors.New("the access token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, fmt.Errorf("the access token's payload is not base64url: %w", err)
	}
	var raw struct {
		Aud        json.RawMessage `json:"aud"`
		Roles      []string        `json:"roles"`
		Scp        string          `json:"scp"`
		AppID      string          `json:"appid"`
		Azp        string          `json:"azp"`
		Tid        string          `json:"tid"`
		Oid        string          `json:"oid"`
		UPN        string          `json:"upn"`
		Preferred  string          `json:"preferred_username"`
		UniqueName string          `json:"unique_name"`
		Iss        string          `json:"iss"`
		Exp        json.Number     `json:"exp"`
	}
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return Claims{}, fmt.Errorf("the access token's payload is not a JSON object: %w", err)
	}
	c := Claims{Roles: raw.Roles, Scopes: strings.Fields(raw.Scp), AppID: raw.AppID, TenantID: raw.Tid,
		ObjectID: raw.Oid, Issuer: raw.Iss}
	if c.AppID == "" {
		c.AppID = raw.Azp
	}
	for _, u := range []string{raw.UPN, raw.Preferred, raw.UniqueName} {
		if u != "" {
			c.UPN = u
			break
		}
	}
	if len(raw.Aud) > 0 {
		var one string
		if json.Unmarshal(raw.Aud, &one) == nil {
			c.Audience = []string{one}
		} else if err := json.Unmarshal(raw.Aud, &c.Audience); err != nil {
			return Claims{}, fmt.Errorf("the access token's aud is neither a string nor a list: %w", err)
		}
	}
	if raw.Exp != "" {
		f, err := raw.Exp.Float64()
		if err != nil {
			return Claims{}, fmt.Errorf("the access token's exp %q is not a number", raw.Exp)
		}
		c.ExpiresAt = time.Unix(int64(f), 0).UTC()
	}
	return c, nil
}

// Problem is a claim Exchange Online will refuse the token for.
type Problem struct {
	Claim   string `json:"claim"` // "aud", "roles", "scp", "exp"
	Message string `json:"message"`
}

// String is the claim and the message, for a transcript line.
func (p Problem) String() string { return p.Claim + ": " + p.Message }

// Check finds, before the token is sent, what Exchange Online will refuse
// it for: an audience that is not Exchange Online's, an app-only token
// without the role SMTP.SendAsApp, a delegated token without the scope
// SMTP.Send, a token that has expired at now.
func (c Claims) Check(grant Flow, now time.Time) []Problem {
	var out []Problem
	if !slices.ContainsFunc(c.Audience, isExchangeAudience) {
		out = append(out, Problem{"aud", fmt.Sprintf("the token is for %s, not for Exchange Online (%s); request the scope %s or %s",
			orNone(c.Audience), ExchangeAudiences[0], AppOnlyScope, DelegatedScope)})
	}
	switch grant {
	case DeviceCode:
		if !containsFold(c.Scopes, SendScope) {
			out = append(out, Problem{"scp", fmt.Sprintf("the delegated permissions (%s) lack %s: request %s and let the user (or an admin) consent to it",
				orNone(c.Scopes), SendScope, DelegatedScope)})
		}
	default:
		if !containsFold(c.Roles, SendAsAppRole) {
			out = append(out, Problem{"roles", fmt.Sprintf("the application permissions (%s) lack %s: add the Office 365 Exchange Online application permission %s and grant admin consent, "+
				"unless the app is authorized through Exchange Online RBAC for Applications ('Application SMTP.SendAsApp')",
				orNone(c.Roles), SendAsAppRole, SendAsAppRole)})
		}
	}
	if !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt) {
		out = append(out, Problem{"exp", fmt.Sprintf("the token expired at %s", c.ExpiresAt.UTC().Format(time.RFC3339))})
	}
	return out
}

func isExchangeAudience(aud string) bool {
	return slices.ContainsFunc(ExchangeAudiences, func(a string) bool { return strings.EqualFold(strings.TrimRight(aud, "/"), a) })
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, " ")
}

// Outcome is how an acquisition ended.
type Outcome string

// The outcomes of an acquisition.
const (
	Acquired Outcome = "acquired" // the identity provider issued a token
	Cached   Outcome = "cached"   // an earlier check of the run got it
	Failed   Outcome = "failed"   // see Record.Error
)

// Record is what a transcript or report shows of a token acquisition:
// never the client secret, the private key, the device code or the token.
type Record struct {
	Authority string `json:"authority"`
	Tenant    string `json:"tenant"`
	ClientID  string `json:"client_id"`
	Scope     string `json:"scope"`
	Grant     Flow   `json:"grant"`
	// Credential names the client credential: "client secret",
	// "certificate <SHA-1 thumbprint>" (as the Entra admin center shows
	// it) or "none (public client)".
	Credential string  `json:"credential"`
	Outcome    Outcome `json:"outcome"`
	// Error is the failure, masked; AADSTS its code ("AADSTS7000215").
	Error  string `json:"error,omitempty"`
	AADSTS string `json:"aadsts,omitempty"`
	// Claims are the token's non-secret claims and Problems what Exchange
	// Online will refuse it for.
	Claims   *Claims  `json:"claims,omitempty"`
	Problems []string `json:"problems,omitempty"`
	// Duration is how long the acquisition took (zero when cached).
	Duration time.Duration `json:"duration_ns"`
}

// Lines renders the record for a transcript, one fact a line.
func (r Record) Lines() []string {
	lines := []string{
		fmt.Sprintf("OAuth %s: authority %s, tenant %s, client_id %s, scope %s, credential %s", r.Grant, r.Authority, r.Tenant, r.ClientID, r.Scope, r.Credential),
	}
	switch r.Outcome {
	case Failed:
		lines = append(lines, "OAuth token: failed: "+r.Error)
	default:
		lines = append(lines, "OAuth token: "+string(r.Outcome))
	}
	if c := r.Claims; c != nil {
		lines = append(lines, fmt.Sprintf("OAuth claims: aud %s, roles %s, scp %s, appid %s, tid %s, oid %s, exp %s",
			orNone(c.Audience), orNone(c.Roles), orNone(c.Scopes), orDash(c.AppID), orDash(c.TenantID), orDash(c.ObjectID), c.ExpiresAt.UTC().Format(time.RFC3339)))
		if c.UPN != "" {
			lines[len(lines)-1] += ", upn " + c.UPN
		}
	}
	for _, p := range r.Problems {
		lines = append(lines, "OAuth claims problem: "+p)
	}
	return lines
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
