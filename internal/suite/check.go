package suite

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

var smtpSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "enabled"},
		{Name: "path"},
		{Name: "endpoint", Required: true},
		{Name: "mail_from"},
		{Name: "rcpt_to"},
		{Name: "check_timeout"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "auth"},
		{Type: "message"},
		{Type: "retry"},
		{Type: "expect"},
		{Type: "assert"},
	},
}

var authSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "username", Required: true},
		{Name: "password"},
		{Name: "token"},
		{Name: "mechanism"},
		{Name: "force_mechanism"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "oauth"}},
}

var messageSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "subject"},
		{Name: "body"},
		{Name: "from"},
		{Name: "to"},
		{Name: "headers"},
	},
}

var retrySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "attempts"},
		{Name: "delay"},
	},
}

var assertSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

// DefaultRetryDelay is the pause between attempts when a retry block sets
// attempts > 1 but no delay: long enough for a greylisting or throttling
// server to let the next attempt through.
const DefaultRetryDelay = 10 * time.Second

// mechanisms are the SASL mechanisms the client implements.
var mechanisms = []string{"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"}

// reservedHeaders are set by the client or by the message block's own
// attributes; a second copy would make a malformed message (RFC 5322
// section 3.6 allows each of them once).
var reservedHeaders = map[string]string{
	"from":       "set it with from",
	"to":         "set it with to",
	"subject":    "set it with subject",
	"date":       "smtpdiag sets it",
	"message-id": "smtpdiag sets it",
}

func (d *decoder) decodeSMTP(b *hcl.Block) *SMTPCheck {
	if !d.checkLabel(b) {
		return nil
	}
	c := &SMTPCheck{Label: b.Labels[0], Retry: Retry{Attempts: 1}, DeclRange: b.DefRange}
	// enabled first: a disabled block is not decoded further, so that
	// the credentials it would need may be left empty.
	c.Disabled = d.disabled(b)
	c.Path = d.checkPath(b)
	if c.Disabled != "" {
		smtpShape.check(d, b.Body)
		return c
	}
	content, diags := d.content(b.Body, smtpSchema)
	d.add(diags...)
	attrs := content.Attributes

	if attr := attrs["endpoint"]; attr != nil {
		c.Endpoint = d.endpointRef(attr)
	}
	if attr := attrs["mail_from"]; attr != nil {
		if from, sens, ok := d.str(attr, false); ok {
			from = d.wire(attr.Expr, from)
			// "" is the null reverse-path of RFC 5321 section 4.5.5.
			if err := checkAddress(from); from != "" && err != nil {
				d.errorAt(attr.Expr.Range(), "Invalid address", fmt.Sprintf("mail_from %s %s.", show(from, sens), err))
			} else {
				c.MailFrom = &from
			}
		}
	}
	if attr := attrs["rcpt_to"]; attr != nil {
		if list, ranges, sens, ok := d.stringList(attr); ok {
			list = d.wireList(attr.Expr, list)
			if len(list) == 0 {
				d.errorAt(attr.Expr.Range(), "Invalid address",
					"rcpt_to is an empty list; name at least one recipient, or leave rcpt_to out to send no RCPT TO.")
			}
			valid := true
			for i, rcpt := range list {
				if err := checkAddress(rcpt); err != nil {
					d.errorAt(ranges[i], "Invalid address", fmt.Sprintf("The recipient %s %s.", show(rcpt, sens), err))
					valid = false
				}
			}
			if valid {
				c.RcptTo = list
			}
			if attrs["mail_from"] == nil {
				d.errorAt(attr.Expr.Range(), "rcpt_to without mail_from",
					"RCPT TO is only accepted after MAIL FROM (RFC 5321 section 3.3); set mail_from as well "+
						`(mail_from = "" sends the null sender <>).`)
			}
		}
	}

	if attr := attrs["check_timeout"]; attr != nil {
		if t, ok := d.duration(attr, false); ok {
			c.CheckTimeout = t
		}
	}

	first := map[string]*hcl.Block{}
	var messageBlock *hcl.Block
	var expectAttrs hcl.Attributes
	for _, inner := range content.Blocks {
		if inner.Type != "assert" {
			if f := first[inner.Type]; f != nil {
				d.duplicateBlock(inner, f, "in an smtp block")
				continue
			}
			first[inner.Type] = inner
		}
		switch inner.Type {
		case "auth":
			c.Auth = d.decodeAuth(inner)
		case "message":
			messageBlock = inner
			c.Message = d.decodeMessage(inner, c)
		case "retry":
			c.Retry = d.decodeRetry(inner)
		case "expect":
			c.Expect, expectAttrs = d.decodeExpect(inner)
		case "assert":
			if a := d.decodeAssert(inner, "smtp"); a != nil {
				c.Assertions = append(c.Assertions, *a)
			}
		}
	}
	if messageBlock != nil && (attrs["mail_from"] == nil || attrs["rcpt_to"] == nil) {
		d.errorAt(messageBlock.DefRange, "message without mail_from and rcpt_to",
			"DATA is only accepted after MAIL FROM and at least one accepted RCPT TO (RFC 5321 section 3.3); "+
				"set mail_from and rcpt_to in this smtp block.")
	}
	if c.Expect != nil {
		d.checkReachable(expectAttrs, c, attrs)
	}
	return c
}

