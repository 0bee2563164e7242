// Package assertions evaluates a suite's expectations against what a check
// found: the reply-pattern language and every expect attribute of SPEC
// section 3, for SMTP conversations, DNS lookups, blocklists and device
// sessions. Pure functions: no HCL, no network.
//
// It is part of the smtpdiag program, not a library: its evaluations take
// and return the types of the module's internal results model, which other
// modules cannot import.
package assertions

import "time"

// Pattern is a parsed reply pattern: "250", "2xx", "55x", "250 2.1.5",
// "5.7.606", "5.7.x", "550 5.7.606-649", with optional text after the codes
// matched as a case-insensitive substring ("550 5.7.1 Spamhaus"). Make one
// with ParsePattern or PatternFromCode; the zero Pattern matches nothing.
type Pattern struct {
	// Source is the pattern as written, for messages.
	Source string
	// unexported parsed parts are defined by the implementation
	p pattern
}

// Comparison is a parsed comparison such as ">= 1.2" or "< 14" (operators
// = == != > >= < <=; a bare number means =).
type Comparison struct {
	Source string
	Op     string
	Value  float64
}

// Expect holds every expect attribute of SPEC section 3. A nil pointer or
// nil slice means "not set".
type Expect struct {
	Connect             *bool
	Banner              *Pattern
	EHLO                *Pattern
	Auth                *Pattern
	Mail                *Pattern
	Rcpt                []Pattern // one pattern: every RCPT; several: RCPTs in order
	Data                *Pattern
	StartTLS            *bool
	TLSVersion          *Comparison
	CertificateValid    *bool
	CertificateDaysLeft *Comparison
	Advertises          []string
	NotAdvertises       []string
	AuthBeforeTLS       *bool
	No                  []Pattern
	ClientIP            *string
	MaxDuration         *time.Duration
	BannerWithin        *time.Duration
}
