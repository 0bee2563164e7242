package evidence

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/report/reporttest"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// generated is the fixed clock of the golden files.
var generated = time.Date(2026, 12, 5, 6, 1, 30, 0, time.FixedZone("CET", 3600))

func options() Options {
	return Options{
		Redactor:  reporttest.DNSRedactor(),
		Generated: generated,
		Hostname:  "scanbox01.contoso.local",
		Version:   "1.0.0-test",
	}
}

// allResults are the reporters' shared results followed by the suite of
// DNS checks, a device session and a suite whose checks prove the ways
// to send after the Basic auth switch-off.
func allResults() []*result.Suite {
	all := append(append(reporttest.Results(), reporttest.DNSResults()...), deviceResults())
	return append(all, reporttest.MigrationResults()...)
}

// deviceResults is a suite of one device check (smtpdiag listen) with its
// decision on the ways to send after the Basic auth switch-off.
func deviceResults() *result.Suite {
	at := reporttest.Start.Add(time.Minute)
	return &result.Suite{
		Name: "reception copier", Path: "suites/copier.hcl", Started: at, Duration: 40 * time.Second,
		Checks: []*result.Check{{
			Index: 0, Label: "reception copier", Kind: "device", Target: "0.0.0.0:2525", Status: result.Passed,
			Attempts: 1, Started: at, Duration: 40 * time.Second,
			Device: &result.DeviceSession{Number: 1, Listen: "0.0.0.0:2525", Hostname: "smtp.office365.com",
				RemoteAddr: "192.0.2.40:50211", ClientIP: "192.0.2.40", Helo: "RICOH-MP-C3004", StartTLS: true,
				End: "QUIT"},
			Paths: &result.PathDecision{
				Basis:   "TLS 1.2 with ECDHE and AUTH LOGIN only",
				Summary: "TLS 1.2 with ECDHE and AUTH LOGIN only: Basic auth is out; maybe OAuth; HVE remains",
				Paths: []result.PathVerdict{
					{Path: "basic_auth", Name: "SMTP AUTH with a password (Basic authentication)", Short: "Basic auth", Usable: "no",
						Reasons: []string{"Basic authentication for SMTP AUTH is disabled by default from the end of December 2026."},
						Sources: []string{"https://techcommunity.microsoft.com/blog/exchange/4489835"}},
					{Path: "oauth", Name: "SMTP AUTH with OAuth 2.0 (XOAUTH2)", Short: "OAuth", Usable: "maybe",
						Reasons: []string{"It used AUTH LOGIN, and OAuth needs AUTH XOAUTH2."},
						Needs:   []string{"An app registration in Microsoft Entra ID."},
						Sources: []string{"https://learn.microsoft.com/en-us/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth", "Microsoft's device page"}},
					{Path: "hve", Name: "High Volume Email (HVE)", Short: "HVE", Usable: "yes",
						Reasons: []string{"It offers TLS 1.2, and smtp.hve.mx.microsoft needs TLS 1.2 or newer."}},
				},
			},
		}},
	}
}

func render(t *testing.T, f Format, suites []*result.Suite, opts Options) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := Write(&out, f, suites, opts); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update after checking the change):\n--- got\n%s", path, got)
	}
}

func TestGoldenHTML(t *testing.T) {
	golden(t, "report.golden.html", render(t, HTML, allResults(), options()))
}

func TestGoldenMarkdown(t *testing.T) {
	golden(t, "report.golden.md", render(t, Markdown, allResults(), options()))
}

func TestSecretsMasked(t *testing.T) {
	for _, f := range []Format{HTML, Markdown} {
		out := string(render(t, f, allResults(), options()))
		for _, form := range append(reporttest.SecretForms(), reporttest.DQSKey) {
			if strings.Contains(out, form) {
				t.Errorf("%v report contains the secret form %q", f, form)
			}
		}
		if !strings.Contains(out, "(session ****)") && !strings.Contains(out, `(session \*\*\*\*)`) {
			t.Errorf("%v report does not show the masked secret in the reply", f)
		}
		// The DQS key is masked in the query names of the transcript and
		// in the zone's reason.
		for _, want := range []string{"DNS A 5.113.0.203.****.zen.dq.spamhaus.net. @192.0.2.53:53/udp", "/203.0.113.5 key "} {
			if !strings.Contains(out, want) {
				t.Errorf("%v report lacks %q", f, want)
			}
		}
		if n := strings.Count(out, "key ****") + strings.Count(out, `key \*\*\*\*`); n < 2 {
			t.Errorf("%v report shows the masked DQS key %d times in the zone's reason and its lookup, want 2", f, n)
		}
	}
	// Without a Redactor the key would show: the masking above is the
	// report's own.
	if out := render(t, HTML, allResults(), Options{}); !bytes.Contains(out, []byte(reporttest.DQSKey)) {
		t.Error("the DNS results do not plant the DQS key")
	}
}

