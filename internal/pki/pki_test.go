package pki

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"
)

func TestSelfSigned(t *testing.T) {
	notAfter := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	wantKeys := map[bool]string{false: "ECDSA P-256", true: "RSA 2048"}
	for _, rsa := range []bool{false, true} {
		c, err := SelfSigned(LeafOptions{Names: []string{"smtp.example.test", "localhost", "localhost", "192.0.2.1"},
			NotAfter: notAfter, Organization: "test", RSA: rsa})
		if err != nil {
			t.Fatal(err)
		}
		leaf := c.Leaf
		if len(c.Certificate) != 1 || leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) != nil {
			t.Errorf("RSA %v: not self-signed", rsa)
		}
		if leaf.VerifyHostname("192.0.2.1") != nil || len(leaf.DNSNames) != 2 || !leaf.NotAfter.Equal(notAfter) {
			t.Errorf("RSA %v: names %v %v, not after %s", rsa, leaf.DNSNames, leaf.IPAddresses, leaf.NotAfter)
		}
		// RSA key exchange needs key encipherment (RFC 5246 section
		// 7.4.7.1).
		if rsa != (leaf.KeyUsage&x509.KeyUsageKeyEncipherment != 0) {
			t.Errorf("RSA %v: key usage %b", rsa, leaf.KeyUsage)
		}
		info := Describe([]tls.Certificate{c})
		if len(info) != 1 || info[0].Subject != "CN=smtp.example.test,O=test" || info[0].Key != wantKeys[rsa] ||
			info[0].SHA256 != Fingerprint(c.Certificate[0]) || len(info[0].SHA256) != 95 {
			t.Errorf("RSA %v: %+v", rsa, info)
		}
	}
}

func TestIssue(t *testing.T) {
	ca, err := NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.Issue(LeafOptions{Names: []string{"mail.example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Certificate) != 2 || c.Leaf.Subject.CommonName != "mail.example.test" {
		t.Fatalf("chain of %d, subject %s", len(c.Certificate), c.Leaf.Subject)
	}
	if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "mail.example.test"}); err != nil {
		t.Error(err)
	}
}
