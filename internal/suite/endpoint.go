package suite

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/smtpdiag/smtpdiag/internal/suite/sandbox"
)

var endpointSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "host"},
		{Name: "port"},
		{Name: "tls"},
		{Name: "helo"},
		{Name: "timeout"},
		{Name: "tls_min_version"},
		{Name: "tls_max_version"},
		{Name: "server_name"},
		{Name: "verify_certificate"},
		{Name: "ca_file"},
		{Name: "client_certificate"},
		{Name: "client_key"},
		{Name: "source_address"},
		{Name: "ip_version"},
		{Name: "mx"}, // instead of host: resolve the domain's MX
		{Name: "check_timeout"},
	},
}

// Endpoint defaults (SPEC section 2).
const (
	DefaultPort         = 25
	DefaultImplicitPort = 465
	DefaultTimeout      = 30 * time.Second
)

// tlsVersions maps the versions a suite may name to crypto/tls constants.
var tlsVersions = map[string]uint16{
	"1.0": tls.VersionTLS10,
	"1.1": tls.VersionTLS11,
	"1.2": tls.VersionTLS12,
	"1.3": tls.VersionTLS13,
}

// decodeEndpoint decodes an endpoint block, one group of attributes at a
// time. An endpoint with errors is still registered, so that checks
// referring to it do not report it as unknown as well.
func (d *decoder) decodeEndpoint(b *hcl.Block) *Endpoint {
	ep := d.declareEndpoint(b)
	if ep == nil {
		return nil
	}
	content, diags := d.content(b.Body, endpointSchema)
	d.add(diags...)
	attrs := content.Attributes
	d.endpointAddress(ep, b, attrs)
	d.endpointConnection(ep, attrs)
	d.endpointTLS(ep, attrs)
	d.endpointCertificates(ep, attrs)
	d.endpointNetwork(ep, attrs)
	return ep
}

// declareEndpoint registers the endpoint of block b with its defaults, or
// reports a duplicate or invalid name and returns nil.
func (d *decoder) declareEndpoint(b *hcl.Block) *Endpoint {
	name := b.Labels[0]
	if first := d.endpoints[name]; first != nil {
		d.errorAt(b.LabelRanges[0], "Duplicate endpoint",
			fmt.Sprintf("An endpoint named %q is already declared at %s.", name, posString(first.DeclRange)))
		return nil
	}
	if !d.identifierLabel(b) {
		return nil
	}
	ep := &Endpoint{
		Name:              name,
		TLS:               TLSStartTLS,
		Timeout:           DefaultTimeout,
		VerifyCertificate: true,
		DeclRange:         b.DefRange,
	}
	d.endpoints[name] = ep
	d.endpointNames = append(d.endpointNames, name)
	return ep
}

// endpointAddress decodes where the endpoint connects: host, or mx (a
// domain whose MX host is looked up), exactly one of them.
func (d *decoder) endpointAddress(ep *Endpoint, b *hcl.Block, attrs hcl.Attributes) {
	hostAttr, mxAttr := attrs["host"], attrs["mx"]
	switch {
	case hostAttr != nil && mxAttr != nil:
		d.errorIn(mxAttr.NameRange, mxAttr.Range, "Both host and mx in an endpoint",
			fmt.Sprintf("An endpoint connects to a host, or to the MX host of a domain, not both; host is set at %s. "+
				"Remove one of them.", posString(hostAttr.Range)))
	case hostAttr != nil:
		if host, sens, ok := d.str(hostAttr, true); ok {
			if err := checkHost(host); err != nil {
				d.errorAt(hostAttr.Expr.Range(), "Invalid host", fmt.Sprintf("The host %s %s.", show(host, sens), err))
			} else {
				ep.Host = host
			}
		}
	case mxAttr != nil:
		if domain, sens, ok := d.str(mxAttr, true); ok {
			domain = strings.TrimSuffix(strings.TrimSpace(domain), ".")
			if _, err := netip.ParseAddr(domain); err == nil {
				d.errorAt(mxAttr.Expr.Range(), "Invalid mx",
					fmt.Sprintf("mx takes a mail domain whose MX records are looked up, not the IP address %s; "+
						"to connect to an address, set host instead.", domain))
			} else if err := checkHost(domain); err != nil {
				d.errorAt(mxAttr.Expr.Range(), "Invalid mx", fmt.Sprintf("The domain %s %s.", show(domain, sens), err))
			} else {
				ep.MX = strings.ToLower(domain)
			}
		}
	default:
		diag := &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing required argument",
			Detail: `The argument "host" is required, but no definition was found. Set it to a host name or IP address, ` +
				`for example host = "smtp.office365.com", or set mx to a domain to connect to its MX host.`,
			Subject: b.Body.MissingItemRange().Ptr(),
		}
		for _, name := range []string{"host", "mx"} {
			if rng, ok := d.misspelt[misspeltKey{b.Body.MissingItemRange(), name}]; ok {
				d.misspeltMissing(diag, rng)
				break
			}
		}
		d.add(diag)
	}
}

