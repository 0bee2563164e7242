package knowledge

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

var updatePathsDoc = flag.Bool("update-paths-doc", false, "rewrite docs/migration-paths.md from kb/paths/paths.json (-update-docs does too)")

const pathsDoc = "../../docs/migration-paths.md"

// wantPaths are the paths Microsoft documents, in the order the data and
// every verdict list keep.
var wantPaths = []string{"basic_auth", "oauth", "hve", "acs_relay", "direct_send", "connector"}

// eachFact calls fn for every fact of p, named by where it sits.
func eachFact(p Path, fn func(where string, f Fact)) {
	e, n := p.Endpoint, p.Needs
	for _, f := range []struct {
		where string
		fact  Fact
	}{
		{"endpoint.host", e.Host}, {"endpoint.ports", e.Ports}, {"endpoint.tls", e.TLS}, {"endpoint.implicit_tls", e.ImplicitTLS},
		{"needs.min_tls", n.MinTLS}, {"needs.ecdhe", n.ECDHE}, {"needs.static_ip", n.StaticIP}, {"needs.certificate", n.Certificate},
		{"needs.mailbox", n.Mailbox}, {"needs.entra_app", n.EntraApp}, {"recipients", p.Recipients}, {"after_switch_off", p.AfterSwitchOff},
	} {
		fn(p.ID+": "+f.where, f.fact)
	}
	lists := []struct {
		where string
		facts []Fact
	}{{"needs.auth", n.Auth}, {"needs.other", n.Other}, {"limits", p.Limits}, {"status", p.Status}, {"setup", p.Setup}}
	for _, l := range lists {
		for i, f := range l.facts {
			fn(fmt.Sprintf("%s: %s %d", p.ID, l.where, i+1), f)
		}
	}
}

// TestPathsLoad: the embedded data loads, holds the six paths in order,
// and every path and every fact of it has sources.
func TestPathsLoad(t *testing.T) {
	base, err := pathData()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range base.paths {
		ids = append(ids, p.ID)
	}
	if strings.Join(ids, " ") != strings.Join(wantPaths, " ") {
		t.Fatalf("paths %v, want %v", ids, wantPaths)
	}
	for _, p := range Paths() {
		n := 0
		eachFact(p, func(where string, f Fact) {
			urls := f.URLs()
			if len(urls) == 0 {
				t.Errorf("%s: no source", where)
			}
			n += len(urls)
		})
		if n == 0 || len(p.Setup) == 0 {
			t.Errorf("%s: %d sources, %d setup steps", p.ID, n, len(p.Setup))
		}
	}
}

// TestPathFactsMarked: a fact says UNVERIFIED exactly when its standing
// is unverified, one resting on third parties only is never documented,
// and the facts this research could only find second-hand or in
// Microsoft's silence stay marked.
func TestPathFactsMarked(t *testing.T) {
	base, err := pathData()
	if err != nil {
		t.Fatal(err)
	}
	byWhere := map[string]Fact{}
	for _, p := range base.paths {
		eachFact(p, func(where string, f Fact) {
			byWhere[where] = f
			if strings.Contains(f.Text, "UNVERIFIED") != (f.Standing == Unverified) {
				t.Errorf("%s: standing %s, text %q", where, f.Standing, f.Text)
			}
			microsoft := false
			for _, id := range f.Sources {
				microsoft = microsoft || base.sources[id].Publisher == publisherMicrosoft
			}
			if !microsoft && f.Standing == Documented {
				t.Errorf("%s: documented on third-party sources only", where)
			}
			if f.Standing == NotKnown && !strings.Contains(strings.ToLower(f.Text), "not known") {
				t.Errorf("%s: not known, but does not say so: %q", where, f.Text)
			}
		})
	}
	for where, want := range map[string]Standing{
		"basic_auth: needs.ecdhe":      Unverified, // Microsoft lists RSA suites; failures are second-hand
		"oauth: needs.ecdhe":           Unverified,
		"basic_auth: needs.auth 1":     Unverified, // LOGIN: from observed EHLO replies
		"hve: needs.min_tls":           Unverified, // the HVE pages name no TLS version
		"hve: needs.auth 1":            Unverified, // LOGIN: Microsoft names no mechanism
		"hve: needs.ecdhe":             NotKnown,
		"hve: endpoint.implicit_tls":   NotKnown,
		"acs_relay: needs.auth 1":      Unverified, // LOGIN only: third parties
		"acs_relay: needs.ecdhe":       NotKnown,
		"hve: status 2":                Unverified, // GA and billing: message center through a mirror
		"hve: status 3":                Unverified, // no licence: third party
		"connector: needs.other 2":     Unverified, // MC1226222 through a mirror
		"oauth: needs.auth 1":          Documented, // XOAUTH2 on smtp.office365.com
		"acs_relay: needs.auth 2":      Documented, // XOAUTH2 on smtp.azurecomm.net
		"basic_auth: after_switch_off": Documented,
	} {
		f, ok := byWhere[where]
		if !ok {
			t.Errorf("%s: no such fact", where)
			continue
		}
		if f.Standing != want {
			t.Errorf("%s: standing %s, want %s: %q", where, f.Standing, want, f.Text)
		}
	}
}

