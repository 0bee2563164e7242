package suite

import (
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/smtpdiag/smtpdiag/internal/oauth"
	"github.com/smtpdiag/smtpdiag/internal/suite/sandbox"
)

// OAuth is a decoded oauth block of an auth block: how the runner gets the
// access token it sends with AUTH XOAUTH2 from Microsoft Entra ID (SPEC
// section 8). Config maps it onto package oauth, which acquires the token;
// every rule of oauth.Config.Validate was checked when the suite was
// loaded, as far as the values were known.
type OAuth struct {
	// Tenant is the directory (tenant) ID or a verified domain.
	Tenant string
	// ClientID is the application (client) ID of the app registration.
	ClientID string
	// ClientSecret is the client secret's value (app-only); it is in the
	// suite's Sensitive values, so that it is masked in every output.
	ClientSecret string
	// CertificatePEM and KeyPEM are the certificate credential (app-only),
	// read when the suite was loaded so that the runner uses what was
	// checked. The key is in the suite's Sensitive values, whole and line
	// by line. KeyPEM is empty when CertificatePEM holds the key too.
	CertificatePEM []byte
	KeyPEM         []byte
	// CertificateFile and KeyFile are the absolute paths they were read
	// from; "" for PEM text given in the suite (key = file("app.key")).
	CertificateFile string
	KeyFile         string
	// Flow is oauth.ClientCredentials (the default, app-only) or
	// oauth.DeviceCode (a user signs in; delegated).
	Flow oauth.Flow
	// Scope and Authority are "" for package oauth's defaults
	// (oauth.AppOnlyScope or oauth.DelegatedScope; oauth.DefaultAuthority).
	Scope     string
	Authority string
	// CAFile is the absolute path of ca_file, CAPEM the certificates read
	// from it: extra trust anchors for the authority's TLS certificate.
	CAFile string
	CAPEM  []byte

	DeclRange hcl.Range
}

// Config is the oauth.Config the runner acquires the token with.
func (o *OAuth) Config() oauth.Config {
	return oauth.Config{
		Tenant:         o.Tenant,
		ClientID:       o.ClientID,
		ClientSecret:   o.ClientSecret,
		CertificatePEM: o.CertificatePEM,
		KeyPEM:         o.KeyPEM,
		Flow:           o.Flow,
		Scope:          o.Scope,
		Authority:      o.Authority,
		ExtraRoots:     o.CAPEM,
	}
}

// String describes the block without its secret or key.
func (o OAuth) String() string { return o.Config().String() }

// GoString keeps %#v from printing the secret or the key.
func (o OAuth) GoString() string { return o.String() }

var oauthSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "tenant", Required: true},
		{Name: "client_id", Required: true},
		{Name: "client_secret"},
		{Name: "certificate"},
		{Name: "key"},
		{Name: "flow"},
		{Name: "scope"},
		{Name: "authority"},
		{Name: "ca_file"},
	},
}

// oauthUnknown stands, in the Config that Validate checks, for a value
// that is set but not known: a variable without a value under smtpdiag
// validate, or one whose error was already reported. It passes every
// rule, so that only known values are judged.
const oauthUnknown = "unknown"