// endpointConnection decodes the TLS mode, the port (whose default
// depends on the mode), the EHLO name, the timeout of each step and the
// deadline of each whole check.
func (d *decoder) endpointConnection(ep *Endpoint, attrs hcl.Attributes) {
	if attr := attrs["tls"]; attr != nil {
		if mode, _, ok := d.str(attr, false); ok {
			switch m := TLSMode(strings.ToLower(mode)); m {
			case TLSStartTLS, TLSImplicit, TLSNone:
				ep.TLS = m
			default:
				d.errorAt(attr.Expr.Range(), "Invalid TLS mode",
					fmt.Sprintf("tls is %q; it must be \"starttls\" (upgrade with STARTTLS, RFC 3207), \"implicit\" "+
						"(TLS from the first byte, RFC 8314, usually port 465) or \"none\".", mode))
			}
		}
	}
	ep.Port = DefaultPort
	if ep.TLS == TLSImplicit {
		ep.Port = DefaultImplicitPort
	}
	if attr := attrs["port"]; attr != nil {
		if port, ok := d.integer(attr, 1, 65535, "port"); ok {
			ep.Port = port
		}
	}
	if attr := attrs["helo"]; attr != nil {
		if helo, sens, ok := d.str(attr, false); ok {
			helo = d.wire(attr.Expr, helo)
			if helo == "" {
				d.errorAt(attr.Expr.Range(), "Invalid helo", "helo must not be empty; leave it out to use the machine's name.")
			} else if err := checkWord(helo); err != nil {
				d.errorAt(attr.Expr.Range(), "Invalid helo", fmt.Sprintf("The EHLO name %s %s.", show(helo, sens), err))
			} else {
				ep.Helo = helo
			}
		}
	}
	if attr := attrs["timeout"]; attr != nil {
		if t, ok := d.duration(attr, false); ok {
			ep.Timeout = t
		}
	}
	if attr := attrs["check_timeout"]; attr != nil {
		if t, ok := d.duration(attr, false); ok {
			ep.CheckTimeout = t
		}
	}
}

// endpointTLS decodes the TLS versions allowed and the server name, which
// defaults to the host.
func (d *decoder) endpointTLS(ep *Endpoint, attrs hcl.Attributes) {
	minAttr, maxAttr := attrs["tls_min_version"], attrs["tls_max_version"]
	if minAttr != nil {
		ep.TLSMinVersion = d.tlsVersion(minAttr)
	}
	if maxAttr != nil {
		ep.TLSMaxVersion = d.tlsVersion(maxAttr)
	}
	if ep.TLSMinVersion != 0 && ep.TLSMaxVersion != 0 && ep.TLSMinVersion > ep.TLSMaxVersion {
		d.errorAt(minAttr.Expr.Range(), "Invalid TLS version range",
			fmt.Sprintf("tls_min_version is higher than tls_max_version (%s).", posString(maxAttr.Expr.Range())))
	}
	if attr := attrs["server_name"]; attr != nil {
		if sn, sens, ok := d.str(attr, false); ok {
			if err := checkHost(sn); err != nil {
				d.errorAt(attr.Expr.Range(), "Invalid server_name", fmt.Sprintf("The server name %s %s.", show(sn, sens), err))
			} else {
				ep.ServerName = sn
			}
		}
	}
	if ep.ServerName == "" {
		ep.ServerName = ep.Host
	}
}

// endpointCertificates decodes how the server's certificate is verified:
// whether at all, and against which extra roots (ca_file).
func (d *decoder) endpointCertificates(ep *Endpoint, attrs hcl.Attributes) {
	if attr := attrs["verify_certificate"]; attr != nil {
		if v, ok := d.boolean(attr); ok {
			ep.VerifyCertificate = v
		}
	}
	if attr := attrs["ca_file"]; attr != nil {
		ep.CAFile, ep.CACertificates = d.caFile(attr)
	}
	d.endpointClientCertificate(ep, attrs)
}

