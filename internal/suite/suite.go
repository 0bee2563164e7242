// Package suite decodes smtpdiag suite files (HCL, SPEC section 2) into typed
// values with source positions. Every problem is an hcl.Diagnostic with a
// file:line:col range; nothing here touches the network or runs a check.
package suite

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/smtpdiag/smtpdiag/assertions"
	"github.com/smtpdiag/smtpdiag/internal/redact"
)

// Suite is one decoded suite file.
type Suite struct {
	// Path is the file as given on the command line (used as JUnit classname).
	Path        string
	Name        string // suite.name, default: file name without .hcl
	Description string
	Parallel    int // suite.parallel, 0 when unset (the runner applies the default 4)

	Variables []*Variable
	Endpoints []*Endpoint // in file order
	Checks    []*SMTPCheck
	// DNSChecks and DNSBLChecks are the dns and dnsbl blocks, in file
	// order. AllChecks interleaves every kind in file order.
	DNSChecks   []*DNSCheck
	DNSBLChecks []*DNSBLCheck
	// Devices are the device blocks, in file order. They are not checks
	// that run: `smtpdiag listen` waits for the device instead.
	Devices []*Device

	// Sensitive holds the values of every sensitive variable (and of any
	// auth password or token, oauth client secret and private key), for
	// masking in every output.
	Sensitive []string
	// Redactor masks those values in every form they can take in output:
	// plain, in base64, and inside the AUTH blobs built from the auth
	// blocks' user names. It is the one recipe the runner, the SMTP
	// client and every reporter use.
	Redactor *redact.Redactor

	DeclRange hcl.Range
}

// Variable is a declared input variable after its value was resolved.
type Variable struct {
	Name        string
	Description string
	Sensitive   bool
	DeclRange   hcl.Range

	// Type is cty.String, cty.Number, cty.Bool or cty.List(cty.String).
	Type cty.Type
	// Value is the resolved value, converted to Type and unmarked. It is
	// unknown when the variable is required and no value was given (the
	// load then also returned an error).
	Value cty.Value
	// Source says where Value came from.
	Source ValueSource
}

// ValueSource says where a variable's value came from, in order of
// precedence: a -var option wins over a -var-file, which wins over the
// SMTPDIAG_VAR_<name> environment variable, which wins over the default.
type ValueSource string

// The sources of a variable's value.
const (
	SourceUnset   ValueSource = ""
	SourceVar     ValueSource = "-var"
	SourceVarFile ValueSource = "-var-file"
	SourceEnv     ValueSource = "environment"
	SourceDefault ValueSource = "default"
)

// TLSMode is how an endpoint uses TLS.
type TLSMode string

// The TLS modes.
const (
	TLSStartTLS TLSMode = "starttls"
	TLSImplicit TLSMode = "implicit"
	TLSNone     TLSMode = "none"
)

// Endpoint is a decoded endpoint block with every default applied.
type Endpoint struct {
	Name string
	Host string // "" for an mx endpoint
	// MX is the domain whose MX the runner resolves to find the host
	// (endpoint { mx = "contoso.com" }); "" when Host is set.
	MX      string
	Port    int           // default 25, 465 with implicit TLS
	TLS     TLSMode       // default starttls
	Helo    string        // "" = the runner picks the machine's FQDN or "localhost"
	Timeout time.Duration // default 30s

	TLSMinVersion     uint16 // tls.VersionTLS12 etc.; 0 = library default
	TLSMaxVersion     uint16
	ServerName        string // default: Host; for an mx endpoint "" (the runner uses the chosen MX host)
	VerifyCertificate bool   // default true
	CAFile            string // absolute path, "" when unset
	// CACertificates are the certificates read from CAFile when the suite
	// was loaded, so that every check uses what was validated.
	CACertificates []*x509.Certificate
	// ClientCertificate is presented when the server asks for one
	// (client_certificate, client_key), read when the suite was loaded.
	ClientCertificate *tls.Certificate
	// keyTexts are the forms of its private key that no output may show
	// (privateKeyTexts), for the suite's redactor.
	keyTexts      []string
	SourceAddress string
	IPVersion     int // 0, 4 or 6
	// CheckTimeout bounds each whole check on this endpoint (every step,
	// every retry; check_timeout); 0 when unset. A check's own
	// check_timeout and max_duration win.
	CheckTimeout time.Duration

	DeclRange hcl.Range
}

