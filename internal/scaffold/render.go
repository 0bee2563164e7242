package scaffold

import (
	"bytes"
	"fmt"
	"strings"

	wordwrap "github.com/mitchellh/go-wordwrap"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/smtpdiag/smtpdiag/internal/safetext"
)

// Options are what Render needs besides the facts.
type Options struct {
	// File is the path the suite is written to, for the hints at its head;
	// "" for standard output.
	File string
	// Resolver is the --resolver init was given, repeated in the run hint
	// so that the suite asks the same server; "" for the system resolver.
	Resolver string
	// Live writes the optional blocks (AUTH, device) uncommented, as a
	// person would after editing the file.
	Live bool
}

// Labels of the checks Render writes; the dnsbl check refers to the MX check.
const (
	labelMXAnswers  = "MX answers on port 25"
	labelSubmission = "submission offers STARTTLS and AUTH"
	labelAuth       = "mailbox signs in with a password"
)

// maxComment bounds one line of DNS data quoted in a comment.
const maxComment = 200

// Render writes the starter suite for f, formatted as hclwrite.Format
// formats it (the layout of the docs' examples). Every value that came
// from DNS is quoted as an HCL string or escaped in a comment, so that no
// answer can add a block or an attribute to the file.
func Render(f *Facts, o Options) []byte {
	w := &writer{}
	writeHead(w, f, o)
	writeVariables(w, f)
	writeEndpoints(w, f)
	writeDNSChecks(w, f)
	writeSMTPChecks(w, f)
	writeOptional(w, o.Live,
		"Uncomment to prove var.mailbox can still sign in with its password (Basic "+
			"SMTP AUTH, which Microsoft disables by default at the end of December 2026). "+
			"Set SMTP_PASSWORD first. It signs in and quits: no mail is sent.",
		`smtp `+quote(labelAuth)+` {
  endpoint = endpoint.submission
  auth {
    username = var.mailbox
    password = var.password
  }
  expect {
    auth = 235
  }
}`)
	writeOptional(w, o.Live, fmt.Sprintf(
		"Uncomment, run `smtpdiag listen %s` and point the copier or "+
			"scanner at this machine, port 2525: smtpdiag answers like smtp.office365.com "+
			"and checks what the device offers. `smtpdiag run` leaves device blocks out.", fileHint(o.File)),
		`device "copier" {
  listen      = "0.0.0.0:2525"
  hostname    = "smtp.office365.com"
  certificate = "auto"
  timeout     = "10m"
  expect {
    starttls    = true
    tls_version = ">= 1.2"
    auth_user   = var.mailbox
  }
}`)
	out := hclwrite.Format([]byte(strings.TrimRight(w.String(), "\n") + "\n"))
	if !bytes.HasSuffix(out, []byte("\n")) {
		out = append(out, '\n')
	}
	return out
}

type writer struct{ strings.Builder }

// comment writes text as # lines, each folded at commentWidth columns;
// an indented line (a record quoted from DNS, a line of a commented-out
// block) keeps its indent, and its continuation is indented further.
func (w *writer) comment(text string) {
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			w.WriteString("#\n")
			continue
		}
		indent := line[:len(line)-len(strings.TrimLeft(line, " "))]
		width := commentWidth - 2 - len(indent)
		if indent != "" {
			width -= 2 // room for the continuation's further indent
		}
		for i, l := range strings.Split(wordwrap.WrapString(strings.TrimLeft(line, " "), uint(width)), "\n") {
			if i > 0 && indent != "" {
				l = "  " + l
			}
			w.WriteString(strings.TrimRight("# "+indent+l, " ") + "\n")
		}
	}
}

// commentWidth is the width comments are folded at, "# " included.
const commentWidth = 80

// block writes one explained block and a blank line after it.
func (w *writer) block(explain, body string) {
	w.comment(explain)
	w.WriteString(body + "\n\n")
}