// endpointClientCertificate decodes the certificate the client presents
// when the server asks for one (client_certificate, client_key: PEM files
// relative to the suite file, or PEM text), as a connector that identifies
// the sender by its certificate needs. The certificate's file may hold the
// key too. "" or null means none, so that a variable can leave it out.
// Without values (smtpdiag validate), whichever side is known is still
// read and checked; only the pair is not.
func (d *decoder) endpointClientCertificate(ep *Endpoint, attrs hcl.Attributes) {
	certAttr, keyAttr := attrs["client_certificate"], attrs["client_key"]
	if certAttr == nil && keyAttr == nil {
		return
	}
	type side struct {
		attr  *hcl.Attribute
		text  string
		sens  secrecy
		state valueState
	}
	eval := func(attr *hcl.Attribute) side {
		if attr == nil {
			return side{state: valueNull}
		}
		v, sens, state := d.attrState(attr, cty.String, false)
		sd := side{attr: attr, sens: sens, state: state}
		if state == valueKnown {
			sd.text = v.AsString()
			// Key material, in the key or in the certificate's text, is
			// never quoted.
			d.hideKeyText(v)
			if strings.TrimSpace(sd.text) == "" {
				sd.state = valueNull
			}
		}
		return sd
	}

	cert, key := eval(certAttr), eval(keyAttr)
	if cert.state == valueInvalid || key.state == valueInvalid {
		return
	}
	if cert.state == valueNull {
		if key.state == valueKnown {
			// At the name, not the value: the value may be the key.
			d.errorAt(keyAttr.NameRange, "client_key without client_certificate",
				"client_key is the private key of client_certificate: set client_certificate (a PEM file) as well, or remove client_key.")
		}
		return
	}
	var certPEM, keyPEM []byte
	certFile := ""
	ok := true
	if cert.state == valueKnown {
		certPEM, certFile, ok = d.readPEM(certAttr, cert.text, cert.sens, "relay.pem")
	}
	if key.state == valueKnown {
		var keyOK bool
		keyPEM, _, keyOK = d.readPEM(keyAttr, key.text, key.sens, "relay.key")
		ok = ok && keyOK
	}
	// No diagnostic or report may quote the key, wherever it was written.
	texts := privateKeyTexts(certPEM, keyPEM)
	for _, secret := range texts {
		d.hideStrings(cty.StringVal(secret), sensitive)
	}
	ep.keyTexts = texts
	if !ok || cert.state != valueKnown || key.state == valueUnknown {
		return
	}
	if key.state == valueNull {
		keyPEM = certPEM
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		shown := certFile
		if shown == "" {
			shown = "The PEM text"
		}
		d.errorAt(certAttr.Expr.Range(), "Cannot load client_certificate",
			fmt.Sprintf("%s: %s. client_certificate is a PEM certificate (its chain may follow) and client_key its private key; "+
				"without client_key, the certificate's file must hold the key.", shown, strings.TrimPrefix(err.Error(), "tls: ")))
		return
	}
	ep.ClientCertificate = &pair
}

// endpointNetwork decodes the local address to connect from and the IP
// version to connect with, which must agree with that address and with a
// host given as an address.
func (d *decoder) endpointNetwork(ep *Endpoint, attrs hcl.Attributes) {
	var source netip.Addr
	if attr := attrs["source_address"]; attr != nil {
		if s, _, ok := d.str(attr, false); ok {
			addr, err := netip.ParseAddr(s)
			if err != nil {
				d.errorAt(attr.Expr.Range(), "Invalid source_address",
					fmt.Sprintf("source_address must be an IP address of this machine; %q is not an IP address.", s))
			} else {
				source = addr
				ep.SourceAddress = addr.String()
			}
		}
	}
	if attr := attrs["ip_version"]; attr != nil {
		if v, ok := d.integer(attr, 4, 6, "ip_version"); ok {
			if v != 4 && v != 6 {
				d.errorAt(attr.Expr.Range(), "Invalid ip_version", "ip_version must be 4 or 6.")
			} else {
				ep.IPVersion = v
				d.checkFamily(attr, v, source, "source_address")
				if host, err := netip.ParseAddr(ep.Host); err == nil {
					d.checkFamily(attr, v, host, "host")
				}
			}
		}
	}
}

