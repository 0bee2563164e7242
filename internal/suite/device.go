package suite

import (
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/smtpdiag/smtpdiag/assertions"
	"github.com/smtpdiag/smtpdiag/internal/suite/sandbox"
)

// Device is one decoded device block: smtpdiag plays the SMTP server a
// device (a copier, a scanner) is pointed at, and checks what the device
// does. Only `smtpdiag listen` runs device blocks; `run` leaves them out.
type Device struct {
	Label string
	// Listen is where to listen ("0.0.0.0:2525").
	Listen string
	// Hostname is the name in the greeting and the automatic certificate.
	Hostname string
	// CertFile and KeyFile are absolute paths of a PEM certificate and
	// key; both "" for certificate = "auto" (self-signed).
	CertFile string
	KeyFile  string
	// Certificate is the pair read from CertFile and KeyFile when the
	// suite was loaded, so that the listener uses what was validated; nil
	// for certificate = "auto".
	Certificate *tls.Certificate
	// RequireTLS: AUTH only after STARTTLS and no MAIL without TLS, like
	// smtp.office365.com. Default true.
	RequireTLS bool
	// AcceptAuth: AUTH is offered, any credentials are accepted (only the
	// mechanism and user are recorded) and MAIL needs it. Default true.
	AcceptAuth bool
	// AuthMechanisms are the SASL mechanisms offered; nil for those of
	// smtp.office365.com (LOGIN, XOAUTH2).
	AuthMechanisms []string
	// AllowLegacyTLS lets a session go on after TLS 1.0 or 1.1, as
	// smtp-legacy.office365.com does. Default false.
	AllowLegacyTLS bool
	// Timeout is how long to wait for the device. Default 5m.
	Timeout time.Duration
	// Expect is nil without an expect block.
	Expect    *assertions.DeviceExpect
	DeclRange hcl.Range
}

// Device defaults.
const (
	DefaultDeviceListen   = "0.0.0.0:2525"
	DefaultDeviceHostname = "smtp.office365.com"
	DefaultDeviceTimeout  = 5 * time.Minute
)

// deviceMechanisms are the mechanisms a device block may offer.
var deviceMechanisms = []string{"PLAIN", "LOGIN", "XOAUTH2", "CRAM-MD5"}

// exchangeMechanisms are those smtp.office365.com offers after STARTTLS
// (m365-facts.md section 6).
var exchangeMechanisms = []string{"LOGIN", "XOAUTH2"}

var deviceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "listen"},
		{Name: "hostname"},
		{Name: "certificate"},
		{Name: "key"},
		{Name: "require_tls"},
		{Name: "accept_auth"},
		{Name: "auth_mechanisms"},
		{Name: "allow_legacy_tls"},
		{Name: "timeout"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "expect"}},
}

var deviceExpectSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "starttls"},
		{Name: "tls_version"},
		{Name: "offers_tls_versions"},
		{Name: "ecdhe"},
		{Name: "auth_mechanism"},
		{Name: "auth_user"},
		{Name: "mail_from"},
		{Name: "rcpt_count"},
		{Name: "message_size"},
	},
}

