// Package suites_test checks the ready-made suites: each one decodes with
// the real Microsoft defaults (as `smtpdiag validate` would in CI), and
// each one is run against the Exchange-Online-like simulator and an
// in-process DNS server on loopback (the tenant's MX, SPF and PTR records
// and the default blocklist zones), where it must pass, and must fail,
// with the right diagnosis, when the simulator or the DNS data plays the
// problem the suite is meant to catch. No lookup reaches another resolver.
package suites_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/assertions"
	"github.com/smtpdiag/smtpdiag/internal/dns/dnstest"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/simulator"
	"github.com/smtpdiag/smtpdiag/internal/suite"
	"github.com/smtpdiag/smtpdiag/runner"
)

// identity are the values a user must give (no defaults): tenant domain,
// device identity, recipients, IPs.
var identity = map[string][]string{
	"m365-smtp-auth.hcl":       {"domain=contoso.com", "username=scanner@contoso.com", "password=not-used", `recipients=["helpdesk@contoso.com"]`},
	"m365-direct-send.hcl":     {"domain=contoso.com", "sender=scanner@contoso.com", "internal_recipient=helpdesk@contoso.com", "external_recipient=someone@fabrikam.com"},
	"m365-relay-connector.hcl": {"domain=contoso.com", "connector_ip=203.0.113.5", "sender=scanner@contoso.com", "external_recipient=partner@fabrikam.com"},
	"mx-vs-auth.hcl":           {"domain=contoso.com", "sender=scanner@contoso.com", "internal_recipient=helpdesk@contoso.com"},
	"basic-auth-readiness.hcl": {"username=scanner@contoso.com", "password=not-used"},
	"isp-cutover.hcl":          {"domain=contoso.com", "egress_ip=203.0.113.5"},
	"basic-auth-migration.hcl": {"domain=contoso.com", "mailbox=scanner@contoso.com",
		"internal_recipient=helpdesk@contoso.com", "external_recipient=someone@fabrikam.com"},
}

// microsoftHosts are the hosts the ready-made suites connect to by
// default: client submission, the tenant's MX endpoint, HVE and the ACS
// relay (the last two in basic-auth-migration.hcl only).
var microsoftHosts = map[string]bool{
	"smtp.office365.com": true, "contoso-com.mail.protection.outlook.com": true,
	"smtp.hve.mx.microsoft": true, "smtp.azurecomm.net": true,
}

func suiteFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no suites: %v", err)
	}
	sort.Strings(files)
	return files
}

func load(t *testing.T, file string, vars []string) (*suite.Suite, string) {
	t.Helper()
	l := suite.NewLoader(suite.Options{Vars: vars, Environ: []string{}})
	s, diags := l.LoadFile(file)
	if diags.HasErrors() {
		var b bytes.Buffer
		_ = l.WriteDiagnostics(&b, diags, false, 100)
		return nil, b.String()
	}
	return s, ""
}