// pathsJSON is the embedded file decoded into plain values, for tests
// that break it.
func pathsJSON(t *testing.T) map[string]any {
	t.Helper()
	data, err := pathFiles.ReadFile(pathsFile)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// pathOf returns path i of the decoded file.
func pathOf(v map[string]any, i int) map[string]any { return v["paths"].([]any)[i].(map[string]any) }

// field walks keys (map keys or list indexes) down from m.
func field(m any, keys ...any) map[string]any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m = m.(map[string]any)[k]
		case int:
			m = m.([]any)[k]
		}
	}
	return m.(map[string]any)
}

// TestLoadPathsRejects: every way data can be wrong is refused with a
// message that says where.
func TestLoadPathsRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(v map[string]any)
		want   string
	}{
		{"unchanged", func(map[string]any) {}, ""},
		{"unknown field", func(v map[string]any) { pathOf(v, 0)["colour"] = "red" }, "unknown field"},
		{"documented on a third party only", func(v map[string]any) {
			f := field(v, "paths", 2, "status", 2)
			f["standing"] = "documented"
			f["text"] = "An HVE account needs no licence."
		}, "needs a Microsoft source"},
		{"unverified without the word", func(v map[string]any) {
			field(v, "paths", 2, "needs", "auth", 0)["text"] = "The password goes with AUTH LOGIN."
		}, "must say UNVERIFIED"},
		{"documented but says UNVERIFIED", func(v map[string]any) {
			field(v, "paths", 1, "needs", "auth", 0)["text"] = "UNVERIFIED: XOAUTH2."
		}, "must not say UNVERIFIED"},
		{"not known that says nothing", func(v map[string]any) {
			field(v, "paths", 2, "needs", "ecdhe")["text"] = "ECDHE is fine."
		}, `must say "not known"`},
		{"bad standing", func(v map[string]any) { field(v, "paths", 0, "recipients")["standing"] = "likely" }, "standing \"likely\""},
		{"unknown source", func(v map[string]any) {
			field(v, "paths", 0, "limits", 0)["sources"] = []any{"ms-nowhere"}
		}, `unknown source "ms-nowhere"`},
		{"unused source", func(v map[string]any) {
			v["sources"] = append(v["sources"].([]any), map[string]any{"id": "ms-spare", "publisher": "microsoft",
				"read": "2026-12-04", "url": "https://learn.microsoft.com/en-us/spare", "title": "Spare"})
		}, "source ms-spare is not used"},
		{"Microsoft source elsewhere", func(v map[string]any) {
			field(v, "sources", 0)["url"] = "https://example.com/microsoft-page"
		}, "must be an https page on microsoft.com"},
		{"source without a reading date", func(v map[string]any) { field(v, "sources", 1)["read"] = "last week" }, "the day it was read"},
		{"TLS mode unknown", func(v map[string]any) { field(v, "paths", 0, "endpoint", "tls")["value"] = "sometimes" }, "endpoint.tls: value \"sometimes\""},
		{"mechanism unknown", func(v map[string]any) { field(v, "paths", 1, "needs", "auth", 0)["value"] = "NTLM" }, "needs.auth: value \"NTLM\""},
		{"none beside a mechanism", func(v map[string]any) {
			a := field(v, "paths", 4, "needs")
			a["auth"] = append(a["auth"].([]any), field(v, "paths", 1, "needs", "auth", 0))
		}, "\"none\" excludes"},
		{"ports not ports", func(v map[string]any) { field(v, "paths", 3, "endpoint", "ports")["value"] = "587 submission" }, "is not a list of ports"},
		{"no setup", func(v map[string]any) { pathOf(v, 5)["setup"] = []any{} }, "setup: at least 1"},
		{"path twice", func(v map[string]any) {
			v["paths"] = append(v["paths"].([]any), pathOf(v, 0))
		}, "path basic_auth is defined twice"},
		{"static IP without certificate", func(v map[string]any) {
			field(v, "paths", 5, "needs", "certificate")["value"] = "no"
		}, "go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := pathsJSON(t)
			tc.break_(v)
			data, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			_, err = loadPaths(fstest.MapFS{pathsFile: {Data: data}}, pathsFile)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unchanged data refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted, want an error with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q, want %q", err, tc.want)
			}
		})
	}
}

func ptr(b bool) *bool { return &b }

