package listener

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// CertificateInfo describes a server certificate for the person running
// the test: a device that shows the certificate it was offered can be
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

// rsaKey is made once per process: generating a 2048-bit RSA key takes a
// noticeable moment, and the automatic certificates are throwaway
// anyway.
var rsaKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// autoCertificates makes two self-signed certificates for hostname: an
// ECDSA one, which modern devices pick, and an RSA one, without which a
// device that offers only RSA key exchange or ECDHE_RSA suites (common in
// older firmware) could not complete a handshake at all. crypto/tls
// chooses between them from the ClientHello.
func autoCertificates(hostname string, now time.Time) ([]tls.Certificate, error) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	rk, err := rsaKey()
	if err != nil {
		return nil, err
	}
	var out []tls.Certificate
	for _, key := range []crypto.Signer{ecKey, rk} {
		cert, err := selfSigned(hostname, key, now)
		if err != nil {
			return nil, err
		}
		out = append(out, cert)
	}
	return out, nil
}

func selfSigned(hostname string, key crypto.Signer, now time.Time) (tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	usage := x509.KeyUsageDigitalSignature
	if _, isRSA := key.(*rsa.PrivateKey); isRSA {
		// RSA key exchange (TLS_RSA_*) encrypts the premaster secret to
		// the certificate's key (RFC 5246 section 7.4.7.1).
		usage |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: hostname, Organization: []string{"smtpdiag device test (self-signed)"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(0, 0, 30),
		KeyUsage:     usage,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range []string{hostname, "localhost"} {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if !slices.Contains(tmpl.DNSNames, n) {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// describeCertificates describes the leaf of each certificate.
func describeCertificates(certs []tls.Certificate) []CertificateInfo {
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