// TestSuitesValidateWithMicrosoftDefaults decodes every suite with only the
// identity variables set: hosts and ports are Microsoft's, DNS checks ask
// the run's resolver (so that --resolver reaches them) about the tenant's
// domain or the egress IP, and every suite that talks to the tenant's MX
// endpoint also checks that the domain's MX record points at Exchange
// Online.
func TestSuitesValidateWithMicrosoftDefaults(t *testing.T) {
	for _, file := range suiteFiles(t) {
		t.Run(file, func(t *testing.T) {
			vars, ok := identity[file]
			if !ok {
				t.Fatalf("%s has no identity values in this test (and no run against the simulator)", file)
			}
			s, problems := load(t, file, vars)
			if s == nil {
				t.Fatalf("does not validate:\n%s", problems)
			}
			usesMX := false
			for _, c := range s.Checks {
				if c.Disabled != "" {
					// Not decoded without its credentials; see
					// TestMigrationSuite for its defaults.
					continue
				}
				host := c.Endpoint.Host
				if !microsoftHosts[host] {
					t.Errorf("check %q: default host %q", c.Label, host)
				}
				usesMX = usesMX || strings.HasSuffix(host, ".mail.protection.outlook.com")
				if c.Endpoint.Port != 25 && c.Endpoint.Port != 587 {
					t.Errorf("check %q: default port %d", c.Label, c.Endpoint.Port)
				}
				if c.Endpoint.CAFile != "" {
					t.Errorf("check %q: a ca_file by default", c.Label)
				}
			}
			checksMX := false
			for _, c := range s.DNSChecks {
				if c.Resolver != "" {
					t.Errorf("dns check %q asks %s, not the run's resolver", c.Label, c.Resolver)
				}
				if c.Name != "contoso.com" && c.Name != "203.0.113.5" {
					t.Errorf("dns check %q asks about %q", c.Label, c.Name)
				}
				if c.Type == "MX" && c.Name == "contoso.com" {
					checksMX = true
				}
			}
			if usesMX && !checksMX {
				t.Errorf("%s connects to the tenant MX endpoint but does not check the MX record", file)
			}
			for _, c := range s.DNSBLChecks {
				if c.Resolver != "" || c.Zones != nil || c.DQSKey != "" {
					t.Errorf("dnsbl check %q: resolver %q, zones %v, a DQS key %t; want the defaults",
						c.Label, c.Resolver, c.Zones, c.DQSKey != "")
				}
			}
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(src, []byte("# ")) || !bytes.Contains(src, []byte("When to use it:")) {
				t.Errorf("%s: no header comment saying when to use it", file)
			}
			if !bytes.Contains(src, []byte("https://")) {
				t.Errorf("%s: names no source", file)
			}
		})
	}
}

// TestMXExpectationAcceptsBothExchangeForms: the suites' MX check accepts
// the tenant's host under mail.protection.outlook.com and under
// mx.microsoft, and nothing that does not start with the tenant's name.
func TestMXExpectationAcceptsBothExchangeForms(t *testing.T) {
	records := []struct {
		mx string
		ok bool
	}{
		{"0 contoso-com.mail.protection.outlook.com.", true},
		{"0 CONTOSO-COM.MAIL.PROTECTION.OUTLOOK.COM.", true},
		{"0 contoso-com.r-v1.mx.microsoft.", true},
		{"10 contoso-com.mail.protection.outlook.com.", true},
		{"10 eu-smtp-inbound-1.mimecast.com.", false},
		{"1 aspmx.l.google.com.", false},
		{"0 fabrikam-com.mail.protection.outlook.com.", false},
		{"0 notcontoso-com.mail.protection.outlook.com.", false},
		{"10 mail.contoso.com.", false},
	}
	for _, file := range suiteFiles(t) {
		s, problems := load(t, file, identity[file])
		if s == nil {
			t.Fatalf("%s does not validate:\n%s", file, problems)
		}
		for _, c := range s.DNSChecks {
			if c.Type != "MX" {
				continue
			}
			for _, r := range records {
				out := &result.DNSOutcome{Name: c.Name, Type: "MX", Rcode: "NOERROR", Records: []string{r.mx}}
				failures := assertions.EvaluateDNS(c.Expect, out)
				if (len(failures) == 0) != r.ok {
					t.Errorf("%s: %q with MX %q: failures %v, want accepted %t", file, c.Label, r.mx, failures, r.ok)
				}
			}
		}
	}
}

// TestSuitesRequireIdentity: without the tenant's values a suite does not
// run against contoso.com by accident.
func TestSuitesRequireIdentity(t *testing.T) {
	for _, file := range suiteFiles(t) {
		if s, _ := load(t, file, nil); s != nil {
			t.Errorf("%s validates without the identity variables", file)
		}
	}
}

// sim is the simulator the run tests share, and the -var values that point
// a suite at it.
type sim struct {
	*simulator.Simulator
	vars   []string
	closed string // a loopback port nothing listens on
}