// verdictCase is what a test expects of one path's verdict: the verdict,
// and a phrase of the deciding (first) reason.
type verdictCase struct {
	usable Verdict
	first  string
}

// TestDecidePaths judges the device offers a listener sees most and
// checks each path's verdict and that its first reason names the fact
// that decided it.
func TestDecidePaths(t *testing.T) {
	switchOff := "disabled by default from the end of December 2026"
	for _, tc := range []struct {
		name    string
		offer   DeviceOffer
		want    map[string]verdictCase
		also    map[string]string // a phrase some other reason of the path must have
		summary string
	}{
		{
			name:  "TLS 1.0 and 1.1 only",
			offer: DeviceOffer{TLSVersions: []uint16{tls.VersionTLS10, tls.VersionTLS11}, ECDHE: ptr(true), StartTLS: true, AuthMechanisms: []string{"LOGIN"}, Port: 587},
			want: map[string]verdictCase{
				"basic_auth":  {No, switchOff},
				"oauth":       {No, "offers only TLS 1.0 and 1.1, but smtp.office365.com requires TLS 1.2"},
				"hve":         {Maybe, "requires TLS 1.2 or newer (UNVERIFIED)"},
				"acs_relay":   {No, "offers only TLS 1.0 and 1.1, but smtp.azurecomm.net requires TLS 1.2"},
				"direct_send": {Maybe, "only if it then carries on without TLS"},
				"connector":   {Maybe, "only if it then carries on without TLS"},
			},
			also:    map[string]string{"basic_auth": "requires TLS 1.2 or newer", "direct_send": "only recipients inside the tenant"},
			summary: "only TLS 1.0 and 1.1 with ECDHE and AUTH LOGIN only: Basic auth, OAuth and the ACS relay are out; maybe HVE, Direct Send or a connector; nothing remains for certain",
		},
		{
			name:  "TLS 1.2 with RSA key exchange only",
			offer: DeviceOffer{TLSVersions: []uint16{tls.VersionTLS12}, ECDHE: ptr(false), StartTLS: true, AuthMechanisms: []string{"LOGIN"}, Port: 587},
			want: map[string]verdictCase{
				"basic_auth":  {No, switchOff},
				"oauth":       {Maybe, "no ECDHE cipher suite, and whether smtp.office365.com still accepts RSA key exchange is disputed"},
				"hve":         {Maybe, "no ECDHE cipher suite, and whether smtp.hve.mx.microsoft accepts RSA key exchange is not known"},
				"acs_relay":   {Maybe, "whether smtp.azurecomm.net accepts RSA key exchange is not known"},
				"direct_send": {Maybe, "no ECDHE cipher suite"},
				"connector":   {Maybe, "no ECDHE cipher suite"},
			},
			also: map[string]string{"oauth": "only if its firmware supports XOAUTH2", "basic_auth": "disputed (UNVERIFIED"},
		},
		{
			name:  "TLS 1.2 with ECDHE and AUTH LOGIN only",
			offer: DeviceOffer{TLSVersions: []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12}, ECDHE: ptr(true), StartTLS: true, AuthMechanisms: []string{"login"}, Port: 587},
			want: map[string]verdictCase{
				"basic_auth":  {No, switchOff},
				"oauth":       {Maybe, "It used AUTH LOGIN, and OAuth needs AUTH XOAUTH2: only if its firmware supports XOAUTH2 (not seen in this test)"},
				"hve":         {Yes, "It offers TLS 1.2"},
				"acs_relay":   {Yes, "It offers TLS 1.2"},
				"direct_send": {Maybe, "only if the device can be set to send without authentication"},
				"connector":   {Maybe, "only if the device can be set to send without authentication"},
			},
			also:    map[string]string{"hve": "AUTH LOGIN, which HVE accepts (UNVERIFIED)", "connector": "static public IP address or by a certificate"},
			summary: "TLS 1.0, 1.1 and 1.2 with ECDHE and AUTH LOGIN only: Basic auth is out; maybe OAuth, Direct Send or a connector; HVE or the ACS relay remain",
		},
		{
			name:  "TLS 1.2 with XOAUTH2",
			offer: DeviceOffer{TLSVersions: []uint16{tls.VersionTLS12, tls.VersionTLS13}, ECDHE: ptr(true), StartTLS: true, AuthMechanisms: []string{"XOAUTH2"}, Port: 587},
			want: map[string]verdictCase{
				"basic_auth":  {No, switchOff},
				"oauth":       {Yes, "It offers TLS 1.3"},
				"hve":         {Yes, "It offers TLS 1.3"},
				"acs_relay":   {Yes, "It offers TLS 1.3"},
				"direct_send": {Maybe, "It authenticated (AUTH XOAUTH2)"},
				"connector":   {Maybe, "It authenticated (AUTH XOAUTH2)"},
			},
			also:    map[string]string{"oauth": "It used AUTH XOAUTH2, which OAuth accepts.", "basic_auth": "only if its firmware supports LOGIN"},
			summary: "TLS 1.2 and 1.3 with ECDHE and AUTH XOAUTH2 only: Basic auth is out; maybe Direct Send or a connector; OAuth, HVE or the ACS relay remain",
		},
		{
			name:  "plaintext on port 25 without AUTH",
			offer: DeviceOffer{Port: 25, SentWithoutAuth: true},
			want: map[string]verdictCase{
				"basic_auth":  {No, switchOff},
				"oauth":       {Maybe, "It sent without TLS in this test, and smtp.office365.com requires STARTTLS"},
				"hve":         {Maybe, "smtp.hve.mx.microsoft requires STARTTLS"},
				"acs_relay":   {Maybe, "smtp.azurecomm.net requires STARTTLS"},
				"direct_send": {Yes, "It sent without TLS, which the tenant's MX endpoint accepts"},
				"connector":   {Maybe, "static public IP address or by a certificate"},
			},
			also:    map[string]string{"direct_send": "only recipients inside the tenant", "oauth": "needs AUTH XOAUTH2: only if the device can be set to authenticate"},
			summary: "plaintext on port 25 without AUTH: Basic auth is out; maybe OAuth, HVE, the ACS relay or a connector; Direct Send remains",
		},
		{
			name:  "implicit TLS on port 465",
			offer: DeviceOffer{TLSVersions: []uint16{tls.VersionTLS12}, ECDHE: ptr(true), ImplicitTLS: true, AuthMechanisms: []string{"LOGIN"}, Port: 465},
			want: map[string]verdictCase{
				"basic_auth":  {No, switchOff},
				"oauth":       {No, "does not support SMTP AUTH client submission"},
				"hve":         {Maybe, "It used implicit TLS (port 465), but smtp.hve.mx.microsoft is documented with STARTTLS on port 587"},
				"acs_relay":   {Maybe, "It used implicit TLS (port 465), but smtp.azurecomm.net is documented with STARTTLS"},
				"direct_send": {Maybe, "takes mail on port 25"},
				"connector":   {Maybe, "takes mail on port 25"},
			},
			also: map[string]string{"basic_auth": "It used implicit TLS (port 465)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := DecidePaths(tc.offer)
			if len(got) != len(wantPaths) {
				t.Fatalf("%d verdicts, want %d", len(got), len(wantPaths))
			}
			for i, v := range got {
				if v.Path != wantPaths[i] {
					t.Errorf("verdict %d is for %s, want %s", i, v.Path, wantPaths[i])
				}
				want, ok := tc.want[v.Path]
				if !ok {
					t.Errorf("%s: no expectation", v.Path)
					continue
				}
				if v.Usable != want.usable {
					t.Errorf("%s: %s, want %s; reasons %q", v.Path, v.Usable, want.usable, v.Reasons)
				}
				if len(v.Reasons) == 0 || !strings.Contains(v.Reasons[0], want.first) {
					t.Errorf("%s: first reason %q, want it to say %q", v.Path, v.Reasons, want.first)
				}
				if phrase, ok := tc.also[v.Path]; ok && !strings.Contains(strings.Join(v.Reasons, "\n"), phrase) {
					t.Errorf("%s: no reason says %q: %q", v.Path, phrase, v.Reasons)
				}
				if len(v.Sources) == 0 || v.Basis != tc.offer.String() || v.Name == "" {
					t.Errorf("%s: sources %q, basis %q, name %q", v.Path, v.Sources, v.Basis, v.Name)
				}
				for _, r := range v.Reasons {
					if strings.Count(strings.TrimSuffix(r, "."), ". ") > 0 || !strings.HasSuffix(r, ".") {
						t.Errorf("%s: reason is not one sentence: %q", v.Path, r)
					}
				}
			}
			if tc.summary != "" {
				if s := Summary(got); s != tc.summary {
					t.Errorf("summary\n got %q\nwant %q", s, tc.summary)
				}
			}
		})
	}
}