// checkFamily reports an ip_version that contradicts an address.
func (d *decoder) checkFamily(attr *hcl.Attribute, version int, addr netip.Addr, what string) {
	if !addr.IsValid() {
		return
	}
	is4 := addr.Unmap().Is4()
	if (version == 4) != is4 {
		d.errorAt(attr.Expr.Range(), "Conflicting ip_version",
			fmt.Sprintf("ip_version is %d, but %s %s is an IPv%d address.", version, what, addr, map[bool]int{true: 4, false: 6}[is4]))
	}
}

// tlsVersion decodes "1.0" to "1.3"; 0 on errors. A number is accepted
// too, read with one decimal, so that 1.0 is not taken for "1".
func (d *decoder) tlsVersion(attr *hcl.Attribute) uint16 {
	v, _, ok := d.attrValue(attr, cty.DynamicPseudoType, false)
	if !ok {
		return 0
	}
	var s string
	switch v.Type() {
	case cty.Number:
		f, _ := v.AsBigFloat().Float64()
		s = strconv.FormatFloat(f, 'f', -1, 64)
		if f == 1 {
			s = "1.0"
		}
	case cty.String:
		s = strings.TrimSpace(v.AsString())
	default:
		d.errorAt(attr.Expr.Range(), "Invalid TLS version", fmt.Sprintf("%s must be a string such as \"1.2\".", attr.Name))
		return 0
	}
	if ver, ok := tlsVersions[s]; ok {
		return ver
	}
	d.errorAt(attr.Expr.Range(), "Invalid TLS version",
		fmt.Sprintf("%s is %q; it must be \"1.0\", \"1.1\", \"1.2\" or \"1.3\".", attr.Name, s))
	return 0
}

// caFile resolves ca_file relative to the suite file and checks that it
// holds at least one PEM certificate. It returns the absolute path, or ""
// on errors.
func (d *decoder) caFile(attr *hcl.Attribute) (string, []*x509.Certificate) {
	p, _, ok := d.str(attr, false)
	if !ok {
		return "", nil
	}
	if p == "" {
		d.errorAt(attr.Expr.Range(), "Invalid ca_file", "ca_file must not be empty; leave it out to use only the system roots.")
		return "", nil
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(d.dir, p)
	}
	src, err := sandbox.ReadFile(p)
	if err != nil {
		d.errorAt(attr.Expr.Range(), "Cannot read ca_file",
			fmt.Sprintf("%s: %v. ca_file is relative to the suite file's directory.", p, err))
		return "", nil
	}
	var certs []*x509.Certificate
	for rest := src; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			d.errorAt(attr.Expr.Range(), "Invalid ca_file", fmt.Sprintf("%s holds a certificate that cannot be parsed: %v.", p, err))
			return "", nil
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		d.errorAt(attr.Expr.Range(), "Invalid ca_file",
			fmt.Sprintf("%s holds no PEM certificate (a block starting with -----BEGIN CERTIFICATE-----).", p))
		return "", nil
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return p, certs
	}
	return abs, certs
}

// endpointRef resolves the endpoint attribute of an smtp block, which must
// be a reference such as endpoint.submission.
func (d *decoder) endpointRef(attr *hcl.Attribute) *Endpoint {
	invalid := func(extra string) *Endpoint {
		d.errorAt(attr.Expr.Range(), "Invalid endpoint reference",
			"The endpoint must be a reference to an endpoint block, such as endpoint.submission."+extra)
		return nil
	}
	trav, diags := hcl.AbsTraversalForExpr(attr.Expr)
	if diags.HasErrors() {
		if v, vdiags := attr.Expr.Value(nil); !vdiags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() &&
			hclsyntax.ValidIdentifier(v.AsString()) {
			return invalid(fmt.Sprintf(" Write endpoint.%s, without quotes.", v.AsString()))
		}
		return invalid("")
	}
	name, ok := traversalName(trav)
	if trav.RootName() != "endpoint" || !ok || len(trav) != 2 {
		return invalid("")
	}
	ep := d.endpoints[name]
	if ep == nil {
		detail := fmt.Sprintf("There is no endpoint named %q in this suite.", name)
		if s := suggestion(name, d.endpointNames); s != "" {
			detail += s
		} else {
			detail += fmt.Sprintf(" Declare it with an endpoint %q block.", name)
		}
		d.errorAt(attr.Expr.Range(), "Reference to undeclared endpoint", detail)
		return nil
	}
	return ep
}
