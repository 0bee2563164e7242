package esmtp

import (
	"crypto/tls"
	"fmt"
)

// TLSVersion names a TLS protocol version the way suite files and records
// write it: "1.0" to "1.3" (RFC 8446 section 4.2.1 lists the code
// points), "SSL 3.0", or the code point in hex.
func TLSVersion(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "1.0"
	case tls.VersionTLS11:
		return "1.1"
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS13:
		return "1.3"
	case 0x0300:
		return "SSL 3.0"
	}
	return fmt.Sprintf("0x%04X", v)
}