// A Maybe never hides what would settle it: every Maybe verdict lists
// needs.
func TestDecidePathsMaybeHasNeeds(t *testing.T) {
	for _, o := range []DeviceOffer{{Port: 25, SentWithoutAuth: true}, {TLSVersions: []uint16{tls.VersionTLS12}, StartTLS: true, AuthMechanisms: []string{"PLAIN"}}} {
		for _, v := range DecidePaths(o) {
			if v.Usable == Maybe && len(v.Needs) == 0 {
				t.Errorf("%s (%s): maybe without needs", v.Path, o)
			}
		}
	}
	// Suites not recorded: the verdict stands, the need is stated.
	for _, v := range DecidePaths(DeviceOffer{TLSVersions: []uint16{tls.VersionTLS12}, StartTLS: true, AuthMechanisms: []string{"LOGIN"}}) {
		if v.Path == "hve" && (v.Usable != Yes || !strings.Contains(strings.Join(v.Needs, "\n"), "ECDHE cipher suites (the device's suites were not recorded)")) {
			t.Errorf("hve without recorded suites: %s, needs %q", v.Usable, v.Needs)
		}
	}
}

func TestDeviceOfferString(t *testing.T) {
	for _, tc := range []struct {
		offer DeviceOffer
		want  string
	}{
		{DeviceOffer{TLSVersions: []uint16{tls.VersionTLS12}, ECDHE: ptr(true), StartTLS: true, AuthMechanisms: []string{"LOGIN"}}, "TLS 1.2 with ECDHE and AUTH LOGIN only"},
		{DeviceOffer{TLSVersions: []uint16{tls.VersionTLS11, tls.VersionTLS10, tls.VersionTLS11}, ECDHE: ptr(false), StartTLS: true}, "only TLS 1.0 and 1.1 without ECDHE"},
		{DeviceOffer{Port: 25, SentWithoutAuth: true}, "plaintext on port 25 without AUTH"},
		{DeviceOffer{StartTLS: true, AuthMechanisms: []string{"plain", "LOGIN", "PLAIN"}}, "STARTTLS (TLS versions not recorded) and AUTH PLAIN and LOGIN"},
		{DeviceOffer{TLSVersions: []uint16{tls.VersionTLS12}, ImplicitTLS: true, Port: 465}, "implicit TLS on port 465 (TLS 1.2)"},
	} {
		if got := tc.offer.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.offer, got, tc.want)
		}
	}
}

