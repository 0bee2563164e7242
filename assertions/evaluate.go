package assertions

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// Evaluate checks the expectations against a conversation and returns the
// failures, the most telling first (a reporter prints the first as the
// summary line). No failures means the check passed.
//
// With e == nil the default rule applies (SPEC section 3): every step that
// ran must have got a positive reply and none may have ended in a fault.
// Each offending step is one failure with Expectation "step", such as
// "unexpected 530 5.7.57 Client not authenticated at MAIL" or
// "connect: connection refused (127.0.0.1:2525)".
//
// With an expect block every attribute that is set must hold, and in
// addition every step that failed must have been anticipated: a step with
// an expectation of its own (connect, banner, ehlo, starttls, auth, mail,
// rcpt, data) is judged by that expectation alone, whether it holds or not,
// so nothing is reported twice. Faults are judged by connect (connect
// faults and, with implicit TLS, handshake faults), starttls (STARTTLS and
// handshake faults), banner_within (banner faults) and certificate_valid
// (certificate faults); so connect = false, starttls = false and
// certificate_valid = false are what anticipate a refused port, a missing
// STARTTLS and a certificate that does not verify. Anything else fails
// with Expectation "step", worded as under the default rule, so an empty
// expect block is the default rule. The no attribute anticipates nothing.
//
// In both modes QUIT is ignored, its reply and any fault: the transaction
// is over by then (RFC 5321 section 4.1.1.10). A rejected EHLO followed by
// HELO (RFC 5321 section 3.2) is not a failure either. Rejected RCPTs
// are failures even though the conversation goes on after them.
//
// An expectation on a step that never ran fails with "not reached: stopped
// at <step> (<reply or fault>)", the step being the one c.Stop() names (or,
// when every RCPT was refused, the last RCPT), or "not reached: the
// conversation had no <step> step" when nothing stopped it early.
//
// What the attributes read:
//   - ehlo: the last EHLO or HELO reply, the greeting the session went on
//     with (after STARTTLS, the second one).
//   - data: the final reply after the message content; when DATA itself
//     was refused (or faulted), DATA's reply.
//   - rcpt: one pattern must match every RCPT reply; a list is matched
//     against the RCPTs in order, and the counts must agree.
//   - starttls = true: STARTTLS was advertised, accepted, and the TLS
//     handshake completed. A certificate that does not verify does not
//     make it fail (that is certificate_valid's question), although with
//     verification required it ends the conversation and so fails the
//     check unless certificate_valid = false. starttls = false: STARTTLS
//     was not advertised in the EHLO reply before TLS. Both fail as not
//     applicable with implicit TLS.
//   - connect = true: the TCP connection and, with implicit TLS, the
//     handshake that follows it completed; as with starttls, a certificate
//     fault does not count against it. connect = false: either failed.
//   - tls_version: the negotiated version as a number (1.0 to 1.3).
//   - certificate_days_left: whole days (rounded down) from c.Started, the
//     reference time, to the leaf certificate's NotAfter; negative once it
//     expired.
//   - advertises: each item appears in the last EHLO reply; not_advertises:
//     none appears in any EHLO reply, before or after TLS. An item is a
//     keyword ("PIPELINING"), matched against a line's first word, or a
//     keyword with parameters ("AUTH LOGIN"), all of which must be among
//     that line's parameters; case does not matter, and the legacy form
//     "AUTH=LOGIN PLAIN" counts as "AUTH LOGIN PLAIN".
//   - auth_before_tls: whether the EHLO reply before STARTTLS advertised
//     AUTH; not applicable with implicit TLS, which has no EHLO before TLS.
//   - no: no reply of any step, banner and QUIT included, matches any of
//     the patterns.
//   - client_ip: the address the server echoed equals the expected one,
//     compared as IP addresses ("[192.0.2.1]" and "IPv6:" literals allowed).
//   - max_duration: c.Duration; banner_within: the end of the banner step,
//     measured from the start of the conversation.
//
// Failures come in conversation order: connect, banner, ehlo, starttls,
// the TLS attributes (tls_version, certificate_valid,
// certificate_days_left; with implicit TLS right after connect), auth,
// mail, rcpt, data; an unanticipated failure of a step is placed at that
// step, ahead of the attributes judged there. Then come the attributes about the conversation as a whole, in this
// order: advertises, not_advertises, auth_before_tls, no, client_ip,
// max_duration, banner_within.
func Evaluate(e *Expect, c *result.Conversation) []result.Failure {
	if c == nil {
		return []result.Failure{{Expectation: "step", Message: "no conversation was recorded"}}
	}
	ev := &evaluation{c: c, stop: stopPoint(c)}
	if len(c.Steps) == 0 {
		ev.fail(rankStart, "step", "no step was recorded")
	}
	if e != nil {
		ev.expect(e)
	}
	ev.unanticipated(e)
	sort.SliceStable(ev.failures, func(i, j int) bool { return ev.failures[i].rank < ev.failures[j].rank })
	out := make([]result.Failure, 0, len(ev.failures))
	for _, f := range ev.failures {
		out = append(out, f.Failure)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Ranks order the failures: the steps in conversation order, each step's
// unanticipated failure (at the rank) ahead of the attributes judged there
// (rank+1), then the attributes about the whole conversation.
const (
	rankStart          = -1
	rankConnect        = 0
	rankImplicitTLS    = 5
	rankBanner         = 10
	rankEHLO           = 20
	rankStartTLS       = 30
	rankTLS            = 40
	rankAuth           = 50
	rankMail           = 60
	rankRcpt           = 70
	rankRset           = 80
	rankData           = 90
	rankQuit           = 95
	rankAdvertises     = 100
	rankNotAdvertises  = 110
	rankAuthBeforeTLS  = 120
	rankNo             = 130
	rankClientIP       = 140
	rankMaxDuration    = 150
	rankBannerWithin   = 160
	rankUnknownStep    = 99
	attributeRankDelta = 1
)

// stepRank is a step's place in a conversation (SPEC section 3). With
// implicit TLS the handshake comes right after the TCP connect, before the
// banner.
func (ev *evaluation) stepRank(s result.Step) int {
	if s == result.StepTLS {
		return ev.tlsRank()
	}
	return stepRank(s)
}

func (ev *evaluation) tlsRank() int {
	if ev.c.TLSMode == "implicit" {
		return rankImplicitTLS
	}
	return rankTLS
}

func stepRank(s result.Step) int {
	switch s {
	case result.StepConnect:
		return rankConnect
	case result.StepBanner:
		return rankBanner
	case result.StepEHLO:
		return rankEHLO
	case result.StepStartTLS:
		return rankStartTLS
	case result.StepTLS:
		return rankTLS
	case result.StepAuth:
		return rankAuth
	case result.StepMail:
		return rankMail
	case result.StepRcpt:
		return rankRcpt
	case result.StepRset:
		return rankRset
	case result.StepData, result.StepMessage:
		return rankData
	case result.StepQuit:
		return rankQuit
	}
	return rankUnknownStep
}

type rankedFailure struct {
	result.Failure
	rank int
}

type evaluation struct {
	c        *result.Conversation
	stop     *result.StepRecord
	failures []rankedFailure
}

func (ev *evaluation) fail(rank int, expectation, message string) {
	ev.failures = append(ev.failures, rankedFailure{result.Failure{Expectation: expectation, Message: message}, rank})
}

// failf records a failure of an attribute, prefixing the message with the
// attribute's name.
func (ev *evaluation) failf(rank int, expectation, format string, args ...any) {
	ev.fail(rank+attributeRankDelta, expectation, expectation+": "+fmt.Sprintf(format, args...))
}

// stopPoint is the step that ended the conversation early: c.Stop(), not
// counting QUIT (nothing is left to reach after it), or, when every RCPT
// was refused and the client went straight to QUIT, the last RCPT.
func stopPoint(c *result.Conversation) *result.StepRecord {
	if s := c.Stop(); s != nil && s.Step != result.StepQuit {
		return s
	}
	rcpts := c.StepsOf(result.StepRcpt)
	for _, s := range rcpts {
		if !s.Failed() {
			return nil
		}
	}
	if len(rcpts) > 0 {
		return rcpts[len(rcpts)-1]
	}
	return nil
}

// stepNouns names steps in "the conversation had no ... step".
var stepNouns = map[result.Step]string{
	result.StepConnect:  "connect",
	result.StepBanner:   "banner",
	result.StepEHLO:     "EHLO",
	result.StepStartTLS: "STARTTLS",
	result.StepTLS:      "TLS handshake",
	result.StepAuth:     "AUTH",
	result.StepMail:     "MAIL",
	result.StepRcpt:     "RCPT",
	result.StepData:     "DATA",
	result.StepMessage:  "message",
}

// notReached explains why a step never ran: the stop, when it came at or
// before that step's place in the conversation, or else its absence.
func (ev *evaluation) notReached(step result.Step) string {
	if s := ev.stop; s != nil && ev.stepRank(s.Step) <= ev.stepRank(step) {
		return fmt.Sprintf("not reached: stopped at %s (%s)", s.Step, ev.outcome(s))
	}
	if step == result.StepData && len(ev.c.StepsOf(result.StepRset)) > 0 {
		return "not reached: RSET was sent instead of DATA (the check has no message)"
	}
	if step == result.StepTLS && ev.c.TLSMode == "none" {
		return `not reached: the conversation did not use TLS (tls = "none")`
	}
	noun := stepNouns[step]
	if noun == "" {
		noun = string(step)
	}
	return fmt.Sprintf("not reached: the conversation had no %s step", noun)
}

// outcome renders a step's reply or fault on one line. A connect fault
// names the address dialed when its message does not already.
func (ev *evaluation) outcome(s *result.StepRecord) string {
	if s.Fault == nil && s.Reply == nil {
		return "no reply"
	}
	out := oneLine(s.Outcome())
	if s.Step == result.StepConnect && s.Fault != nil {
		if addr := ev.address(); addr != "" && !strings.Contains(out, addr) {
			out += " (" + addr + ")"
		}
	}
	return out
}

// address is the address connected to, or else the one dialed.
func (ev *evaluation) address() string {
	if ev.c.RemoteAddr != "" {
		return ev.c.RemoteAddr
	}
	if ev.c.Host == "" {
		return ""
	}
	return net.JoinHostPort(ev.c.Host, strconv.Itoa(ev.c.Port))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// label names a step in messages the way an SMTP transcript does: the
// command verb ("MAIL", "HELO"), with the recipient for a RCPT when there
// are several.
func (ev *evaluation) label(s *result.StepRecord) string {
	switch s.Step {
	case result.StepConnect, result.StepBanner:
		return string(s.Step)
	case result.StepTLS:
		return "TLS handshake"
	case result.StepMessage:
		return "end of DATA"
	case result.StepRcpt:
		rcpts := ev.c.StepsOf(result.StepRcpt)
		if len(rcpts) > 1 {
			for i, r := range rcpts {
				if r == s {
					return fmt.Sprintf("RCPT %d (%s)", i+1, recipient(s.Command))
				}
			}
		}
		return "RCPT"
	}
	if verb, _, _ := strings.Cut(strings.TrimSpace(s.Command), " "); verb != "" {
		return strings.ToUpper(verb)
	}
	return strings.ToUpper(string(s.Step))
}

// name is the lower-case form used to prefix a fault: "connect", "tls",
// "rcpt 2 (<b@example.com>)".
func (ev *evaluation) name(s *result.StepRecord) string {
	if s.Step == result.StepRcpt {
		rcpts := ev.c.StepsOf(result.StepRcpt)
		for i, r := range rcpts {
			if r == s {
				return rcptName(i, len(rcpts), s)
			}
		}
	}
	return string(s.Step)
}

// rcptName names RCPT i of n: "rcpt" when there is one, else
// "rcpt 2 (<b@example.com>)".
func rcptName(i, n int, s *result.StepRecord) string {
	if n <= 1 {
		return "rcpt"
	}
	if s == nil || recipient(s.Command) == "" {
		return fmt.Sprintf("rcpt %d", i+1)
	}
	return fmt.Sprintf("rcpt %d (%s)", i+1, recipient(s.Command))
}

// recipient takes the <path> out of "RCPT TO:<b@example.com> NOTIFY=NEVER".
func recipient(command string) string {
	if i := strings.IndexByte(command, '<'); i >= 0 {
		if j := strings.IndexByte(command[i:], '>'); j >= 0 {
			return command[i : i+j+1]
		}
	}
	_, path, found := strings.Cut(command, ":")
	if !found {
		return strings.TrimSpace(command)
	}
	return strings.TrimSpace(path)
}

// unanticipated reports every step that failed and that no expectation
// accounts for (with e == nil: every step that failed). QUIT and a
// rejected EHLO that HELO replaced are never failures.
func (ev *evaluation) unanticipated(e *Expect) {
	c := ev.c
	for i := range c.Steps {
		s := &c.Steps[i]
		if !s.Failed() || s.Step == result.StepQuit || isReplacedEHLO(c, i) {
			continue
		}
		if e != nil && anticipates(e, s, c.TLSMode == "implicit") {
			continue
		}
		if s.Fault != nil {
			ev.fail(ev.stepRank(s.Step), "step", ev.name(s)+": "+ev.outcome(s))
			continue
		}
		ev.fail(ev.stepRank(s.Step), "step", fmt.Sprintf("unexpected %s at %s", ev.outcome(s), ev.label(s)))
	}
}

// isReplacedEHLO reports whether step i is an EHLO refused and followed by
// HELO, mirroring Conversation.Stop.
func isReplacedEHLO(c *result.Conversation, i int) bool {
	return c.Steps[i].Step == result.StepEHLO && c.UsedHELO &&
		i+1 < len(c.Steps) && c.Steps[i+1].Step == result.StepEHLO
}

// anticipates reports whether an expectation judges the failed step s, so
// that its failure is the expectation's to report (or to accept). With
// implicit TLS the handshake is part of connecting.
func anticipates(e *Expect, s *result.StepRecord, implicitTLS bool) bool {
	if s.Fault != nil && s.Fault.Kind == result.FaultCertificate {
		return e.CertificateValid != nil
	}
	switch s.Step {
	case result.StepConnect:
		return e.Connect != nil
	case result.StepBanner:
		return e.Banner != nil || (s.Fault != nil && e.BannerWithin != nil)
	case result.StepEHLO:
		return e.EHLO != nil
	case result.StepStartTLS:
		return e.StartTLS != nil
	case result.StepTLS:
		if implicitTLS {
			return e.Connect != nil
		}
		return e.StartTLS != nil
	case result.StepAuth:
		return e.Auth != nil
	case result.StepMail:
		return e.Mail != nil
	case result.StepRcpt:
		return len(e.Rcpt) > 0
	case result.StepData, result.StepMessage:
		return e.Data != nil
	}
	return false
}

// expect judges every attribute that is set.
func (ev *evaluation) expect(e *Expect) {
	c := ev.c
	if e.Connect != nil {
		ev.connect(*e.Connect)
	}
	if e.Banner != nil {
		ev.reply(rankBanner, "banner", *e.Banner, result.StepBanner, last(c.StepsOf(result.StepBanner)))
	}
	if e.EHLO != nil {
		ev.reply(rankEHLO, "ehlo", *e.EHLO, result.StepEHLO, last(c.StepsOf(result.StepEHLO)))
	}
	if e.StartTLS != nil {
		ev.startTLS(*e.StartTLS)
	}
	if e.TLSVersion != nil {
		ev.tlsVersion(*e.TLSVersion)
	}
	if e.CertificateValid != nil {
		ev.certificateValid(*e.CertificateValid)
	}
	if e.CertificateDaysLeft != nil {
		ev.certificateDaysLeft(*e.CertificateDaysLeft)
	}
	if e.Auth != nil {
		ev.reply(rankAuth, "auth", *e.Auth, result.StepAuth, last(c.StepsOf(result.StepAuth)))
	}
	if e.Mail != nil {
		ev.reply(rankMail, "mail", *e.Mail, result.StepMail, last(c.StepsOf(result.StepMail)))
	}
	if len(e.Rcpt) > 0 {
		ev.rcpt(e.Rcpt)
	}
	if e.Data != nil {
		ev.data(*e.Data)
	}
	if len(e.Advertises) > 0 {
		ev.advertises(e.Advertises)
	}
	if len(e.NotAdvertises) > 0 {
		ev.notAdvertises(e.NotAdvertises)
	}
	if e.AuthBeforeTLS != nil {
		ev.authBeforeTLS(*e.AuthBeforeTLS)
	}
	if len(e.No) > 0 {
		ev.no(e.No)
	}
	if e.ClientIP != nil {
		ev.clientIP(*e.ClientIP)
	}
	if e.MaxDuration != nil && c.Duration > *e.MaxDuration {
		ev.failf(rankMaxDuration, "max_duration", "expected at most %s, took %s", *e.MaxDuration, roundAbove(c.Duration, *e.MaxDuration))
	}
	if e.BannerWithin != nil {
		ev.bannerWithin(*e.BannerWithin)
	}
}

func first(steps []*result.StepRecord) *result.StepRecord {
	if len(steps) == 0 {
		return nil
	}
	return steps[0]
}

func last(steps []*result.StepRecord) *result.StepRecord {
	if len(steps) == 0 {
		return nil
	}
	return steps[len(steps)-1]
}

// reply judges a pattern attribute against the reply of step s (nil when
// the step never ran).
func (ev *evaluation) reply(rank int, name string, p Pattern, step result.Step, s *result.StepRecord) {
	if s == nil {
		ev.failf(rank, name, "%s", ev.notReached(step))
		return
	}
	if s.Reply == nil || !p.Match(*s.Reply) {
		ev.failf(rank, name, "expected %q, got %s", p.Source, ev.outcome(s))
	}
}

func (ev *evaluation) connect(want bool) {
	s := last(ev.c.StepsOf(result.StepConnect))
	if s == nil {
		ev.failf(rankConnect, "connect", "%s", ev.notReached(result.StepConnect))
		return
	}
	if s.Fault == nil && ev.c.TLSMode == "implicit" {
		// With implicit TLS (RFC 8314 section 3.3) the connection is made
		// only once the handshake that follows the TCP connect completes.
		if s = first(ev.c.StepsOf(result.StepTLS)); s == nil {
			ev.failf(rankConnect, "connect", "%s", ev.notReached(result.StepTLS))
			return
		}
	}
	// A certificate that does not verify is certificate_valid's question:
	// the connection itself was made.
	connected := s.Fault == nil || s.Fault.Kind == result.FaultCertificate
	switch {
	case want && !connected:
		ev.failf(rankConnect, "connect", "expected a connection, got %s", ev.outcome(s))
	case !want && connected:
		to := ev.address()
		if to == "" {
			to = "the server"
		}
		ev.failf(rankConnect, "connect", "expected the connection to fail, connected to %s", to)
	}
}

func (ev *evaluation) rcpt(patterns []Pattern) {
	rcpts := ev.c.StepsOf(result.StepRcpt)
	if len(patterns) == 1 {
		if len(rcpts) == 0 {
			ev.failf(rankRcpt, "rcpt", "%s", ev.notReached(result.StepRcpt))
			return
		}
		for i, s := range rcpts {
			ev.rcptReply(rcptName(i, len(rcpts), s), patterns[0], s)
		}
		return
	}
	n := len(patterns)
	if len(rcpts) > n {
		n = len(rcpts)
	}
	for i, p := range patterns {
		if i >= len(rcpts) {
			name := rcptName(i, n, nil)
			if ev.stop != nil && ev.stepRank(ev.stop.Step) <= rankRcpt {
				ev.fail(rankRcpt+attributeRankDelta, "rcpt", name+": "+ev.notReached(result.StepRcpt))
			} else {
				ev.fail(rankRcpt+attributeRankDelta, "rcpt", fmt.Sprintf("%s: expected %q, but only %d RCPT commands were sent", name, p.Source, len(rcpts)))
			}
			continue
		}
		ev.rcptReply(rcptName(i, n, rcpts[i]), p, rcpts[i])
	}
	if len(rcpts) > len(patterns) {
		ev.failf(rankRcpt, "rcpt", "%d patterns for %d RCPT commands: give one pattern for every RCPT or one per recipient", len(patterns), len(rcpts))
	}
}

func (ev *evaluation) rcptReply(name string, p Pattern, s *result.StepRecord) {
	if s.Reply == nil || !p.Match(*s.Reply) {
		ev.fail(rankRcpt+attributeRankDelta, "rcpt", fmt.Sprintf("%s: expected %q, got %s", name, p.Source, ev.outcome(s)))
	}
}

// data judges the final reply after the message; when DATA itself was
// refused there is no message step and DATA's reply is the answer.
func (ev *evaluation) data(p Pattern) {
	c := ev.c
	if s := last(c.StepsOf(result.StepMessage)); s != nil {
		ev.reply(rankData, "data", p, result.StepMessage, s)
		return
	}
	s := last(c.StepsOf(result.StepData))
	if s == nil {
		ev.failf(rankData, "data", "%s", ev.notReached(result.StepData))
		return
	}
	if s.Failed() {
		ev.reply(rankData, "data", p, result.StepData, s)
		return
	}
	ev.failf(rankData, "data", "%s", ev.notReached(result.StepMessage))
}

func (ev *evaluation) startTLS(want bool) {
	c := ev.c
	if c.TLSMode == "implicit" {
		ev.failf(rankStartTLS, "starttls", "not applicable: the endpoint uses implicit TLS, which needs no STARTTLS (use tls_version or certificate_valid)")
		return
	}
	if !ev.ehloBeforeTLSAnswered() {
		ev.failf(rankStartTLS, "starttls", "%s", ev.notReached(result.StepStartTLS))
		return
	}
	st := last(c.StepsOf(result.StepStartTLS))
	// The client records a not-advertised fault on the starttls step; the
	// EHLO lines are the evidence either way.
	advertised := c.EHLOBeforeTLS.Has("STARTTLS") &&
		!(st != nil && st.Fault != nil && st.Fault.Kind == result.FaultNotAdvertised)
	if !want {
		if advertised {
			ev.failf(rankStartTLS, "starttls", "STARTTLS was advertised")
		}
		return
	}
	if !advertised {
		why := ""
		if c.UsedHELO {
			why = " (HELO was used, so the server offered no extensions)"
		}
		ev.failf(rankStartTLS, "starttls", "STARTTLS was not advertised%s", why)
		return
	}
	if st == nil {
		if ev.stop == nil && c.TLSMode == "none" {
			ev.failf(rankStartTLS, "starttls", `STARTTLS was advertised but not used (tls = "none")`)
			return
		}
		ev.failf(rankStartTLS, "starttls", "%s", ev.notReached(result.StepStartTLS))
		return
	}
	if st.Failed() {
		ev.failf(rankStartTLS, "starttls", "expected STARTTLS to succeed, got %s", ev.outcome(st))
		return
	}
	hs := last(c.StepsOf(result.StepTLS))
	if hs == nil {
		ev.failf(rankStartTLS, "starttls", "%s", ev.notReached(result.StepTLS))
		return
	}
	if hs.Fault != nil && hs.Fault.Kind != result.FaultCertificate {
		ev.failf(rankStartTLS, "starttls", "expected a TLS session, got %s", ev.outcome(hs))
	}
}

// ehloBeforeTLSAnswered reports whether an EHLO or HELO outside TLS got a
// positive reply, so that the extensions before TLS are known.
func (ev *evaluation) ehloBeforeTLSAnswered() bool {
	for _, s := range ev.c.StepsOf(result.StepEHLO) {
		if !s.AfterTLS && s.Reply != nil && s.Reply.Positive() {
			return true
		}
	}
	return false
}

// ehloAnswered reports whether any EHLO or HELO got a positive reply.
func (ev *evaluation) ehloAnswered() bool {
	for _, s := range ev.c.StepsOf(result.StepEHLO) {
		if s.Reply != nil && s.Reply.Positive() {
			return true
		}
	}
	return false
}

// session returns the TLS session, or fails the attribute as not reached
// when there was none.
func (ev *evaluation) session(name string) *result.TLSInfo {
	if ev.c.TLS == nil {
		ev.failf(ev.tlsRank(), name, "%s", ev.notReached(result.StepTLS))
	}
	return ev.c.TLS
}

func (ev *evaluation) tlsVersion(cmp Comparison) {
	info := ev.session("tls_version")
	if info == nil {
		return
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(info.Version, "TLS")), 64)
	if err != nil {
		ev.failf(ev.tlsRank(), "tls_version", "expected %q, got unknown version %q", cmp.Source, info.Version)
		return
	}
	if !cmp.Holds(v) {
		ev.failf(ev.tlsRank(), "tls_version", "expected %q, got %s", cmp.Source, info.Version)
	}
}

func (ev *evaluation) certificateValid(want bool) {
	verified, why := false, ""
	if info := ev.c.TLS; info != nil {
		verified, why = info.Verified, info.VerifyError
	} else if s := ev.certificateFault(); s != nil {
		why = s.Fault.Error()
	} else {
		ev.failf(ev.tlsRank(), "certificate_valid", "%s", ev.notReached(result.StepTLS))
		return
	}
	switch {
	case want && !verified:
		if why == "" {
			why = "it did not verify"
		}
		ev.failf(ev.tlsRank(), "certificate_valid", "expected a valid certificate, got %s", oneLine(why))
	case !want && verified:
		subject := ""
		if chain := ev.c.TLS.Chain; len(chain) > 0 {
			subject = " (" + chain[0].Subject + ")"
		}
		ev.failf(ev.tlsRank(), "certificate_valid", "expected a certificate that does not verify, but it verified%s", subject)
	}
}

func (ev *evaluation) certificateFault() *result.StepRecord {
	for i := range ev.c.Steps {
		s := &ev.c.Steps[i]
		if s.Fault != nil && s.Fault.Kind == result.FaultCertificate {
			return s
		}
	}
	return nil
}

func (ev *evaluation) certificateDaysLeft(cmp Comparison) {
	info := ev.session("certificate_days_left")
	if info == nil {
		return
	}
	if len(info.Chain) == 0 {
		ev.failf(ev.tlsRank(), "certificate_days_left", "the server presented no certificate")
		return
	}
	if ev.c.Started.IsZero() {
		ev.failf(ev.tlsRank(), "certificate_days_left", "the conversation has no start time to count from")
		return
	}
	notAfter := info.Chain[0].NotAfter
	days := math.Floor(notAfter.Sub(ev.c.Started).Hours() / 24)
	if !cmp.Holds(days) {
		verb := "expires"
		if days < 0 {
			verb = "expired"
		}
		ev.failf(ev.tlsRank(), "certificate_days_left", "expected %q, got %d (%s %s)", cmp.Source, int64(days), verb, notAfter.UTC().Format(time.RFC3339))
	}
}

func (ev *evaluation) advertises(items []string) {
	if !ev.ehloAnswered() {
		ev.failf(rankAdvertises, "advertises", "%s", ev.notReached(result.StepEHLO))
		return
	}
	// In a STARTTLS conversation the last EHLO is the one inside TLS: when
	// the TLS step failed, it was never reached, and the EHLO before TLS
	// (which a submission server sends without AUTH) proves nothing.
	if ev.c.TLSMode == "starttls" && ev.c.EHLOAfterTLS == nil && ev.stop != nil &&
		(ev.stop.Step == result.StepTLS || ev.stop.Step == result.StepStartTLS && ev.stop.Fault != nil &&
			ev.stop.Fault.Kind != result.FaultNotAdvertised) {
		ev.failf(rankAdvertises, "advertises", "not reached: stopped at %s (%s)", ev.stop.Step, ev.outcome(ev.stop))
		return
	}
	lines := ev.c.LastEHLO()
	for _, item := range items {
		if strings.TrimSpace(item) == "" {
			ev.failf(rankAdvertises, "advertises", "an item is empty; write a keyword such as \"PIPELINING\" or \"AUTH LOGIN\"")
			continue
		}
		if _, ok := lines.Advertises(item); !ok {
			ev.failf(rankAdvertises, "advertises", "%q is not in the last EHLO reply (%s)", item, ev.extensionList(lines))
		}
	}
}

// extensionList renders EHLO extension lines for a message.
func (ev *evaluation) extensionList(ext esmtp.Extensions) string {
	if len(ext) == 0 {
		if ev.c.UsedHELO {
			return "HELO was used: no extensions"
		}
		return "no extensions"
	}
	return strings.Join(ext.Lines(), ", ")
}

func (ev *evaluation) notAdvertises(items []string) {
	c := ev.c
	if !ev.ehloAnswered() {
		ev.failf(rankNotAdvertises, "not_advertises", "%s", ev.notReached(result.StepEHLO))
		return
	}
	type reply struct {
		where string
		ext   esmtp.Extensions
	}
	replies := []reply{{"", c.EHLOBeforeTLS}, {"", c.EHLOAfterTLS}}
	if c.EHLOBeforeTLS != nil && c.EHLOAfterTLS != nil {
		replies[0].where, replies[1].where = " before TLS", " after TLS"
	}
	for _, item := range items {
		if strings.TrimSpace(item) == "" {
			continue
		}
		for _, r := range replies {
			if x, ok := r.ext.Advertises(item); ok {
				ev.failf(rankNotAdvertises, "not_advertises", "%q was advertised%s: %s", item, r.where, x.Line)
				break
			}
		}
	}
}

func (ev *evaluation) authBeforeTLS(want bool) {
	c := ev.c
	if c.TLSMode == "implicit" {
		ev.failf(rankAuthBeforeTLS, "auth_before_tls", "not applicable: with implicit TLS there is no EHLO before TLS")
		return
	}
	if !ev.ehloBeforeTLSAnswered() {
		ev.failf(rankAuthBeforeTLS, "auth_before_tls", "%s", ev.notReached(result.StepEHLO))
		return
	}
	auth, offered := c.EHLOBeforeTLS.Find("AUTH")
	switch {
	case want && !offered:
		ev.failf(rankAuthBeforeTLS, "auth_before_tls", "expected AUTH before TLS, it was not advertised (%s)", ev.extensionList(c.EHLOBeforeTLS))
	case !want && offered:
		ev.failf(rankAuthBeforeTLS, "auth_before_tls", "expected no AUTH before TLS, got %s", auth.Line)
	}
}

func (ev *evaluation) no(patterns []Pattern) {
	for i := range ev.c.Steps {
		s := &ev.c.Steps[i]
		if s.Reply == nil {
			continue
		}
		for _, p := range patterns {
			if p.Match(*s.Reply) {
				ev.failf(rankNo, "no", "%q matched at %s: %s", p.Source, ev.label(s), ev.outcome(s))
				break
			}
		}
	}
}

func (ev *evaluation) clientIP(want string) {
	wantIP, ok := parseIP(want)
	if !ok {
		ev.failf(rankClientIP, "client_ip", "%q is not an IP address", want)
		return
	}
	got := ev.c.ClientIP
	if got == "" {
		if !ev.ehloAnswered() {
			ev.failf(rankClientIP, "client_ip", "%s", ev.notReached(result.StepEHLO))
			return
		}
		ev.failf(rankClientIP, "client_ip", "expected %s, the server did not echo a client IP", wantIP)
		return
	}
	if gotIP, ok := parseIP(got); !ok || gotIP != wantIP {
		ev.failf(rankClientIP, "client_ip", "expected %s, got %s", wantIP, got)
	}
}

// parseIP reads an address as written in a suite or echoed by a server:
// plain, in brackets, or as an RFC 5321 section 4.1.3 address literal
// ("[IPv6:2001:db8::1]"). IPv4-mapped IPv6 addresses compare as IPv4.
func parseIP(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if len(s) > 5 && strings.EqualFold(s[:5], "IPv6:") {
		s = s[5:]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func (ev *evaluation) bannerWithin(limit time.Duration) {
	s := last(ev.c.StepsOf(result.StepBanner))
	if s == nil {
		ev.failf(rankBannerWithin, "banner_within", "%s", ev.notReached(result.StepBanner))
		return
	}
	if s.Fault != nil || s.Reply == nil {
		ev.failf(rankBannerWithin, "banner_within", "expected a banner within %s, got %s", limit, ev.outcome(s))
		return
	}
	if end := s.Start + s.Duration; end > limit {
		ev.failf(rankBannerWithin, "banner_within", "expected a banner within %s, it came after %s", limit, roundAbove(end, limit))
	}
}

// roundAbove rounds d to the millisecond for display, unless rounding
// would make it look no greater than the limit it exceeded.
func roundAbove(d, limit time.Duration) time.Duration {
	if r := d.Round(time.Millisecond); r > limit {
		return r
	}
	return d
}
