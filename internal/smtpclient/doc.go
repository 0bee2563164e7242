// Package smtpclient holds SMTP conversations and records them: every
// command and reply (multi-line, with RFC 3463 enhanced codes), the EHLO
// extensions before and after STARTTLS, the TLS session and certificate
// chain, and a redacted, timestamped transcript. It knows nothing about
// suites: a Plan says what to do, a result.Conversation says what
// happened.
//
// It does not use net/smtp, which hides multi-line replies, enhanced codes
// and anything sent in plaintext after STARTTLS.
package smtpclient
