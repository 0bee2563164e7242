package suite

import (
	"strings"
	"testing"
)

// migrationLike is a suite in the shape of suites/basic-auth-migration.hcl:
// each path's check enabled only when its credentials are set, the
// credentials' defaults read the environment.
const migrationLike = `
variable "password" {
  sensitive = true
  default   = env("SMTP_PASSWORD")
}
variable "client_id" {
  default = env("SMTP_OAUTH_CLIENT_ID")
}
variable "client_secret" {
  sensitive = true
  default   = env("SMTP_OAUTH_CLIENT_SECRET")
}
variable "check_mx" {
  type    = bool
  default = true
}
endpoint "submission" {
  host = "smtp.office365.com"
  port = 587
}
endpoint "mx" {
  host = "contoso-com.mail.protection.outlook.com"
}
smtp "Basic auth" {
  path    = "basic_auth"
  enabled = var.password != ""
  endpoint = endpoint.submission
  auth {
    username = "scanner@contoso.com"
    password = var.password
  }
  expect {
    auth = 235
  }
}
smtp "OAuth" {
  enabled  = var.client_id != "" && var.client_secret != ""
  path     = "oauth"
  endpoint = endpoint.submission
  auth {
    username = "scanner@contoso.com"
    oauth {
      tenant        = "contoso.com"
      client_id     = var.client_id
      client_secret = var.client_secret
    }
  }
  expect {
    auth = 235
  }
}
smtp "Direct Send" {
  path      = "direct_send"
  endpoint  = endpoint.mx
  mail_from = "scanner@contoso.com"
  rcpt_to   = ["helpdesk@contoso.com"]
}
dns "MX record" {
  enabled = var.check_mx
  name    = "contoso.com"
  type    = "MX"
}
dnsbl "egress IP" {
  enabled = var.check_mx
  ip      = smtp["Direct Send"].client_ip
}
`

// TestEnabledFalseSkipsTheBody: a check whose enabled is false is not
// decoded further, so that its oauth block with empty credentials is no
// error; it keeps its label and path and says why in the expression's
// own words. Set, the credentials make the same block decode.
func TestEnabledFalseSkipsTheBody(t *testing.T) {
	s := load(t, Options{}, "m.hcl", migrationLike)
	if len(s.Checks) != 3 {
		t.Fatalf("%d smtp checks", len(s.Checks))
	}
	basic, oauth, direct := s.Checks[0], s.Checks[1], s.Checks[2]
	if basic.Disabled != `enabled = var.password != ""` || basic.Path != "basic_auth" || basic.Auth != nil || basic.Endpoint != nil {
		t.Errorf("basic: disabled %q, path %q, auth %+v, endpoint %+v", basic.Disabled, basic.Path, basic.Auth, basic.Endpoint)
	}
	if oauth.Disabled != `enabled = var.client_id != "" && var.client_secret != ""` || oauth.Path != "oauth" || oauth.Expect != nil {
		t.Errorf("oauth: disabled %q, path %q, expect %+v", oauth.Disabled, oauth.Path, oauth.Expect)
	}
	if direct.Disabled != "" || direct.Path != "direct_send" || direct.Endpoint == nil || len(direct.RcptTo) != 1 {
		t.Errorf("direct send: %+v", direct)
	}
	if c := (Check{SMTP: oauth}); c.Disabled() != oauth.Disabled || c.Path() != "oauth" {
		t.Errorf("Check: %q %q", c.Disabled(), c.Path())
	}

	s = load(t, Options{Environ: []string{"SMTP_PASSWORD=Pa55-word", "SMTP_OAUTH_CLIENT_ID=11111111-2222-4333-8444-555555555555",
		"SMTP_OAUTH_CLIENT_SECRET=a-client-secret"}, Vars: []string{"check_mx=false"}}, "m.hcl", migrationLike)
	basic, oauth = s.Checks[0], s.Checks[1]
	if basic.Disabled != "" || basic.Auth == nil || basic.Auth.Password != "Pa55-word" || basic.Expect == nil {
		t.Errorf("basic with a password: %+v", basic)
	}
	if oauth.Disabled != "" || oauth.Auth == nil || oauth.Auth.OAuth == nil || oauth.Auth.OAuth.ClientSecret != "a-client-secret" {
		t.Errorf("oauth with credentials: %+v", oauth)
	}
	dns, dnsbl := s.DNSChecks[0], s.DNSBLChecks[0]
	if dns.Disabled != "enabled = var.check_mx" || dns.Name != "" || dnsbl.Disabled != "enabled = var.check_mx" || dnsbl.ClientIPOf != "" {
		t.Errorf("dns %+v, dnsbl %+v", dns, dnsbl)
	}
	for _, c := range s.AllChecks() {
		if (c.Disabled() != "") != (c.Kind() != "smtp") {
			t.Errorf("%s %q: disabled %q", c.Kind(), c.Label(), c.Disabled())
		}
	}

	// enabled = true, and an enabled of the literal false.
	s = load(t, Options{}, "t.hcl", `
endpoint "e" { host = "127.0.0.1" }
smtp "on" {
  enabled  = true
  endpoint = endpoint.e
}
smtp "off" {
  enabled  = false
  endpoint = endpoint.e
  auth {
    username = ""
  }
}
`)
	if s.Checks[0].Disabled != "" || s.Checks[0].Endpoint == nil || s.Checks[1].Disabled != "enabled = false" {
		t.Errorf("on %+v, off %+v", s.Checks[0], s.Checks[1])
	}
}