func TestOfferOf(t *testing.T) {
	from := "scanner@contoso.com"
	s := &result.DeviceSession{
		Listen: "0.0.0.0:2525", StartTLS: true, MailFrom: &from,
		ClientHello: &result.ClientHello{Versions: []string{"1.2", "1.1", "1.0"}, ECDHE: false},
		Auth:        []result.AuthAttempt{{Mechanism: "PLAIN"}, {Mechanism: "LOGIN"}},
	}
	o := OfferOf(s)
	if o.String() != "TLS 1.0, 1.1 and 1.2 without ECDHE and AUTH PLAIN and LOGIN" || o.Port != 2525 || o.SentWithoutAuth {
		t.Errorf("%+v: %s", o, o)
	}
	plain := OfferOf(&result.DeviceSession{Listen: "[::]:25", MailFrom: &from})
	if plain.String() != "plaintext on port 25 without AUTH" || plain.ECDHE != nil {
		t.Errorf("%+v: %s", plain, plain)
	}
}

// TestPathsFromRun: a run's outcomes give the same matrix, with "works
// today" semantics, the knowledge base's word on a failure's reply, and
// a passing Basic auth check only Maybe: the switch-off is still ahead.
func TestPathsFromRun(t *testing.T) {
	got := PathsFromRun(map[string]PathRun{
		"basic_auth":  {Result: PathPassed},
		"direct_send": {Result: PathFailed, Failure: "rcpt: unexpected 550 5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources at RCPT."},
		"hve":         {Result: PathFailed},
		"no_such":     {Result: PathPassed},
	})
	want := map[string]verdictCase{
		"basic_auth":  {Maybe, "disabled by default from the end of December 2026"},
		"oauth":       {Maybe, "It was not tested in this run."},
		"hve":         {No, "Its check failed: no failure text was recorded."},
		"acs_relay":   {Maybe, "not tested"},
		"direct_send": {No, "Its check failed: rcpt: unexpected 550 5.7.68"},
		"connector":   {Maybe, "not tested"},
	}
	if len(got) != len(wantPaths) {
		t.Fatalf("%d verdicts", len(got))
	}
	for i, v := range got {
		w := want[v.Path]
		if v.Path != wantPaths[i] || v.Usable != w.usable || !strings.Contains(v.Reasons[0], w.first) || v.Basis != runBasis {
			t.Errorf("%s: %s %q (basis %q), want %s %q", v.Path, v.Usable, v.Reasons, v.Basis, w.usable, w.first)
		}
		all := strings.Join(v.Reasons, "\n")
		switch v.Path {
		case "basic_auth":
			if !strings.HasPrefix(all, "Its check passed, so Basic auth works today for this tenant from this machine; after the switch-off: ") || len(v.Needs) != 0 {
				t.Errorf("basic_auth passed: %q, needs %q", v.Reasons, v.Needs)
			}
		case "direct_send":
			if !strings.Contains(all, "The knowledge base on 550 5.7.68") || !strings.Contains(strings.Join(v.Sources, " "), "introducing-more-control-over-direct-send") {
				t.Errorf("direct_send failed: %q, sources %q", v.Reasons, v.Sources)
			}
			if !strings.Contains(all, "only recipients inside the tenant") {
				t.Errorf("direct_send: scope missing: %q", v.Reasons)
			}
		}
	}
	if s := Summary(got); s != "this run (this tenant, this machine): HVE and Direct Send are out; maybe Basic auth, OAuth, the ACS relay or a connector; nothing remains for certain" {
		t.Errorf("summary %q", s)
	}
}

