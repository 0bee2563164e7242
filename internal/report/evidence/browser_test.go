package evidence

import (
	"bytes"
	"context"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/report/reporttest"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// chromium finds Debian's chromium (package chromium) or another build of
// it on PATH.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not found on PATH: install it (Debian: apt-get install chromium) to render the report in a real browser")
	return ""
}

// dumpDOM loads file in headless Chromium and returns the document as the
// browser built it, after parsing and after any script would have run.
func dumpDOM(t *testing.T, browser, file string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	profile := t.TempDir()
	cmd := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-quic", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-extensions",
		"--user-data-dir="+profile,
		"--dump-dom", "file://"+file)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, stderr.Bytes())
	}
	if stdout.Len() == 0 {
		t.Fatalf("%s printed no DOM:\n%s", browser, stderr.Bytes())
	}
	return stdout.String()
}

var (
	tagName  = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9-]*)`)
	anyTag   = regexp.MustCompile(`<[^>]*>`)
	titleTag = regexp.MustCompile(`<title>([^<]*)</title>`)
)

// domText is the document's text content: tags dropped, entities decoded,
// white space collapsed. A serialized DOM escapes every "<" of text, so
// what anyTag matches are elements.
func domText(dom string) string {
	if i := strings.Index(dom, "</style>"); i >= 0 {
		dom = dom[i:]
	}
	return strings.Join(strings.Fields(html.UnescapeString(anyTag.ReplaceAllString(dom, ""))), " ")
}

// TestBrowserRendersReport opens the report in headless Chromium: every
// verdict and check is in the rendered text, a banner, a transcript line,
// a TXT record and a blocklist's reason carrying script, an image with an
// onerror handler and markup appear as text, no element came from them,
// and the title that the script would change is intact. The DNS answers,
// SPF verdicts and blocklist verdicts are in the rendered text, and the
// DQS key is not.
func TestBrowserRendersReport(t *testing.T) {
	browser := chromium(t)

	const (
		script = `<script>document.title='pwned'</script>`
		img    = `<img src=x onerror="document.title='pwned'">`
		markup = `<b id="injected">bold</b><svg onload="document.title='pwned'"></svg>`
	)
	results := allResults()
	hostile := results[1].Checks[2]
	hostile.Label = "hostile banner " + markup
	conv := hostile.Conversation
	conv.Steps[1].Reply.Lines = append(conv.Steps[1].Reply.Lines, script+img)
	conv.Transcript = append(conv.Transcript,
		result.TranscriptLine{Offset: 501 * time.Millisecond, Direction: result.Server, Text: "421-" + script + img},
		result.TranscriptLine{Offset: 502 * time.Millisecond, Direction: result.Server, Text: "421 " + markup + "</pre></article>"})
	dnsChecks := results[2].Checks
	dnsChecks[0].DNS.Records = append(dnsChecks[0].DNS.Records, "10 "+script+img)
	dnsChecks[5].Blocklists[0].Reason = "see " + markup + "</td></table>"

	var page bytes.Buffer
	if err := Write(&page, HTML, results, options()); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := dumpDOM(t, browser, file)

	if m := titleTag.FindStringSubmatch(dom); m == nil || html.UnescapeString(m[1]) != "smtpdiag evidence report: FAILED" {
		t.Errorf("title %q: changed or missing", m)
	}
	// Only the elements the template writes exist.
	allowed := map[string]bool{}
	for _, n := range strings.Fields("html head meta title style body header h1 h2 h3 h4 p span dl dt dd a nav table thead tbody tr th td main section article ul li div pre strong br code footer") {
		allowed[n] = true
	}
	for _, m := range tagName.FindAllStringSubmatch(dom, -1) {
		if !allowed[strings.ToLower(m[1])] {
			t.Errorf("the browser built a <%s> element, which the template never writes", m[1])
		}
	}
	for _, tag := range anyTag.FindAllString(dom, -1) {
		if strings.Contains(tag, "injected") || strings.Contains(tag, "pwned") {
			t.Errorf("the browser built the element %s from run text", tag)
		}
	}
	// The browser's tree has exactly the escape spans, checks and
	// transcript lines the page was written with.
	for _, marker := range []string{`<span class="esc">`, `<article class="check `, `<span class="line `, `<tr>`, `<li>`} {
		if got, want := strings.Count(dom, marker), strings.Count(page.String(), marker); got != want {
			t.Errorf("%d %s in the browser's document, %d in the page", got, marker, want)
		}
	}

	text := domText(dom)
	for _, want := range []string{
		"✓ PASS device can submit through smtp.office365.com",
		"✗ FAIL relay from scanner",
		"! ERROR lab CA is trusted",
		"- SKIP port 25 is blocked by the ISP",
		"✗ FAIL hostile banner " + markup,
		"reputation: 550 5.7.606 Access denied, banned sending IP [192.0.2.1] (session ****) at RCPT",
		"Request delisting at https://sender.office.com/",
		"1080ms S: 550 5.7.606 Access denied",
		`S: 421 4.3.2 <script>alert(1)</script> \x1b[31mSERVICE\x1b[0m busy\x00 \xff\xfe ]]> end`,
		"S: 421-" + script + img,
		"S: 421 " + markup + "</pre></article>",
		"Leaf CN=outlook.com,O=Microsoft Corporation",
		"✗ FAILED 5 passed, 8 failed, 1 error, 2 skipped",
		"Ways scanner@contoso.com can send after the Basic auth switch-off",
		"SMTP relay through an inbound connector (Microsoft 365 SMTP relay)no Its check failed: rcpt: expected",
		"DNS resolver192.0.2.53:53",
		"✓ PASS DNS MX points at Exchange Online",
		"QueryMX contoso.com DNS resolver192.0.2.53:53 When2026-12-05 06:01:00 UTC, took 12ms DNS answer ResponseNOERROR Records0 contoso-com.mail.protection.outlook.com.10 " + script + img,
		"198.51.100.50softfail~all",
		"Policyp=reject",
		"ResponseSERVFAIL: CNAME autodiscover.contoso.com: SERVFAIL from 192.0.2.53:53",
		"✗ FAIL DNSBL egress IP is on no blocklist",
		"zen.spamhaus.org203.0.113.5listed127.0.0.10Spamhaus PBL (ISP-maintained: end-user range that should not send directly)removal: https://www.spamhaus.org/lookup/see " + markup + "</td></table>",
		"bl.spamcop.net203.0.113.5inconclusive127.255.255.254",
		"DNS blocklists (the IP the rejection named)",
		"0ms *: DNS A 5.113.0.203.****.zen.dq.spamhaus.net. @192.0.2.53:53/udp: NOERROR, 1 record (12ms)",
		"0ms *: DNS MX contoso.com. @192.0.2.53:53/udp: NOERROR, 1 record (12ms)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("rendered text lacks %q", want)
		}
	}
	for _, form := range append(reporttest.SecretForms(), reporttest.DQSKey) {
		if strings.Contains(dom, form) {
			t.Errorf("the rendered document contains the secret form %q", form)
		}
	}
	if t.Failed() {
		t.Logf("rendered text:\n%s", text)
	}
}
