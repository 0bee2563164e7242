package simulator

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
)

// connector is the tenant's certificate-based inbound connectors
// (Options.ConnectorCertificateNames and Options.ConnectorRoots): a
// client that presents, inside TLS, a certificate naming one of them may
// relay through the MX endpoint to any domain.
type connector struct {
	names []string       // lower-case, without a trailing dot
	roots *x509.CertPool // nil: names only
}

// newConnector checks the names; it returns nil when there are none.
func newConnector(names []string, roots *x509.CertPool) (*connector, error) {
	if len(names) == 0 {
		return nil, nil
	}
	c := &connector{roots: roots}
	for _, n := range names {
		norm := normalizeName(n)
		rest, wildcard := strings.CutPrefix(norm, "*.")
		if norm == "" || strings.Contains(rest, "*") || (wildcard && rest == "") ||
			strings.HasPrefix(rest, ".") || strings.Contains(rest, "..") {
			return nil, fmt.Errorf("simulator: connector certificate name %q: want a domain (relay.contoso.com) or a wildcard for a domain and its subdomains (*.contoso.com)", n)
		}
		c.names = append(c.names, norm)
	}
	return c, nil
}

// normalizeName lower-cases a DNS name and drops its trailing dot.
func normalizeName(name string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

// accepts judges the client certificate of a TLS session: it must name
// one of the connector's names and, with roots, chain to one of them for
// client authentication. It returns the name the certificate matched, or
// why the certificate does not count.
func (c *connector) accepts(state tls.ConnectionState) (matched string, refused error) {
	if len(state.PeerCertificates) == 0 {
		return "", fmt.Errorf("the client presented no certificate")
	}
	leaf := state.PeerCertificates[0]
	names := certificateNames(leaf)
	matched = c.match(names)
	if matched == "" {
		return "", fmt.Errorf("the certificate names %q, no TlsSenderCertificateName of the connector %q", names, c.names)
	}
	if c.roots != nil {
		intermediates := x509.NewCertPool()
		for _, cert := range state.PeerCertificates[1:] {
			intermediates.AddCert(cert)
		}
		_, err := leaf.Verify(x509.VerifyOptions{
			Roots:         c.roots,
			Intermediates: intermediates,
			// A certificate whose extended key usage is ClientAuth or
			// Any, or that has none, verifies.
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		})
		if err != nil {
			return "", fmt.Errorf("the certificate for %q is not trusted: %w", names, err)
		}
	}
	return matched, nil
}

// certificateNames are the names the simulator matches a certificate by:
// its DNS subject alternative names, or, when it has none, its subject's
// common name. Microsoft's pages say the certificate's subject names the
// domain (CN or SAN); which one Exchange Online reads first is not
// documented, so this order is the simulator's, not a fact about Exchange.
func certificateNames(cert *x509.Certificate) []string {
	if len(cert.DNSNames) > 0 {
		return cert.DNSNames
	}
	if cert.Subject.CommonName != "" {
		return []string{cert.Subject.CommonName}
	}
	return nil
}

// match returns the first of the connector's names that one of the
// certificate's names matches, "" for none.
func (c *connector) match(certNames []string) string {
	for _, pattern := range c.names {
		for _, name := range certNames {
			if matchName(pattern, normalizeName(name)) {
				return pattern
			}
		}
	}
	return ""
}

// matchName reports whether name (lower-case) matches pattern (lower-case):
// equal, or, for "*.contoso.com", contoso.com itself or any name under it
// (relay.contoso.com, a.b.contoso.com; not relaycontoso.com). New-
// InboundConnector's documentation says a TlsSenderCertificateName
// wildcard indicates "a domain and all subdomains":
// https://learn.microsoft.com/en-us/powershell/module/exchangepowershell/new-inboundconnector
func matchName(pattern, name string) bool {
	if pattern == name {
		return true
	}
	domain, ok := strings.CutPrefix(pattern, "*.")
	if !ok {
		return false
	}
	return name == domain || strings.HasSuffix(name, "."+domain)
}