func writeHead(w *writer, f *Facts, o Options) {
	date := f.At.UTC().Format("2006-01-02")
	asked := "the system resolver"
	if len(f.Servers) > 0 {
		asked = strings.Join(f.Servers, ", ")
	}
	var head strings.Builder
	fmt.Fprintf(&head, "Starter suite for %s, written by smtpdiag init on %s from what DNS said then (asked %s):\n",
		f.Domain, date, dnsText(asked))
	if f.Input != "" {
		fmt.Fprintf(&head, "  (%s was given; DNS knows it as %s)\n", dnsText(f.Input), f.Domain)
	}
	for _, line := range f.Findings() {
		head.WriteString("  " + dnsText(line) + "\n")
	}
	run := "smtpdiag run "
	if o.Resolver != "" {
		run += "--resolver " + o.Resolver + " "
	}
	fmt.Fprintf(&head, "\nCheck it, then run it:\n  smtpdiag validate %s\n  %s%s\n", fileHint(o.File), run, fileHint(o.File))
	head.WriteString("No check here sends a message: each smtp check stops before MAIL FROM. " +
		"Every block is explained above it; docs/suite-language.md has the rest.")
	w.comment(head.String())
	w.WriteString("\n")
	w.block("The suite's name in every report.", fmt.Sprintf(`suite {
  name        = %s
  description = %s
}`, quote(f.Domain), quote("Starter suite from smtpdiag init, "+date)))
}

func writeVariables(w *writer, f *Facts) {
	w.block("The client's accepted domain: every check below is built on it.", fmt.Sprintf(`variable "domain" {
  default     = %s
  description = "Accepted domain of the tenant"
}`, quote(f.Domain)))
	w.block("The mailbox a device signs in as, for the AUTH check further down.", fmt.Sprintf(`variable "mailbox" {
  default     = %s
  description = "Mailbox the device signs in as (SMTP AUTH)"
}`, quote("scanner@"+f.Domain)))
	w.block("Its password, read from SMTP_PASSWORD and masked in every output (in its "+
		"base64 forms too). Only the commented-out AUTH check uses it.", `variable "password" {
  sensitive   = true
  default     = env("SMTP_PASSWORD")
  description = "Password of var.mailbox"
}`)
	w.block("The blocklists the egress IP is looked up in. Spamhaus does not answer "+
		"queries that reach it through public resolvers such as 8.8.8.8 or 1.1.1.1.", `variable "dnsbl_zones" {
  type        = list(string)
  default     = ["zen.spamhaus.org", "b.barracudacentral.org", "bl.spamcop.net"]
  description = "DNS blocklists the egress IP must not be on"
}`)
}

func writeEndpoints(w *writer, f *Facts) {
	w.block("Where mail for the domain goes: its MX host (lowest preference first) on "+
		"port 25, the endpoint of Direct Send and of relay connectors.", `endpoint "mx" {
  mx   = var.domain
  port = 25
}`)
	w.block("Client submission (SMTP AUTH) to Microsoft 365: smtp.office365.com, port 587, "+
		"STARTTLS.", `endpoint "submission" {
  host = "smtp.office365.com"
  port = 587
}`)
}

func writeDNSChecks(w *writer, f *Facts) {
	date := f.At.UTC().Format("2006-01-02")
	var hosts []string
	for i, mx := range f.MX {
		if i == maxMX {
			break
		}
		hosts = append(hosts, mx.Host)
	}
	switch {
	case len(hosts) == 0:
		why := "DNS had no MX records for " + f.Domain + " on " + date
		if f.NullMX {
			why = f.Domain + " published a null MX (RFC 7505) on " + date + ": it receives no mail"
		}
		w.block(why+", so this check fails until an MX is published.", `dns "domain has an MX record" {
  name = var.domain
  type = "MX"
  expect {
    count = ">= 1"
  }
}`)
	case f.Exchange() != NotExchangeOnline:
		w.block("The MX still points at Exchange Online, at the host(s) found on "+date+".", fmt.Sprintf(`dns "MX points at Exchange Online" {
  name = var.domain
  type = "MX"
  expect {
    contains = %s
  }
}`, quoteList(hosts)))
	default:
		w.block(dnsText(hosts[0])+" is not an Exchange Online host (those end in "+
			".mail.protection.outlook.com or .mx.microsoft): mail for "+f.Domain+" reaches "+
			"another system first. This check proves the MX is still what it was on "+date+".", fmt.Sprintf(`dns "MX points where it did" {
  name = var.domain
  type = "MX"
  expect {
    contains = %s
  }
}`, quoteList(hosts)))
	}
	writeSPFCheck(w, f, date)
	writeDMARCCheck(w, f, date)
}

