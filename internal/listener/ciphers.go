package listener

import (
	"crypto/tls"
	"strings"
)

// extraSuiteNames names cipher suites that devices offer but crypto/tls
// does not implement, so that tls.CipherSuiteName cannot name them (IANA
// TLS Cipher Suites registry). Old copier firmware typically offers the
// DHE, CBC-SHA384 and Camellia suites of OpenSSL 1.0.
var extraSuiteNames = map[uint16]string{
	0x0004: "TLS_RSA_WITH_RC4_128_MD5",
	0x0007: "TLS_RSA_WITH_IDEA_CBC_SHA",
	0x0009: "TLS_RSA_WITH_DES_CBC_SHA",
	0x0013: "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA",
	0x0016: "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
	0x0032: "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
	0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
	0x0038: "TLS_DHE_DSS_WITH_AES_256_CBC_SHA",
	0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
	0x003D: "TLS_RSA_WITH_AES_256_CBC_SHA256",
	0x0040: "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
	0x0041: "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA",
	0x0045: "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA",
	0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
	0x006A: "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",
	0x006B: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
	0x0084: "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA",
	0x0088: "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA",
	0x0096: "TLS_RSA_WITH_SEED_CBC_SHA",
	0x009E: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
	0x009F: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
	0x00A2: "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256",
	0x00A3: "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",
	0x00FF: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
	0x5600: "TLS_FALLBACK_SCSV",
	0xC008: "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
	0xC024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
	0xC028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
	0xC072: "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256",
	0xC073: "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384",
	0xC076: "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",
	0xC077: "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384",
	0xC09C: "TLS_RSA_WITH_AES_128_CCM",
	0xC09D: "TLS_RSA_WITH_AES_256_CCM",
	0xC0AC: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
	0xC0AD: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
	0xC0AE: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
	0xC0AF: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
	0xCCAA: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	0x1304: "TLS_AES_128_CCM_SHA256",
	0x1305: "TLS_AES_128_CCM_8_SHA256",
}

// SuiteName is the IANA name of a cipher suite, or its code in hex
// ("0x00C4") when neither crypto/tls nor the table above knows it.
func SuiteName(id uint16) string {
	if n, ok := extraSuiteNames[id]; ok {
		return n
	}
	return tls.CipherSuiteName(id) // "0x00C4" for unknown suites
}

// isGREASE reports whether v is a GREASE value (RFC 8701 section 2):
// 0x0A0A, 0x1A1A, ... 0xFAFA, which clients offer to keep servers
// tolerant and which mean nothing.
func isGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// isSignal reports whether a cipher suite value is a signalling value
// rather than a suite (RFC 5746 section 3.3, RFC 7507 section 6).
func isSignal(id uint16) bool { return id == 0x00FF || id == 0x5600 }

// isTLS13Suite reports whether id is a TLS 1.3 suite (RFC 8446 appendix
// B.4): its key exchange is negotiated apart, and is always ephemeral.
func isTLS13Suite(id uint16) bool { return id >= 0x1301 && id <= 0x1305 }

// ecCurve reports whether a supported group is an elliptic curve (or a
// hybrid built on one), as opposed to a finite-field group (RFC 7919).
func ecCurve(id tls.CurveID) bool {
	return id < 256 || id > 511
}

// offersECDHE reports whether a ClientHello offers an ECDHE key exchange:
// a TLS 1.2-or-older ECDHE suite, or a TLS 1.3 suite together with an
// elliptic-curve group (TLS 1.3 negotiates the key exchange through the
// supported groups, RFC 8446 section 4.2.7).
func offersECDHE(suites []uint16, curves []tls.CurveID) bool {
	ecGroup := false
	for _, c := range curves {
		if !isGREASE(uint16(c)) && ecCurve(c) {
			ecGroup = true
		}
	}
	for _, id := range suites {
		if strings.Contains(SuiteName(id), "_ECDHE_") {
			return true
		}
		if isTLS13Suite(id) && ecGroup {
			return true
		}
	}
	return false
}

// groupNames names the supported groups crypto/tls has no name for (IANA
// TLS Supported Groups registry; RFC 7919 for the ffdhe groups).
var groupNames = map[tls.CurveID]string{
	30:  "X448",
	256: "ffdhe2048",
	257: "ffdhe3072",
	258: "ffdhe4096",
	259: "ffdhe6144",
	260: "ffdhe8192",
}

// groupName names a supported group: crypto/tls's name ("X25519",
// "CurveP256"), the registry's, or its number.
func groupName(id tls.CurveID) string {
	if n, ok := groupNames[id]; ok {
		return n
	}
	return id.String() // "CurveID(1234)" for unknown groups
}
