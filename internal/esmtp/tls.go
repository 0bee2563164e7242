package esmtp

import "fmt"

// TLSVersion names a TLS protocol version the way suite files and records
// write it: "1.0" to "1.3", "SSL 3.0", or the code point in hex. The code
// points (RFC 8446 appendix B.3.1 and the earlier RFCs) are written out
// rather than taken from crypto/tls, so that the results model and the
// reporters built on it do not pull in the TLS stack.
func TLSVersion(v uint16) string {
	switch v {
	case 0x0301:
		return "1.0"
	case 0x0302:
		return "1.1"
	case 0x0303:
		return "1.2"
	case 0x0304:
		return "1.3"
	case 0x0300:
		return "SSL 3.0"
	}
	return fmt.Sprintf("0x%04X", v)
}

// TLS protocol version code points, as crypto/tls numbers them.
const (
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)