func writeSPFCheck(w *writer, f *Facts, date string) {
	const example = "Microsoft's example record for devices that use Direct Send is " +
		"v=spf1 ip4:<IP> include:spf.protection.outlook.com ~all (Microsoft Learn: how " +
		"to set up a multifunction device or application to send email using Microsoft 365)."
	body := `dns "SPF record is published" {
  name = var.domain
  type = "TXT"
  expect {
    contains = ["v=spf1"]
  }
}`
	switch {
	case f.IncludesExchange():
		w.block("The SPF record names Exchange Online's senders (include:spf.protection.outlook.com), as it did on "+date+".", `dns "SPF includes Exchange Online" {
  name = var.domain
  type = "TXT"
  expect {
    spf_includes = ["spf.protection.outlook.com"]
  }
}`)
	case f.SPF != "":
		w.block("The domain publishes an SPF record, but it does not include spf.protection.outlook.com. "+example, body)
	default:
		w.block("DNS had no usable SPF record for "+f.Domain+" on "+date+", so this check fails until one is published. "+example, body)
	}
}

func writeDMARCCheck(w *writer, f *Facts, date string) {
	switch p := policyOf(f); p {
	case "":
		w.block("DNS had no usable DMARC record (at _dmarc."+f.Domain+") on "+date+", so this check fails until one is published.", `dns "DMARC record is published" {
  name = "_dmarc.${var.domain}"
  type = "TXT"
  expect {
    contains = ["v=DMARC1"]
  }
}`)
	default:
		w.block("The DMARC policy is still the one published on "+date+".", fmt.Sprintf(`dns %s {
  name = var.domain
  type = "TXT"
  expect {
    dmarc_policy = %s
  }
}`, quote("DMARC policy is "+p), quote(p)))
	}
}

// policyOf is the DMARC policy when it is one dmarc_policy accepts.
func policyOf(f *Facts) string {
	if f.DMARC == nil {
		return ""
	}
	switch p := f.DMARC.Policy; p {
	case "none", "quarantine", "reject":
		return p
	}
	return ""
}

func writeSMTPChecks(w *writer, f *Facts) {
	tls := ""
	explain := "The MX answers on port 25 and offers STARTTLS. No mail is sent. When the " +
		"connection fails, this network most likely blocks outbound port 25, as many ISPs do."
	if f.Exchange() != NotExchangeOnline {
		tls = "\n    tls_version = \">= 1.2\""
		explain = "The MX answers on port 25 and offers STARTTLS with TLS 1.2 or later. No mail " +
			"is sent. When the connection fails, this network most likely blocks outbound port 25, as many ISPs do."
	}
	w.block(explain, fmt.Sprintf(`smtp %s {
  endpoint = endpoint.mx
  expect {
    banner   = 220
    starttls = true%s
  }
}`, quote(labelMXAnswers), tls))
	w.block("This machine's egress IP, as the MX saw it (the address in its EHLO "+
		"greeting, \"Hello [203.0.113.5]\"), is on none of the blocklists.", fmt.Sprintf(`dnsbl "egress IP is on no blocklist" {
  ip    = smtp[%s].client_ip
  zones = var.dnsbl_zones
  expect {
    listed = false
  }
}`, quote(labelMXAnswers)))
	w.block("smtp.office365.com offers STARTTLS with TLS 1.2 or later, and AUTH after it.", fmt.Sprintf(`smtp %s {
  endpoint = endpoint.submission
  expect {
    starttls    = true
    tls_version = ">= 1.2"
    advertises  = ["AUTH"]
  }
}`, quote(labelSubmission)))
}

// writeOptional writes a block a person enables by removing the #s; live
// writes it enabled. The block is formatted before it is commented out, so
// that it reads the same either way.
func writeOptional(w *writer, live bool, explain, body string) {
	w.comment(explain)
	formatted := strings.TrimRight(string(hclwrite.Format([]byte(body+"\n"))), "\n")
	if live {
		w.WriteString(formatted + "\n\n")
		return
	}
	w.comment(formatted)
	w.WriteString("\n")
}

// quote writes s as an HCL string literal: quotes, backslashes, newlines
// and template sequences (${, %{) are escaped.
func quote(s string) string {
	return strings.TrimSpace(string(hclwrite.TokensForValue(cty.StringVal(s)).Bytes()))
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// dnsText makes text from DNS safe for a comment line: control characters
// escaped, at most maxComment bytes.
func dnsText(s string) string {
	s = safetext.Line(s)
	if len(s) > maxComment {
		cut := maxComment
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = fmt.Sprintf("%s… (%d more bytes)", s[:cut], len(s)-cut)
	}
	return s
}

// fileHint is the file name for the hints; standard output gets a
// placeholder.
func fileHint(file string) string {
	switch {
	case file == "" || file == "-":
		return "FILE.hcl"
	case strings.ContainsAny(file, " \t'\"$`"):
		return "'" + strings.ReplaceAll(file, "'", `'\''`) + "'"
	}
	return file
}