func TestSummaryNothingLeft(t *testing.T) {
	vs := []PathVerdict{{Short: "OAuth", Usable: No, Basis: "b"}, {Short: "HVE", Usable: No, Basis: "c"}}
	if s := Summary(vs); s != "OAuth and HVE are out; nothing remains for certain" {
		t.Errorf("%q", s)
	}
}

// docText makes a fact's text safe in a Markdown line: pipes escaped,
// and angle brackets that would read as HTML written as entities.
func docText(s string) string { return strings.ReplaceAll(mdCell(s), "<", "&lt;") }

// docRefs numbers a section's sources in order of first use.
type docRefs struct {
	base *pathBase
	ids  []string
}

// cite returns the markdown links for f's sources: " [1](url)[2](url)".
func (r *docRefs) cite(f Fact) string {
	var b strings.Builder
	for _, id := range f.Sources {
		n := 0
		for i, have := range r.ids {
			if have == id {
				n = i + 1
			}
		}
		if n == 0 {
			r.ids = append(r.ids, id)
			n = len(r.ids)
		}
		fmt.Fprintf(&b, "[[%d]](%s)", n, r.base.sources[id].URL)
	}
	if b.Len() == 0 {
		return ""
	}
	return " " + b.String()
}

func (r *docRefs) bullet(b *strings.Builder, f Fact) {
	fmt.Fprintf(b, "- %s%s\n", docText(f.Text), r.cite(f))
}

// cellOf renders a fact's value for the comparison table, marking its
// standing.
func cellOf(f Fact, words map[string]string) string {
	s := f.Value
	if w, ok := words[s]; ok {
		s = w
	}
	switch {
	case f.Standing == Unverified:
		s += " (UNVERIFIED)"
	case f.Standing == NotKnown && !strings.Contains(s, "not known"):
		s += " (not known)"
	}
	return docText(s)
}

// minTLSCell is the minimum TLS version, qualified where TLS is optional.
func minTLSCell(p Path, words map[string]string) string {
	s := cellOf(p.Needs.MinTLS, words)
	if p.Endpoint.TLS.Value == tlsOptional {
		s += " when TLS is used"
	}
	return s
}

// howDecided is the doc's account of DecidePaths' rules; keep it in step
// with paths.go.
const howDecided = `## How smtpdiag decides

` + "`smtpdiag listen`" + ` records what a device does when it sends: the TLS versions and cipher suites of
its ClientHello, STARTTLS or implicit TLS, the AUTH mechanisms it uses, whether it sends MAIL FROM
without AUTH, and the port. ` + "`DecidePaths`" + ` (internal/knowledge/paths.go) holds that evidence
against the facts of each path above, in this order, and gives every path a verdict:

1. **Switch-off.** A path that is disabled by default from the end of December 2026 (Basic auth) is
   **no**, whatever the device does; an admin can still re-enable it until Microsoft's final removal.
2. **Implicit TLS.** A device seen only with implicit TLS (port 465) is **no** for SMTP AUTH client
   submission, which Microsoft says such a device does not support, and **maybe** elsewhere: only if
   it can be switched to STARTTLS (or, on port 25, to plaintext).
3. **TLS version.** Offering nothing newer than the path's minimum rules a TLS-only path out (**no**)
   when Microsoft documents the minimum and leaves it **maybe** when the minimum is UNVERIFIED (HVE).
   Where TLS is optional (the MX endpoint), an old TLS device is **maybe**: only if it then carries on
   without TLS. A device that sent without TLS is **maybe** for TLS-only paths.
4. **ECDHE.** A device without any ECDHE suite is **no** only where Microsoft documents that ECDHE is
   required; where sources disagree (smtp.office365.com) or nothing is known it is **maybe**.
5. **AUTH.** A mechanism the path accepts counts for it (with UNVERIFIED said where the mechanism is);
   another one, or none, is **maybe**: only if the firmware supports what the path needs, for example
   XOAUTH2 for OAuth, which a device that used AUTH LOGIN was not seen to do. A device that
   authenticated is **maybe** for paths without AUTH (Direct Send, a connector): only if it can be set
   to send without.
6. **Identity.** A connector needs the site's static public IP address or a certificate in an
   accepted domain, which no device session shows: always **maybe**, with the need stated.
7. **Scope.** Paths that reach only recipients inside the tenant (HVE, Direct Send) say so.

The lowest verdict wins and its reason comes first; each reason is one sentence, and each verdict
lists what the path still needs (the facts above) and the pages they come from. **Yes** means the
device did everything the path needs that a device can show; the tenant-side needs (mailbox, app
registration, HVE account, connector, billing) remain to be set up.

` + "`PathsFromRun`" + ` gives the same matrix for ` + "`smtpdiag run`" + `: a passed check is **yes** (works
today for this tenant from this machine), except for Basic auth: a passed check is **maybe**, since it is off by default from the end of December 2026 and works after that only while an admin re-enables it; a failed check
**no** with its first failure and what the knowledge base says of its reply, and a path without a
check, or whose check was skipped (` + "`enabled = false`" + `) or could not run, **maybe**. A check says which
path it proves with ` + "`path = \"...\"`" + ` (docs/suite-language.md); ` + "`suites/basic-auth-migration.hcl`" + ` has
one check per path.
`