func (d *decoder) decodeAuth(b *hcl.Block) *Auth {
	content, diags := d.content(b.Body, authSchema)
	d.add(diags...)
	attrs := content.Attributes
	a := &Auth{}
	if attr := attrs["username"]; attr != nil {
		if u, sens, ok := d.str(attr, true); ok {
			u = d.wire(attr.Expr, u)
			switch err := checkLine(u); {
			case u == "":
				d.errorAt(attr.Expr.Range(), "Invalid username", "username must not be empty.")
			case err != nil:
				d.errorAt(attr.Expr.Range(), "Invalid username", fmt.Sprintf("The username %s %s.", show(u, sens), err))
			default:
				a.Username = u
			}
		}
	}
	pwAttr, tokenAttr := attrs["password"], attrs["token"]
	var oauthBlock *hcl.Block
	for _, inner := range content.Blocks {
		if oauthBlock != nil {
			d.duplicateBlock(inner, oauthBlock, "in an auth block")
			continue
		}
		oauthBlock = inner
		a.OAuth = d.decodeOAuth(inner)
	}
	if oauthBlock != nil {
		for _, attr := range []*hcl.Attribute{pwAttr, tokenAttr} {
			if attr != nil {
				d.errorIn(attr.Range, b.DefRange, "Both oauth and "+attr.Name+" in auth",
					fmt.Sprintf("The oauth block at %s gets the access token from Microsoft Entra ID and sends it with XOAUTH2; "+
						"an auth block with one takes no %s. Remove the %s, or the oauth block.",
						posString(oauthBlock.DefRange), attr.Name, attr.Name))
			}
		}
		pwAttr, tokenAttr = nil, nil
	}
	switch {
	case pwAttr != nil && tokenAttr != nil:
		d.errorIn(tokenAttr.Range, b.DefRange, "Both password and token in auth",
			fmt.Sprintf("An auth block takes a password (PLAIN, LOGIN, CRAM-MD5) or an OAuth token (XOAUTH2), "+
				"not both; the password is set at %s.", posString(pwAttr.Range)))
	case pwAttr != nil:
		a.Password = d.secretString(pwAttr)
	case tokenAttr != nil:
		a.Token = d.secretString(tokenAttr)
	case oauthBlock != nil:
	default:
		d.errorAt(b.DefRange, "Missing password or token",
			"An auth block needs a password (PLAIN, LOGIN, CRAM-MD5), an OAuth access token (XOAUTH2), "+
				"or an oauth block that gets the token from Microsoft Entra ID.")
	}
	if attr := attrs["mechanism"]; attr != nil {
		if m, _, ok := d.str(attr, false); ok {
			upper := strings.ToUpper(strings.TrimSpace(m))
			known := false
			for _, k := range mechanisms {
				known = known || upper == k
			}
			switch {
			case !known:
				d.errorAt(attr.Expr.Range(), "Unsupported auth mechanism",
					fmt.Sprintf("mechanism is %q; it must be one of %s, or left out to use the best one the server offers.",
						m, strings.Join(mechanisms, ", ")))
			case oauthBlock != nil && upper != "XOAUTH2":
				d.errorAt(attr.Expr.Range(), "OAuth needs XOAUTH2",
					fmt.Sprintf("The oauth block gets an access token, which only XOAUTH2 sends; %s sends a password. "+
						"Leave mechanism out (XOAUTH2 is the default with oauth) or set it to \"XOAUTH2\".", upper))
			case upper == "XOAUTH2" && pwAttr != nil && tokenAttr == nil:
				d.errorAt(attr.Expr.Range(), "XOAUTH2 needs a token",
					"XOAUTH2 authenticates with an OAuth access token: set token instead of password.")
			case upper != "XOAUTH2" && tokenAttr != nil && pwAttr == nil:
				d.errorAt(attr.Expr.Range(), "A token needs XOAUTH2",
					fmt.Sprintf("%s authenticates with a password; an OAuth token is only sent with XOAUTH2.", upper))
			default:
				a.Mechanism = upper
			}
		}
	}
	if a.Mechanism == "" && (tokenAttr != nil && pwAttr == nil || oauthBlock != nil) {
		a.Mechanism = "XOAUTH2"
	}
	if attr := attrs["force_mechanism"]; attr != nil {
		if force, ok := d.boolean(attr); ok {
			if force && attrs["mechanism"] == nil && a.Mechanism == "" {
				d.errorAt(attr.Range, "force_mechanism without mechanism",
					"force_mechanism = true tries the mechanism named by mechanism even when the server does not "+
						"offer it; name one, such as mechanism = \"LOGIN\".")
			} else {
				a.ForceMechanism = force
			}
		}
	}
	return a
}

