package result

// Category groups diagnoses by what has to change.
type Category string

// The categories of SPEC section 4.
const (
	Network       Category = "network"
	DNS           Category = "dns"
	TLS           Category = "tls"
	Auth          Category = "auth"
	Policy        Category = "policy"
	Reputation    Category = "reputation"
	Recipient     Category = "recipient"
	Throttling    Category = "throttling"
	Configuration Category = "configuration"
)

// Diagnosis explains why a check did not go as expected: what happened,
// what it means and what fixes it, with the source of that knowledge.
type Diagnosis struct {
	Category Category `json:"category"`
	// Summary is one line: what happened, where.
	Summary string `json:"summary"`
	// Outcome is the reply or fault the diagnosis explains, as a failure
	// message quotes it, so that a reporter shows it once.
	Outcome string `json:"outcome,omitempty"`
	Meaning string `json:"meaning"`
	Fix     string `json:"fix"`
	Setting string `json:"setting,omitempty"`
	Source  string `json:"source,omitempty"`
	// IP is an address the reply named in brackets, if any.
	IP string `json:"ip,omitempty"`
	// Step is the step the diagnosis is about: the one whose reply is
	// explained, or the one where the conversation stopped.
	Step Step `json:"step,omitempty"`
	// Code is the explained reply's codes ("550 5.7.606"), "" for faults.
	Code string `json:"code,omitempty"`
}