// renderMigrationPaths renders docs/migration-paths.md from the paths.
func renderMigrationPaths(base *pathBase) string {
	var b strings.Builder
	b.WriteString("# Ways to keep sending after the SMTP AUTH Basic switch-off\n\n")
	b.WriteString("At the end of December 2026 Microsoft disables Basic authentication for SMTP AUTH client submission by\n")
	b.WriteString("default. For every copier, scanner and application an MSP has to know which of the ways below it can still\n")
	b.WriteString("use. Each fact carries the page it comes from; facts only third parties state are marked UNVERIFIED, and\n")
	b.WriteString("what nothing reliable settles says \"not known\".\n\n")
	b.WriteString("This page is generated from `internal/knowledge/kb/paths/paths.json` (`go test ./internal/knowledge\n")
	b.WriteString("-update-docs`); edit the JSON, not this page. `DecidePaths` and `PathsFromRun` read the same data.\n\n")
	b.WriteString("## Comparison\n\n")
	b.WriteString("| path | endpoint | port | TLS | minimum TLS | ECDHE needed | AUTH | static IP / certificate | mailbox | Entra app | recipients | after December 2026 |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	words := map[string]string{
		"starttls": "STARTTLS required", "optional": "optional", "required": "yes", "not_required": "no", "disputed": "disputed",
		"not_known": "not known", "no": "no", "recommended": "static IP recommended (SPF)", "or_certificate": "static IP or certificate",
		"licensed": "licensed mailbox", "hve_account": "HVE account", "none": "none", "internal": "internal only", "any": "anyone",
		"disabled_by_default": "Basic disabled by default", "unaffected": "unaffected",
	}
	for _, p := range base.paths {
		var auth []string
		for _, a := range p.Needs.Auth {
			auth = append(auth, cellOf(a, words))
		}
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			docText(p.Name), strings.ReplaceAll(p.ID, "_", "-"), docText(p.Endpoint.Host.Value), mdCell(strings.ReplaceAll(p.Endpoint.Ports.Value, " ", ", ")),
			cellOf(p.Endpoint.TLS, words), minTLSCell(p, words), cellOf(p.Needs.ECDHE, words), strings.Join(auth, ", "),
			cellOf(p.Needs.StaticIP, words), cellOf(p.Needs.Mailbox, words), cellOf(p.Needs.EntraApp, words),
			cellOf(p.Recipients, words), cellOf(p.AfterSwitchOff, words))
	}
	b.WriteString("\n")
	b.WriteString(howDecided)
	for _, p := range base.paths {
		r := &docRefs{base: base}
		fmt.Fprintf(&b, "\n<a id=\"%s\"></a>\n## %s\n\n%s\n\n", strings.ReplaceAll(p.ID, "_", "-"), docText(p.Name), docText(p.Summary))
		fmt.Fprintf(&b, "Path id `%s`.\n\n### Endpoint\n\n", p.ID)
		for _, f := range []Fact{p.Endpoint.Host, p.Endpoint.Ports, p.Endpoint.TLS, p.Endpoint.ImplicitTLS} {
			r.bullet(&b, f)
		}
		b.WriteString("\n### What a device needs\n\n")
		n := p.Needs
		for _, f := range []Fact{n.MinTLS, n.ECDHE} {
			r.bullet(&b, f)
		}
		for _, f := range n.Auth {
			r.bullet(&b, f)
		}
		for _, f := range append([]Fact{n.StaticIP, n.Certificate, n.Mailbox, n.EntraApp}, n.Other...) {
			r.bullet(&b, f)
		}
		b.WriteString("\n### Recipients and limits\n\n")
		r.bullet(&b, p.Recipients)
		for _, f := range p.Limits {
			r.bullet(&b, f)
		}
		b.WriteString("\n### Status and timeline\n\n")
		r.bullet(&b, p.AfterSwitchOff)
		for _, f := range p.Status {
			r.bullet(&b, f)
		}
		b.WriteString("\n### Setup\n\n")
		for i, f := range p.Setup {
			fmt.Fprintf(&b, "%d. %s%s\n", i+1, docText(f.Text), r.cite(f))
			if f.Value != "" {
				fmt.Fprintf(&b, "\n   ```\n   %s\n   ```\n\n", f.Value)
			}
		}
		b.WriteString("\n### Sources\n\n")
		for i, id := range r.ids {
			s := base.sources[id]
			who := ""
			if s.Publisher == publisherThirdParty {
				who = " (third party)"
			}
			fmt.Fprintf(&b, "%d. [%s](%s)%s, read %s\n", i+1, docText(s.Title), s.URL, who, s.Read)
		}
	}
	return b.String()
}