func (d *decoder) decodeDevice(b *hcl.Block) *Device {
	if !d.checkLabel(b) {
		return nil
	}
	dev := &Device{
		Label:      b.Labels[0],
		Listen:     DefaultDeviceListen,
		Hostname:   DefaultDeviceHostname,
		RequireTLS: true,
		AcceptAuth: true,
		Timeout:    DefaultDeviceTimeout,
		DeclRange:  b.DefRange,
	}
	content, diags := d.content(b.Body, deviceSchema)
	d.add(diags...)
	attrs := content.Attributes
	if attr := attrs["listen"]; attr != nil {
		if s, _, ok := d.str(attr, false); ok {
			if addr, err := ParseListen(s); err != nil {
				d.errorAt(attr.Expr.Range(), "Invalid listen address", err.Error()+".")
			} else {
				dev.Listen = addr
			}
		}
	}
	if attr := attrs["hostname"]; attr != nil {
		if s, sens, ok := d.str(attr, false); ok {
			if err := checkHost(s); err != nil {
				d.errorAt(attr.Expr.Range(), "Invalid hostname", fmt.Sprintf("The hostname %s %s.", show(s, sens), err))
			} else {
				dev.Hostname = s
			}
		}
	}
	d.deviceCertificate(dev, attrs, b)
	flag := func(name string, into *bool) {
		if attr := attrs[name]; attr != nil {
			if v, ok := d.boolean(attr); ok {
				*into = v
			}
		}
	}
	flag("require_tls", &dev.RequireTLS)
	flag("accept_auth", &dev.AcceptAuth)
	flag("allow_legacy_tls", &dev.AllowLegacyTLS)
	if attr := attrs["auth_mechanisms"]; attr != nil {
		if list, ranges, _, ok := d.stringList(attr); ok {
			if len(list) == 0 {
				d.errorAt(attr.Expr.Range(), "Invalid auth_mechanisms",
					"auth_mechanisms is an empty list; set accept_auth = false to offer no AUTH at all.")
			}
			for i, m := range list {
				upper := strings.ToUpper(strings.TrimSpace(m))
				if !slices.Contains(deviceMechanisms, upper) {
					d.errorAt(ranges[i], "Unsupported auth mechanism",
						fmt.Sprintf("%q is not one of %s.", m, strings.Join(deviceMechanisms, ", ")))
					continue
				}
				dev.AuthMechanisms = append(dev.AuthMechanisms, upper)
			}
			if !dev.AcceptAuth && attrs["accept_auth"] != nil {
				d.errorAt(attr.Range, "auth_mechanisms without AUTH",
					"accept_auth = false offers no AUTH, so auth_mechanisms has no effect; remove one of them.")
			}
		}
	}
	if attr := attrs["timeout"]; attr != nil {
		if t, ok := d.duration(attr, false); ok {
			dev.Timeout = t
		}
	}
	var expectBlock *hcl.Block
	for _, inner := range content.Blocks {
		if expectBlock != nil {
			d.duplicateBlock(inner, expectBlock, "in a device block")
			continue
		}
		expectBlock = inner
		dev.Expect = d.decodeDeviceExpect(inner, dev)
	}
	return dev
}

