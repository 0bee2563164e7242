package result

import (
	"fmt"
	"strings"
	"time"
)

// Lookup is one exchange with one server, as shown in transcripts.
type Lookup struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Server    string `json:"server"`
	Transport string `json:"transport"` // "udp" or "tcp"
	// Truncated is set on a UDP exchange whose answer had the TC bit; the
	// TCP exchange that follows is recorded as a Lookup of its own.
	Truncated bool   `json:"truncated,omitempty"`
	Rcode     string `json:"rcode,omitempty"` // "NOERROR", "NXDOMAIN", ...; "" when no answer came
	// Answers are the answer section's records in zone-file form.
	Answers []string `json:"answers,omitempty"`
	// Error is why no usable answer came (a timeout, a refused port).
	Error    string        `json:"error,omitempty"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
}

// Lines renders the lookup for a transcript: a line for the question and
// outcome, then one line per answer record.
func (l Lookup) Lines() []string {
	head := fmt.Sprintf("DNS %s %s @%s/%s: ", l.Type, l.Name, l.Server, l.Transport)
	switch {
	case l.Error != "":
		head += l.Error
	case l.Truncated:
		head += l.Rcode + ", truncated: retrying over TCP"
	default:
		head += l.Rcode
		switch n := len(l.Answers); n {
		case 0:
			head += ", no records"
		case 1:
			head += ", 1 record"
		default:
			head += fmt.Sprintf(", %d records", n)
		}
	}
	head += fmt.Sprintf(" (%dms)", l.Duration.Milliseconds())
	lines := []string{head}
	if !l.Truncated {
		for _, a := range l.Answers {
			lines = append(lines, "  "+a)
		}
	}
	return lines
}

// Redact passes every string of the lookup through mask.
func (l *Lookup) Redact(mask func(string) string) {
	l.Name = mask(l.Name)
	l.Error = mask(l.Error)
	for i := range l.Answers {
		l.Answers[i] = mask(l.Answers[i])
	}
}

// ListingStatus is a zone's verdict on an IP.
type ListingStatus string

// The verdicts.
const (
	Listed    ListingStatus = "listed"
	NotListed ListingStatus = "not listed"
	// Inconclusive: the zone gave no verdict (a timeout, SERVFAIL, an
	// error code such as Spamhaus' 127.255.255.254, an answer outside
	// 127.0.0.0/8). Never counted as listed, nor as not listed.
	Inconclusive ListingStatus = "inconclusive"
)

// Listing is one zone's answer for one IP.
type Listing struct {
	Zone string `json:"zone"`
	IP   string `json:"ip"`
	// Query is the name asked, with a DQS key masked.
	Query  string        `json:"query"`
	Status ListingStatus `json:"status"`
	// Codes are the A records returned ("127.0.0.11").
	Codes []string `json:"codes,omitempty"`
	// Lists names what each code means, where the zone's codes are known:
	// "Spamhaus PBL (Spamhaus-maintained)".
	Lists []string `json:"lists,omitempty"`
	// Reason is the zone's TXT record for the listing, if it has one.
	Reason string `json:"reason,omitempty"`
	// Explanation says why a result is inconclusive.
	Explanation string `json:"explanation,omitempty"`
	// Delist is where to ask for removal.
	Delist string `json:"delist,omitempty"`
}

// String renders the result on one line:
// "zen.spamhaus.org: listed in Spamhaus PBL (127.0.0.11): reason".
func (l Listing) String() string {
	switch l.Status {
	case Listed:
		what := strings.Join(l.Lists, ", ")
		if what == "" {
			what = l.Zone
		}
		s := fmt.Sprintf("%s: listed in %s (%s)", l.Zone, what, strings.Join(l.Codes, ", "))
		if l.Reason != "" {
			s += ": " + l.Reason
		}
		return s
	case Inconclusive:
		return fmt.Sprintf("%s: inconclusive: %s", l.Zone, l.Explanation)
	}
	return fmt.Sprintf("%s: not listed", l.Zone)
}

// SPF results (RFC 7208 section 2.6).
const (
	SPFPass      = "pass"
	SPFFail      = "fail"
	SPFSoftFail  = "softfail"
	SPFNeutral   = "neutral"
	SPFNone      = "none"
	SPFPermError = "permerror"
	SPFTempError = "temperror"
)

// DNSOutcome is what a dns check found. The runner fills in the parts its
// expectations ask for.
type DNSOutcome struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Rcode is the response code ("NOERROR", "NXDOMAIN", "SERVFAIL"), ""
	// when no server answered.
	Rcode string `json:"rcode,omitempty"`
	// Records are the values of the records of the asked type.
	Records []string `json:"records"`
	// Error says why the lookup got no usable answer ("" when it did).
	Error string `json:"error,omitempty"`

	SPFRecord   string       `json:"spf_record,omitempty"`
	SPFIncludes []string     `json:"spf_includes,omitempty"`
	SPF         []SPFVerdict `json:"spf,omitempty"`
	SPFError    string       `json:"spf_error,omitempty"`

	DMARCRecord string `json:"dmarc_record,omitempty"`
	DMARCPolicy string `json:"dmarc_policy,omitempty"`
	DMARCError  string `json:"dmarc_error,omitempty"`

	// PTRNames are the IP's PTR names and ForwardConfirmed those that
	// resolve back to it.
	PTRNames         []string `json:"ptr_names,omitempty"`
	ForwardConfirmed []string `json:"forward_confirmed,omitempty"`
	FCrDNSError      string   `json:"fcrdns_error,omitempty"`
}

// SPFVerdict is the SPF result for one IP (RFC 7208 section 2.6).
type SPFVerdict struct {
	IP        string `json:"ip"`
	Result    string `json:"result"`
	Mechanism string `json:"mechanism,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// Verdict renders the result with what decided it: "pass (matched
// ip4:192.0.2.0/24)", "permerror: too many DNS lookups".
func (v SPFVerdict) Verdict() string {
	s := v.Result
	if v.Mechanism != "" {
		s += " (matched " + v.Mechanism + ")"
	}
	if v.Reason != "" {
		s += ": " + v.Reason
	}
	return s
}

// MXFailure says why a domain's MX cannot be used.
type MXFailure string

// The ways MX resolution fails.
const (
	MXNoDomain  MXFailure = "nxdomain"   // the domain does not exist
	MXNone      MXFailure = "no-mx"      // the domain publishes no MX record
	MXNull      MXFailure = "null-mx"    // RFC 7505: the domain accepts no mail
	MXNoAddress MXFailure = "no-address" // no MX host has an address
	MXLookup    MXFailure = "lookup"     // a lookup failed (timeout, SERVFAIL)
)
