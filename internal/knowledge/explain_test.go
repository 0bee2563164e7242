package knowledge

import (
	"slices"
	"strings"
	"testing"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

func TestParseCodes(t *testing.T) {
	tests := []struct {
		in       string
		basic    int
		enhanced string
	}{
		{"530", 530, ""},
		{"5.7.139", 0, "5.7.139"},
		{"550 5.7.606 Access denied, banned sending IP [203.0.113.5]", 550, "5.7.606"},
		{"550-5.7.606 Access denied, banned sending IP [203.0.113.5]", 550, "5.7.606"},
		{"Remote Server returned '550 5.7.1 Unable to relay'", 550, "5.7.1"},
		{"#550 5.4.1 Recipient address rejected: Access denied. AS(201806281) ##", 550, "5.4.1"},
		{"smtp;554 5.2.252 SendAsDenied; a@contoso.com not allowed to send as b@contoso.com", 554, "5.2.252"},
		// IP addresses, versions and numbers inside words are not codes.
		{"Client host [10.4.5.6] blocked", 0, ""},
		{"421 4.7.66 TLS 1.0 and 1.1 are not supported", 421, "4.7.66"},
		{"Server busy. Please try again later from [203.0.113.5]. (S77719)", 0, ""},
		{"5.7.606-649", 0, "5.7.606"},
		{"error 5.7.57.", 0, "5.7.57"},
		// A basic code written after the enhanced code is not its basic code.
		{"5.7.1 relay denied 550", 0, "5.7.1"},
		{"hello world", 0, ""},
		{"6.1.1 and 123 and 600", 0, ""},
		{"", 0, ""},
	}
	for _, tc := range tests {
		basic, enhanced := ParseCodes(tc.in)
		if basic != tc.basic || enhanced != tc.enhanced {
			t.Errorf("ParseCodes(%q) = %d, %q; want %d, %q", tc.in, basic, enhanced, tc.basic, tc.enhanced)
		}
	}
}

func TestExplainPastedNDR(t *testing.T) {
	x, err := Explain("550 5.7.606 Access denied, banned sending IP [203.0.113.5]")
	if err != nil {
		t.Fatal(err)
	}
	if !x.Known || x.Entry.Code() != "550 5.7.606-649" || x.Category != result.Reputation || x.IP != "203.0.113.5" {
		t.Fatalf("explanation %+v", x)
	}
	if x.Generic != "permanent failure: security or policy status" {
		t.Errorf("generic %q", x.Generic)
	}
	if len(x.Candidates) != 0 {
		t.Errorf("a known reply has candidates: %v", x.Candidates)
	}
}

func TestExplainEnhancedOnly(t *testing.T) {
	x, err := Explain("5.7.139")
	if err != nil {
		t.Fatal(err)
	}
	if !x.Known || x.Entry.ID != "535-5-7-139" || x.Category != result.Auth || !strings.Contains(x.Entry.Setting, "SmtpClientAuthenticationDisabled") {
		t.Fatalf("explanation %+v", x)
	}
}

func TestExplainBasicOnlyListsCandidates(t *testing.T) {
	x, err := Explain("530")
	if err != nil {
		t.Fatal(err)
	}
	if x.Known || x.Category != result.Auth || !strings.Contains(x.Generic, "authentication required") || x.GenericSource != rfc4954Source {
		t.Fatalf("explanation %+v", x)
	}
	if len(x.Candidates) != 1 || x.Candidates[0].ID != "530-5-7-57" {
		t.Fatalf("candidates %+v", x.Candidates)
	}
}

func TestExplainAmbiguousCodeListsItsTexts(t *testing.T) {
	x, err := Explain("5.7.1")
	if err != nil {
		t.Fatal(err)
	}
	if x.Known || x.Category != result.Policy || x.Generic != "permanent failure: delivery not authorized, message refused" {
		t.Fatalf("explanation %+v", x)
	}
	// 5.7.1 alone is a relay denial, a restricted group, a blocklist and
	// more: each documented wording is a candidate, none the answer.
	var ids []string
	for _, c := range x.Candidates {
		ids = append(ids, c.ID)
	}
	for _, want := range []string{"550-5-7-1-spamhaus", "550-5-7-1-relay", "5-7-1-delivery-not-authorized"} {
		if !slices.Contains(ids, want) {
			t.Errorf("candidates %q lack %s", ids, want)
		}
	}
}

func TestExplainUnknownCodeFallsBackToRFC3463(t *testing.T) {
	x, err := Explain("550 5.1.3 Bad recipient address syntax")
	if err != nil {
		t.Fatal(err)
	}
	if x.Known || x.Category != result.Recipient || x.Generic != "permanent failure: bad destination mailbox address syntax" ||
		x.GenericSource != rfc3463Source || len(x.Candidates) != 0 || len(x.Related) == 0 {
		t.Fatalf("explanation %+v", x)
	}
}

func TestExplainRejectsNonCodes(t *testing.T) {
	for _, in := range []string{"", "hello", "Client host [203.0.113.5]", "600", "TLS 1.2"} {
		if x, err := Explain(in); err == nil {
			t.Errorf("Explain(%q) = %+v, want an error", in, x)
		}
	}
}

// TestExplainAADSTS: an Entra ID error code, alone or in MSAL's message,
// is explained as a token error by the entry of the code it is about; one
// the knowledge base does not cover is not understood and points to
// Microsoft's list.
func TestExplainAADSTS(t *testing.T) {
	for _, tc := range []struct{ in, code, id string }{
		{"AADSTS7000215", "AADSTS7000215", "aadsts-7000215"},
		{"AADSTS70002: Error validating credentials. AADSTS7000222: The provided client secret keys are expired.", "AADSTS7000222", "aadsts-7000222"},
		{"AADSTS99999: something new", "AADSTS99999", ""},
		{"aadsts7000215", "AADSTS7000215", "aadsts-7000215"},
		// HTTP statuses next to an unknown code are no SMTP reply.
		{"Response status code does not indicate success: 400 (Bad Request). AADSTS50126: Error validating credentials.", "AADSTS50126", ""},
		{"(401) Unauthorized. AADSTS53003: Access has been blocked by Conditional Access policies.", "AADSTS53003", ""},
	} {
		x, err := Explain(tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		id := ""
		if x.Known {
			id = x.Entry.ID
		}
		if x.AADSTS != tc.code || id != tc.id || x.Basic != 0 || x.Enhanced != "" {
			t.Errorf("%q: code %q entry %q (basic %d, enhanced %q), want %q %q", tc.in, x.AADSTS, id, x.Basic, x.Enhanced, tc.code, tc.id)
		}
		if x.Understood() != (tc.id != "") || (tc.id == "") != (x.CodeList == entraErrorCodes) {
			t.Errorf("%q: understood %v, code list %q", tc.in, x.Understood(), x.CodeList)
		}
	}
}

// TestExplainSMTPReplyQuotingAADSTS: an SMTP reply that quotes an AADSTS
// code the knowledge base does not know is explained by its SMTP codes.
func TestExplainSMTPReplyQuotingAADSTS(t *testing.T) {
	x, err := Explain("535 5.7.3 Authentication unsuccessful AADSTS50126")
	if err != nil || !x.Known || x.Basic != 535 || x.Enhanced != "5.7.3" || x.AADSTS != "" {
		t.Errorf("%+v, %v", x, err)
	}
}