// TestNoRawControlCharacters checks that the hostile banner's ESC, NUL and
// invalid bytes reach neither format raw, and show as visible escapes.
// Tabs (which zone-file records hold) are the one control character kept.
func TestNoRawControlCharacters(t *testing.T) {
	for _, f := range []Format{HTML, Markdown} {
		out := render(t, f, allResults(), options())
		if !utf8.Valid(out) {
			t.Errorf("%v report is not valid UTF-8", f)
		}
		for i, c := range out {
			if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
				t.Errorf("%v report has the raw byte %#x at offset %d: %q", f, c, i, out[max(0, i-40):min(len(out), i+40)])
				break
			}
		}
	}
	html := string(render(t, HTML, reporttest.Results(), options()))
	for _, want := range []string{
		`&lt;script&gt;alert(1)&lt;/script&gt; <span class="esc">\x1b</span>[31mSERVICE<span class="esc">\x1b</span>[0m busy<span class="esc">\x00</span> <span class="esc">\xff</span><span class="esc">\xfe</span> ]]&gt; end`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML report lacks %s", want)
		}
	}
	md := string(render(t, Markdown, reporttest.Results(), options()))
	for _, want := range []string{
		// In text: escaped for Markdown, the escapes' backslashes doubled.
		`421 4.3.2 \<script\>alert(1)\</script\> \\x1b\[31mSERVICE\\x1b\[0m busy\\x00 \\xff\\xfe \]\]\> end`,
		// In the fenced transcript: as the terminal summary shows it.
		"    1ms S: 421 4.3.2 <script>alert(1)</script> \\x1b[31mSERVICE\\x1b[0m busy\\x00 \\xff\\xfe ]]> end\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown report lacks %s", want)
		}
	}
}

// payload is what a hostile server (or a careless suite author) might put
// in any string: markup that would run script, Markdown that would make
// links, images and emphasis, a table cell break, a code span, an entity
// and a trailing backslash.
const payload = `<script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">"><svg onload=alert(1)>` +
	"</pre></table><!-- [click](javascript:alert(1)) ![i](http://192.0.2.1/x.png) **b** _i_ | `c` ~~s~~ &lt; $x$ # \\"

// withStrings returns allResults with every plain string field and string
// slice element (labels, targets, replies, EHLO lines, certificate
// fields, transcript, failures, diagnosis, DNS lookups, records, SPF,
// DMARC and blocklist results) set to s.
func withStrings(s string) []*result.Suite {
	results := allResults()
	setStrings(reflect.ValueOf(results), s)
	return results
}

var plainString = reflect.TypeOf("")

func setStrings(v reflect.Value, s string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			setStrings(v.Elem(), s)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			setStrings(v.Index(i), s)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				setStrings(v.Field(i), s)
			}
		}
	case reflect.String:
		// Named string types (statuses, steps, directions, categories)
		// keep their values: they are ours, not the server's.
		if v.Type() == plainString && v.CanSet() {
			v.SetString(s)
		}
	}
}

var tagPattern = regexp.MustCompile(`<[^>]*>`)

// TestHTMLServerTextCreatesNoMarkup renders the results twice, once with
// every string set to the payload and once to "x": the two pages must
// hold exactly the same tags, so no element or attribute came from run
// text.
func TestHTMLServerTextCreatesNoMarkup(t *testing.T) {
	opts := options()
	opts.Redactor = nil
	hostile := string(render(t, HTML, withStrings(payload), opts))
	benign := string(render(t, HTML, withStrings("x"), opts))
	ht, bt := tagPattern.FindAllString(hostile, -1), tagPattern.FindAllString(benign, -1)
	if !reflect.DeepEqual(ht, bt) {
		for i := range min(len(ht), len(bt)) {
			if ht[i] != bt[i] {
				t.Fatalf("tag %d differs: %s (payload) vs %s (benign)", i, ht[i], bt[i])
			}
		}
		t.Fatalf("%d tags with the payload, %d without", len(ht), len(bt))
	}
	if n := strings.Count(hostile, "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"); n < 100 {
		t.Errorf("escaped payload appears %d times, want it in every field", n)
	}
	tags := strings.ToLower(strings.Join(ht, ""))
	for _, bad := range []string{"<script", "<img", "<svg", "onerror", "onload", "javascript:"} {
		if strings.Contains(tags, bad) {
			t.Errorf("a tag of the page contains %q", bad)
		}
	}
}

// TestMarkdownServerTextCreatesNoSyntax checks that, outside fenced
// transcripts, the payload appears only in its escaped form, and that the
// document is otherwise the same as with "x" in every field.
func TestMarkdownServerTextCreatesNoSyntax(t *testing.T) {
	opts := options()
	opts.Redactor = nil
	hostile := string(render(t, Markdown, withStrings(payload), opts))
	benign := string(render(t, Markdown, withStrings("x"), opts))
	escaped := markdown(visibleText(payload))
	if escaped == payload {
		t.Fatal("markdown escaped nothing")
	}
	var outside strings.Builder
	inFence := ""
	for _, line := range strings.Split(hostile, "\n") {
		switch {
		case inFence == "" && strings.HasPrefix(line, "```"):
			inFence = strings.TrimRight(line, "text")
		case inFence != "" && line == inFence:
			inFence = ""
		case inFence == "":
			outside.WriteString(line + "\n")
		}
	}
	if inFence != "" {
		t.Fatalf("a fence %q is never closed", inFence)
	}
	if strings.Contains(strings.ReplaceAll(outside.String(), escaped, "x"), payload) {
		t.Error("the raw payload appears outside a code block")
	}
	normalized := strings.ReplaceAll(strings.ReplaceAll(hostile, escaped, "x"), payload, "x")
	if normalized != benign {
		t.Errorf("the payload changed the document's structure:\n%s", normalized)
	}
}

func TestMarkdownEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text 550 5.7.606", "plain text 550 5.7.606"},
		{"a*b_c`d|e<f>&g", "a\\*b\\_c\\`d\\|e\\<f\\>\\&g"},
		{"[x](javascript:y) ![i](u)", "\\[x\\](javascript:y) \\!\\[i\\](u)"},
		{"back\\slash ~~s~~ $m$ #", "back\\\\slash \\~\\~s\\~\\~ \\$m\\$ \\#"},
		{"tab\there", "tab here"},
		{"esc\x1b[0m nul\x00", "esc\\\\x1b\\[0m nul\\\\x00"},
	} {
		if got := markdown(visibleText(tc.in)); got != tc.want {
			t.Errorf("markdown(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFence(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{nil, "```"},
		{[]string{"no backticks"}, "```"},
		{[]string{"a `b` c", "``"}, "```"},
		{[]string{"```"}, "````"},
		{[]string{"x ````` y", "```"}, "``````"},
	} {
		if got := fence(tc.lines); got != tc.want {
			t.Errorf("fence(%q) = %q, want %q", tc.lines, got, tc.want)
		}
	}
	// A transcript that tries to close the fence stays inside it.
	results := reporttest.Results()
	conv := results[1].Checks[2].Conversation
	conv.Transcript = append(conv.Transcript, result.TranscriptLine{Direction: result.Server, Text: "```\n# pwned"})
	conv.Transcript = append(conv.Transcript, result.TranscriptLine{Direction: result.Server, Text: "250 ````"})
	md := string(render(t, Markdown, results, options()))
	if !strings.Contains(md, "\n`````text\n") || !strings.Contains(md, "S: ```\\n# pwned\n") {
		t.Errorf("transcript not fenced with five backticks:\n%s", md)
	}
}

func TestVisibleText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Text
	}{
		{"", nil},
		{"plain\ttab", Text{{Text: "plain\ttab"}}},
		{"a\x1bb", Text{{Text: "a"}, {Text: `\x1b`, Escaped: true}, {Text: "b"}}},
		{"\x00\xff", Text{{Text: `\x00`, Escaped: true}, {Text: `\xff`, Escaped: true}}},
		{"r\r\nn", Text{{Text: "r"}, {Text: `\r`, Escaped: true}, {Text: `\n`, Escaped: true}, {Text: "n"}}},
		{"abc\u202edef", Text{{Text: "abc"}, {Text: `\u202e`, Escaped: true}, {Text: "def"}}},
		{"\u0085é✓", Text{{Text: `\u0085`, Escaped: true}, {Text: "é✓"}}},
	} {
		if got := visibleText(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("visibleText(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestFormatOf(t *testing.T) {
	for _, tc := range []struct {
		path string
		want Format
	}{
		{"report.html", HTML}, {"out/R.HTM", HTML}, {"ticket.md", Markdown}, {"x.markdown", Markdown},
		{"report.pdf", 0}, {"report", 0}, {"html", 0},
	} {
		got, err := FormatOf(tc.path)
		if got != tc.want || (err != nil) != (tc.want == 0) {
			t.Errorf("FormatOf(%q) = %v, %v; want %v", tc.path, got, err, tc.want)
		}
	}
}

func TestHeader(t *testing.T) {
	rep := Build(reporttest.Results(), options())
	check := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	check("Generated", rep.Generated, "2026-12-05 05:01:30 UTC")
	check("Started", rep.Started, "2026-12-05 06:00:00 UTC")
	check("Ended", rep.Ended, "2026-12-05 06:00:42 UTC")
	check("Duration", rep.Duration, "42.52s")
	check("Hostname", rep.Hostname.String(), "scanbox01.contoso.local")
	check("LocalAddrs", fmt.Sprint(rep.LocalAddrs), "[10.0.0.20 127.0.0.1]")
	check("ClientIPs", fmt.Sprint(rep.ClientIPs), "[203.0.113.5]")
	check("Verdict", rep.Verdict.Word, "FAILED")
	check("Tally", rep.Tally, "1 passed, 2 failed, 1 error, 1 skipped")
	if rep.Counts != reporttest.Counts {
		t.Errorf("Counts = %+v, want %+v", rep.Counts, reporttest.Counts)
	}
	var words []string
	for _, s := range rep.Suites {
		for _, c := range s.Checks {
			words = append(words, c.Verdict.Word)
		}
	}
	check("verdicts", strings.Join(words, " "), "PASS FAIL ERROR SKIP FAIL")

	// No clock: no "report written" line, and an all-passing run passes.
	results := reporttest.Results()[:1]
	results[0].Checks = results[0].Checks[:1]
	rep = Build(results, Options{})
	check("Generated without a clock", rep.Generated, "")
	check("Verdict of a passing run", rep.Verdict.Word, "PASSED")
}

func TestSteps(t *testing.T) {
	rep := Build(reporttest.Results(), options())
	pass, fail := rep.Suites[0].Checks[0], rep.Suites[0].Checks[1]
	if len(pass.Steps) != 11 {
		t.Fatalf("%d steps, want 11", len(pass.Steps))
	}
	// AUTH ran from 350ms for 400ms of a 1230ms conversation.
	auth := pass.Steps[6]
	if auth.Name != "AUTH" || !auth.AfterTLS || auth.Start != "350ms" || auth.Duration != "400ms" ||
		auth.BarLeft != "28.46" || auth.BarWidth != "32.52" || auth.Negative {
		t.Errorf("AUTH step %+v", auth)
	}
	if tls := pass.Steps[4]; tls.Name != "TLS" || tls.AfterTLS {
		t.Errorf("the handshake step is marked as inside TLS: %+v", tls)
	}
	rcpt := fail.Steps[3]
	if rcpt.Name != "RCPT" || !rcpt.Negative || !strings.HasPrefix(rcpt.Outcome.String(), "550 5.7.606 Access denied") {
		t.Errorf("RCPT step %+v", rcpt)
	}
	if fail.Stop != nil {
		t.Errorf("Stop %q repeats the diagnosis", fail.Stop)
	}
	// Without a diagnosis naming it, the stop gets its own line.
	results := reporttest.Results()
	results[0].Checks[1].Diagnosis = nil
	if got := Build(results, options()).Suites[0].Checks[1].Stop.String(); !strings.HasPrefix(got, "stopped at RCPT: 550 5.7.606") {
		t.Errorf("Stop = %q", got)
	}
	for _, f := range []Format{HTML, Markdown} {
		if out := string(render(t, f, results, options())); !strings.Contains(out, "The conversation stopped at RCPT: 550 5.7.606") {
			t.Errorf("%v report does not say where the conversation stopped", f)
		}
	}
	if pass.Stop != nil {
		t.Errorf("a conversation that ran to its end has Stop %q", pass.Stop)
	}
	if d := fail.Diagnosis; d == nil || d.SourceURL == "" || d.Category.String() != "reputation" || d.IP.String() != "192.0.2.1" {
		t.Errorf("diagnosis %+v", d)
	}
	leaf := pass.TLS.Chain[0]
	if leaf.DaysLeft != 207 || leaf.NotAfter != "2027-06-30 23:59:59 UTC" || fmt.Sprint(leaf.Names) != "[*.office365.com outlook.com]" {
		t.Errorf("leaf %+v", leaf)
	}
}

func TestLinkable(t *testing.T) {
	for s, want := range map[string]bool{
		"https://learn.microsoft.com/en-us/exchange/x": true,
		"http://www.rfc-editor.org/rfc/rfc3463":        true,
		"javascript:alert(1)":                          false,
		"https://x/<script>":                           false,
		"https://x/a b":                                false,
		"ftp://example.org/":                           false,
		"RFC 3463 section 3":                           false,
		"https://x/\x1b":                               false,
		"":                                             false,
	} {
		if got := linkable(s); got != want {
			t.Errorf("linkable(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestMatrix(t *testing.T) {
	rep := Build(reporttest.Results(), options())
	m := rep.Suites[0].Matrix
	if m == nil {
		t.Fatal("no matrix for a suite with two endpoints")
	}
	if rep.Suites[1].Matrix != nil {
		t.Error("a matrix for a suite where only one endpoint was talked to")
	}
	got := map[string]string{}
	for _, r := range m.Rows {
		got[r.Name] = fmt.Sprint(r.Cells)
	}
	want := map[string]string{
		"STARTTLS":                     "[offered, handshake done -]",
		"TLS version":                  "[1.3 -]",
		"Cipher suite":                 "[TLS_AES_256_GCM_SHA384 -]",
		"AUTH before TLS":              "[not offered -]",
		"AUTH after TLS":               "[LOGIN XOAUTH2 -]",
		"SIZE":                         "[157286400 bytes (150 MiB) -]",
		"PIPELINING":                   "[yes -]",
		"Client IP seen by the server": "[203.0.113.5 -]",
		"Resolved address":             "[198.51.100.7:587 198.51.100.25:25]",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("row %s = %s, want %s", k, got[k], v)
		}
	}

	// An MX that offers STARTTLS and no AUTH next to a relay on implicit
	// TLS that offers the pre-RFC 4954 "AUTH=LOGIN" form; the second check
	// of the MX fills what the first did not reach.
	suite := &result.Suite{Name: "mx vs relay", Checks: []*result.Check{
		{Endpoint: "mx", Target: "mx:25", Status: result.Failed, Conversation: &result.Conversation{TLSMode: "starttls"}},
		{Endpoint: "relay", Target: "relay:465", Status: result.Passed, Conversation: &result.Conversation{
			TLSMode: "implicit", TLS: &result.TLSInfo{Version: "1.2", CipherSuite: "ECDHE", VerifyError: "x509: unknown authority"},
			EHLOAfterTLS: esmtp.ParseEHLO([]string{"AUTH=LOGIN PLAIN", "SIZE 0", "SMTPUTF8"}),
		}},
		{Endpoint: "mx", Target: "mx:25", Status: result.Passed, Conversation: &result.Conversation{
			TLSMode: "starttls", EHLOBeforeTLS: esmtp.ParseEHLO([]string{"STARTTLS", "SIZE 1048576"}), EHLOAfterTLS: esmtp.ParseEHLO([]string{"SIZE 1048576", "PIPELINING"}),
			TLS: &result.TLSInfo{Version: "1.3", CipherSuite: "AES", Verified: true, ServerName: "mx"},
		}},
	}}
	m = Build([]*result.Suite{suite}, Options{}).Suites[0].Matrix
	got = map[string]string{}
	for _, r := range m.Rows {
		got[r.Name] = fmt.Sprint(r.Cells)
	}
	want = map[string]string{
		"STARTTLS":        "[offered, handshake done implicit TLS]",
		"Certificate":     "[verified for mx not verified: x509: unknown authority]",
		"AUTH before TLS": "[not offered -]",
		"AUTH after TLS":  "[not offered LOGIN PLAIN]",
		"SIZE":            "[1048576 bytes (1 MiB) advertised, no limit given]",
		"PIPELINING":      "[yes no]",
		"SMTPUTF8":        "[no yes]",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("row %s = %s, want %s", k, got[k], v)
		}
	}
	if fmt.Sprint(m.Columns) != "[{mx mx:25} {relay relay:465}]" {
		t.Errorf("columns %v", m.Columns)
	}

	// dns and dnsbl checks are never columns: the DNS suite has one smtp
	// endpoint, so no matrix, and neither has a suite whose other
	// "endpoint" is a dnsbl check, even one carrying a conversation.
	if m := Build(reporttest.DNSResults(), Options{}).Suites[0].Matrix; m != nil {
		t.Errorf("matrix %v for a suite with one smtp endpoint and dns checks", m.Columns)
	}
	conv := func() *result.Conversation {
		return &result.Conversation{TLSMode: "starttls", EHLOBeforeTLS: esmtp.ParseEHLO([]string{"STARTTLS"})}
	}
	mixed := &result.Suite{Name: "mixed", Checks: []*result.Check{
		{Kind: "smtp", Endpoint: "mx", Target: "mx:25", Status: result.Passed, Conversation: conv()},
		{Kind: "dnsbl", Endpoint: "lab", Target: "192.0.2.1", Status: result.Passed, Conversation: conv()},
		{Kind: "dns", Endpoint: "dns", Target: "MX contoso.com", Status: result.Passed, Conversation: conv()},
	}}
	if m := Build([]*result.Suite{mixed}, Options{}).Suites[0].Matrix; m != nil {
		t.Errorf("dns and dnsbl checks became matrix columns: %v", m.Columns)
	}
	mixed.Checks[1].Kind = "smtp"
	if m := Build([]*result.Suite{mixed}, Options{}).Suites[0].Matrix; m == nil || fmt.Sprint(m.Columns) != "[{mx mx:25} {lab 192.0.2.1}]" {
		t.Errorf("two smtp endpoints give no matrix or the wrong one: %+v", m)
	}
}

// dnsReport builds the report of the DNS suite alone.
func dnsReport() *Report {
	return Build(reporttest.DNSResults(), options())
}

// TestDNSBL checks the verdicts of a dnsbl check (a listing with its
// decoded return code and TXT reason, a clean zone, an error code that
// proves nothing) and the blocklist proof of an smtp check's rejection.
func TestDNSBL(t *testing.T) {
	rep := dnsReport()
	check, proof := rep.Suites[0].Checks[5], rep.Suites[0].Checks[6]
	if check.DNSBLProof || len(check.ProofLookups) > 0 {
		t.Error("a dnsbl check's own verdicts are shown as the proof of a rejection")
	}
	got := func(rs []DNSBLResult) []string {
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%s|%s|%s|%s|%v|%s|%s|%s|%s|%s", r.Zone, r.IP, r.Verdict, r.Class, r.Listed, r.Codes, r.Meaning, r.Reason, r.Delist, r.DelistURL))
		}
		return out
	}
	want := []string{
		"zen.spamhaus.org|203.0.113.5|listed|bad|true|127.0.0.10|Spamhaus PBL (ISP-maintained: end-user range that should not send directly)|" +
			"https://check.spamhaus.org/query/ip/203.0.113.5 key ****|https://www.spamhaus.org/lookup/|https://www.spamhaus.org/lookup/",
		"b.barracudacentral.org|203.0.113.5|not listed|ok|false|||||",
		"bl.spamcop.net|203.0.113.5|inconclusive|warn|false|127.255.255.254|127.255.255.254 is an error code of the zone, not a listing|||",
	}
	if g := got(check.DNSBL); !reflect.DeepEqual(g, want) {
		t.Errorf("dnsbl check verdicts\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
	if !proof.DNSBLProof || len(proof.DNSBL) != 3 || !proof.DNSBL[0].Listed || proof.DNSBL[2].Verdict.String() != "not listed" {
		t.Errorf("proof %v: %v", proof.DNSBLProof, got(proof.DNSBL))
	}
	// The proof's lookups are the four blocklist queries, not the MX
	// resolution that heads the conversation's transcript.
	var heads []string
	for _, l := range proof.ProofLookups {
		if strings.HasPrefix(l.Text.String(), "DNS ") {
			heads = append(heads, l.Offset+" "+l.Text.String())
		}
	}
	wantHeads := []string{
		"0ms DNS A 5.113.0.203.zen.spamhaus.org. @192.0.2.53:53/udp: NOERROR, 1 record (12ms)",
		"12ms DNS TXT 5.113.0.203.zen.spamhaus.org. @192.0.2.53:53/udp: NOERROR, 1 record (12ms)",
		"24ms DNS A 5.113.0.203.b.barracudacentral.org. @192.0.2.53:53/udp: NXDOMAIN, no records (12ms)",
		"36ms DNS A 5.113.0.203.bl.spamcop.net. @192.0.2.53:53/udp: NXDOMAIN, no records (12ms)",
	}
	if !reflect.DeepEqual(heads, wantHeads) {
		t.Errorf("proof lookups\n%s\nwant\n%s", strings.Join(heads, "\n"), strings.Join(wantHeads, "\n"))
	}

	var h, m bytes.Buffer
	if err := rep.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteMarkdown(&m); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<h4>DNS blocklists</h4>`,
		`<h4>DNS blocklists <span class="muted">(the IP the rejection named)</span></h4>`,
		`<tr><td class="mono">zen.spamhaus.org</td><td class="mono">203.0.113.5</td><td class="nowrap"><span class="bad">listed</span></td><td class="mono">127.0.0.10</td>` +
			`<td class="text">Spamhaus PBL (ISP-maintained: end-user range that should not send directly)<br><span class="muted">removal:</span> ` +
			`<a href="https://www.spamhaus.org/lookup/" rel="noreferrer noopener">https://www.spamhaus.org/lookup/</a></td>` +
			`<td class="text">https://check.spamhaus.org/query/ip/203.0.113.5 key ****</td></tr>`,
		`<td class="nowrap"><span class="ok">not listed</span></td><td class="mono"></td><td class="text"></td><td class="text"></td></tr>`,
		`<td class="nowrap"><span class="warn">inconclusive</span></td><td class="mono">127.255.255.254</td><td class="text">127.255.255.254 is an error code of the zone, not a listing</td>`,
		`<span class="off">36ms</span> <span class="dir">*:</span> DNS A 5.113.0.203.bl.spamcop.net. @192.0.2.53:53/udp: NXDOMAIN, no records (12ms)`,
	} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("HTML lacks %s", want)
		}
	}
	for _, want := range []string{
		"**DNS blocklists**\n",
		"**DNS blocklists** (the IP the rejection named)\n",
		"| zen.spamhaus.org | 203.0.113.5 | **listed** | 127.0.0.10 | Spamhaus PBL (ISP-maintained: end-user range that should not send directly); " +
			"removal: <https://www.spamhaus.org/lookup/> | https://check.spamhaus.org/query/ip/203.0.113.5 key \\*\\*\\*\\* |",
		"| b.barracudacentral.org | 203.0.113.5 | not listed |   |   |   |",
		"| bl.spamcop.net | 203.0.113.5 | **inconclusive** | 127.255.255.254 | 127.255.255.254 is an error code of the zone, not a listing |   |",
		"   36ms *: DNS A 5.113.0.203.bl.spamcop.net. @192.0.2.53:53/udp: NXDOMAIN, no records (12ms)\n",
	} {
		if !strings.Contains(m.String(), want) {
			t.Errorf("Markdown lacks %s", want)
		}
	}
}

// TestDNSAnswer checks what dns checks show: the question, response code
// and records, the SPF verdicts per IP, the DMARC policy, the PTR names
// that do not resolve back, and a lookup that got no usable answer.
func TestDNSAnswer(t *testing.T) {
	rep := dnsReport()
	checks := rep.Suites[0].Checks
	mx, spf, dmarc, fcrdns, servfail := checks[0].DNS, checks[1].DNS, checks[2].DNS, checks[3].DNS, checks[4].DNS
	if mx == nil || mx.Rcode.String() != "NOERROR" || mx.Negative ||
		fmt.Sprint(mx.Records) != "[0 contoso-com.mail.protection.outlook.com.]" || mx.SPF != nil || mx.DMARC != nil || mx.FCrDNS != nil {
		t.Errorf("MX answer %+v", mx)
	}
	if spf.SPF == nil || spf.DMARC != nil {
		t.Fatalf("SPF answer %+v", spf)
	}
	var verdicts []string
	for _, v := range spf.SPF.Verdicts {
		verdicts = append(verdicts, fmt.Sprintf("%s %s %v %s", v.IP, v.Result, v.Pass, v.Mechanism))
	}
	if want := []string{
		"203.0.113.5 pass true ip4:203.0.113.5",
		"40.92.0.1 pass true include:spf.protection.outlook.com → ip4:40.92.0.0/15",
		"198.51.100.50 softfail false ~all",
	}; !reflect.DeepEqual(verdicts, want) {
		t.Errorf("SPF verdicts %q, want %q", verdicts, want)
	}
	if spf.SPF.Record.String() != "v=spf1 ip4:203.0.113.5 include:spf.protection.outlook.com ~all" || fmt.Sprint(spf.SPF.Includes) != "[spf.protection.outlook.com]" {
		t.Errorf("SPF %+v", spf.SPF)
	}
	if d := dmarc.DMARC; d == nil || d.Name.String() != "_dmarc.contoso.com" || d.Policy.String() != "reject" || d.Record.String() != "v=DMARC1; p=reject" {
		t.Errorf("DMARC %+v", d)
	}
	if f := fcrdns.FCrDNS; f == nil || fmt.Sprint(f.PTRNames) != "[dsl-203-0-113-5.isp.example.]" || len(f.Confirmed) != 0 {
		t.Errorf("FCrDNS %+v", f)
	}
	if !servfail.Negative || servfail.Rcode.String() != "SERVFAIL" || !strings.Contains(servfail.Error.String(), "SERVFAIL from 192.0.2.53:53") {
		t.Errorf("SERVFAIL answer %+v", servfail)
	}
	for i, want := range []string{"DNS MX contoso.com", "DNS TXT contoso.com", "DNS TXT contoso.com", "DNS PTR 203.0.113.5",
		"DNS CNAME autodiscover.contoso.com", "DNSBL 203.0.113.5", "tenant"} {
		if got := checks[i].Where.String(); got != want {
			t.Errorf("check %d: Where %q, want %q", i, got, want)
		}
	}
	if got := fmt.Sprint(rep.Resolvers); got != "[192.0.2.53:53]" {
		t.Errorf("Resolvers %s", got)
	}

	html, md := string(render(t, HTML, reporttest.DNSResults(), options())), string(render(t, Markdown, reporttest.DNSResults(), options()))
	for _, want := range []string{
		`<h3><span class="badge pass">✓ PASS</span> <span class="kind">DNS</span> <span class="label">MX points at Exchange Online</span></h3>`,
		`<dt>Query</dt><dd class="mono">MX contoso.com</dd>`,
		`<dt>DNS resolver</dt><dd class="mono">192.0.2.53:53</dd>`,
		`<dt>Response</dt><dd><span class="mono">NOERROR</span></dd>`,
		`<ul class="mono records"><li>0 contoso-com.mail.protection.outlook.com.</li></ul>`,
		`<tr><td class="mono">198.51.100.50</td><td><span class="bad">softfail</span></td><td class="mono text">~all</td>`,
		`<tr><td class="mono">40.92.0.1</td><td><span class="ok">pass</span></td><td class="mono text">include:spf.protection.outlook.com → ip4:40.92.0.0/15</td>`,
		`<dt>Policy</dt><dd><strong>p=reject</strong></dd>`,
		`<dt>Resolving back to the IP</dt><dd><span class="bad">none</span></dd>`,
		`<dt>Response</dt><dd><span class="mono bad">SERVFAIL</span>: CNAME autodiscover.contoso.com: SERVFAIL from 192.0.2.53:53</dd>`,
		`<dt>IP looked up</dt><dd class="mono">203.0.113.5</dd>`,
		`<td class="text">DNS TXT contoso.com</td>`,
		`<span class="dir">*:</span> DNS MX contoso.com. @192.0.2.53:53/udp: NOERROR, 1 record (12ms)`,
		`<dt>DNS resolver</dt><dd><span class="mono">192.0.2.53:53</span></dd>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %s", want)
		}
	}
	for _, want := range []string{
		"### ✓ PASS: DNS MX points at Exchange Online\n",
		"- **Query:** MX contoso.com\n- **DNS resolver:** 192.0.2.53:53\n",
		"- **Response:** NOERROR\n\n| Record |\n|---|\n| 0 contoso-com.mail.protection.outlook.com. |\n",
		"| 198.51.100.50 | **softfail** | \\~all |   |",
		"- **Policy:** **p=reject**\n",
		"- **Resolving back to the IP:** **none**\n",
		"- **Response:** **SERVFAIL**: CNAME autodiscover.contoso.com: SERVFAIL from 192.0.2.53:53\n",
		"### ✗ FAIL: DNSBL egress IP is on no blocklist\n",
		"| **✗ FAIL** | contoso: DNS and blocklists | autodiscover resolves | DNS CNAME autodiscover.contoso.com | 2.00s |",
		"- **DNS resolver:** 192.0.2.53:53\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	// A lookup without a usable answer lists no records.
	if strings.Contains(html, `<span class="mono bad">SERVFAIL</span>: CNAME autodiscover.contoso.com: SERVFAIL from 192.0.2.53:53</dd>
<dt>Records</dt>`) {
		t.Error("a failed lookup shows a records line")
	}
}

// TestDNSTranscripts checks that checks without a conversation show their
// lookups as the transcript, and that an mx endpoint's conversation keeps
// its MX lookups at the head.
func TestDNSTranscripts(t *testing.T) {
	checks := dnsReport().Suites[0].Checks
	var spf []string
	for _, l := range checks[1].Transcript {
		spf = append(spf, l.Offset+" "+l.Direction+" "+l.Class+" "+l.Text.String())
	}
	want := []string{
		"0ms * note DNS TXT contoso.com. @192.0.2.53:53/udp: NOERROR, 2 records (12ms)",
		"0ms * note   contoso.com.\t3600\tIN\tTXT\t\"v=spf1 ip4:203.0.113.5 include:spf.protection.outlook.com ~all\"",
		"0ms * note   contoso.com.\t3600\tIN\tTXT\t\"MS=ms12345678\"",
		"15ms * note DNS TXT spf.protection.outlook.com. @192.0.2.53:53/udp: NOERROR, 1 record (12ms)",
		"15ms * note   spf.protection.outlook.com.\t3600\tIN\tTXT\t\"v=spf1 ip4:40.92.0.0/15 -all\"",
	}
	if !reflect.DeepEqual(spf, want) {
		t.Errorf("SPF check transcript\n%s\nwant\n%s", strings.Join(spf, "\n"), strings.Join(want, "\n"))
	}
	bl := checks[5].Transcript
	if len(bl) != 7 || bl[0].Text.String() != "DNS A 5.113.0.203.****.zen.dq.spamhaus.net. @192.0.2.53:53/udp: NOERROR, 1 record (12ms)" {
		t.Errorf("dnsbl check transcript %v", bl)
	}
	direct := checks[6]
	if len(direct.Transcript) != 11 || !strings.HasPrefix(direct.Transcript[0].Text.String(), "DNS MX contoso.com.") ||
		direct.Transcript[5].Class != "s" || direct.Resolved.String() != "198.51.100.25:25" {
		t.Errorf("mx endpoint transcript %v", direct.Transcript)
	}
}

// TestSelfContained checks that the page fetches nothing: no script, no
// external style sheet, image, font or frame, and links only to its own
// anchors, to the sources of diagnoses and paths, and to the blocklists'
// removal pages.
func TestSelfContained(t *testing.T) {
	page := string(render(t, HTML, allResults(), options()))
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "<object", "<embed", "src=", "url(", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	hrefs := regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(hrefs) == 0 {
		t.Fatal("no links at all")
	}
	for _, h := range hrefs {
		if !strings.HasPrefix(h[1], "#") && !strings.HasPrefix(h[1], "https://learn.microsoft.com/") && !strings.HasPrefix(h[1], "https://techcommunity.microsoft.com/") &&
			!strings.HasPrefix(h[1], "https://www.rfc-editor.org/") &&
			h[1] != "https://www.spamhaus.org/lookup/" {
			t.Errorf("unexpected link %s", h[1])
		}
	}
	if !strings.Contains(page, "@media print") || !strings.Contains(page, `http-equiv="Content-Security-Policy" content="default-src 'none';`) {
		t.Error("page lacks its print style or its Content-Security-Policy")
	}
}

// TestMarkdownRecordsStayInline checks that records which would start
// Markdown blocks at the start of a list item (a list marker, an ordered
// list, a thematic break, an indented code block) stay table text.
func TestMarkdownRecordsStayInline(t *testing.T) {
	results := reporttest.DNSResults()
	results[0].Checks[0].DNS.Records = []string{"- item", "1. one", "---", "     code", "+ plus"}
	md := string(render(t, Markdown, results, options()))
	for _, want := range []string{"| Record |\n|---|\n| - item |\n| 1. one |\n| --- |\n|      code |\n| + plus |\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " "), "- - item") || strings.HasPrefix(strings.TrimLeft(line, " "), "- 1. one") {
			t.Errorf("a record starts a list item: %q", line)
		}
	}
}

