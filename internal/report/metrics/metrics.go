// Package metrics writes a run's results in the Prometheus text exposition
// format, for node_exporter's textfile collector or a push to a
// Pushgateway (smtpdiag run --metrics FILE).
//
// The metrics are gauges that describe the last run; none is a counter,
// since every run writes the whole file anew. Per check they are labelled
// with the suite's name, the check's label and its endpoint's label
// (suite, check, endpoint), and where needed one more label with a small
// fixed set of values (status); reply texts, addresses and other values
// that change from run to run never become labels, so that the number of
// series stays the number of checks.
//
// Per check:
//
//	smtpdiag_check_success                1 passed, 0 failed or error (none for a skipped check)
//	smtpdiag_check_status{status}         1 for the check's status, 0 for the others
//	smtpdiag_check_duration_seconds       how long the check took
//	smtpdiag_tls_version                  1.0 to 1.3, where TLS was negotiated
//	smtpdiag_tls_certificate_expiry_days  days from the check to the leaf certificate's notAfter
//	smtpdiag_tls_certificate_expiry_timestamp_seconds  the leaf's notAfter, Unix time
//	smtpdiag_blocklist_listed             1 a DNS blocklist lists the IP, 0 none does
//	smtpdiag_blocklist_zones{status}      zones by verdict: listed, not listed, inconclusive
//
// The blocklist metrics come from dnsbl checks (the IP they looked up, as a
// rule the egress IP) and from the blocklist proof of an smtp check that a
// server rejected for its reputation (the IP the rejection named). A check
// whose every zone was inconclusive has no smtpdiag_blocklist_listed.
//
// Per run:
//
//	smtpdiag_run_checks{status}           checks by status: passed, failed, error, skipped
//	smtpdiag_run_timestamp_seconds        when the run started, Unix time
//	smtpdiag_run_duration_seconds         from the first suite's start to the last one's end
//	smtpdiag_run_interrupted              1 when a signal ended the run early
//	smtpdiag_build_info{version}          1, with the smtpdiag version
//
// The package depends on the results model only (and on the Prometheus
// client library, which encodes and checks the output).
package metrics

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// The names of the metrics.
const (
	CheckSuccess        = "smtpdiag_check_success"
	CheckStatus         = "smtpdiag_check_status"
	CheckDuration       = "smtpdiag_check_duration_seconds"
	TLSVersion          = "smtpdiag_tls_version"
	CertExpiryDays      = "smtpdiag_tls_certificate_expiry_days"
	CertExpiryTimestamp = "smtpdiag_tls_certificate_expiry_timestamp_seconds"
	BlocklistListed     = "smtpdiag_blocklist_listed"
	BlocklistZones      = "smtpdiag_blocklist_zones"
	RunChecks           = "smtpdiag_run_checks"
	RunTimestamp        = "smtpdiag_run_timestamp_seconds"
	RunDuration         = "smtpdiag_run_duration_seconds"
	RunInterrupted      = "smtpdiag_run_interrupted"
	BuildInfo           = "smtpdiag_build_info"
)

// The labels, and the bounds of their values.
const (
	labelSuite    = "suite"
	labelCheck    = "check"
	labelEndpoint = "endpoint"
	labelStatus   = "status"
	labelVersion  = "version"
	// maxLabelValueRunes cuts a label value (a suite name, a check
	// label) that long, with an ellipsis.
	maxLabelValueRunes = 200
	labelValueEllipsis = "…"
	// invalidUTF8 replaces bytes that are not UTF-8, which the text
	// format does not allow in label values.
	invalidUTF8   = "\uFFFD"
	secondsPerDay = 24 * 60 * 60
)

// Names lists every metric the package can write, in the order of the
// package documentation.
func Names() []string {
	return []string{
		CheckSuccess, CheckStatus, CheckDuration,
		TLSVersion, CertExpiryDays, CertExpiryTimestamp,
		BlocklistListed, BlocklistZones,
		RunChecks, RunTimestamp, RunDuration, RunInterrupted, BuildInfo,
	}
}

// Statuses are the values of the status label of the check metrics and of
// smtpdiag_run_checks.
var Statuses = []result.Status{result.Passed, result.Failed, result.Errored, result.Skipped}

// ZoneStatuses are the values of the status label of
// smtpdiag_blocklist_zones.
var ZoneStatuses = []result.ListingStatus{result.Listed, result.NotListed, result.Inconclusive}

