// Package suite decodes smtpdiag suite files (HCL, SPEC section 2) into typed
// values with source positions. Every problem is an hcl.Diagnostic with a
// file:line:col range; nothing here touches the network or runs a check.
package suite

import (
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/smtpdiag/smtpdiag/assertions"
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

	// Sensitive holds the values of every sensitive variable (and of any
	// auth password or token), for masking in every output.
	Sensitive []string

	DeclRange hcl.Range
}

// Variable is a declared input variable after its value was resolved.
type Variable struct {
	Name        string
	Description string
	Sensitive   bool
	DeclRange   hcl.Range
}

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
	Name    string
	Host    string
	Port    int     // default 25, 465 with implicit TLS
	TLS     TLSMode // default starttls
	Helo    string  // "" = the runner picks the machine's FQDN or "localhost"
	Timeout time.Duration // default 30s

	TLSMinVersion     uint16 // tls.VersionTLS12 etc.; 0 = library default
	TLSMaxVersion     uint16
	ServerName        string // default: Host
	VerifyCertificate bool   // default true
	CAFile            string // absolute path, "" when unset
	SourceAddress     string
	IPVersion         int // 0, 4 or 6

	DeclRange hcl.Range
}

// SMTPCheck is one decoded smtp block.
type SMTPCheck struct {
	Label    string
	Endpoint *Endpoint
	Auth     *Auth
	MailFrom *string // nil when unset; "" is the null reverse-path <>
	RcptTo   []string
	Message  *Message
	Retry    Retry
	// Expect is nil when the check has no expect block (then every step
	// must get a positive reply).
	Expect *assertions.Expect

	DeclRange hcl.Range
}

// Auth is a decoded auth block.
type Auth struct {
	Username  string
	Password  string
	Token     string // XOAUTH2 bearer token
	Mechanism string // PLAIN, LOGIN, CRAM-MD5, XOAUTH2 or "" (best offered)
}

// Message is a decoded message block; only its presence makes the runner send DATA.
type Message struct {
	From    string // header From, default: mail_from
	To      []string
	Subject string
	Body    string
	Headers map[string]string
}

// Retry says how often to retry a conversation that failed temporarily.
type Retry struct {
	Attempts int // total attempts, at least 1
	Delay    time.Duration
}
