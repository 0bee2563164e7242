package jsonreport

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/smtpdiag/smtpdiag/internal/report/reporttest"
)

// TestDNSChecks writes dns and dnsbl checks: no conversation, but lookups,
// the DNS outcome and blocklist verdicts.
func TestDNSChecks(t *testing.T) {
	var out bytes.Buffer
	if err := Write(&out, reporttest.LoopbackDNSResults(), Options{Redactor: reporttest.Redactor(), Version: "test"}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Checks []struct {
				Kind         string           `json:"kind"`
				Resolver     string           `json:"resolver"`
				Conversation *json.RawMessage `json:"conversation"`
				Lookups      []struct {
					Name, Type, Server, Rcode string
					Answers                   []string
				} `json:"lookups"`
				DNS *struct {
					Records []string `json:"records"`
				} `json:"dns"`
				Blocklists []struct {
					Zone, Status string
					Codes        []string
				} `json:"blocklists"`
			} `json:"checks"`
		} `json:"suites"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	checks := doc.Suites[0].Checks
	if c := checks[0]; c.Kind != "dns" || c.Conversation != nil || c.Resolver != "127.0.0.1:53" || c.DNS == nil ||
		len(c.DNS.Records) != 1 || len(c.Lookups) != 1 || c.Lookups[0].Rcode != "NOERROR" {
		t.Errorf("dns check = %+v", c)
	}
	if c := checks[2]; c.Kind != "dnsbl" || len(c.Blocklists) != 2 || c.Blocklists[0].Status != "listed" ||
		c.Blocklists[0].Codes[0] != "127.0.0.11" || c.Blocklists[1].Status != "inconclusive" {
		t.Errorf("dnsbl check = %+v", c)
	}
	if c := checks[3]; c.Kind != "smtp" || len(c.Blocklists) != 1 || c.Conversation == nil {
		t.Errorf("smtp check = %+v", c)
	}
	if strings.Contains(out.String(), reporttest.Secret) {
		t.Error("secret in the report")
	}
}
