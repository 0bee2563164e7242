package knowledge

import (
	"strings"
	"testing"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// TestDiagnoseToken: a refused token request is explained by its AADSTS
// entry; the other failures by what their kind means.
func TestDiagnoseToken(t *testing.T) {
	for _, tc := range []struct {
		name     string
		token    result.Token
		category result.Category
		meaning  string
		source   string
	}{
		{"known code", result.Token{ErrorKind: "refused", AADSTS: "AADSTS7000222", Error: "token request: AADSTS7000222: expired",
			CorrelationID: "c-1", TraceID: "t-1"}, result.Auth, "has expired", "https://learn.microsoft.com/"},
		{"code only in the text", result.Token{ErrorKind: "response", Error: "token request: AADSTS90002: Tenant 'x' not found"},
			"", "", "https://learn.microsoft.com/"},
		{"unknown code", result.Token{ErrorKind: "refused", AADSTS: "AADSTS50126", OAuthError: "invalid_grant", Error: "AADSTS50126: ..."},
			result.Auth, "refused the token request with AADSTS50126 (invalid_grant), which the knowledge base does not describe", entraErrorCodes},
		{"network", result.Token{ErrorKind: "network", Authority: "https://login.microsoftonline.com", Error: "tenant discovery: unreachable"},
			result.Network, "https://login.microsoftonline.com could not be reached", ""},
		{"credential", result.Token{ErrorKind: "credential", Error: "client certificate: ..."}, result.Configuration, "could not be used to sign", smtpOAuthSource},
		{"device code not completed", result.Token{ErrorKind: "canceled", Grant: "device_code", Error: "device code sign-in: nobody completed ..."},
			result.Auth, "Nobody completed the device code sign-in", deviceCodeSource},
		{"too slow", result.Token{ErrorKind: "canceled", Grant: "client_credentials", Error: "token request: context deadline exceeded"},
			result.Network, "did not finish before the check's deadline", ""},
	} {
		d := DiagnoseToken(&tc.token)
		if d == nil || d.Step != result.StepAuth || d.Outcome != tc.token.Error || d.Fix == "" || d.Meaning == "" {
			t.Errorf("%s: %+v", tc.name, d)
			continue
		}
		if tc.category != "" && d.Category != tc.category || !strings.Contains(d.Meaning, tc.meaning) || !strings.HasPrefix(d.Source, tc.source) {
			t.Errorf("%s: %s %q %q", tc.name, d.Category, d.Meaning, d.Source)
		}
		if tc.token.CorrelationID != "" && !strings.Contains(d.Fix, "correlation ID c-1 (trace ID t-1)") {
			t.Errorf("%s: fix %q", tc.name, d.Fix)
		}
	}
}

// TestTokenProblems: what the claims showed joins the diagnosis of a
// check that failed, or makes one.
func TestTokenProblems(t *testing.T) {
	tok := &result.Token{Problems: []string{"roles: no SMTP.SendAsApp", "exp: expired"}}
	d := TokenProblems(&result.Diagnosis{Meaning: "Refused."}, tok)
	if d.Meaning != "Refused. Before it was sent, the access token was flagged: roles: no SMTP.SendAsApp; exp: expired." {
		t.Errorf("%q", d.Meaning)
	}
	if d := TokenProblems(nil, tok); d == nil || d.Category != result.Auth || !strings.Contains(d.Meaning, "flagged") {
		t.Errorf("%+v", d)
	}
	if d := TokenProblems(nil, &result.Token{}); d != nil {
		t.Errorf("no problems: %+v", d)
	}
	if d := TokenProblems(nil, nil); d != nil {
		t.Errorf("no token: %+v", d)
	}
}

// TestDiagnoseAfterXOAUTH2: the same 535 5.7.3 is a refused token after
// AUTH XOAUTH2 and a refused password after AUTH LOGIN.
func TestDiagnoseAfterXOAUTH2(t *testing.T) {
	reply := esmtp.Reply{Code: 535, Enhanced: "5.7.3", Lines: []string{"5.7.3 Authentication unsuccessful [SN1PR80CA0001.outlook.office365.com]"}}
	conv := func(command string) *result.Conversation {
		return &result.Conversation{Host: "smtp.office365.com", Port: 587, Steps: []result.StepRecord{
			{Step: result.StepConnect}, {Step: result.StepAuth, Command: command, Reply: &reply}}}
	}
	token := Diagnose(conv("AUTH XOAUTH2 ****"))
	password := Diagnose(conv("AUTH LOGIN"))
	want, _ := LookupAfterXOAUTH2(535, "5.7.3", reply.Text())
	if token == nil || !strings.HasPrefix(token.Meaning, want.Meaning) || token.Code != "535 5.7.3" {
		t.Errorf("after XOAUTH2: %+v", token)
	}
	if password == nil || strings.HasPrefix(password.Meaning, want.Meaning) {
		t.Errorf("after LOGIN: %+v", password)
	}
}