// GoString keeps %#v from printing the client certificate's private key.
func (e *Endpoint) GoString() string {
	if e == nil {
		return "(*suite.Endpoint)(nil)"
	}
	return fmt.Sprintf("&suite.Endpoint{Name: %q, Host: %q, MX: %q, Port: %d, TLS: %q, client certificate: %t}",
		e.Name, e.Host, e.MX, e.Port, e.TLS, e.ClientCertificate != nil)
}

// SMTPCheck is one decoded smtp block.
type SMTPCheck struct {
	Label string
	// Path is the way to send through Microsoft 365 after the Basic auth
	// switch-off that the check proves (path = "oauth"): one of PathIDs,
	// "" when unset. At most one check of a suite proves each path.
	Path string
	// Disabled, when not "", says why the check is left out of the run:
	// its enabled attribute, evaluated before the rest of the block, was
	// false ("enabled = var.client_id != \"\"", the expression as
	// written). The block's body was then not decoded: only Label, Path,
	// Disabled and DeclRange are set, and the runner reports the check as
	// skipped without any traffic.
	Disabled string
	Endpoint *Endpoint
	Auth     *Auth
	MailFrom *string // nil when unset; "" is the null reverse-path <>
	RcptTo   []string
	Message  *Message
	Retry    Retry
	// CheckTimeout bounds the whole check (every step, every retry;
	// check_timeout); 0 when unset. max_duration wins over it, and it
	// wins over the endpoint's.
	CheckTimeout time.Duration
	// Expect is nil when the check has no expect block (then every step
	// must get a positive reply).
	Expect *assertions.Expect
	// Assertions are the check's assert blocks: conditions over the
	// check's result, evaluated once it has run (Assertion.Check).
	Assertions []Assertion

	DeclRange hcl.Range
}

// Assertion is one assert block of an smtp or dns check.
type Assertion struct {
	// Condition is evaluated against the check's result (Check).
	Condition hcl.Expression
	// ErrorMessage is the evaluated error_message when it refers to nothing
	// but input variables; otherwise it is "" and ErrorMessageExpr is
	// evaluated together with Condition.
	ErrorMessage     string
	ErrorMessageExpr hcl.Expression
	DeclRange        hcl.Range

	// eval holds what Check needs: set by the decoder.
	eval *assertEval
}

// Auth is a decoded auth block.
type Auth struct {
	Username  string
	Password  string
	Token     string // XOAUTH2 bearer token
	Mechanism string // PLAIN, LOGIN, CRAM-MD5, XOAUTH2 or "" (best offered)
	// ForceMechanism tries Mechanism even when the server does not
	// advertise it (force_mechanism); without it, a mechanism the server
	// does not offer fails the step and nothing is sent. It needs
	// Mechanism.
	ForceMechanism bool
	// OAuth, when set, is where the runner gets the XOAUTH2 token (the
	// oauth block); Password and Token are then "" and Mechanism is
	// XOAUTH2.
	OAuth *OAuth
}

// Message is a decoded message block; only its presence makes the runner send DATA.
type Message struct {
	From    string   // header From, default: mail_from
	To      []string // header To, default: rcpt_to
	Subject string   // default: "smtpdiag: <check label>"
	Body    string   // default: a line naming the suite and the check
	Headers map[string]string
}

// Retry says how often to retry a conversation that failed temporarily.
type Retry struct {
	Attempts int // total attempts, at least 1
	// Delay is the pause between attempts: 10s by default when Attempts > 1,
	// 0 when there is a single attempt.
	Delay time.Duration
}
