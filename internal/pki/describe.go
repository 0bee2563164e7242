package pki

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"time"
)

// CertificateInfo describes a server certificate for the person running a
// test: a device that shows the certificate it was offered can be
// compared by fingerprint.
type CertificateInfo struct {
	Subject string
	// Key is "ECDSA P-256" or "RSA 2048".
	Key string
	// SHA256 is the fingerprint of the DER certificate, colon-separated
	// upper-case hex as most devices and browsers show it.
	SHA256   string
	NotAfter time.Time
}

// Describe describes the leaf of each certificate, leaving out those
// without one that parses.
func Describe(certs []tls.Certificate) []CertificateInfo {
	var out []CertificateInfo
	for _, c := range certs {
		if len(c.Certificate) == 0 {
			continue
		}
		leaf := c.Leaf
		if leaf == nil {
			var err error
			if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
				continue
			}
		}
		out = append(out, CertificateInfo{
			Subject:  leaf.Subject.String(),
			Key:      keyName(leaf),
			SHA256:   Fingerprint(c.Certificate[0]),
			NotAfter: leaf.NotAfter,
		})
	}
	return out
}

func keyName(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	}
	return c.PublicKeyAlgorithm.String()
}

// Fingerprint is the SHA-256 of a DER certificate as "AB:CD:...".
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}