// Options tune the metrics.
type Options struct {
	// Redactor masks secrets in label values; nil masks nothing.
	Redactor *redact.Redactor
	// Version is the smtpdiag version for smtpdiag_build_info; "" leaves
	// that metric out.
	Version string
	// Started is when the run began; zero means the earliest suite
	// start, and when no suite has one, Now.
	Started time.Time
	// Now is the time a check without a start of its own is measured
	// from (certificate expiry); zero means time.Now().
	Now time.Time
}

// Write writes the metrics of results to w in the Prometheus text format
// (version 0.0.4), which node_exporter's textfile collector and the
// Pushgateway read. Nothing is written when the metrics cannot be made.
func Write(w io.Writer, results []*result.Suite, opts Options) error {
	reg, err := Registry(results, opts)
	if err != nil {
		return err
	}
	families, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range families {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// gauges are the metric vectors of one run.
type gauges struct {
	success, status, duration                 *prometheus.GaugeVec
	tlsVersion, certDays, certNotAfter        *prometheus.GaugeVec
	listed, zones                             *prometheus.GaugeVec
	runChecks                                 *prometheus.GaugeVec
	runTimestamp, runDuration, runInterrupted prometheus.Gauge
	buildInfo                                 *prometheus.GaugeVec
}

func newGauges() *gauges {
	check := []string{labelSuite, labelCheck, labelEndpoint}
	withStatus := []string{labelSuite, labelCheck, labelEndpoint, labelStatus}
	vec := func(name, help string, labels []string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	one := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	return &gauges{
		success:        vec(CheckSuccess, "Whether the check passed (1) or failed or hit a runner error (0); absent for a skipped check.", check),
		status:         vec(CheckStatus, "The check's status: 1 for the status it had, 0 for the others.", withStatus),
		duration:       vec(CheckDuration, "How long the check took, every attempt included.", check),
		tlsVersion:     vec(TLSVersion, "The TLS version the check negotiated (1.0, 1.1, 1.2 or 1.3); absent without TLS.", check),
		certDays:       vec(CertExpiryDays, "Days from the check to the notAfter of the leaf certificate the server presented; negative once expired.", check),
		certNotAfter:   vec(CertExpiryTimestamp, "The notAfter of the leaf certificate the server presented, as Unix time.", check),
		listed:         vec(BlocklistListed, "Whether a DNS blocklist lists the IP the check looked up (a dnsbl check's IP, or the IP a reputation rejection named): 1 listed, 0 not listed; absent when no zone gave a verdict.", check),
		zones:          vec(BlocklistZones, "The blocklist zones the check asked, by verdict.", withStatus),
		runChecks:      vec(RunChecks, "The run's checks by status.", []string{labelStatus}),
		runTimestamp:   one(RunTimestamp, "When the run started, as Unix time."),
		runDuration:    one(RunDuration, "How long the run took, from the first suite's start to the last suite's end."),
		runInterrupted: one(RunInterrupted, "Whether a signal ended the run before every check finished (1) or not (0)."),
		buildInfo:      vec(BuildInfo, "The smtpdiag version that made the metrics.", []string{labelVersion}),
	}
}

func (g *gauges) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		g.success, g.status, g.duration,
		g.tlsVersion, g.certDays, g.certNotAfter,
		g.listed, g.zones,
		g.runChecks, g.runTimestamp, g.runDuration, g.runInterrupted,
		g.buildInfo,
	}
}

// Registry returns a registry holding the metrics of results; Gather on it
// checks them (names, label values, no series twice) and sorts them.
func Registry(results []*result.Suite, opts Options) (*prometheus.Registry, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	g := newGauges()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range g.collectors() {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}

	names := suiteNames(results)
	interrupted := false
	for i, s := range results {
		if s.Interrupted != "" {
			interrupted = true
		}
		for _, c := range s.Checks {
			labels := []string{
				labelValue(names[i], opts.Redactor),
				labelValue(c.Label, opts.Redactor),
				labelValue(c.Endpoint, opts.Redactor),
			}
			g.check(labels, c, now)
		}
	}

	counts := result.Tally(results)
	for _, st := range Statuses {
		g.runChecks.WithLabelValues(string(st)).Set(float64(countOf(counts, st)))
	}
	started, ended := span(results)
	if !opts.Started.IsZero() {
		started = opts.Started
	}
	if started.IsZero() {
		started = now
	}
	g.runTimestamp.Set(unixSeconds(started))
	if !ended.IsZero() && ended.After(started) {
		g.runDuration.Set(ended.Sub(started).Seconds())
	}
	if interrupted {
		g.runInterrupted.Set(1)
	}
	if opts.Version != "" {
		g.buildInfo.WithLabelValues(labelValue(opts.Version, nil)).Set(1)
	} else {
		reg.Unregister(g.buildInfo)
	}
	return reg, nil
}

// check sets the gauges of one check.
func (g *gauges) check(labels []string, c *result.Check, now time.Time) {
	switch c.Status {
	case result.Passed:
		g.success.WithLabelValues(labels...).Set(1)
	case result.Failed, result.Errored:
		g.success.WithLabelValues(labels...).Set(0)
	}
	for _, st := range Statuses {
		v := 0.0
		if c.Status == st {
			v = 1
		}
		g.status.WithLabelValues(slices.Concat(labels, []string{string(st)})...).Set(v)
	}
	g.duration.WithLabelValues(labels...).Set(c.Duration.Seconds())

	if tls := tlsOf(c); tls != nil {
		if v, err := strconv.ParseFloat(tls.Version, 64); err == nil && v > 0 {
			g.tlsVersion.WithLabelValues(labels...).Set(v)
		}
		if len(tls.Chain) > 0 && !tls.Chain[0].NotAfter.IsZero() {
			notAfter := tls.Chain[0].NotAfter
			seen := c.Started
			if c.Conversation != nil && !c.Conversation.Started.IsZero() {
				seen = c.Conversation.Started
			}
			if seen.IsZero() {
				seen = now
			}
			g.certDays.WithLabelValues(labels...).Set(notAfter.Sub(seen).Seconds() / secondsPerDay)
			g.certNotAfter.WithLabelValues(labels...).Set(unixSeconds(notAfter))
		}
	}

	if len(c.Blocklists) > 0 {
		byStatus := map[result.ListingStatus]int{}
		for _, l := range c.Blocklists {
			byStatus[l.Status]++
		}
		for _, st := range ZoneStatuses {
			g.zones.WithLabelValues(slices.Concat(labels, []string{string(st)})...).Set(float64(byStatus[st]))
		}
		switch {
		case byStatus[result.Listed] > 0:
			g.listed.WithLabelValues(labels...).Set(1)
		case byStatus[result.NotListed] > 0:
			g.listed.WithLabelValues(labels...).Set(0)
		}
	}
}

// tlsOf returns the TLS session of the check's conversation, nil without
// one.
func tlsOf(c *result.Check) *result.TLSInfo {
	if c.Conversation == nil {
		return nil
	}
	return c.Conversation.TLS
}

// suiteNames returns the suite label of each suite: its name, or where two
// suites of the run share a name, the name with the suite file's path, so
// that no two checks get the same series.
func suiteNames(results []*result.Suite) []string {
	seen := map[string]int{}
	for _, s := range results {
		seen[s.Name]++
	}
	out := make([]string, len(results))
	for i, s := range results {
		out[i] = s.Name
		if seen[s.Name] > 1 {
			out[i] = s.Name + " (" + s.Path + ")"
		}
	}
	return out
}

// labelValue makes s a safe label value: secrets masked, valid UTF-8
// (which the format requires), control characters shown as escapes, and
// at most maxLabelValueRunes characters.
func labelValue(s string, red *redact.Redactor) string {
	s = red.String(s)
	s = strings.ToValidUTF8(s, invalidUTF8)
	if strings.IndexFunc(s, isControl) >= 0 {
		var b strings.Builder
		for _, r := range s {
			if isControl(r) {
				fmt.Fprintf(&b, "\\x%02x", r)
				continue
			}
			b.WriteRune(r)
		}
		s = b.String()
	}
	n := 0
	for i := range s {
		if n == maxLabelValueRunes {
			return s[:i] + labelValueEllipsis
		}
		n++
	}
	return s
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// span returns the earliest suite start and the latest suite end.
func span(results []*result.Suite) (started, ended time.Time) {
	for _, s := range results {
		if s.Started.IsZero() {
			continue
		}
		if started.IsZero() || s.Started.Before(started) {
			started = s.Started
		}
		if end := s.Started.Add(s.Duration); end.After(ended) {
			ended = end
		}
	}
	return started, ended
}

func countOf(c result.Counts, st result.Status) int {
	switch st {
	case result.Passed:
		return c.Passed
	case result.Failed:
		return c.Failed
	case result.Errored:
		return c.Errored
	case result.Skipped:
		return c.Skipped
	}
	return 0
}

// unixSeconds is t as Unix time in seconds, with milliseconds.
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixMilli()) / 1000
}