// TestEnabledUnknownDecodesUnderValidate: smtpdiag validate has no
// values, so an enabled that depends on one is not known and the block
// is checked as if enabled; a known false skips it there too.
func TestEnabledUnknownDecodesUnderValidate(t *testing.T) {
	s := load(t, Options{Validate: true}, "m.hcl", migrationLike)
	for _, c := range s.Checks {
		if c.Disabled != "" || c.Endpoint == nil || c.Expect == nil && c.Path != "direct_send" {
			t.Errorf("validate: check %q was not decoded: %+v", c.Label, c)
		}
	}
	if s.Checks[1].Auth == nil || s.Checks[1].Auth.OAuth == nil {
		t.Errorf("validate: the oauth block was not decoded")
	}
	if s.DNSChecks[0].Disabled != "" || s.DNSChecks[0].Name != "contoso.com" {
		t.Errorf("validate: a fixed enabled = true: %+v", s.DNSChecks[0])
	}

	// Decoded under validate, the block's errors are found.
	src := `
variable "client_id" {
  default = env("SMTP_OAUTH_CLIENT_ID")
}
endpoint "e" { host = "127.0.0.1" }
smtp "OAuth" {
  enabled  = var.client_id != ""
  endpoint = endpoint.e
  auth {
    username = "scanner@contoso.com"
    oauth {
      tenant    = "contoso.com"
      client_id = var.client_id
    }
  }
}
`
	out := loadDiags(t, Options{Validate: true}, src)
	for _, want := range []string{"test.hcl:11:5: Error: Missing client_secret or certificate"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate: want %q in:\n%s", want, out)
		}
	}
	// The same file under run, without the environment variable: the
	// block is disabled and nothing in it is an error.
	if out := loadDiags(t, Options{}, src); out != "" {
		t.Errorf("run without SMTP_OAUTH_CLIENT_ID:\n%s", out)
	}
}

// TestEnabledErrors: a non-bool enabled is an error at its position, and
// a disabled block is still held to the names its kind has.
func TestEnabledErrors(t *testing.T) {
	out := loadDiags(t, Options{}, `
endpoint "e" { host = "127.0.0.1" }
smtp "a" {
  enabled  = "maybe"
  endpoint = endpoint.e
}
smtp "b" {
  enabled  = false
  endpoint = endpoint.e
  auth {
    username = "x"
    oauth {
      clinet_id = "x"
    }
  }
  expct {
  }
}
dns "c" {
  enabled = false
  nmae    = "contoso.com"
}
dnsbl "d" {
  enabled = false
}
`)
	for _, want := range []string{
		`test.hcl:4:14: Error: Incorrect attribute value type`,
		`test.hcl:13:7: Error: Unsupported argument`,
		`Did you mean "client_id"?`,
		`test.hcl:16:3: Error: Unsupported block type`,
		`test.hcl:21:3: Error: Unsupported argument`,
		`test.hcl:23:11: Error: Missing required argument`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	// A disabled block's values are not evaluated: no error about the
	// empty username, none about the oauth block's missing tenant.
	for _, not := range []string{"Invalid username", "Missing client_secret"} {
		if strings.Contains(out, not) {
			t.Errorf("a disabled block was decoded (%q):\n%s", not, out)
		}
	}
}

// TestDisabledReasonIsOneLine: the expression's text is quoted on one
// line, and a long one is cut.
func TestDisabledReasonIsOneLine(t *testing.T) {
	long := strings.Repeat(`"x" == "y" || `, 30) + "false"
	s := load(t, Options{}, "t.hcl", `
smtp "multi" {
  enabled = (
    1 == 2
  )
  endpoint = endpoint.e
}
smtp "long" {
  enabled  = `+long+`
  endpoint = endpoint.e
}
`)
	if got := s.Checks[0].Disabled; got != "enabled = ( 1 == 2 )" {
		t.Errorf("multi-line: %q", got)
	}
	got := s.Checks[1].Disabled
	if !strings.HasSuffix(got, "…") || len(got) > len("enabled = ")+maxDisabledText+len("…") || !strings.HasPrefix(got, `enabled = "x" == "y" ||`) {
		t.Errorf("long: %q", got)
	}
}

// TestPath: path names one of PathIDs, at most once per suite; a wrong or
// second one is an error at its value, the second naming the first.
func TestPath(t *testing.T) {
	s := load(t, Options{}, "t.hcl", `
endpoint "e" { host = "127.0.0.1" }
smtp "a" {
  path     = "hve"
  endpoint = endpoint.e
}
smtp "b" {
  endpoint = endpoint.e
}
`)
	if s.Checks[0].Path != "hve" || s.Checks[1].Path != "" {
		t.Errorf("paths %q %q", s.Checks[0].Path, s.Checks[1].Path)
	}
	out := loadDiags(t, Options{}, `
endpoint "e" { host = "127.0.0.1" }
smtp "a" {
  path     = "oauth"
  endpoint = endpoint.e
}
smtp "b" {
  enabled  = false
  path     = "oauth"
  endpoint = endpoint.e
}
smtp "c" {
  path     = "oauth2"
  endpoint = endpoint.e
}
dns "d" {
  path = "connector"
  name = "contoso.com"
  type = "MX"
}
`)
	for _, want := range []string{
		"test.hcl:9:14: Error: Duplicate path",
		`The smtp check at test.hcl:3:1 already proves the path "oauth"`,
		"test.hcl:13:14: Error: Invalid path",
		`Did you mean "oauth"?`,
		"test.hcl:17:3: Error: Unsupported argument",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
}
