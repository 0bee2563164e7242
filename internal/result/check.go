package result

import "time"

// Status is a check's verdict.
type Status string

// The verdicts.
const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
	// Errored is for the runner's own faults (a CA file that vanished, a
	// panic in a check), never for anything the server did.
	Errored Status = "error"
)

// Check is the outcome of one check.
type Check struct {
	// Index is the check's position in its suite.
	Index int    `json:"index"`
	Label string `json:"name"`
	Kind  string `json:"kind"` // "smtp", "dns", "dnsbl" or "device"
	// Path is the way to send through Microsoft 365 after the Basic auth
	// switch-off that the check proves (its suite's path = "oauth"):
	// basic_auth, oauth, hve, acs_relay, direct_send or connector; "" for
	// a check that proves none.
	Path string `json:"path,omitempty"`
	// Line is the line of the check's block in its suite file (the
	// suite's Path), for annotations that point at it; 0 when not known.
	Line int `json:"line,omitempty"`
	// Endpoint is the endpoint's label, Target what it named ("host:port";
	// for an mx endpoint the chosen MX host). For dns checks Target is the
	// question ("MX contoso.com"), for dnsbl checks the IP looked up.
	Endpoint string `json:"endpoint"`
	Target   string `json:"target"`
	// Resolver is the DNS server asked, for checks that made lookups.
	Resolver string `json:"resolver,omitempty"`

	Status   Status    `json:"status"`
	Failures []Failure `json:"failures,omitempty"`
	// Diagnosis explains a failure; nil for passed checks.
	Diagnosis *Diagnosis `json:"diagnosis,omitempty"`
	// Error is the runner's own fault for Errored checks.
	Error string `json:"error,omitempty"`

	// Conversation is the last attempt's record.
	Conversation *Conversation `json:"conversation,omitempty"`
	Attempts     int           `json:"attempts"`
	// DataSuppressed is true when the suite asked for a message but
	// --no-send kept the runner from sending DATA.
	DataSuppressed bool `json:"data_suppressed,omitempty"`

	// Token is the OAuth access token request of an smtp check whose auth
	// block has an oauth block; nil for other checks.
	Token *Token `json:"token,omitempty"`

	// Lookups are the check's DNS exchanges in order: the MX resolution of
	// an mx endpoint, a dns or dnsbl check's queries, the blocklist proof.
	Lookups []Lookup `json:"lookups,omitempty"`
	// DNS is what a dns check found; nil for other kinds.
	DNS *DNSOutcome `json:"dns,omitempty"`
	// Blocklists are the verdicts of a dnsbl check, or, for an smtp check
	// that failed on a reputation rejection naming an IP, of that IP in
	// the default zones (the proof of the rejection).
	Blocklists []Listing `json:"blocklists,omitempty"`
	// Device is the recorded session of a device check (smtpdiag listen):
	// the device's TLS offer, AUTH, envelope and messages; nil for other
	// kinds.
	Device *DeviceSession `json:"device,omitempty"`
	// Paths, for a device check, says which ways to send through
	// Microsoft 365 the device can use after the Basic auth switch-off,
	// from what it offered.
	Paths *PathDecision `json:"paths,omitempty"`

	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
}

// NotTested starts the Error of a check its suite left out of the run
// (enabled = false), followed by the expression that said so:
// "not tested: enabled = var.client_id != \"\"". Such a check is Skipped.
const NotTested = "not tested: "

// FirstFailure returns the first failed expectation's message, or the
// runner error, or "".
func (r *Check) FirstFailure() string {
	if len(r.Failures) > 0 {
		return r.Failures[0].Message
	}
	return r.Error
}

// TranscriptLines returns what a reporter shows as the check's transcript:
// the conversation's (which starts with the OAuth token request of an
// oauth block and the MX lookups of an mx endpoint), or for checks
// without a conversation the token request (one that failed) and their
// DNS lookups as Note lines, with offsets from the first lookup.
func (r *Check) TranscriptLines() []TranscriptLine {
	if r.Conversation != nil {
		return r.Conversation.Transcript
	}
	if r.Device != nil {
		return r.Device.Transcript
	}
	lookups := LookupLines(r.Lookups, time.Time{})
	if r.Token != nil {
		return append(r.Token.TranscriptLines(0), lookups...)
	}
	return lookups
}

