package knowledge

import (
	"fmt"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// Sources of the token diagnoses written here; the entries for AADSTS
// codes carry their own, in kb/aadsts/.
const (
	// entraErrorCodes is Microsoft's list of Entra ID's AADSTS codes.
	entraErrorCodes = "https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes"
	// smtpOAuthSource is Microsoft's page on XOAUTH2 for SMTP: the scopes,
	// the permissions and the claims Exchange Online wants.
	smtpOAuthSource = "https://learn.microsoft.com/en-us/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth"
	// deviceCodeSource is the device authorization grant's polling: the
	// client waits until the user signs in or the code expires.
	deviceCodeSource = "https://www.rfc-editor.org/rfc/rfc8628#section-3.5"
)

// DiagnoseToken explains a token request that failed (an auth block's
// oauth block), before any SMTP conversation: the knowledge base's entry
// for its AADSTS code (ExplainTokenError), else what the kind of failure
// means. Nothing was sent to the SMTP server.
func DiagnoseToken(t *result.Token) *result.Diagnosis {
	d := &result.Diagnosis{Category: result.Auth, Step: result.StepAuth, Outcome: t.Error, Code: t.AADSTS,
		Summary: "no OAuth access token, nothing sent: " + t.Error}
	if t.AADSTS != "" {
		d.Summary = t.AADSTS + " from the identity provider: no OAuth access token, nothing sent"
	}
	where := ""
	if t.CorrelationID != "" {
		where = fmt.Sprintf(" The Microsoft Entra sign-in logs find the request by its correlation ID %s (trace ID %s).", t.CorrelationID, t.TraceID)
	}
	e, ok := ExplainTokenError(t.AADSTS)
	if !ok && t.AADSTS == "" {
		e, ok = ExplainTokenError(t.Error)
	}
	if ok {
		meaning := e.Meaning
		if e.Note != "" {
			meaning += " (" + e.Note + ")"
		}
		d.Category, d.Meaning, d.Fix, d.Setting, d.Source = e.Category, meaning, e.Fix+where, e.Setting, e.Source
		d.Code = e.Code()
		return d
	}
	switch t.ErrorKind {
	case "refused":
		code := t.AADSTS
		if code == "" {
			code = "an error"
		}
		d.Meaning = fmt.Sprintf("Microsoft Entra ID refused the token request with %s (%s), which the knowledge base does not describe. "+
			"No token was issued, so the SMTP server was never asked.", code, orUnknown(t.OAuthError))
		d.Fix = "Look the code up in Microsoft's list of Entra ID error codes"
		if n := strings.TrimPrefix(t.AADSTS, "AADSTS"); n != "" {
			d.Fix += " (https://login.microsoftonline.com/error?code=" + n + ")"
		}
		d.Fix += "." + where
		d.Source = entraErrorCodes
	case "network":
		d.Category = result.Network
		d.Meaning = fmt.Sprintf("The identity provider %s could not be reached over HTTPS, did not answer in time, or its TLS certificate "+
			"was not trusted, so no token was requested.", orUnknown(t.Authority))
		d.Fix = "Check that this machine reaches the authority on port 443 (a proxy or firewall may stop it); " +
			"for a test identity provider, put its CA in the oauth block's ca_file."
	case "credential":
		d.Category = result.Configuration
		d.Meaning = "The certificate or its private key could not be used to sign the client assertion, so no token was requested."
		d.Fix = "Give the certificate registered on the app registration (Certificates & secrets) and its unencrypted RSA private key, as PEM."
		d.Source = smtpOAuthSource
	case "canceled":
		d.Category = result.Network
		d.Meaning = "The token request did not finish before the check's deadline."
		d.Fix = "Check how fast the identity provider answers; raise the deadline with --check-timeout if it is slow."
		if t.Grant == "device_code" {
			d.Category = result.Auth
			d.Meaning = "Nobody completed the device code sign-in before the check's deadline: the code shown was not entered, " +
				"or the sign-in was not finished, in time."
			d.Fix = "Run the check again, open the page shown on another device, enter the code and sign in as the mailbox " +
				"before the deadline (--check-timeout, default 2m)."
			d.Source = deviceCodeSource
		}
	case "config":
		d.Category = result.Configuration
		d.Meaning = "The oauth block cannot be used as it is, so no token was requested."
		d.Fix = "Correct the oauth block as the error says."
		d.Source = smtpOAuthSource
	default:
		d.Meaning = "The identity provider's answer could not be used as a token, so nothing was sent to the SMTP server."
		d.Fix = "Check that the authority is Microsoft Entra ID (or the identity provider meant) and read the error." + where
		d.Source = entraErrorCodes
	}
	return d
}

// TokenProblems adds to a failed check's diagnosis what the token's
// claims showed before it was sent (result.Token.Problems): an app-only
// token without the role SMTP.SendAsApp, a delegated one without the
// scope SMTP.Send, another audience than Exchange Online, an expired
// token. With no diagnosis yet it makes one. It returns d unchanged when
// there are no problems.
func TokenProblems(d *result.Diagnosis, t *result.Token) *result.Diagnosis {
	if t == nil || len(t.Problems) == 0 {
		return d
	}
	finding := "Before it was sent, the access token was flagged: " + strings.Join(t.Problems, "; ") + "."
	if d == nil {
		return &result.Diagnosis{Category: result.Auth, Step: result.StepAuth,
			Summary: "the OAuth access token was flagged before it was sent",
			Meaning: finding + " Exchange Online refuses such a token with 535 5.7.3.",
			Fix:     "Request the token Exchange Online needs: see the flagged claims above.",
			Source:  smtpOAuthSource}
	}
	if d.Meaning != "" {
		d.Meaning += " "
	}
	d.Meaning += finding
	return d
}

func orUnknown(s string) string {
	if s == "" {
		return "no OAuth error given"
	}
	return s
}
