package oauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/smtpdiag/smtpdiag/internal/redact"
)

// ErrorKind says where an acquisition failed.
type ErrorKind string

// The kinds of Error.
const (
	// KindRefused: the identity provider answered with an OAuth error
	// (Code holds its AADSTS number when it gave one).
	KindRefused ErrorKind = "refused"
	// KindNetwork: the identity provider could not be reached or did not
	// answer (DNS, TCP, TLS, HTTP timeout).
	KindNetwork ErrorKind = "network"
	// KindCredential: the certificate or key could not be loaded.
	KindCredential ErrorKind = "credential"
	// KindCanceled: the context ended first, for instance before the user
	// completed the device code sign-in.
	KindCanceled ErrorKind = "canceled"
	// KindResponse: an answer MSAL could not use.
	KindResponse ErrorKind = "response"
)

// Error is a failed acquisition. Its text is built from what the identity
// provider said and never holds the client secret, the key or a token;
// MSAL's own error (which keeps the HTTP request, form body and all) is
// not kept.
type Error struct {
	Kind ErrorKind
	// Code is the AADSTS error code (7000215 for AADSTS7000215), 0 when
	// the answer had none.
	Code int
	// OAuthError is the OAuth 2.0 error ("invalid_client", RFC 6749
	// section 5.2); Description is Microsoft Entra ID's error_description
	// without its trace lines.
	OAuthError  string
	Description string
	// Status is the HTTP status of the answer, 0 when there was none.
	Status int
	// TraceID, CorrelationID and Timestamp identify the failure to
	// Microsoft support and in the Entra sign-in logs.
	TraceID, CorrelationID, Timestamp string
	// Record is the attempt, Outcome Failed.
	Record Record

	msg   string
	cause error // a context, network or TLS error: never MSAL's CallErr
}

// Error says which request failed and what the identity provider said.
func (e *Error) Error() string { return e.msg }

// Unwrap returns the context, network or TLS error beneath, if any.
func (e *Error) Unwrap() error { return e.cause }

// AADSTS returns the code as Microsoft writes it ("AADSTS7000215"), or
// "" without one.
func (e *Error) AADSTS() string {
	if e.Code == 0 {
		return ""
	}
	return "AADSTS" + strconv.Itoa(e.Code)
}

// aadstsPattern finds an AADSTS code in an error text.
var aadstsPattern = regexp.MustCompile(`\bAADSTS(\d{4,9})\b`)

// stsAnswer is the JSON error body of Microsoft Entra ID's token and
// discovery endpoints (reference-error-codes: error, error_description,
// error_codes, timestamp, trace_id, correlation_id, error_uri).
type stsAnswer struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	Codes         []int  `json:"error_codes"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
}

// newError turns what MSAL returned into an Error, masking the secrets of
// cfg wherever the text could echo them.
func newError(ctx context.Context, err error, cfg Config, rec Record, step string) *Error {
	e := &Error{Kind: KindResponse, Record: rec}
	mask := secretMasker(cfg)
	var call msalerrors.CallErr
	switch {
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		e.Kind, e.cause = KindCanceled, contextError(ctx.Err())
		e.msg = fmt.Sprintf("%s: %v", step, e.cause)
		if cfg.Flow == DeviceCode && step == "device code sign-in" {
			e.msg = fmt.Sprintf("%s: nobody completed the sign-in before the deadline (%v)", step, e.cause)
		}
	case errors.As(err, &call):
		e.Kind = KindRefused
		step = stepOf(call, step)
		if call.Resp != nil {
			e.Status = call.Resp.StatusCode
		}
		text := call.Error()
		if i, j := strings.IndexByte(text, '{'), strings.LastIndexByte(text, '}'); i >= 0 && j > i {
			var a stsAnswer
			if json.Unmarshal([]byte(text[i:j+1]), &a) == nil {
				e.OAuthError, e.Timestamp, e.TraceID, e.CorrelationID = a.Error, a.Timestamp, a.TraceID, a.CorrelationID
				e.Description = firstLine(a.Description)
				if len(a.Codes) > 0 {
					e.Code = a.Codes[0]
				}
			}
		}
		if e.Code == 0 {
			if m := aadstsPattern.FindStringSubmatch(text); m != nil {
				e.Code, _ = strconv.Atoi(m[1])
			}
		}
		switch {
		case e.Description != "":
			e.msg = fmt.Sprintf("%s: %s (HTTP %d %s)", step, mask(e.Description), e.Status, e.OAuthError)
		default:
			e.msg = fmt.Sprintf("%s: HTTP %d from the identity provider", step, e.Status)
		}
	case isNetwork(err):
		var ue *url.Error
		if errors.As(err, &ue) {
			if u, perr := url.Parse(ue.URL); perr == nil {
				step = stepOfURL(u, step)
			}
		}
		e.Kind, e.cause = KindNetwork, networkError(err)
		e.msg = fmt.Sprintf("%s: %s", step, mask(describeNetwork(e.cause)))
	default:
		e.msg = fmt.Sprintf("%s: %s", step, mask(firstLine(err.Error())))
		if m := aadstsPattern.FindStringSubmatch(err.Error()); m != nil {
			e.Kind = KindRefused
			e.Code, _ = strconv.Atoi(m[1])
		}
	}
	e.Description = mask(e.Description)
	e.Record.Outcome, e.Record.Error, e.Record.AADSTS = Failed, e.msg, e.AADSTS()
	return e
}

// credentialError is a certificate or key that cannot be used.
func credentialError(err error, cfg Config, rec Record) *Error {
	msg := "client certificate: " + secretMasker(cfg)(err.Error())
	rec.Outcome, rec.Error = Failed, msg
	return &Error{Kind: KindCredential, Record: rec, msg: msg}
}

// firstLine is the text up to the first line break: Entra ID appends
// "\r\nTrace ID: ...\r\nCorrelation ID: ...\r\nTimestamp: ..." to each
// description, and MSAL puts the whole HTTP body after its own line.
func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// secretMasker replaces the client secret, in every form redact knows,
// wherever a text would show it.
func secretMasker(cfg Config) func(string) string {
	return redact.New(cfg.ClientSecret).String
}

// contextError returns the context error in err's chain.
func contextError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return context.Canceled
}

func isNetwork(err error) bool {
	var ne net.Error
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	var ce *tls.CertificateVerificationError
	var re tls.RecordHeaderError
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.As(err, &he) || errors.As(err, &ce) || errors.As(err, &re)
}

// networkError finds the most telling error beneath MSAL's wrapping: the
// TLS verification error, else the net.Error (a *url.Error names the
// URL and the operation, never the form body).
func networkError(err error) error {
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		return ce
	}
	var ue x509.UnknownAuthorityError
	if errors.As(err, &ue) {
		return ue
	}
	var he x509.HostnameError
	if errors.As(err, &he) {
		return he
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return ne
	}
	return errors.New(firstLine(err.Error()))
}

// describeNetwork says what a network failure means for the oauth block.
func describeNetwork(err error) string {
	var ue x509.UnknownAuthorityError
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ue) || (errors.As(err, &ce) && errors.As(ce.Err, &ue)) {
		return fmt.Sprintf("the authority's TLS certificate is not trusted (%v); a test identity provider's CA goes into the oauth block's ca_file", err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("the identity provider did not answer in time (%v)", err)
	}
	return fmt.Sprintf("the identity provider could not be reached (%v)", err)
}
