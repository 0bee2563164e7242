package matrix

import (
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/result"
)

// TestClientCertificateRow: whether the server asked for a client
// certificate and which was sent; nothing when the handshake ended
// before the server could ask, or there was no TLS.
func TestClientCertificateRow(t *testing.T) {
	tlsOK := []result.StepRecord{{Step: result.StepConnect}, {Step: result.StepTLS}}
	stoppedAtTLS := []result.StepRecord{{Step: result.StepConnect},
		{Step: result.StepTLS, Fault: &result.Fault{Kind: result.FaultCertificate, Message: "certificate is valid for another name"}}}
	sent := &result.Certificate{Subject: "CN=relay.contoso.com"}
	for _, tc := range []struct {
		name string
		conv *result.Conversation
		want string
	}{
		{"no TLS", &result.Conversation{Steps: tlsOK[:1]}, NotObserved},
		{"not asked", &result.Conversation{Steps: tlsOK, TLS: &result.TLSInfo{Version: "1.3"}}, "not asked for"},
		{"asked, none", &result.Conversation{Steps: tlsOK, TLS: &result.TLSInfo{Version: "1.3", ClientCertificateRequested: true}}, "asked for; none sent"},
		{"asked, sent", &result.Conversation{Steps: tlsOK, TLS: &result.TLSInfo{Version: "1.2", ClientCertificateRequested: true, ClientCertificate: sent}},
			"asked for; sent CN=relay.contoso.com"},
		{"handshake ended first", &result.Conversation{Steps: stoppedAtTLS, TLS: &result.TLSInfo{Version: "1.3"}}, NotObserved},
	} {
		m := Build([]Column{{Name: "mx", Conversations: []*result.Conversation{tc.conv}}}, time.Now())
		got := ""
		for _, r := range m.Rows {
			if r.Name == "Client certificate" {
				got = r.Cells[0]
			}
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