// secretString evaluates a credential that goes on the wire (a
// password, a token, a client secret): it must not be empty, must be one
// line, and must be long enough to be masked. Errors never quote it. It
// returns "" on errors.
func (d *decoder) secretString(attr *hcl.Attribute) string {
	s, _, ok := d.str(attr, true)
	if !ok {
		return ""
	}
	s = d.wire(attr.Expr, s)
	if s == "" {
		detail := fmt.Sprintf("The %s is empty. If it comes from a variable, give the variable a value with -var, "+
			"a -var-file or %s<name>.", attr.Name, EnvVarPrefix)
		if hint := d.unsetEnvHint(attr.Expr); hint != "" {
			detail = fmt.Sprintf("The %s is empty: %s.", attr.Name, hint)
		}
		d.add(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Empty " + attr.Name, Detail: detail, Subject: attr.Expr.Range().Ptr()})
		return ""
	}
	if err := checkLine(s); err != nil {
		// Never quote a secret, even in an error.
		d.errorAt(attr.Expr.Range(), "Invalid "+attr.Name, fmt.Sprintf("The %s %s.", attr.Name, err))
		return ""
	}
	if len(s) < 3 && !d.refersTo(attr.Expr, d.refusedShort) {
		d.errorAt(attr.Expr.Range(), "Sensitive value too short to mask",
			fmt.Sprintf("The %s is %d bytes long: values shorter than 3 bytes are not masked in output, since "+
				"masking them would mask ordinary words and numbers too. Use a longer one.", attr.Name, len(s)))
		return ""
	}
	return s
}

func (d *decoder) decodeMessage(b *hcl.Block, c *SMTPCheck) *Message {
	content, diags := d.content(b.Body, messageSchema)
	d.add(diags...)
	attrs := content.Attributes
	m := &Message{
		Subject: "smtpdiag: " + c.Label,
		Body: fmt.Sprintf("This message was sent by smtpdiag to test mail flow (suite %q, check %q).\n",
			d.suite.Name, c.Label),
	}
	if c.MailFrom != nil {
		m.From = *c.MailFrom
	}
	m.To = append([]string(nil), c.RcptTo...)
	if attr := attrs["subject"]; attr != nil {
		if s, sens, ok := d.str(attr, false); ok {
			s = d.wire(attr.Expr, s)
			if err := checkLine(s); err != nil {
				d.errorAt(attr.Expr.Range(), "Invalid subject", fmt.Sprintf("The subject %s %s.", show(s, sens), err))
			} else {
				m.Subject = s
			}
		}
	}
	if attr := attrs["body"]; attr != nil {
		if s, _, ok := d.str(attr, false); ok {
			s = d.wire(attr.Expr, s)
			if strings.ContainsRune(s, 0) {
				d.errorAt(attr.Expr.Range(), "Invalid body", "The body contains a NUL character.")
			} else {
				m.Body = s
			}
		}
	}
	if attr := attrs["from"]; attr != nil {
		if s, sens, ok := d.str(attr, false); ok {
			s = d.wire(attr.Expr, s)
			if err := checkAddress(s); err != nil {
				d.errorAt(attr.Expr.Range(), "Invalid address", fmt.Sprintf("The header From address %s %s.", show(s, sens), err))
			} else {
				m.From = s
			}
		}
	}
	if attr := attrs["to"]; attr != nil {
		if list, ranges, sens, ok := d.stringList(attr); ok {
			list = d.wireList(attr.Expr, list)
			valid := len(list) > 0
			if !valid {
				d.errorAt(attr.Expr.Range(), "Invalid address", "to is an empty list; leave it out to use rcpt_to.")
			}
			for i, s := range list {
				if err := checkAddress(s); err != nil {
					d.errorAt(ranges[i], "Invalid address", fmt.Sprintf("The header To address %s %s.", show(s, sens), err))
					valid = false
				}
			}
			if valid {
				m.To = list
			}
		}
	}
	if attr := attrs["headers"]; attr != nil {
		if headers, keyRanges, sens, ok := d.stringMap(attr); ok {
			headers = d.wireMap(attr.Expr, headers)
			m.Headers = map[string]string{}
			for _, k := range sortedKeys(headers) {
				v := headers[k]
				if err := checkHeaderName(k); err != nil {
					d.errorAt(keyRanges[k], "Invalid header", fmt.Sprintf("The header name %q %s.", k, err))
					continue
				}
				if why, reserved := reservedHeaders[strings.ToLower(k)]; reserved {
					d.errorAt(keyRanges[k], "Invalid header", fmt.Sprintf("The header %s cannot be set in headers: %s.", k, why))
					continue
				}
				if err := checkLine(v); err != nil {
					d.errorAt(keyRanges[k], "Invalid header", fmt.Sprintf("The value of header %s %s %s.", k, show(v, sens), err))
					continue
				}
				m.Headers[k] = v
			}
		}
	}
	return m
}

func (d *decoder) decodeRetry(b *hcl.Block) Retry {
	content, diags := d.content(b.Body, retrySchema)
	d.add(diags...)
	r := Retry{Attempts: 1}
	if attr := content.Attributes["attempts"]; attr != nil {
		if n, ok := d.integer(attr, 1, 100, "attempts"); ok {
			r.Attempts = n
		}
	}
	delaySet := false
	if attr := content.Attributes["delay"]; attr != nil {
		if delay, ok := d.duration(attr, true); ok {
			r.Delay, delaySet = delay, true
		}
	}
	if !delaySet && r.Attempts > 1 {
		r.Delay = DefaultRetryDelay
	}
	return r
}