// TestNoUnsafeRunes: neither format carries a control, format or
// noncharacter as itself.
func TestNoUnsafeRunes(t *testing.T) {
	for _, f := range []Format{HTML, Markdown} {
		out := string(render(t, f, reporttest.HostileResults(), options()))
		if r, ok := reporttest.Unsafe(out); ok {
			t.Errorf("%v: %U reached the report", f, r)
		}
		if !strings.Contains(out, `\u2066`) {
			t.Errorf("%v: the isolate is not shown escaped", f)
		}
	}
}

// TestInterrupted: both formats mark an interrupted suite incomplete.
func TestInterrupted(t *testing.T) {
	for _, f := range []Format{HTML, Markdown} {
		out := string(render(t, f, reporttest.Interrupted(), options()))
		if !strings.Contains(out, "Incomplete:") || !strings.Contains(out, "the run was interrupted (SIGTERM); 2 of 4 checks did not finish.") {
			t.Errorf("%v: not marked incomplete", f)
		}
	}
}

// TestSuitePaths: a suite whose checks prove paths shows its decision in
// its own section, before its checks, about the mailbox it names, else
// about the suite; a device's keeps its heading.
func TestSuitePaths(t *testing.T) {
	for _, f := range []Format{HTML, Markdown} {
		out := string(render(t, f, allResults(), options()))
		head := "Ways scanner@contoso.com can send after the Basic auth switch-off"
		suite, check := strings.Index(out, "contoso: ways off Basic auth"), strings.Index(out, "Basic auth: the mailbox signs in")
		at := strings.LastIndex(out, head)
		if at < 0 || suite < 0 || !(suite < at && at < strings.LastIndex(out, "Basic auth: the mailbox signs in")) || check < 0 {
			t.Errorf("%v: the suite's decision is not in its section before its checks (suite %d, decision %d)", f, suite, at)
		}
		for _, want := range []string{
			"Ways to send after the Basic auth switch-off", // the device's
			"this run (this tenant, this machine): a connector is out",
			"its check was skipped (enabled = var.client",
			"fix-error-code-5-7-64-in-exchange-online",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%v report lacks %q", f, want)
			}
		}
		unnamed := reporttest.MigrationResults()
		unnamed[0].Paths.Subject = ""
		if out := string(render(t, f, unnamed, options())); !strings.Contains(out, "Ways contoso: ways off Basic auth can send after the Basic auth switch-off") {
			t.Errorf("%v: without a subject the decision is not named after the suite", f)
		}
	}
}
