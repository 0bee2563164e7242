package result

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func tokenRecord() *Token {
	return &Token{
		Authority: "https://login.microsoftonline.com", Tenant: "contoso.onmicrosoft.com", ClientID: "app", Scope: "s",
		Grant: "client_credentials", Credential: "client secret", Outcome: "failed",
		Error: "token request: AADSTS7000215: Invalid client secret provided (secret-value)", ErrorKind: "refused",
		AADSTS: "AADSTS7000215", OAuthError: "invalid_client", Duration: 40 * time.Millisecond,
		Problems: []string{"roles: secret-value"},
		Claims:   &TokenClaims{Audience: []string{"secret-value"}, Roles: []string{"secret-value"}, AppID: "secret-value"},
		Lines:    []string{"OAuth client_credentials: authority ...", "OAuth token: failed: secret-value"},
	}
}

// TestTokenTranscript: a check whose token request failed has no
// conversation; its transcript is the request, what was asked at its
// start and the outcome when it ended, followed by any lookups.
func TestTokenTranscript(t *testing.T) {
	c := &Check{Token: tokenRecord(), Lookups: []Lookup{{Started: time.Unix(100, 0), Name: "contoso.com", Type: "MX"}}}
	lines := c.TranscriptLines()
	if len(lines) < 3 || lines[0].Offset != 0 || lines[1].Offset != 40*time.Millisecond || lines[0].Direction != Note ||
		lines[1].Text != "OAuth token: failed: secret-value" {
		t.Fatalf("transcript %+v", lines)
	}
	// With a conversation, the conversation's transcript (which the
	// runner starts with the same lines) is the transcript.
	c.Conversation = &Conversation{Transcript: []TranscriptLine{{Text: "C: EHLO x"}}}
	if got := c.TranscriptLines(); len(got) != 1 {
		t.Errorf("transcript %+v", got)
	}
}

// TestTokenRedact: every string of the record is masked.
func TestTokenRedact(t *testing.T) {
	tok := tokenRecord()
	tok.Redact(func(s string) string { return strings.ReplaceAll(s, "secret-value", "****") })
	b, _ := json.Marshal(tok)
	if strings.Contains(string(b), "secret-value") || !strings.Contains(string(b), `"aadsts":"AADSTS7000215"`) {
		t.Errorf("%s", b)
	}
}

// TestNoProtocolLibraries: the results model that every reporter reads
// knows the token request only as data: it imports neither package oauth
// nor MSAL.
func TestNoProtocolLibraries(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/smtpdiag/smtpdiag/internal/result").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/smtpdiag/smtpdiag/internal/oauth") || strings.HasPrefix(dep, "github.com/AzureAD/") ||
			strings.HasPrefix(dep, "github.com/golang-jwt/") {
			t.Errorf("internal/result depends on %s", dep)
		}
	}
}
