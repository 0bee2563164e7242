package idptest

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// params fill in an error's wording.
type params struct {
	appID, appName, tenant, scope, resource, thumbprint string
}

// stsError is one of Microsoft Entra ID's token errors: the OAuth 2.0
// error, the HTTP status and the description after "AADSTSnnn: ".
type stsError struct {
	oauth  string
	status int
	text   func(params) string
}

// stsErrors are the refusals the identity provider gives, with Entra
// ID's wording as its token endpoint returns it (learn.microsoft.com/
// entra/identity-platform/reference-error-codes; the texts are those of
// real answers, which add the app and tenant to the table's summary).
var stsErrors = map[int]stsError{
	7000215: {"invalid_client", http.StatusUnauthorized, func(f params) string {
		return fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", f.appID)
	}},
	7000222: {"invalid_client", http.StatusUnauthorized, func(f params) string {
		return fmt.Sprintf("The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", f.appID)
	}},
	7000218: {"invalid_client", http.StatusBadRequest, func(params) string {
		return "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
	}},
	700016: {"unauthorized_client", http.StatusBadRequest, func(f params) string {
		return fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", f.appID, f.tenant)
	}},
	90002: {"invalid_tenant", http.StatusBadRequest, func(f params) string {
		return fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", f.tenant)
	}},
	65001: {"invalid_grant", http.StatusBadRequest, func(f params) string {
		return fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", f.appID, f.appName)
	}},
	70011: {"invalid_scope", http.StatusBadRequest, func(f params) string {
		return fmt.Sprintf("The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", f.scope)
	}},
	1002012: {"invalid_scope", http.StatusBadRequest, func(f params) string {
		return fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", f.scope)
	}},
	500011: {"invalid_resource", http.StatusBadRequest, func(f params) string {
		return fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", f.resource, f.tenant)
	}},
	700027: {"invalid_client", http.StatusUnauthorized, func(f params) string {
		if f.thumbprint == "" {
			return "Client assertion failed signature validation."
		}
		return fmt.Sprintf("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]", f.thumbprint, f.appID)
	}},
	700024: {"invalid_client", http.StatusBadRequest, func(params) string {
		return "Client assertion is not within its valid time range."
	}},
	700021: {"invalid_client", http.StatusBadRequest, func(params) string {
		return "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials ."
	}},
	50027: {"invalid_request", http.StatusBadRequest, func(params) string {
		return "JWT token is invalid or is malformed."
	}},
	70016: {"authorization_pending", http.StatusBadRequest, func(params) string {
		return "OAuth 2.0 device flow error. Authorization is pending. Continue polling."
	}},
	70019: {"expired_token", http.StatusBadRequest, func(params) string {
		return "Verification code expired."
	}},
	70000: {"invalid_grant", http.StatusBadRequest, func(params) string {
		return "The provided value for the 'device_code' is not valid."
	}},
	900144: {"invalid_request", http.StatusBadRequest, func(f params) string {
		return fmt.Sprintf("The request body must contain the following parameter: '%s'.", f.scope)
	}},
	70003: {"unsupported_grant_type", http.StatusBadRequest, func(params) string {
		return "The app requested an unsupported grant type."
	}},
}

// Codes are the AADSTS codes the identity provider can answer with, for
// Refuse.
func Codes() []int {
	var out []int
	for c := range stsErrors {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// answer is an error response: status and JSON body.
type answer struct {
	status int
	body   map[string]any
}

// answerFor builds Entra ID's error body for code: error,
// error_description ("AADSTSnnn: ..." then the trace, correlation and
// timestamp lines), error_codes, timestamp, trace_id, correlation_id and
// error_uri. An unknown code gets a generic invalid_request.
func answerFor(code int, f params, now time.Time) answer {
	e, ok := stsErrors[code]
	if !ok {
		e = stsError{"invalid_request", http.StatusBadRequest, func(params) string { return "The request is not valid." }}
	}
	trace, corr := newID(), newID()
	ts := now.UTC().Format("2006-01-02 15:04:05Z")
	return answer{e.status, map[string]any{
		"error": e.oauth,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			code, e.text(f), trace, corr, ts),
		"error_codes":    []int{code},
		"timestamp":      ts,
		"trace_id":       trace,
		"correlation_id": corr,
		"error_uri":      fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", code),
	}}
}
