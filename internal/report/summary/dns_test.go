package summary

import (
	"bytes"
	"strings"
	"testing"

	"github.com/smtpdiag/smtpdiag/internal/report/reporttest"
)

func TestDNSChecksGolden(t *testing.T) {
	results := reporttest.LoopbackDNSResults()
	var out bytes.Buffer
	w := New(&out, Options{Redactor: reporttest.Redactor(), Verbose: true})
	for _, ev := range reporttest.Events(results) {
		w.Handle(ev)
	}
	w.Finish(results)
	got := out.String()
	golden(t, "dns.golden", got)
	for _, want := range []string{
		"✓ PASS  contoso: dns › MX points at Exchange Online  0.00s\n",
		"        0ms *:   contoso.com.\t300\tIN\tMX\t0 contoso-com.mail.protection.outlook.com.",
		"  TXT contoso.com, resolver 127.0.0.1:53\n",
		"  blocklists:\n    zen.spamhaus.org: listed in Spamhaus PBL (Spamhaus-maintained) (127.0.0.11): end-user range\n" +
			"    bl.spamcop.net: inconclusive: A 99.2.0.192.bl.spamcop.net.: no answer from 127.0.0.1:53 within 5s\n",
		"truncated: retrying over TCP",
		"1 passed, 3 failed\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(got, reporttest.Secret) {
		t.Error("a secret in a lookup's name was not masked")
	}
}
