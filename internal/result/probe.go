package result

import "github.com/smtpdiag/smtpdiag/internal/esmtp"

// Probe is what smtpdiag probe found out about one target: a conversation
// without AUTH, MAIL or DATA, and what it showed.
type Probe struct {
	// Target is the argument as given; Host, Port and TLSMode what was
	// dialed.
	Target  string `json:"target"`
	Host    string `json:"host"`
	Port    int    `json:"port"`
	TLSMode string `json:"tls_mode"`
	// OK is true when the target answered: connect, banner, EHLO and,
	// where TLS was attempted, a handshake (with a verified certificate
	// unless certificate problems were to be reported only).
	OK bool `json:"ok"`
	// Problem says why OK is false.
	Problem   string     `json:"problem,omitempty"`
	Diagnosis *Diagnosis `json:"diagnosis,omitempty"`

	Banner     string `json:"banner,omitempty"`
	BannerHost string `json:"banner_host,omitempty"`
	// StartTLS is whether the first EHLO advertised STARTTLS.
	StartTLS      bool             `json:"starttls"`
	EHLOBeforeTLS esmtp.Extensions `json:"ehlo_before_tls,omitzero"`
	EHLOAfterTLS  esmtp.Extensions `json:"ehlo_after_tls,omitzero"`
	TLS           *TLSInfo         `json:"tls,omitempty"`
	// AuthBeforeTLS and AuthAfterTLS are the mechanisms each EHLO
	// offered: nil when that EHLO did not happen, empty when it offered
	// none.
	AuthBeforeTLS []string `json:"auth_before_tls"`
	AuthAfterTLS  []string `json:"auth_after_tls"`
	ClientIP      string   `json:"client_ip,omitempty"`
	// Timings are the steps' durations in milliseconds by step name
	// ("ehlo_after_tls" for the second EHLO).
	Timings      map[string]float64 `json:"timings_ms"`
	Conversation *Conversation      `json:"conversation"`
}
