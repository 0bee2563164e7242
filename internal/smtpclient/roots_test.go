package smtpclient

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/smtpdiag/smtpdiag/internal/pki"
)

// TestExtraRoots: Plan.ExtraRoots are trusted next to RootCAs (or the
// system roots), and a chain that leads to none of them does not verify.
func TestExtraRoots(t *testing.T) {
	p := newPKI(t)
	other, err := pki.NewCA("unrelated CA")
	if err != nil {
		t.Fatal(err)
	}
	port := startServer(t, &backend{}, serverOptions{cert: &p.cert})
	for _, tc := range []struct {
		name     string
		roots    *x509.CertPool
		extra    []*x509.Certificate
		verified bool
	}{
		{"extra alone", nil, []*x509.Certificate{p.ca.Cert}, true},
		{"extra next to an unrelated one", nil, []*x509.Certificate{other.Cert, p.ca.Cert}, true},
		{"roots, extra unrelated", p.ca.Pool(), []*x509.Certificate{other.Cert}, true},
		{"extra unrelated, system roots", nil, []*x509.Certificate{other.Cert}, false},
		{"roots unrelated, no extra", other.Pool(), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := basePlan(port)
			plan.RootCAs, plan.ExtraRoots = tc.roots, tc.extra
			conv := Converse(context.Background(), plan)
			if conv.TLS == nil {
				t.Fatalf("no TLS session\n%s", transcriptText(conv))
			}
			if conv.TLS.Verified != tc.verified {
				t.Errorf("verified = %v (%s), want %v", conv.TLS.Verified, conv.TLS.VerifyError, tc.verified)
			}
			if !tc.verified && !strings.Contains(conv.TLS.VerifyError, "unknown authority") {
				t.Errorf("verify error %q", conv.TLS.VerifyError)
			}
		})
	}
}
