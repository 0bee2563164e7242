// Package matrix compares what SMTP conversations showed about the servers
// they talked to, one column per endpoint: the capability matrix that
// smtpdiag probe prints and the evidence report shows.
package matrix

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// NotObserved fills a cell that no conversation of the column answered:
// it stopped before the step, or the step was not taken.
const NotObserved = "-"

// Column is one endpoint and the conversations held with it, in order. A
// row's cell is the first answer any of them gives, so that a later check
// of the same endpoint fills what an earlier one did not reach.
type Column struct {
	// Name is the endpoint's label (or the probe target as given), Target
	// what it named ("host:port").
	Name, Target  string
	Conversations []*result.Conversation
}

// Row is one capability across the columns.
type Row struct {
	Name  string
	Cells []string
}

// Matrix is the comparison: the columns' names and targets, and one row
// per capability.
type Matrix struct {
	Columns []Column
	Rows    []Row
}

// capability is one row: its name and what one conversation says about
// it, "" when it says nothing.
type capability struct {
	name  string
	value func(c *result.Conversation, now time.Time) string
}

// capabilities are the rows: what tells an MX endpoint (STARTTLS, no AUTH)
// from a submission endpoint (AUTH only inside TLS: RFC 3207 section 4.2
// lets a server advertise other extensions after STARTTLS), and what a
// device has to match (TLS version, message size).
var capabilities = []capability{
	{"Resolved address", func(c *result.Conversation, _ time.Time) string { return c.RemoteAddr }},
	{"Banner host", bannerHost},
	{"STARTTLS", startTLS},
	{"TLS version", func(c *result.Conversation, _ time.Time) string {
		if c.TLS == nil {
			return ""
		}
		return c.TLS.Version
	}},
	{"Cipher suite", func(c *result.Conversation, _ time.Time) string {
		if c.TLS == nil {
			return ""
		}
		return c.TLS.CipherSuite
	}},
	{"Certificate", func(c *result.Conversation, _ time.Time) string {
		switch {
		case c.TLS == nil:
			return ""
		case c.TLS.Verified:
			return "verified for " + c.TLS.ServerName
		}
		return "not verified: " + c.TLS.VerifyError
	}},
	{"Certificate subject", func(c *result.Conversation, _ time.Time) string {
		if l := leaf(c); l != nil {
			return l.Subject
		}
		return ""
	}},
	{"Certificate issuer", func(c *result.Conversation, _ time.Time) string {
		if l := leaf(c); l != nil {
			return l.Issuer
		}
		return ""
	}},
	{"Certificate expires", func(c *result.Conversation, now time.Time) string {
		if l := leaf(c); l != nil {
			return l.NotAfter.UTC().Format("2006-01-02") + " (" + DaysLeft(l.NotAfter, now) + ")"
		}
		return ""
	}},
	{"Client certificate", func(c *result.Conversation, _ time.Time) string {
		switch stop := c.Stop(); {
		case c.TLS == nil:
			return ""
		case c.TLS.ClientCertificate != nil:
			return "asked for; sent " + c.TLS.ClientCertificate.Subject
		case c.TLS.ClientCertificateRequested:
			return "asked for; none sent"
		case stop != nil && stop.Step == result.StepTLS:
			// The handshake ended before the server could ask.
			return ""
		}
		return "not asked for"
	}},
	{"AUTH before TLS", func(c *result.Conversation, _ time.Time) string {
		if c.EHLOBeforeTLS == nil || c.TLSMode == "implicit" {
			return ""
		}
		return authMechanisms(c.EHLOBeforeTLS)
	}},
	{"AUTH after TLS", func(c *result.Conversation, _ time.Time) string {
		if c.EHLOAfterTLS == nil {
			return ""
		}
		return authMechanisms(c.EHLOAfterTLS)
	}},
	{"SIZE", func(c *result.Conversation, _ time.Time) string {
		ehlo := c.LastEHLO()
		if ehlo == nil {
			return ""
		}
		x, ok := ehlo.Find("SIZE")
		switch {
		case !ok:
			return "not advertised"
		case len(x.Params) == 0 || x.Params[0] == "0":
			return "advertised, no limit given"
		}
		return sizeLimit(x.Params[0])
	}},
	advertised("PIPELINING"),
	advertised("8BITMIME"),
	advertised("SMTPUTF8"),
	advertised("CHUNKING"),
	{"Client IP seen by the server", func(c *result.Conversation, _ time.Time) string { return c.ClientIP }},
	timing("Connect", result.StepConnect),
	timing("Banner", result.StepBanner),
	timing("EHLO", result.StepEHLO),
	timing("TLS handshake", result.StepTLS),
}

