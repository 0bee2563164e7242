package result

import "time"

// Token is what a check records of the OAuth access token it sent with
// AUTH XOAUTH2 when its auth block has an oauth block (SPEC section 8):
// the request to the identity provider, its outcome, and the token's
// claims that say whether Exchange Online will take it. It never holds
// the client secret, the private key, the device code or the token.
type Token struct {
	// Authority, Tenant, ClientID and Scope are what was asked for;
	// Grant is "client_credentials" (app-only) or "device_code"
	// (delegated).
	Authority string `json:"authority"`
	Tenant    string `json:"tenant"`
	ClientID  string `json:"client_id"`
	Scope     string `json:"scope"`
	Grant     string `json:"grant"`
	// Credential names the client credential: "client secret",
	// "certificate <SHA-1 thumbprint>" or "none (public client)".
	Credential string `json:"credential,omitempty"`
	// Outcome is "acquired" (requested for this check), "cached" (an
	// earlier check of the run got it) or "failed".
	Outcome string `json:"outcome"`
	// Error is the failure, ErrorKind where it happened ("refused",
	// "network", "credential", "canceled", "response", or "config" for
	// settings the identity provider was never asked with), AADSTS its
	// code ("AADSTS7000215") and OAuthError the OAuth 2.0 error
	// ("invalid_client", RFC 6749 section 5.2).
	Error      string `json:"error,omitempty"`
	ErrorKind  string `json:"error_kind,omitempty"`
	AADSTS     string `json:"aadsts,omitempty"`
	OAuthError string `json:"oauth_error,omitempty"`
	// TraceID and CorrelationID find a refusal in the Microsoft Entra
	// sign-in logs and at Microsoft support.
	TraceID       string `json:"trace_id,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`
	// Claims are the token's claims that Exchange Online judges it by;
	// nil when no token was issued or it was not a JWT.
	Claims *TokenClaims `json:"claims,omitempty"`
	// Problems are what the claims say Exchange Online will refuse the
	// token for, found before it was sent ("roles: ... lack
	// SMTP.SendAsApp ...").
	Problems []string `json:"problems,omitempty"`
	// Duration is how long the request took; zero for a cached token.
	Duration time.Duration `json:"duration_ns"`
	// Lines are what the check's transcript shows of the request, one
	// fact a line, in the words of the package that made it.
	Lines []string `json:"lines"`
}

// TokenClaims are the non-secret claims of an access token.
type TokenClaims struct {
	// Audience (aud) is the resource the token is for.
	Audience []string `json:"aud"`
	// Roles are the application permissions of an app-only token,
	// Scopes (scp) the delegated permissions of a user's.
	Roles  []string `json:"roles,omitempty"`
	Scopes []string `json:"scp,omitempty"`
	// AppID is appid or azp: the client; TenantID is tid; ObjectID is
	// oid (the service principal of an app-only token, or the user).
	AppID    string `json:"appid,omitempty"`
	TenantID string `json:"tid,omitempty"`
	ObjectID string `json:"oid,omitempty"`
	// UPN is the user of a delegated token.
	UPN    string `json:"upn,omitempty"`
	Issuer string `json:"iss,omitempty"`
	// ExpiresAt is exp.
	ExpiresAt time.Time `json:"exp"`
}

// TranscriptLines renders the request as transcript Note lines: the
// first (what was asked for) at offset, the others (the outcome and the
// claims) when the request ended.
func (t *Token) TranscriptLines(offset time.Duration) []TranscriptLine {
	out := make([]TranscriptLine, 0, len(t.Lines))
	for i, text := range t.Lines {
		at := offset
		if i > 0 {
			at += t.Duration
		}
		out = append(out, TranscriptLine{Offset: at, Direction: Note, Text: text})
	}
	return out
}

// Redact passes every string of the record through mask. It changes t in
// place.
func (t *Token) Redact(mask func(string) string) {
	for _, s := range []*string{&t.Authority, &t.Tenant, &t.ClientID, &t.Scope, &t.Grant, &t.Credential, &t.Outcome,
		&t.Error, &t.ErrorKind, &t.AADSTS, &t.OAuthError, &t.TraceID, &t.CorrelationID} {
		*s = mask(*s)
	}
	for i := range t.Problems {
		t.Problems[i] = mask(t.Problems[i])
	}
	for i := range t.Lines {
		t.Lines[i] = mask(t.Lines[i])
	}
	if c := t.Claims; c != nil {
		for _, list := range [][]string{c.Audience, c.Roles, c.Scopes} {
			for i := range list {
				list[i] = mask(list[i])
			}
		}
		for _, s := range []*string{&c.AppID, &c.TenantID, &c.ObjectID, &c.UPN, &c.Issuer} {
			*s = mask(*s)
		}
	}
}