// deviceCertificate decodes certificate ("auto" or a PEM file) and key,
// and loads the pair (each file read by sandbox.ReadFile) so that a wrong file
// is reported before listening.
func (d *decoder) deviceCertificate(dev *Device, attrs hcl.Attributes, b *hcl.Block) {
	certAttr, keyAttr := attrs["certificate"], attrs["key"]
	cert := "auto"
	if certAttr != nil {
		s, _, ok := d.str(certAttr, false)
		if !ok {
			return
		}
		cert = strings.TrimSpace(s)
	}
	if strings.EqualFold(cert, "auto") {
		if keyAttr != nil {
			d.errorAt(keyAttr.Range, "key without a certificate file",
				`key goes with certificate = "<file>"; with certificate = "auto" smtpdiag makes its own self-signed key.`)
		}
		return
	}
	if keyAttr == nil {
		d.errorIn(certAttr.Range, b.DefRange, "certificate without key",
			`A certificate file needs its private key: set key = "<file>" (PEM) as well, or use certificate = "auto".`)
		return
	}
	key, _, ok := d.str(keyAttr, false)
	if !ok || cert == "" || strings.TrimSpace(key) == "" {
		d.errorAt(certAttr.Range, "Invalid certificate", `certificate and key must name PEM files, or set certificate = "auto".`)
		return
	}
	abs := func(p string) string {
		p = strings.TrimSpace(p)
		if !filepath.IsAbs(p) {
			p = filepath.Join(d.dir, p)
		}
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	certFile, keyFile := abs(cert), abs(key)
	pair, err := loadKeyPair(certFile, keyFile)
	if err != nil {
		d.errorAt(certAttr.Expr.Range(), "Cannot load certificate",
			fmt.Sprintf("%s with key %s: %v. Both are PEM files, relative to the suite file's directory.",
				certFile, keyFile, unwrapPathError(err)))
		return
	}
	dev.CertFile, dev.KeyFile = certFile, keyFile
	dev.Certificate = &pair
}

// loadKeyPair is tls.LoadX509KeyPair with the limits of sandbox.ReadFile.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := sandbox.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := sandbox.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// ParseListen checks a listening address: an IP address (or nothing, for
// every address) and a port, as in "0.0.0.0:2525", ":2525" or
// "[::1]:2525". Port 0 lets the system choose.
func ParseListen(s string) (string, error) {
	s = strings.TrimSpace(s)
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("%q must be an IP address and a port, such as \"0.0.0.0:2525\"", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("%q has an invalid port; use a number such as 2525", s)
	}
	if host != "" && net.ParseIP(host) == nil {
		return "", fmt.Errorf("%q must name an IP address of this machine (or 0.0.0.0 for all), not a host name", s)
	}
	return net.JoinHostPort(host, port), nil
}

func (d *decoder) decodeDeviceExpect(b *hcl.Block, dev *Device) *assertions.DeviceExpect {
	content, diags := d.content(b.Body, deviceExpectSchema)
	d.add(diags...)
	attrs := content.Attributes
	e := &assertions.DeviceExpect{}
	never := func(attr *hcl.Attribute, why string) {
		d.errorAt(attr.Range, "Expectation that can never hold", fmt.Sprintf("expect.%s can never hold: %s.", attr.Name, why))
	}
	if attr := attrs["starttls"]; attr != nil {
		if v, ok := d.boolean(attr); ok {
			e.StartTLS = &v
		}
	}
	if attr := attrs["tls_version"]; attr != nil {
		e.TLSVersion = d.tlsVersionComparison(attr)
	}
	if attr := attrs["offers_tls_versions"]; attr != nil {
		e.OffersTLSVersions = d.versionList(attr)
	}
	if attr := attrs["ecdhe"]; attr != nil {
		if v, ok := d.boolean(attr); ok {
			e.ECDHE = &v
		}
	}
	if attr := attrs["auth_mechanism"]; attr != nil {
		if s, _, ok := d.str(attr, false); ok {
			upper := strings.ToUpper(strings.TrimSpace(s))
			offered := dev.AuthMechanisms
			if offered == nil {
				offered = exchangeMechanisms
			}
			switch {
			case !slices.Contains(deviceMechanisms, upper):
				d.errorAt(attr.Expr.Range(), "Unsupported auth mechanism",
					fmt.Sprintf("auth_mechanism is %q; it must be one of %s.", s, strings.Join(deviceMechanisms, ", ")))
			case !dev.AcceptAuth:
				never(attr, "accept_auth = false offers no AUTH")
			case !slices.Contains(offered, upper):
				never(attr, fmt.Sprintf("the listener offers only %s (add %s to auth_mechanisms to offer it)",
					strings.Join(offered, " "), upper))
			default:
				e.AuthMechanism = &upper
			}
		}
	}
	if attr := attrs["auth_user"]; attr != nil {
		if s, sens, ok := d.str(attr, false); ok {
			switch err := checkLine(s); {
			case !dev.AcceptAuth:
				never(attr, "accept_auth = false offers no AUTH")
			case strings.TrimSpace(s) == "":
				d.errorAt(attr.Expr.Range(), "Invalid auth_user", "auth_user must not be empty.")
			case err != nil:
				d.errorAt(attr.Expr.Range(), "Invalid auth_user", fmt.Sprintf("The user %s %s.", show(s, sens), err))
			default:
				e.AuthUser = &s
			}
		}
	}
	if attr := attrs["mail_from"]; attr != nil {
		if s, sens, ok := d.str(attr, false); ok {
			if err := checkAddress(s); s != "" && err != nil {
				d.errorAt(attr.Expr.Range(), "Invalid address", fmt.Sprintf("mail_from %s %s.", show(s, sens), err))
			} else {
				e.MailFrom = &s
			}
		}
	}
	if attr := attrs["rcpt_count"]; attr != nil {
		if c, ok := d.comparison(attr); ok {
			e.RcptCount = &c
		}
	}
	if attr := attrs["message_size"]; attr != nil {
		if v, _, ok := d.attrValue(attr, cty.DynamicPseudoType, false); ok {
			var src string
			switch v.Type() {
			case cty.Number:
				src = numberText(v.AsBigFloat())
			case cty.String:
				src = v.AsString()
			}
			if c, err := assertions.ParseSizeComparison(src); err != nil {
				d.errorAt(attr.Expr.Range(), "Invalid size comparison", fmt.Sprintf("expect.message_size: %v.", err))
			} else {
				e.MessageSize = &c
			}
		}
	}
	return e
}

// versionList decodes offers_tls_versions: TLS versions "1.0" to "1.3".
func (d *decoder) versionList(attr *hcl.Attribute) []string {
	list, ranges, _, ok := d.stringList(attr)
	if !ok {
		return nil
	}
	if len(list) == 0 {
		d.errorAt(attr.Expr.Range(), "Invalid expectation", "offers_tls_versions is an empty list; leave it out instead.")
		return nil
	}
	var out []string
	for i, v := range list {
		v = strings.TrimSpace(v)
		if v == "1" { // the number 1.0 converted to a string
			v = "1.0"
		}
		if _, known := tlsVersions[v]; !known {
			d.errorAt(ranges[i], "Invalid TLS version",
				fmt.Sprintf("offers_tls_versions holds %q; TLS versions are \"1.0\", \"1.1\", \"1.2\" and \"1.3\".", list[i]))
			continue
		}
		out = append(out, v)
	}
	return out
}