// Build compares the columns; now dates the certificates' days left.
func Build(columns []Column, now time.Time) Matrix {
	m := Matrix{Columns: columns}
	for _, capa := range capabilities {
		row := Row{Name: capa.name}
		for _, col := range columns {
			cell := NotObserved
			for _, c := range col.Conversations {
				if c == nil {
					continue
				}
				if v := strings.TrimSpace(capa.value(c, now)); v != "" {
					cell = v
					break
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}

func bannerHost(c *result.Conversation, _ time.Time) string {
	for _, s := range c.StepsOf(result.StepBanner) {
		if s.Reply != nil && s.Reply.Positive() && len(s.Reply.Lines) > 0 {
			host, _, _ := strings.Cut(s.Reply.Lines[0], " ")
			return host
		}
	}
	return ""
}

func startTLS(c *result.Conversation, _ time.Time) string {
	if c.TLSMode == "implicit" {
		switch {
		case c.TLS != nil:
			return "implicit TLS"
		case tlsFailed(c):
			return "implicit TLS, handshake failed"
		}
		return ""
	}
	if c.EHLOBeforeTLS == nil {
		return ""
	}
	if !c.EHLOBeforeTLS.Has("STARTTLS") {
		return "not offered"
	}
	switch {
	case c.TLS != nil:
		return "offered, handshake done"
	case c.TLSMode == "none":
		return "offered, not used"
	}
	if tlsFailed(c) {
		return "offered, handshake failed"
	}
	return "offered"
}

// tlsFailed reports whether a TLS handshake was tried and failed.
func tlsFailed(c *result.Conversation) bool {
	for _, s := range c.StepsOf(result.StepTLS) {
		if s.Fault != nil {
			return true
		}
	}
	return false
}

func leaf(c *result.Conversation) *result.Certificate {
	if c.TLS == nil || len(c.TLS.Chain) == 0 {
		return nil
	}
	return &c.TLS.Chain[0]
}

// advertised is a row for an extension without parameters worth showing.
func advertised(keyword string) capability {
	return capability{keyword, func(c *result.Conversation, _ time.Time) string {
		ehlo := c.LastEHLO()
		switch {
		case ehlo == nil:
			return ""
		case ehlo.Has(keyword):
			return "yes"
		}
		return "no"
	}}
}

// timing is a row for how long the first step of a kind took.
func timing(name string, step result.Step) capability {
	return capability{name, func(c *result.Conversation, _ time.Time) string {
		steps := c.StepsOf(step)
		if len(steps) == 0 {
			return ""
		}
		return strconv.FormatFloat(float64(steps[0].Duration.Microseconds())/1000, 'f', 1, 64) + " ms"
	}}
}

func authMechanisms(ext esmtp.Extensions) string {
	mechs := ext.AuthMechanisms()
	switch {
	case mechs == nil:
		return "not offered"
	case len(mechs) == 0:
		return "offered, no mechanism listed"
	}
	return strings.Join(mechs, " ")
}

// sizeLimit renders the SIZE parameter (RFC 1870 section 4: the maximum
// message size in octets) with its size in MiB.
func sizeLimit(param string) string {
	n, err := strconv.ParseInt(param, 10, 64)
	if err != nil || n < 0 {
		return param
	}
	return fmt.Sprintf("%d bytes (%.0f MiB)", n, float64(n)/(1<<20))
}

// DaysLeft says how long a certificate has left: "12 days left", "1 day
// left" or "EXPIRED".
func DaysLeft(notAfter, now time.Time) string {
	if notAfter.Before(now) {
		return "EXPIRED"
	}
	days := int(notAfter.Sub(now).Hours() / 24)
	if days == 1 {
		return "1 day left"
	}
	return fmt.Sprintf("%d days left", days)
}