// LookupLines renders lookups as transcript Note lines with offsets from
// start (the first lookup's start when zero).
func LookupLines(lookups []Lookup, start time.Time) []TranscriptLine {
	var out []TranscriptLine
	for i, l := range lookups {
		if i == 0 && start.IsZero() {
			start = l.Started
		}
		offset := l.Started.Sub(start)
		if offset < 0 || l.Started.IsZero() {
			offset = 0
		}
		for _, text := range l.Lines() {
			out = append(out, TranscriptLine{Offset: offset, Direction: Note, Text: text})
		}
	}
	return out
}

// Suite is the outcome of one suite file.
type Suite struct {
	Name        string        `json:"name"`
	Description string        `json:"description,omitempty"`
	Path        string        `json:"path"`
	Started     time.Time     `json:"started"`
	Duration    time.Duration `json:"duration_ns"`
	Checks      []*Check      `json:"checks"`
	// Interrupted says why the run ended before every check of the suite
	// finished ("the run was interrupted (SIGTERM)"); "" when it was not.
	// The checks that did not finish are Skipped, or failed with a
	// canceled fault.
	Interrupted string `json:"interrupted,omitempty"`
	// Paths says which ways to send through Microsoft 365 work today for
	// this tenant from this machine, from the outcome of each check that
	// proves a path (Check.Path); nil when no check of the suite proves
	// one.
	Paths *PathDecision `json:"paths,omitempty"`
}

// Unfinished counts the checks an interruption kept from finishing:
// those not run at all and those canceled while they ran. A connection
// listen lists without judging it (skipped, with its session) finished.
func (s *Suite) Unfinished() int {
	n := 0
	for _, c := range s.Checks {
		if c.Status == Skipped && c.Device == nil {
			n++
			continue
		}
		if c.Conversation == nil {
			continue
		}
		if stop := c.Conversation.Stop(); stop != nil && stop.Fault != nil && stop.Fault.Kind == FaultCanceled {
			n++
		}
	}
	return n
}

// Counts tallies the suite's verdicts.
func (s *Suite) Counts() Counts {
	var c Counts
	for _, r := range s.Checks {
		c.add(r.Status)
	}
	return c
}

// Counts tallies verdicts.
type Counts struct {
	Passed, Failed, Errored, Skipped int
}

func (c *Counts) add(s Status) {
	switch s {
	case Passed:
		c.Passed++
	case Failed:
		c.Failed++
	case Errored:
		c.Errored++
	case Skipped:
		c.Skipped++
	}
}

// Total is the number of checks.
func (c Counts) Total() int { return c.Passed + c.Failed + c.Errored + c.Skipped }

// Tally adds up the verdicts of several suites.
func Tally(suites []*Suite) Counts {
	var c Counts
	for _, s := range suites {
		for _, r := range s.Checks {
			c.add(r.Status)
		}
	}
	return c
}

// EventKind says what an Event reports.
type EventKind int

// The kinds of event, in the order a run emits them.
const (
	SuiteStarted EventKind = iota
	CheckFinished
	SuiteFinished
)

// Event reports progress. CheckFinished events come in suite order even
// when checks run in parallel.
type Event struct {
	Kind  EventKind
	Suite *Suite
	Check *Check // for CheckFinished
	// Total is the number of checks in the suite.
	Total int
}

// Failure is one expectation that did not hold.
type Failure struct {
	// Expectation names the attribute ("rcpt", "starttls", "no", or "step"
	// for the default rule and unexpected stops).
	Expectation string `json:"expectation"`
	// Message says what was expected and what happened, on one line:
	// `rcpt: expected "250", got 550 5.7.606 Access denied...`.
	Message string `json:"message"`
}