func startSimulator(t *testing.T) *sim {
	t.Helper()
	s, err := simulator.Start(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ca, err := s.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	subHost, subPort, _ := net.SplitHostPort(s.SubmissionAddr)
	mxHost, mxPort, _ := net.SplitHostPort(s.MXAddr)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, closed, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return &sim{Simulator: s, closed: closed, vars: []string{
		"submission_host=" + subHost, "submission_port=" + subPort,
		"mx_host=" + mxHost, "mx_port=" + mxPort,
		"ca_file=" + ca, "device_helo=scanner01.contoso.com",
	}}
}

// tenantDNS are the records the in-process DNS server serves, by part:
// contoso.com as the domain of an Exchange Online tenant whose devices
// send from 127.0.0.1 (the address the simulator echoes), its SPF record
// allowing that address, forward-confirmed reverse DNS for it, and the
// default blocklist zones with only their RFC 5782 section 5 test entry
// (127.0.0.2) listed. A scenario replaces whole parts.
func tenantDNS() map[string][]string {
	return map[string][]string{
		"mx": {
			"contoso.com. 300 IN MX 0 contoso-com.mail.protection.outlook.com.",
			"contoso-com.mail.protection.outlook.com. 300 IN A 127.0.0.1",
		},
		"spf": {
			`contoso.com. 300 IN TXT "v=spf1 ip4:127.0.0.1 include:spf.protection.outlook.com -all"`,
			`contoso.com. 300 IN TXT "MS=ms12345678"`,
			`spf.protection.outlook.com. 300 IN TXT "v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 -all"`,
		},
		"ptr": {
			"1.0.0.127.in-addr.arpa. 300 IN PTR static-1.line.isp.example.",
			"static-1.line.isp.example. 300 IN A 127.0.0.1",
		},
		"dnsbl": blocklists(),
	}
}

// blocklists are the default zones with their test entry, plus extra.
func blocklists(extra ...string) []string {
	var out []string
	for _, zone := range []string{"zen.spamhaus.org", "b.barracudacentral.org", "bl.spamcop.net"} {
		out = append(out, "2.0.0.127."+zone+". 300 IN A 127.0.0.2")
	}
	return append(out, extra...)
}

// pblListing puts 127.0.0.1 in the lab's zen.spamhaus.org as a
// Spamhaus-maintained PBL entry (127.0.0.11).
var pblListing = blocklists(
	"1.0.0.127.zen.spamhaus.org. 300 IN A 127.0.0.11",
	`1.0.0.127.zen.spamhaus.org. 300 IN TXT "https://check.spamhaus.org/query/ip/127.0.0.1"`,
)

// startDNS starts the in-process DNS server with the tenant's records,
// parts replaced by over.
func startDNS(t *testing.T, over map[string][]string) *dnstest.Server {
	t.Helper()
	srv, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	parts := tenantDNS()
	for k, v := range over {
		if _, ok := parts[k]; !ok {
			t.Fatalf("no DNS part %q", k)
		}
		parts[k] = v
	}
	for _, records := range parts {
		if err := srv.Add(records...); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

// want is the expected verdict of one check; for a failure, the diagnosis
// category ("" for none) and substrings of the first failure, diagnosis
// summary and meaning.
type want struct {
	status   result.Status
	category result.Category
	evidence []string
}

func pass() want { return want{status: result.Passed} }
func skip() want { return want{status: result.Skipped} }
func fail(cat result.Category, evidence ...string) want {
	return want{status: result.Failed, category: cat, evidence: evidence}
}

// with returns the verdicts of base with some replaced.
func with(base map[string]want, changes map[string]want) map[string]want {
	out := map[string]want{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range changes {
		if _, ok := out[k]; !ok {
			panic("no check " + k)
		}
		out[k] = v
	}
	return out
}

const tenantMX = "tenant MX points at Exchange Online"

var (
	cutoverVars = []string{"domain=contoso.com", "egress_ip=127.0.0.1"}
	cutoverPass = map[string]want{
		"outbound port 25 reaches the MX endpoint":     pass(),
		"outbound port 587 reaches smtp.office365.com": pass(),
		"MX endpoint sees the new egress IP":           pass(),
		"smtp.office365.com sees the new egress IP":    pass(),
		tenantMX:                pass(),
		"SPF allows the new IP": pass(),
		"new IP has forward-confirmed reverse DNS": pass(),
		"egress IP is on no blocklist":             pass(),
	}
	directSendVars = []string{"domain=contoso.com", "sender=scanner@contoso.com",
		"internal_recipient=helpdesk@contoso.com", "external_recipient=someone@fabrikam.com"}
	directSendPass = map[string]want{
		"internal recipient is accepted without AUTH":                  pass(),
		"external recipient is refused (Direct Send is internal only)": pass(),
		tenantMX: pass(),
	}
	migrationVars = []string{"domain=contoso.com", "mailbox=scanner@contoso.com",
		"internal_recipient=helpdesk@contoso.com", "external_recipient=partner@fabrikam.com"}
	// The simulator has no connector: it refuses every external
	// recipient with 5.7.64. No OAuth or ACS credentials: not tested.
	migrationWant = map[string]want{
		"Basic auth: the mailbox signs in with its password":                      pass(),
		"OAuth: the app signs in for the mailbox with XOAUTH2":                    skip(),
		"HVE: the HVE account signs in":                                           pass(),
		"ACS relay: the SMTP user signs in with the app's client secret":          skip(),
		"Direct Send: the MX endpoint accepts an internal recipient without AUTH": pass(),
		"Connector: the MX endpoint relays to an external recipient":              fail(result.Configuration, "550 5.7.64"),
		tenantMX: pass(),
	}
	mxVsAuthPass = map[string]want{
		"MX endpoint offers STARTTLS but never AUTH":             pass(),
		"submission offers AUTH only after STARTTLS":             pass(),
		"MX endpoint accepts an internal recipient without AUTH": pass(),
		"submission refuses MAIL FROM without AUTH (530 5.7.57)": pass(),
		tenantMX: pass(),
	}
)

func TestSuitesAgainstSimulator(t *testing.T) {
	s := startSimulator(t)
	subHost, subPort, _ := net.SplitHostPort(s.SubmissionAddr)
	// Only the variables a suite declares may be set.
	declared := func(file string, vars []string) []string {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range vars {
			name, _, _ := strings.Cut(v, "=")
			if bytes.Contains(src, []byte(`variable "`+name+`"`)) {
				out = append(out, v)
			}
		}
		return out
	}
	tests := []struct {
		name string
		file string
		vars []string            // on top of the simulator's
		dns  map[string][]string // DNS parts that differ from tenantDNS
		want map[string]want
	}{
		{"submission works", "m365-smtp-auth.hcl",
			[]string{"domain=contoso.com", "username=scanner@contoso.com", "password=demo-password",
				`recipients=["helpdesk@contoso.com", "partner@fabrikam.com"]`}, nil,
			map[string]want{
				"smtp.office365.com offers STARTTLS, TLS 1.2+ and AUTH only inside TLS": pass(),
				"mailbox signs in and its sender and recipients are accepted":           pass(),
			}},
		{"SMTP AUTH disabled for the mailbox", "m365-smtp-auth.hcl",
			[]string{"domain=contoso.com", "username=disabled@contoso.com", "password=demo-password", `recipients=["helpdesk@contoso.com"]`}, nil,
			map[string]want{
				"smtp.office365.com offers STARTTLS, TLS 1.2+ and AUTH only inside TLS": pass(),
				"mailbox signs in and its sender and recipients are accepted":           fail(result.Auth, "535 5.7.139"),
			}},
		{"wrong password", "m365-smtp-auth.hcl",
			[]string{"domain=contoso.com", "username=scanner@contoso.com", "password=wrong", `recipients=["helpdesk@contoso.com"]`}, nil,
			map[string]want{
				"smtp.office365.com offers STARTTLS, TLS 1.2+ and AUTH only inside TLS": pass(),
				"mailbox signs in and its sender and recipients are accepted":           fail(result.Auth, "535 5.7.3"),
			}},
		{"direct send works", "m365-direct-send.hcl", directSendVars, nil, directSendPass},
		{"direct send from a banned IP on no blocklist", "m365-direct-send.hcl",
			[]string{"domain=contoso.com", "sender=scanner@contoso.com", "internal_recipient=blocked@contoso.com", "external_recipient=someone@fabrikam.com"},
			nil,
			with(directSendPass, map[string]want{
				"internal recipient is accepted without AUTH": fail(result.Reputation, "550 5.7.606",
					"Blocklist lookup of 127.0.0.1: zen.spamhaus.org: not listed; b.barracudacentral.org: not listed; bl.spamcop.net: not listed."),
			})},
		{"direct send from a banned IP on the Spamhaus PBL", "m365-direct-send.hcl",
			[]string{"domain=contoso.com", "sender=scanner@contoso.com", "internal_recipient=blocked@contoso.com", "external_recipient=someone@fabrikam.com"},
			map[string][]string{"dnsbl": pblListing},
			with(directSendPass, map[string]want{
				"internal recipient is accepted without AUTH": fail(result.Reputation, "550 5.7.606",
					"Blocklist lookup of 127.0.0.1: zen.spamhaus.org: listed in Spamhaus PBL (Spamhaus-maintained"),
			})},
		{"direct send to a domain whose MX is elsewhere", "m365-direct-send.hcl", directSendVars,
			map[string][]string{"mx": {"contoso.com. 300 IN MX 10 eu-smtp-inbound-1.mimecast.com."}},
			with(directSendPass, map[string]want{
				tenantMX: fail(result.DNS, `no MX record of contoso.com contains " contoso-com"`, "eu-smtp-inbound-1.mimecast.com"),
			})},
		{"relay without a matching connector", "m365-relay-connector.hcl",
			// The simulator has no connectors: it refuses every external
			// recipient with 5.7.64, which is what the suite must catch.
			[]string{"domain=contoso.com", "connector_ip=127.0.0.1", "sender=scanner@contoso.com", "external_recipient=partner@fabrikam.com"}, nil,
			map[string]want{
				"the MX endpoint sees the connector IP":               pass(),
				"external recipient is relayed through the connector": fail(result.Configuration, "550 5.7.64"),
				tenantMX: pass(),
			}},
		{"relay from another IP than the connector's", "m365-relay-connector.hcl",
			[]string{"domain=contoso.com", "connector_ip=203.0.113.5", "sender=scanner@contoso.com", "external_recipient=helpdesk@contoso.com"}, nil,
			map[string]want{
				"the MX endpoint sees the connector IP":               fail("", "203.0.113.5"),
				"external recipient is relayed through the connector": fail("", "203.0.113.5"),
				tenantMX: pass(),
			}},
		{"MX vs AUTH", "mx-vs-auth.hcl",
			[]string{"domain=contoso.com", "sender=scanner@contoso.com", "internal_recipient=helpdesk@contoso.com"}, nil,
			mxVsAuthPass},
		{"MX vs AUTH, domain with its MX under mx.microsoft", "mx-vs-auth.hcl",
			[]string{"domain=contoso.com", "sender=scanner@contoso.com", "internal_recipient=helpdesk@contoso.com"},
			map[string][]string{"mx": {
				"contoso.com. 300 IN MX 0 contoso-com.r-v1.mx.microsoft.",
				"contoso-com.r-v1.mx.microsoft. 300 IN A 127.0.0.1",
			}},
			mxVsAuthPass},
		{"Basic auth still works", "basic-auth-readiness.hcl",
			[]string{"username=scanner@contoso.com", "password=demo-password"}, nil,
			map[string]want{
				"AUTH LOGIN and XOAUTH2 are offered after STARTTLS":                      pass(),
				"Basic auth (AUTH LOGIN with the password) still works for this mailbox": pass(),
			}},
		{"Basic auth switched off", "basic-auth-readiness.hcl",
			[]string{"username=disabled@contoso.com", "password=demo-password"}, nil,
			map[string]want{
				"AUTH LOGIN and XOAUTH2 are offered after STARTTLS":                      pass(),
				"Basic auth (AUTH LOGIN with the password) still works for this mailbox": fail(result.Auth, "5.7.139"),
			}},
		{"every way off Basic auth: password, HVE account, MX endpoint", "basic-auth-migration.hcl",
			append(migrationVars, "password=demo-password", "hve_host="+subHost, "hve_port="+subPort,
				"hve_account=scanner@contoso.com", "hve_password=demo-password"), nil,
			migrationWant},
		{"every way off Basic auth: SMTP AUTH off for the mailbox", "basic-auth-migration.hcl",
			append(migrationVars, "mailbox=disabled@contoso.com", "password=demo-password"), nil,
			with(migrationWant, map[string]want{
				"Basic auth: the mailbox signs in with its password": fail(result.Auth, "535 5.7.139"),
				"HVE: the HVE account signs in":                      skip(),
			})},
		{"cutover line is ready", "isp-cutover.hcl", cutoverVars, nil, cutoverPass},
		{"cutover line blocks port 25", "isp-cutover.hcl",
			append([]string{"mx_port=" + s.closed}, cutoverVars...), nil,
			with(cutoverPass, map[string]want{
				"outbound port 25 reaches the MX endpoint": fail(result.Network, "No SMTP server answered"),
				"MX endpoint sees the new egress IP":       fail(result.Network, "refused"),
			})},
		{"cutover line blocks port 587", "isp-cutover.hcl",
			append([]string{"submission_port=" + s.closed}, cutoverVars...), nil,
			with(cutoverPass, map[string]want{
				"outbound port 587 reaches smtp.office365.com": fail(result.Network, "No SMTP server answered"),
				"smtp.office365.com sees the new egress IP":    fail(result.Network, "refused"),
				// The blocklist check looks up the IP that check saw.
				"egress IP is on no blocklist": fail("", "no IP to look up", "smtp.office365.com sees the new egress IP"),
			})},
		{"new IP is on the Spamhaus PBL", "isp-cutover.hcl", cutoverVars,
			map[string][]string{"dnsbl": pblListing},
			with(cutoverPass, map[string]want{
				"egress IP is on no blocklist": fail(result.Reputation, "127.0.0.1",
					"zen.spamhaus.org: listed in Spamhaus PBL (Spamhaus-maintained", "(127.0.0.11)"),
			})},
		{"new IP is on the Spamhaus PBL, asked through DQS", "isp-cutover.hcl",
			append([]string{"spamhaus_dqs_key=lab0dqs0key0123456789"}, cutoverVars...),
			// Only the DQS zone lists the IP: the suite must ask there.
			map[string][]string{"dnsbl": blocklists(
				"1.0.0.127.lab0dqs0key0123456789.zen.dq.spamhaus.net. 300 IN A 127.0.0.10",
				`1.0.0.127.lab0dqs0key0123456789.zen.dq.spamhaus.net. 300 IN TXT "listed for key lab0dqs0key0123456789"`,
			)},
			with(cutoverPass, map[string]want{
				"egress IP is on no blocklist": fail(result.Reputation,
					"zen.spamhaus.org: listed in Spamhaus PBL (ISP-maintained", "listed for key ****"),
			})},
		{"SPF still names the old IP", "isp-cutover.hcl", cutoverVars,
			map[string][]string{"spf": {
				`contoso.com. 300 IN TXT "v=spf1 ip4:203.0.113.50 include:spf.protection.outlook.com -all"`,
				`spf.protection.outlook.com. 300 IN TXT "v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 -all"`,
			}},
			with(cutoverPass, map[string]want{
				"SPF allows the new IP": fail(result.Policy, "the SPF record of contoso.com does not allow 127.0.0.1: fail (matched -all)"),
			})},
		{"new IP has no PTR record", "isp-cutover.hcl", cutoverVars,
			map[string][]string{"ptr": nil},
			with(cutoverPass, map[string]want{
				"new IP has forward-confirmed reverse DNS": fail(result.DNS, "127.0.0.1 has no PTR record"),
			})},
		{"new IP's PTR name points elsewhere", "isp-cutover.hcl", cutoverVars,
			map[string][]string{"ptr": {
				"1.0.0.127.in-addr.arpa. 300 IN PTR static-1.line.isp.example.",
				"static-1.line.isp.example. 300 IN A 192.0.2.77",
			}},
			with(cutoverPass, map[string]want{
				"new IP has forward-confirmed reverse DNS": fail(result.DNS,
					"no PTR name of 127.0.0.1 (static-1.line.isp.example) resolves back to it"),
			})},
		{"tenant MX still at the old provider", "isp-cutover.hcl", cutoverVars,
			map[string][]string{"mx": {"contoso.com. 300 IN MX 10 mx1.old-provider.example."}},
			with(cutoverPass, map[string]want{
				tenantMX: fail(result.DNS, "mx1.old-provider.example"),
			})},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			covered[tc.file] = true
			// The test's own values come last, so that they win.
			vars := append(declared(tc.file, s.vars), tc.vars...)
			st, problems := load(t, tc.file, vars)
			if st == nil {
				t.Fatalf("does not decode:\n%s", problems)
			}
			srv := startDNS(t, tc.dns)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			opts := runner.Options{
				Timeout:  10 * time.Second,
				Resolver: srv.Addr,
				// A resolv.conf that does not exist: a lookup that did not
				// go to srv would be an error, never the machine's resolver.
				ResolvConf: filepath.Join(t.TempDir(), "no-resolv.conf"),
				DNSTimeout: 5 * time.Second,
			}
			results := runner.Run(ctx, []*suite.Suite{st}, opts, nil)
			if len(results) != 1 || len(results[0].Checks) != len(tc.want) {
				t.Fatalf("ran %d suites; want %d checks", len(results), len(tc.want))
			}
			if paths := results[0].Paths; (paths != nil) != (tc.file == "basic-auth-migration.hcl") {
				t.Errorf("decision on the ways to send: %+v", paths)
			}
			lookups := 0
			for _, c := range results[0].Checks {
				lookups += len(c.Lookups)
				for _, l := range c.Lookups {
					if l.Server != srv.Addr || l.Error != "" {
						t.Errorf("%q: %s %s asked %s (%s), not the test's DNS server %s", c.Label, l.Type, l.Name, l.Server, l.Error, srv.Addr)
					}
				}
				w, ok := tc.want[c.Label]
				if !ok {
					t.Errorf("unexpected check %q", c.Label)
					continue
				}
				if c.Status != w.status {
					t.Errorf("%q: %s, want %s (%s)", c.Label, c.Status, w.status, c.FirstFailure())
					continue
				}
				if w.status != result.Failed {
					continue
				}
				evidence := c.FirstFailure()
				if d := c.Diagnosis; d != nil {
					evidence += " | " + d.Summary + " | " + d.Meaning
				}
				if w.category != "" && (c.Diagnosis == nil || c.Diagnosis.Category != w.category) {
					t.Errorf("%q: diagnosis %+v, want category %s", c.Label, c.Diagnosis, w.category)
				}
				if strings.Contains(evidence, "lab0dqs0key") {
					t.Errorf("%q: the DQS key is not masked: %q", c.Label, evidence)
				}
				for _, e := range w.evidence {
					if !strings.Contains(evidence, e) {
						t.Errorf("%q: %q does not mention %q", c.Label, evidence, e)
					}
				}
			}
			// Every lookup the checks recorded was answered by srv.
			if got := len(srv.Queries()); got < lookups {
				t.Errorf("the checks recorded %d lookups; the test's DNS server got %d queries", lookups, got)
			}
		})
	}
	for _, file := range suiteFiles(t) {
		if !covered[file] {
			t.Errorf("%s is not run against the simulator", file)
		}
	}
	if n := s.DataCommands(); n != 0 {
		t.Errorf("the suites sent DATA %d times; none has a message block", n)
	}
}

// TestClientRepoExampleValidates: the example config repo's suites decode
// with its variable file, as its CI's validate step does.
func TestClientRepoExampleValidates(t *testing.T) {
	dir := filepath.Join("..", "examples", "client-repo")
	l := suite.NewLoader(suite.Options{
		VarFiles: []string{filepath.Join(dir, "smtpdiag.vars.hcl")},
		Environ:  []string{"SMTP_PASSWORD=validate-only"},
	})
	suites, diags := l.LoadPaths([]string{filepath.Join(dir, "suites")})
	if diags.HasErrors() || len(suites) != 2 {
		var b bytes.Buffer
		_ = l.WriteDiagnostics(&b, diags, false, 100)
		t.Fatalf("%d suites; problems:\n%s", len(suites), b.String())
	}
	kinds := map[string]int{}
	for _, s := range suites {
		for _, c := range s.Checks {
			// The submission host by name; Direct Send through the
			// domain's MX record.
			if c.Endpoint.Host != "smtp.office365.com" && c.Endpoint.MX != "contoso.com" {
				t.Errorf("%s: check %q goes to host %q, mx %q", s.Path, c.Label, c.Endpoint.Host, c.Endpoint.MX)
			}
		}
		for _, c := range s.AllChecks() {
			kinds[c.Kind()]++
		}
		for _, c := range s.DNSBLChecks {
			if c.ClientIPOf == "" {
				t.Errorf("%s: dnsbl check %q looks up a fixed IP, not the one Exchange Online saw", s.Path, c.Label)
			}
		}
	}
	if kinds["smtp"] != 3 || kinds["dns"] != 1 || kinds["dnsbl"] != 1 {
		t.Errorf("checks by kind: %v", kinds)
	}
}