// decodeOAuth decodes an oauth block and checks it with
// oauth.Config.Validate, each problem at the attribute it is about. The
// certificate and key are read here (ReadConfined: inside the suite's
// tree, a regular file of at most 1 MiB), so that a wrong file is
// reported before any traffic.
func (d *decoder) decodeOAuth(b *hcl.Block) *OAuth {
	content, diags := d.content(b.Body, oauthSchema)
	d.add(diags...)
	attrs := content.Attributes
	o := &OAuth{DeclRange: b.DefRange}
	// probe is o with oauthUnknown for what is set but not known.
	var probe oauth.Config

	line := func(name string, into *string, probeInto *string) {
		attr := attrs[name]
		if attr == nil {
			return
		}
		*probeInto = oauthUnknown
		s, sens, ok := d.str(attr, false)
		if !ok {
			return
		}
		if err := checkLine(s); err != nil {
			d.errorAt(attr.Expr.Range(), "Invalid "+name, fmt.Sprintf("The %s %s %s.", name, show(s, sens), err))
			return
		}
		*into, *probeInto = strings.TrimSpace(s), strings.TrimSpace(s)
	}
	line("tenant", &o.Tenant, &probe.Tenant)
	line("client_id", &o.ClientID, &probe.ClientID)
	line("scope", &o.Scope, &probe.Scope)
	line("authority", &o.Authority, &probe.Authority)
	if attrs["tenant"] == nil {
		probe.Tenant = oauthUnknown // reported as missing already
	}
	if attrs["client_id"] == nil {
		probe.ClientID = oauthUnknown
	}
	if probe.Authority == oauthUnknown {
		probe.Authority = "" // the default passes
	}
	if probe.Scope == oauthUnknown {
		probe.Scope = ""
	}

	if attr := attrs["flow"]; attr != nil {
		if s, _, ok := d.str(attr, false); ok {
			o.Flow = oauth.Flow(strings.TrimSpace(s))
			probe.Flow = o.Flow
		}
	}
	if attr := attrs["client_secret"]; attr != nil {
		probe.ClientSecret = oauthUnknown
		if s := d.secretString(attr); s != "" {
			o.ClientSecret = s
		}
	}
	d.oauthCertificate(o, &probe, attrs)
	if attr := attrs["ca_file"]; attr != nil {
		path, certs := d.caFile(attr)
		o.CAFile = path
		for _, c := range certs {
			o.CAPEM = append(o.CAPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
	}
	if attrs["flow"] != nil && probe.Flow == "" {
		// An unknown flow: judge the credentials by what is given.
		probe.Flow = oauth.ClientCredentials
		if probe.ClientSecret == "" && probe.CertificateFile == "" && len(probe.CertificatePEM) == 0 {
			probe.Flow = oauth.DeviceCode
		}
	}

	if err := probe.Validate(); err != nil {
		d.oauthProblem(err, b, attrs, probe)
	} else if o.Flow == oauth.DeviceCode && d.l.opts.NoPrompt != "" {
		attr := attrs["flow"]
		d.errorAt(attr.Expr.Range(), "Device code flow without anyone to sign in",
			fmt.Sprintf("flow = %q shows a code that someone must enter at the sign-in page and waits for the sign-in, "+
				"but %s. For unattended runs use the client credentials grant: client_secret, or certificate and key "+
				"(an app-only token; leave flow out).", oauth.DeviceCode, d.l.opts.NoPrompt))
	}
	return o
}

// oauthCertificate decodes certificate and key: PEM text (as file()
// returns it) or the path of a PEM file, relative to the suite file's
// directory. A key without a certificate is an error; a certificate
// without a key must hold the key itself.
func (d *decoder) oauthCertificate(o *OAuth, probe *oauth.Config, attrs hcl.Attributes) {
	certAttr, keyAttr := attrs["certificate"], attrs["key"]
	if keyAttr != nil && certAttr == nil {
		if v, _, state := d.attrState(keyAttr, cty.String, false); state == valueKnown {
			d.hideKeyText(v)
		}
		d.errorAt(keyAttr.NameRange, "key without certificate",
			"key is the private key of a certificate credential: set certificate (the certificate registered on the app) as well, "+
				"or remove key and use client_secret.")
		return
	}
	if certAttr == nil {
		return
	}
	probe.CertificateFile = oauthUnknown
	read := func(attr *hcl.Attribute) (pemText []byte, file string, ok bool) {
		s, sens, known := d.str(attr, false)
		if !known {
			return nil, "", false
		}
		// A certificate's text may hold the key too.
		d.hideKeyText(cty.StringVal(s))
		return d.readPEM(attr, s, sens, "app.pem")
	}
	certPEM, certFile, certOK := read(certAttr)
	var keyPEM []byte
	var keyFile string
	keyOK := true
	if keyAttr != nil {
		keyPEM, keyFile, keyOK = read(keyAttr)
	}
	if !certOK || !keyOK {
		return
	}
	o.CertificatePEM, o.CertificateFile = certPEM, certFile
	o.KeyPEM, o.KeyFile = keyPEM, keyFile
	// No diagnostic may quote the key, wherever it was written.
	for _, secret := range privateKeyTexts(certPEM, keyPEM) {
		d.hideStrings(cty.StringVal(secret), sensitive)
	}
	probe.CertificateFile = ""
	probe.CertificatePEM, probe.KeyPEM = certPEM, keyPEM
}

// hideKeyText keeps the value of a key attribute out of every diagnostic
// and snippet when it may be key material, even one that is no valid PEM:
// anything but a short one-line path.
func (d *decoder) hideKeyText(v cty.Value) {
	if looksLikeKey(v.AsString()) || len(v.AsString()) > 128 {
		d.hideStrings(v, sensitive)
	}
}

// readPEM reads the value s of attr: PEM text (as file() returns it), or
// the path of a PEM file relative to the suite file's directory, read
// inside the suite's tree (sandbox.ReadConfined). It returns the text and
// the file's absolute path ("" for text). example names a file for the
// error message.
func (d *decoder) readPEM(attr *hcl.Attribute, s string, sens secrecy, example string) (pemText []byte, file string, ok bool) {
	if strings.Contains(s, "-----BEGIN ") {
		return []byte(d.wire(attr.Expr, s)), "", true
	}
	p := strings.TrimSpace(s)
	if p == "" || strings.ContainsAny(p, "\r\n\x00") {
		d.errorAt(attr.Expr.Range(), "Invalid "+attr.Name,
			fmt.Sprintf("%s must name a PEM file (relative to the suite file's directory) or be PEM text such as file(%q).", attr.Name, example))
		return nil, "", false
	}
	real, src, err := sandbox.ReadConfined(p, d.dir, d.l.opts.AllowRead, attr.Name)
	if err != nil {
		shown := real
		if sens == plain && looksLikeKey(p) {
			// No path: key material written where a path was expected.
			sens = sensitive
		}
		if sens != plain {
			// A key from a secret variable that is no PEM is no path to
			// quote either.
			shown = "The " + attr.Name + " " + show(p, sens)
		}
		d.errorAt(attr.Expr.Range(), "Cannot read "+attr.Name,
			fmt.Sprintf("%s: %v. %s is a PEM file relative to the suite file's directory, or PEM text.", shown, unwrapPathError(err), attr.Name))
		return nil, "", false
	}
	if abs, err := filepath.Abs(real); err == nil {
		real = abs
	}
	return src, real, true
}

// privateKeyTexts returns what must be masked of the private keys in PEM
// texts: the texts themselves when they hold a key, each key block as
// PEM, and each line of its base64 body (an error or a log could quote
// one line of a file).
func privateKeyTexts(texts ...[]byte) []string {
	var out []string
	for _, text := range texts {
		held := false
		for rest := text; ; {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if !strings.HasSuffix(block.Type, "PRIVATE KEY") {
				continue
			}
			held = true
			encoded := pem.EncodeToMemory(block)
			out = append(out, string(encoded))
			for _, line := range strings.Split(string(encoded), "\n") {
				if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "-----") && !strings.Contains(line, ":") {
					out = append(out, line)
				}
			}
		}
		if held {
			out = append(out, string(text), strings.TrimSpace(string(text)))
		}
	}
	return out
}

// oauthProblem reports what oauth.Config.Validate found, at the attribute
// it names (the block when that attribute is not set).
func (d *decoder) oauthProblem(err error, b *hcl.Block, attrs hcl.Attributes, probe oauth.Config) {
	var ce *oauth.ConfigError
	if !errors.As(err, &ce) {
		d.errorAt(b.DefRange, "Invalid oauth block", err.Error()+".")
		return
	}
	at := func(names ...string) hcl.Range {
		for _, n := range names {
			if attr := attrs[n]; attr != nil {
				return attr.Expr.Range()
			}
		}
		return b.DefRange
	}
	hasCert := attrs["certificate"] != nil
	summary, detail, subject := "Invalid "+ce.Field, upperFirst(ce.Problem)+".", at(ce.Field)
	switch ce.Field {
	case "client_secret":
		if attrs["client_secret"] != nil && hasCert {
			summary = "Both client_secret and certificate in oauth"
			detail = fmt.Sprintf("An app authenticates with a client secret or with a certificate and its key, not both; "+
				"the certificate is set at %s.", posString(attrs["certificate"].Range))
		} else {
			summary = "Missing client_secret or certificate"
			detail = "The client credentials grant (an app-only token, the default flow) needs the app's client_secret, " +
				"or its certificate and key; for a user's sign-in set flow = \"device_code\"."
			subject = b.DefRange
		}
	case "flow":
		if probe.Flow == oauth.DeviceCode {
			summary = "A client credential with the device code flow"
			subject = at("flow")
		}
	case "certificate":
		detail = "The certificate " + ce.Problem + "."
	case "key":
		subject = at("key", "certificate")
		detail = "The key " + ce.Problem + "."
		if attrs["key"] == nil {
			detail = "The key in the certificate's PEM " + ce.Problem + "."
			if strings.HasPrefix(ce.Problem, "holds no private key") {
				detail = "The certificate needs its private key: set key to the key's PEM file, or put the key in the certificate's PEM."
			}
		}
		if strings.Contains(ce.Problem, "not a key pair") {
			summary = "Certificate and key are not a pair"
		}
	case "tenant", "client_id":
		summary = "Invalid " + ce.Field
	}
	d.errorAt(subject, summary, detail)
}
