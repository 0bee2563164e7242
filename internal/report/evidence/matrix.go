package evidence

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/conversation"
	"github.com/smtpdiag/smtpdiag/runner"
)

// notObserved fills a matrix cell that no conversation of the endpoint
// answered (it stopped before the step, or the step was not taken).
const notObserved = "—"

// capability is one matrix row: a name and what one conversation says
// about it, "" when it says nothing.
type capability struct {
	name  string
	value func(c *conversation.Conversation) string
}

// capabilities are the matrix rows: what tells an MX endpoint (STARTTLS,
// no AUTH) from a submission endpoint (AUTH only inside TLS: RFC 3207
// section 4.2 lets a server advertise other extensions after STARTTLS),
// and what a device has to match (TLS version, message size).
var capabilities = []capability{
	{"Resolved address", func(c *conversation.Conversation) string { return c.RemoteAddr }},
	{"STARTTLS", startTLS},
	{"TLS version", func(c *conversation.Conversation) string {
		if c.TLS == nil {
			return ""
		}
		return c.TLS.Version + " " + c.TLS.CipherSuite
	}},
	{"Certificate", func(c *conversation.Conversation) string {
		switch {
		case c.TLS == nil:
			return ""
		case c.TLS.Verified:
			return "verified for " + c.TLS.ServerName
		}
		return "not verified: " + c.TLS.VerifyError
	}},
	{"AUTH before TLS", func(c *conversation.Conversation) string {
		if c.EHLOBeforeTLS == nil || c.TLSMode == "implicit" {
			return ""
		}
		return authMechanisms(c.EHLOBeforeTLS)
	}},
	{"AUTH after TLS", func(c *conversation.Conversation) string {
		if c.EHLOAfterTLS == nil {
			return ""
		}
		return authMechanisms(c.EHLOAfterTLS)
	}},
	{"SIZE", func(c *conversation.Conversation) string {
		ehlo := c.LastEHLO()
		if ehlo == nil {
			return ""
		}
		words, ok := extension(ehlo, "SIZE")
		if !ok {
			return "not advertised"
		}
		if len(words) == 0 || words[0] == "0" {
			return "advertised, no limit given"
		}
		return sizeLimit(words[0])
	}},
	{"PIPELINING", func(c *conversation.Conversation) string {
		return advertised(c.LastEHLO(), "PIPELINING")
	}},
	{"SMTPUTF8", func(c *conversation.Conversation) string {
		return advertised(c.LastEHLO(), "SMTPUTF8")
	}},
	{"Client IP seen by the server", func(c *conversation.Conversation) string { return c.ClientIP }},
}

func startTLS(c *conversation.Conversation) string {
	if c.TLSMode == "implicit" {
		if c.TLS != nil {
			return "implicit TLS"
		}
		return ""
	}
	if c.EHLOBeforeTLS == nil {
		return ""
	}
	if _, ok := extension(c.EHLOBeforeTLS, "STARTTLS"); !ok {
		return "not offered"
	}
	switch {
	case c.TLS != nil:
		return "offered, handshake done"
	case c.TLSMode == "none":
		return "offered, not used"
	}
	for _, s := range c.StepsOf(conversation.StepTLS) {
		if s.Fault != nil {
			return "offered, handshake failed"
		}
	}
	return "offered"
}

// matrix compares the endpoints of s's smtp checks, one column per
// endpoint label in order of first use, each cell the first answer any of the endpoint's
// conversations gave. Nil when fewer than two endpoints were talked to.
func (b builder) matrix(s *runner.SuiteResult) *Matrix {
	type column struct {
		endpoint string
		checks   []*runner.CheckResult
	}
	var cols []*column
	index := map[string]*column{}
	for _, r := range s.Checks {
		// Only smtp checks hold conversations; a dns or dnsbl check is
		// never a column, whatever its result carries.
		if r.Conversation == nil || r.Kind == "dns" || r.Kind == "dnsbl" {
			continue
		}
		col := index[r.Endpoint]
		if col == nil {
			col = &column{endpoint: r.Endpoint}
			index[r.Endpoint] = col
			cols = append(cols, col)
		}
		col.checks = append(col.checks, r)
	}
	if len(cols) < 2 {
		return nil
	}
	m := &Matrix{}
	for _, col := range cols {
		m.Columns = append(m.Columns, MatrixColumn{Endpoint: b.text(col.endpoint), Target: b.text(col.checks[0].Target)})
	}
	for _, capa := range capabilities {
		row := MatrixRow{Name: capa.name}
		for _, col := range cols {
			cell := notObserved
			for _, r := range col.checks {
				if v := strings.TrimSpace(capa.value(r.Conversation)); v != "" {
					cell = v
					break
				}
			}
			row.Cells = append(row.Cells, b.text(cell))
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}

// extension finds keyword in EHLO extension lines and returns its
// parameters; the pre-RFC 4954 form "AUTH=LOGIN PLAIN" counts as AUTH.
func extension(lines []string, keyword string) ([]string, bool) {
	for _, l := range lines {
		words := strings.Fields(l)
		if len(words) == 0 {
			continue
		}
		k, v, eq := strings.Cut(words[0], "=")
		if !strings.EqualFold(k, keyword) {
			continue
		}
		params := words[1:]
		if eq && v != "" {
			params = append([]string{v}, params...)
		}
		return params, true
	}
	return nil, false
}

func advertised(lines []string, keyword string) string {
	if lines == nil {
		return ""
	}
	if _, ok := extension(lines, keyword); ok {
		return "yes"
	}
	return "no"
}

func authMechanisms(lines []string) string {
	mechs, ok := extension(lines, "AUTH")
	if !ok {
		return "not offered"
	}
	if len(mechs) == 0 {
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
