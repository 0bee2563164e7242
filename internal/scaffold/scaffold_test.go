package scaffold

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclwrite"
	mdns "github.com/miekg/dns"

	"github.com/smtpdiag/smtpdiag/internal/dns"
	"github.com/smtpdiag/smtpdiag/internal/dns/dnstest"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

func TestClassify(t *testing.T) {
	for host, want := range map[string]Form{
		"contoso-com.mail.protection.outlook.com":      Protection,
		"Contoso-COM.Mail.Protection.Outlook.com.":     Protection,
		"contosotest-com.o-v1.mx.microsoft":            DANE,
		"contosotest-com.o-v1.mx.microsoft.":           DANE,
		"mail.protection.outlook.com":                  NotExchangeOnline, // no tenant part
		"mx.microsoft":                                 NotExchangeOnline,
		"contoso-com.mail.protection.outlook.com.evil": NotExchangeOnline,
		"contoso.mail.protection.outlook.community":    NotExchangeOnline,
		"mx1.contoso.com":                              NotExchangeOnline,
		"eu-smtp-inbound-1.mimecast.com":               NotExchangeOnline,
	} {
		if got := Classify(host); got != want {
			t.Errorf("Classify(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestNormalizeDomain(t *testing.T) {
	for in, want := range map[string]string{
		"contoso.com":    "contoso.com",
		" Contoso.COM. ": "contoso.com",
		"müller.de":      "xn--mller-kva.de",
	} {
		got, err := NormalizeDomain(in)
		if err != nil || got != want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "contoso", "scanner@contoso.com", "https://contoso.com", "contoso.com:25",
		"bad_label!.com", strings.Repeat("a", 64) + ".com", strings.Repeat("abcdefghi.", 26) + "com", "a b.com"} {
		if got, err := NormalizeDomain(in); err == nil {
			t.Errorf("NormalizeDomain(%q) = %q, want an error", in, got)
		} else if de := (*DomainError)(nil); !errors.As(err, &de) {
			t.Errorf("NormalizeDomain(%q): error %T, want *DomainError", in, err)
		}
	}
}

// zone starts a DNS server with records, and a resolver that asks it.
func zone(t *testing.T, records ...string) (*dnstest.Server, *dns.Resolver) {
	t.Helper()
	srv, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	srv.MustAdd(records...)
	now := func() time.Time { return time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC) }
	return srv, &dns.Resolver{Servers: []string{srv.Addr}, Timeout: 2 * time.Second, Now: now, Cache: dns.NewCache()}
}

// load decodes a written suite as `smtpdiag validate` does, with no
// variable values and an empty environment.
func load(t *testing.T, text []byte) *suite.Suite {
	t.Helper()
	l := suite.NewLoader(suite.Options{Environ: []string{}, Validate: true})
	s, diags := l.LoadSource("starter.hcl", text)
	if diags.HasErrors() {
		var b bytes.Buffer
		l.WriteDiagnostics(&b, diags, false, 100)
		t.Fatalf("the written suite does not validate:\n%s\n--- suite:\n%s", b.String(), text)
	}
	return s
}

func labels(s *suite.Suite) []string {
	var out []string
	for _, c := range s.AllChecks() {
		out = append(out, c.Label())
	}
	return out
}

func dnsCheck(t *testing.T, s *suite.Suite, label string) *suite.DNSCheck {
	t.Helper()
	for _, c := range s.DNSChecks {
		if c.Label == label {
			return c
		}
	}
	t.Fatalf("no dns check %q in %q", label, labels(s))
	return nil
}

func TestStarterSuites(t *testing.T) {
	for _, tc := range []struct {
		name    string
		records []string
		// labels are the checks the suite holds, in file order.
		labels []string
		// mxContains is what the MX check's contains must be.
		mxContains []string
		tls        bool // the MX check expects TLS 1.2 or later
		says       []string
	}{{
		name: "Exchange Online MX",
		records: []string{
			"contoso.test. 300 IN MX 0 contoso-test.mail.protection.outlook.com.",
			`contoso.test. 300 IN TXT "v=spf1 include:spf.protection.outlook.com -all"`,
			`_dmarc.contoso.test. 300 IN TXT "v=DMARC1; p=quarantine; rua=mailto:d@contoso.test"`,
		},
		labels: []string{"MX points at Exchange Online", "SPF includes Exchange Online", "DMARC policy is quarantine",
			"MX answers on port 25", "egress IP is on no blocklist", "submission offers STARTTLS and AUTH"},
		mxContains: []string{"contoso-test.mail.protection.outlook.com"},
		tls:        true,
		says:       []string{"MX: 0 contoso-test.mail.protection.outlook.com (Exchange Online)"},
	}, {
		name: "DNSSEC-signed Exchange Online MX, SPF through a nested include",
		records: []string{
			"contoso.test. 300 IN MX 0 contoso-test.o-v1.mx.microsoft.",
			`contoso.test. 300 IN TXT "v=spf1 include:_spf.contoso.test ~all"`,
			`_spf.contoso.test. 300 IN TXT "v=spf1 ip4:192.0.2.1 include:spf.protection.outlook.com -all"`,
			`_dmarc.contoso.test. 300 IN TXT "v=DMARC1; p=reject"`,
		},
		labels: []string{"MX points at Exchange Online", "SPF includes Exchange Online", "DMARC policy is reject",
			"MX answers on port 25", "egress IP is on no blocklist", "submission offers STARTTLS and AUTH"},
		mxContains: []string{"contoso-test.o-v1.mx.microsoft"},
		tls:        true,
		says:       []string{"(Exchange Online, DNSSEC-signed form)"},
	}, {
		name: "a filtering service in front, no DMARC",
		records: []string{
			"contoso.test. 300 IN MX 20 mx2.filter.test.",
			"contoso.test. 300 IN MX 10 mx1.filter.test.",
			`contoso.test. 300 IN TXT "v=spf1 include:spf.filter.test ~all"`,
			`contoso.test. 300 IN TXT "google-site-verification=abc"`,
		},
		labels: []string{"MX points where it did", "SPF record is published", "DMARC record is published",
			"MX answers on port 25", "egress IP is on no blocklist", "submission offers STARTTLS and AUTH"},
		mxContains: []string{"mx1.filter.test", "mx2.filter.test"},
		says: []string{"mx1.filter.test is not an Exchange Online host", "does not include spf.protection.outlook.com",
			"DMARC: _dmarc.contoso.test has no DMARC record"},
	}, {
		name:    "no MX, no SPF",
		records: []string{"contoso.test. 300 IN A 192.0.2.1"},
		labels: []string{"domain has an MX record", "SPF record is published", "DMARC record is published",
			"MX answers on port 25", "egress IP is on no blocklist", "submission offers STARTTLS and AUTH"},
		says: []string{"MX: contoso.test has no MX records", "so this check fails until an MX is published",
			"no usable SPF record"},
	}, {
		name:    "null MX",
		records: []string{"contoso.test. 300 IN MX 0 ."},
		labels: []string{"domain has an MX record", "SPF record is published", "DMARC record is published",
			"MX answers on port 25", "egress IP is on no blocklist", "submission offers STARTTLS and AUTH"},
		says: []string{"null MX (RFC 7505)"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, r := zone(t, tc.records...)
			facts, err := Discover(context.Background(), r, "contoso.test")
			if err != nil {
				t.Fatal(err)
			}
			text := Render(facts, Options{File: "contoso.test.hcl"})
			s := load(t, text)
			if got := labels(s); strings.Join(got, "|") != strings.Join(tc.labels, "|") {
				t.Errorf("checks = %q\nwant     %q", got, tc.labels)
			}
			// What the comments say, unfolded.
			unfolded := strings.NewReplacer("\n#     ", " ", "\n#   ", " ", "\n# ", " ").Replace(string(text))
			for _, want := range tc.says {
				if !strings.Contains(unfolded, want) {
					t.Errorf("the suite does not say %q:\n%s", want, text)
				}
			}
			if tc.mxContains != nil {
				mx := s.DNSChecks[0]
				if mx.Type != "MX" || mx.Name != "contoso.test" || mx.Expect == nil ||
					strings.Join(mx.Expect.Contains, "|") != strings.Join(tc.mxContains, "|") {
					t.Errorf("MX check = %+v, want contains %q", mx, tc.mxContains)
				}
			}
			smtp := s.Checks[0]
			if smtp.Endpoint.MX != "contoso.test" || smtp.Endpoint.Port != 25 {
				t.Errorf("MX check's endpoint = %+v", smtp.Endpoint)
			}
			if got := smtp.Expect.TLSVersion != nil; got != tc.tls {
				t.Errorf("MX check expects a TLS version: %v, want %v", got, tc.tls)
			}
			bl := s.DNSBLChecks[0]
			if bl.ClientIPOf != "MX answers on port 25" || bl.Expect == nil || bl.Expect.Listed == nil || *bl.Expect.Listed {
				t.Errorf("dnsbl check = %+v", bl)
			}
			if sub := s.Checks[1]; sub.Endpoint.Host != "smtp.office365.com" || sub.Endpoint.Port != 587 || sub.Auth != nil {
				t.Errorf("submission check = %+v (auth %+v)", sub.Endpoint, sub.Auth)
			}
			if len(s.Devices) != 0 {
				t.Errorf("the device block is not commented out")
			}
			checkLayout(t, text)

			// The commented-out blocks, enabled, validate too and are what
			// their comments say.
			live := load(t, Render(facts, Options{File: "contoso.test.hcl", Live: true}))
			if n := len(live.Checks); n != 3 {
				t.Fatalf("live suite has %d smtp checks, want 3", n)
			}
			auth := live.Checks[2]
			if auth.Label != labelAuth || auth.Auth == nil || auth.Endpoint.Host != "smtp.office365.com" || auth.MailFrom != nil {
				t.Errorf("AUTH check = %+v", auth)
			}
			if len(live.Devices) != 1 || live.Devices[0].Label != "copier" {
				t.Errorf("devices = %+v", live.Devices)
			}
		})
	}
}

// checkLayout: the file is as hclwrite.Format formats it, every line fits
// 80 columns, and no line ends in spaces.
func checkLayout(t *testing.T, text []byte) {
	t.Helper()
	if formatted := hclwrite.Format(text); !bytes.Equal(formatted, text) {
		t.Errorf("the suite is not formatted as hclwrite.Format formats it")
	}
	for i, line := range strings.Split(string(text), "\n") {
		if len([]rune(line)) > 80 {
			t.Errorf("line %d has %d columns: %s", i+1, len([]rune(line)), line)
		}
		if strings.TrimRight(line, " \t") != line {
			t.Errorf("line %d ends in spaces: %q", i+1, line)
		}
	}
}

// The suite says how DNS was asked and how to run it with the same resolver.
func TestHead(t *testing.T) {
	_, r := zone(t, "contoso.test. 300 IN MX 0 contoso-test.mail.protection.outlook.com.")
	facts, err := Discover(context.Background(), r, "Contoso.Test.")
	if err != nil {
		t.Fatal(err)
	}
	text := string(Render(facts, Options{File: "suites/contoso.hcl", Resolver: "127.0.0.1:5354"}))
	for _, want := range []string{
		"# Starter suite for contoso.test, written by smtpdiag init on 2026-12-04",
		"(asked " + r.Servers[0] + ")",
		"#   smtpdiag validate suites/contoso.hcl\n",
		"#   smtpdiag run --resolver 127.0.0.1:5354 suites/contoso.hcl\n",
		"#   DMARC: _dmarc.contoso.test has no DMARC record",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the head does not say %q:\n%s", want, text)
		}
	}
	text = string(Render(facts, Options{File: "my suites/contoso.hcl"}))
	if !strings.Contains(text, "#   smtpdiag run 'my suites/contoso.hcl'\n") {
		t.Errorf("a path with a space is not quoted for the shell:\n%s", text)
	}
}

// What DNS answers cannot add a block or an attribute to the file: a TXT
// record with newlines, quotes and template sequences, an MX host with odd
// characters, and more MX records than the suite names.
func TestHostileAnswers(t *testing.T) {
	records := []string{
		`contoso.test. 300 IN TXT "v=spf1 include:spf.protection.outlook.com \010smtp \"x\" { endpoint = endpoint.mx } ${var.password} %{if true}x%{endif} -all"`,
		`_dmarc.contoso.test. 300 IN TXT "v=DMARC1; p=reject\010dns \"y\" {}"`,
		`contoso.test. 300 IN MX 0 a\"b\${x}.mail.protection.outlook.com.`,
	}
	for i := range 40 {
		records = append(records, fmt.Sprintf("contoso.test. 300 IN MX %d mx%02d.contoso.test.", i+1, i))
	}
	_, r := zone(t, records...)
	facts, err := Discover(context.Background(), r, "contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	text := Render(facts, Options{})
	s := load(t, text)
	// The DMARC policy tag runs into the injected text, so it is no
	// policy dmarc_policy knows: the suite only asks for a DMARC record.
	want := []string{"MX points at Exchange Online", "SPF includes Exchange Online", "DMARC record is published",
		"MX answers on port 25", "egress IP is on no blocklist", "submission offers STARTTLS and AUTH"}
	if got := labels(s); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("checks = %q\nwant     %q\n%s", got, want, text)
	}
	mx := dnsCheck(t, s, "MX points at Exchange Online")
	if n := len(mx.Expect.Contains); n != maxMX {
		t.Errorf("the MX check names %d hosts, want %d", n, maxMX)
	}
	if first := mx.Expect.Contains[0]; !strings.Contains(first, `${x}`) || !strings.Contains(first, `"`) {
		t.Errorf("the odd MX host was not kept as it is: %q", first)
	}
	if !bytes.Contains(text, []byte("MX: and 31 more")) {
		t.Errorf("the head does not count the MX records left out:\n%s", text)
	}
	for i, line := range strings.Split(string(text), "\n") {
		if strings.Contains(line, "endpoint = endpoint.mx }") && !strings.HasPrefix(line, "#") {
			t.Errorf("line %d: a TXT record's text escaped its comment: %s", i+1, line)
		}
	}
}

func TestDiscoverFailures(t *testing.T) {
	t.Run("NXDOMAIN", func(t *testing.T) {
		_, r := zone(t, "other.test. 300 IN A 192.0.2.1")
		_, err := Discover(context.Background(), r, "contoso.test")
		var le *LookupError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), "NXDOMAIN") {
			t.Fatalf("err = %v, want a LookupError saying NXDOMAIN", err)
		}
	})
	t.Run("SERVFAIL", func(t *testing.T) {
		srv, r := zone(t)
		srv.SetRcode("contoso.test", mdns.RcodeServerFailure)
		_, err := Discover(context.Background(), r, "contoso.test")
		var le *LookupError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), "SERVFAIL") {
			t.Fatalf("err = %v, want a LookupError saying SERVFAIL", err)
		}
	})
	t.Run("no answer", func(t *testing.T) {
		srv, r := zone(t)
		srv.Silence("contoso.test")
		r.Timeout = 200 * time.Millisecond
		_, err := Discover(context.Background(), r, "contoso.test")
		var le *LookupError
		if !errors.As(err, &le) {
			t.Fatalf("err = %v, want a LookupError", err)
		}
	})
	t.Run("not a domain", func(t *testing.T) {
		srv, r := zone(t)
		_, err := Discover(context.Background(), r, "scanner@contoso.test")
		var de *DomainError
		if !errors.As(err, &de) {
			t.Fatalf("err = %v, want a DomainError", err)
		}
		if q := srv.Queries(); len(q) != 0 {
			t.Errorf("DNS was asked %q for a name that is not a domain", q)
		}
	})
}