// TestMigrationPathsDoc keeps docs/migration-paths.md what the data says.
func TestMigrationPathsDoc(t *testing.T) {
	base, err := pathData()
	if err != nil {
		t.Fatal(err)
	}
	want := renderMigrationPaths(base)
	if *updatePathsDoc || *updateDocs {
		if err := os.WriteFile(pathsDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(pathsDoc)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date: go test ./internal/knowledge -update-paths-doc", pathsDoc)
	}
}

// TestRunDecision: a suite's checks count for the paths they prove by
// their status (passed, failed with the first failure, skipped with the
// reason the runner gave, errored), the first check of a path counts,
// checks without a path do not, and a suite without any has no decision.
func TestRunDecision(t *testing.T) {
	if d := RunDecision([]*result.Check{{Label: "x", Status: result.Passed}, nil}); d != nil {
		t.Errorf("no path: %+v", d)
	}
	d := RunDecision([]*result.Check{
		{Path: "basic_auth", Status: result.Failed, Failures: []result.Failure{{Message: "auth: unexpected 535 5.7.139 Authentication unsuccessful at AUTH"}}},
		{Path: "basic_auth", Status: result.Passed},
		{Path: "oauth", Status: result.Skipped, Error: result.NotTested + `enabled = var.client_id != ""`},
		{Path: "hve", Status: result.Skipped, Error: "not run: the run was interrupted"},
		{Path: "acs_relay", Status: result.Errored, Error: "ca_file: no such file"},
		{Path: "connector", Status: result.Passed},
		{Label: "no path", Status: result.Failed},
	})
	if d == nil || d.Basis != runBasis || len(d.Paths) != len(wantPaths) {
		t.Fatalf("%+v", d)
	}
	want := map[string]verdictCase{
		"basic_auth":  {No, "Its check failed: auth: unexpected 535 5.7.139"},
		"oauth":       {Maybe, `It was not tested in this run: its check was skipped (enabled = var.client_id != "").`},
		"hve":         {Maybe, "It was not tested in this run: its check was skipped (not run: the run was interrupted)."},
		"acs_relay":   {Maybe, "It was not tested in this run: its check could not run (ca_file: no such file)."},
		"direct_send": {Maybe, "It was not tested in this run."},
		"connector":   {Yes, "Its check passed: a connector works today"},
	}
	for _, v := range d.Paths {
		w := want[v.Path]
		if v.Usable != w.usable.String() || !strings.HasPrefix(v.Reasons[0], w.first) {
			t.Errorf("%s: %s %q, want %s %q", v.Path, v.Usable, v.Reasons[0], w.usable, w.first)
		}
	}
	if d.Subject != "" {
		t.Errorf("subject %q: the runner names it", d.Subject)
	}

	// The same 535 5.7.3 at AUTH is a refused token on the OAuth path
	// (XOAUTH2), a wrong password or SMTP AUTH off on the Basic auth one.
	refused := []result.Failure{{Message: `auth: expected "235", got 535 5.7.3 Authentication unsuccessful [SN1PR80CA0001.outlook.office365.com]`}}
	d = RunDecision([]*result.Check{
		{Path: "basic_auth", Status: result.Failed, Failures: refused},
		{Path: "oauth", Status: result.Failed, Failures: refused},
	})
	for _, v := range d.Paths {
		all := strings.Join(v.Reasons, "\n")
		switch v.Path {
		case "oauth":
			if !strings.Contains(all, "OAuth token refused") || !strings.Contains(all, "New-ServicePrincipal") {
				t.Errorf("oauth: %q", v.Reasons)
			}
		case "basic_auth":
			if strings.Contains(all, "OAuth token refused") || !strings.Contains(all, "The knowledge base on 535 5.7.3") {
				t.Errorf("basic_auth: %q", v.Reasons)
			}
		}
	}
}
