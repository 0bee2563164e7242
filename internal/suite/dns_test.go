package suite

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

const dnsSuite = `
variable "domain" {
  default = "contoso.com"
}
variable "dqs" {
  sensitive = true
  default   = "abcdefghij0123456789abcdef"
}

endpoint "mx" {
  mx   = var.domain
  port = 2525
}

dnsbl "server-seen IP is clean" {
  ip = smtp["direct send"].client_ip
}

smtp "direct send" {
  endpoint = endpoint.mx
}

dns "MX points at Exchange Online" {
  name     = "${var.domain}."
  type     = "mx"
  resolver = "127.0.0.1"
  timeout  = "2s"
  expect {
    contains     = ["mail.protection.outlook.com"]
    not_contains = "mx.microsoft"
    count        = ">= 1"
  }
}

dns "SPF and DMARC" {
  name = var.domain
  type = "TXT"
  expect {
    spf_includes = "spf.protection.outlook.com."
    spf_allows   = ["203.0.113.5", "::ffff:198.51.100.7"]
    dmarc_policy = "Reject"
  }
}

dns "egress has FCrDNS" {
  name = "203.0.113.5"
  type = "PTR"
  expect {
    forward_confirmed = true
    rcode             = "noerror"
  }
}

dnsbl "egress IP" {
  ip       = "203.0.113.5"
  zones    = ["ZEN.spamhaus.org.", "bl.example"]
  resolver = "[::1]:5353"
  dqs_key  = var.dqs
  expect {
    listed = false
  }
}
`

func TestDNSChecks(t *testing.T) {
	l := NewLoader(Options{Environ: []string{}})
	s, diags := l.LoadSource("dns.hcl", []byte(dnsSuite))
	if len(diags) > 0 {
		var b bytes.Buffer
		_ = l.WriteDiagnostics(&b, diags, false, 0)
		t.Fatalf("diagnostics:\n%s", b.String())
	}
	ep := s.Endpoints[0]
	if ep.MX != "contoso.com" || ep.Host != "" || ep.ServerName != "" || ep.Port != 2525 {
		t.Errorf("mx endpoint = %+v", ep)
	}

	var order []string
	for _, c := range s.AllChecks() {
		order = append(order, c.Kind()+":"+c.Label())
	}
	want := []string{"dnsbl:server-seen IP is clean", "smtp:direct send", "dns:MX points at Exchange Online",
		"dns:SPF and DMARC", "dns:egress has FCrDNS", "dnsbl:egress IP"}
	if !reflect.DeepEqual(order, want) || s.CheckCount() != 6 {
		t.Errorf("AllChecks = %q, want file order %q", order, want)
	}

	mx := s.DNSChecks[0]
	if mx.Name != "contoso.com" || mx.Type != "MX" || mx.Resolver != "127.0.0.1:53" || mx.Timeout.String() != "2s" {
		t.Errorf("dns MX = %+v", mx)
	}
	if e := mx.Expect; !reflect.DeepEqual(e.Contains, []string{"mail.protection.outlook.com"}) ||
		!reflect.DeepEqual(e.NotContains, []string{"mx.microsoft"}) || e.Count == nil || e.Count.Op != ">=" || e.Count.Value != 1 {
		t.Errorf("dns MX expect = %+v", e)
	}
	spf := s.DNSChecks[1].Expect
	if !reflect.DeepEqual(spf.SPFIncludes, []string{"spf.protection.outlook.com"}) ||
		!reflect.DeepEqual(spf.SPFAllows, []string{"203.0.113.5", "198.51.100.7"}) || spf.DMARCPolicy == nil || *spf.DMARCPolicy != "reject" {
		t.Errorf("SPF expect = %+v", spf)
	}
	ptr := s.DNSChecks[2]
	if ptr.Name != "203.0.113.5" || ptr.Expect.ForwardConfirmed == nil || !*ptr.Expect.ForwardConfirmed ||
		ptr.Expect.Rcode == nil || *ptr.Expect.Rcode != "NOERROR" {
		t.Errorf("PTR check = %+v %+v", ptr, ptr.Expect)
	}

	seen := s.DNSBLChecks[0]
	if seen.ClientIPOf != "direct send" || seen.IP != "" || seen.Zones != nil || seen.Expect != nil {
		t.Errorf("dnsbl from smtp = %+v", seen)
	}
	bl := s.DNSBLChecks[1]
	if bl.IP != "203.0.113.5" || !reflect.DeepEqual(bl.Zones, []string{"zen.spamhaus.org", "bl.example"}) ||
		bl.Resolver != "[::1]:5353" || bl.DQSKey != "abcdefghij0123456789abcdef" || bl.Expect.Listed == nil || *bl.Expect.Listed {
		t.Errorf("dnsbl = %+v", bl)
	}
	found := false
	for _, v := range s.Sensitive {
		found = found || v == bl.DQSKey
	}
	if !found {
		t.Errorf("the DQS key is not among the sensitive values %q", s.Sensitive)
	}
}

func TestSMTPReferenceOutsideDNSBL(t *testing.T) {
	l := NewLoader(Options{Environ: []string{}})
	_, diags := l.LoadSource("ref.hcl", []byte(`
endpoint "mx" {
  host = "127.0.0.1"
}
smtp "a" {
  endpoint = endpoint.mx
}
smtp "b" {
  endpoint  = endpoint.mx
  mail_from = smtp["a"].client_ip
}
`))
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "only be the ip of a dnsbl block") {
		t.Fatalf("diags = %v", diags)
	}
}

func TestParseResolver(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1":      "127.0.0.1:53",
		"127.0.0.1:5354": "127.0.0.1:5354",
		"::1":            "[::1]:53",
		"[::1]:53":       "[::1]:53",
		"dns.google":     "",
		"1.1.1.1:0":      "",
		"1.1.1.1:http":   "",
		"":               "",
	} {
		got, err := ParseResolver(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("ParseResolver(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
