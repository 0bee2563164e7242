// Package pki makes and describes the certificates smtpdiag's servers and
// tests use: throwaway certificate authorities and the leaves they issue,
// self-signed leaves, and SHA-256 fingerprints of them.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"slices"
	"sync"
	"time"
)

// CA is a certificate authority that can issue leaf certificates.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	// PEM is the CA certificate, PEM-encoded (what a ca_file holds).
	PEM []byte
}

// NewCA makes a self-signed CA valid from an hour ago for ten years.
func NewCA(commonName string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"smtpdiag test CA"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Pool returns a certificate pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// LeafOptions shapes a leaf certificate.
type LeafOptions struct {
	// Names are DNS names or IP literals put in the SAN extension; the first
	// is also the common name.
	Names     []string
	NotBefore time.Time // zero: an hour ago
	NotAfter  time.Time // zero: 90 days from now
	// Organization, when not "", is the subject's organization.
	Organization string
	// RSA gives the leaf an RSA 2048 key, made once per process and shared
	// by every RSA leaf (generating one takes a noticeable moment, and the
	// leaves are throwaway), instead of a new ECDSA P-256 key. Its key
	// usage allows RSA key exchange, which encrypts the premaster secret
	// to the certificate's key (RFC 5246 section 7.4.7.1).
	RSA bool
}

// Issue makes a server certificate signed by the CA, ready for tls.Config.
func (ca *CA) Issue(opts LeafOptions) (tls.Certificate, error) {
	return makeLeaf(opts, ca.Cert, ca.Key)
}

// SelfSigned makes a server certificate signed by its own key, ready for
// tls.Config: what a device under test is offered when no certificate is
// configured.
func SelfSigned(opts LeafOptions) (tls.Certificate, error) {
	return makeLeaf(opts, nil, nil)
}

// rsaKey is the RSA key of every RSA leaf (LeafOptions.RSA).
var rsaKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// makeLeaf makes a leaf certificate signed by parent with parentKey, or
// self-signed when parent is nil.
func makeLeaf(opts LeafOptions, parent *x509.Certificate, parentKey crypto.Signer) (tls.Certificate, error) {
	var key crypto.Signer
	var err error
	usage := x509.KeyUsageDigitalSignature
	if opts.RSA {
		key, err = rsaKey()
		usage |= x509.KeyUsageKeyEncipherment
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	if opts.NotBefore.IsZero() {
		opts.NotBefore = now.Add(-time.Hour)
	}
	if opts.NotAfter.IsZero() {
		opts.NotAfter = now.AddDate(0, 0, 90)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		NotBefore:    opts.NotBefore,
		NotAfter:     opts.NotAfter,
		KeyUsage:     usage,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if opts.Organization != "" {
		tmpl.Subject.Organization = []string{opts.Organization}
	}
	for i, n := range opts.Names {
		if i == 0 {
			tmpl.Subject.CommonName = n
		}
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if !slices.Contains(tmpl.DNSNames, n) {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	chain := [][]byte(nil)
	if parent == nil {
		parent, parentKey = tmpl, key
	} else {
		chain = [][]byte{parent.Raw}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("issue certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: append([][]byte{der}, chain...), PrivateKey: key, Leaf: leaf}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return n
}
