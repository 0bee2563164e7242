// Package runner holds smtpdiag's run modes: Run checks suites against
// servers (a conversation plan per check, bounded parallelism, retries of
// temporary failures, expectations, diagnosis, masking), Listen tests a
// device against a device block, and Probe compares servers ad hoc. Each
// reports through the same events and never prints.
//
// It is part of the smtpdiag program, not a library: its signatures use
// the module's internal packages (the suite decoder, the results model),
// which other modules cannot import. It stands at the top of the tree as
// the engine that cmd/smtpdiag drives.
package runner

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smtpdiag/smtpdiag/assertions"
	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/oauth"
	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/smtpclient"
	"github.com/smtpdiag/smtpdiag/internal/suite"
	"github.com/smtpdiag/smtpdiag/internal/suite/asserts"
)

// DefaultParallel is how many checks of a suite run at once when neither
// the suite nor the command line says.
const DefaultParallel = 4

// DefaultCheckTimeout bounds a whole check when neither the suite nor the
// command line says: the per-step timeout alone does not, since a server
// may answer each of thousands of steps just in time.
const DefaultCheckTimeout = 2 * time.Minute

// Options tune a run.
type Options struct {
	// Parallel, when > 0, overrides every suite's parallel setting.
	Parallel int
	// Timeout, when > 0, overrides every endpoint's per-step timeout.
	Timeout time.Duration
	// CheckTimeout bounds each whole check (every step, every retry)
	// whose suite sets no deadline of its own; 0 means
	// DefaultCheckTimeout.
	CheckTimeout time.Duration
	// NoSend keeps the runner from ever sending DATA, whatever a suite says.
	NoSend bool
	// Helo is the EHLO name for endpoints that set none; "" = DefaultHelo().
	Helo string
	// Resolver is the DNS server ("ip" or "ip:port") for mx endpoints, for
	// dns and dnsbl checks without a resolver of their own, and for the
	// blocklist proof of rejections; "" means the nameservers of
	// ResolvConf.
	Resolver string
	// ResolvConf is the resolv.conf read when Resolver is ""; "" means
	// /etc/resolv.conf. Tests point it at a file of their own, so that
	// nothing ever falls back to the machine's resolver.
	ResolvConf string
	// DNSTimeout bounds each DNS exchange; 0 means dns.DefaultTimeout.
	DNSTimeout time.Duration
	// Shard, when set, runs only the checks of one slice of the run
	// (smtpdiag run --shard K/N); suites none of whose checks is in it
	// are left out of the results. The zero value runs every check.
	Shard Shard

	// Tokens gets the OAuth access tokens of checks whose auth block has
	// an oauth block: one request per distinct block per run, shared by
	// every check that uses it. nil: Run makes one for the run, whose
	// device code flows show their prompt through DevicePrompt.
	Tokens *oauth.Source
	// DevicePrompt is told what a user must do to complete a device code
	// flow (the code to enter and where); the flow waits for the sign-in
	// until the check's deadline. nil: a device code flow fails.
	DevicePrompt func(oauth.DevicePrompt)
	// Redactor, when set, is the run's Redactor, which its reporters mask
	// with: the secrets the run learns (each OAuth access token, in every
	// form XOAUTH2 sends it) are added to it before the check that uses
	// them reports.
	Redactor *redact.Redactor

	// Now and Converse are injected by tests; nil means time.Now and
	// smtpclient.Converse.
	Now      func() time.Time
	Converse func(context.Context, smtpclient.Plan) *result.Conversation
	// Sleep waits between retries; nil means a context-aware time.Sleep.
	Sleep func(context.Context, time.Duration) error

	// defaultServers returns the DNS servers of checks without a resolver
	// of their own, worked out once per run (set by fill).
	defaultServers func() ([]string, error)
}

// Run runs every suite in order and returns their results; with
// opts.Shard, only the checks of that slice, and only the suites that
// have some. emit, when not nil, is called from a single goroutine at a
// time.
func Run(ctx context.Context, suites []*suite.Suite, opts Options, emit func(result.Event)) []*result.Suite {
	opts.fill()
	if emit == nil {
		emit = func(result.Event) {}
	}
	results := make([]*result.Suite, 0, len(suites))
	for _, s := range suites {
		checks := s.AllChecks()
		picked, ok := opts.Shard.pick(s.Path, checks)
		if !ok {
			continue
		}
		results = append(results, runSuite(ctx, s, checks, picked, opts, emit))
	}
	return results
}

func (o *Options) fill() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Converse == nil {
		o.Converse = smtpclient.Converse
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Helo == "" {
		o.Helo = DefaultHelo()
	}
	if o.Tokens == nil {
		o.Tokens = oauth.NewSource(o.DevicePrompt)
	}
	o.defaultServers = defaultServersOnce(o.Resolver, o.ResolvConf)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// DefaultHelo is the machine's fully qualified name when it has one, else
// "localhost" (RFC 5321 section 4.1.4 wants an FQDN or an address literal).
func DefaultHelo() string {
	h, err := os.Hostname()
	if err != nil || !strings.Contains(h, ".") {
		return "localhost"
	}
	return h
}

// runSuite runs the checks of s (all, as AllChecks returns them) whose
// indexes are picked, in that order. Each result keeps the check's index
// in the suite.
func runSuite(ctx context.Context, s *suite.Suite, all []suite.Check, picked []int, opts Options, emit func(result.Event)) *result.Suite {
	checks := make([]suite.Check, len(picked))
	for i, idx := range picked {
		checks[i] = all[idx]
	}
	res := &result.Suite{Name: s.Name, Description: s.Description, Path: s.Path, Started: opts.Now()}
	res.Checks = make([]*result.Check, len(checks))
	emit(result.Event{Kind: result.SuiteStarted, Suite: res, Total: len(checks)})

	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = s.Parallel
	}
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	red := s.Redactor

	// A dnsbl check that looks up the client IP an smtp check saw waits
	// for that check; it takes no slot while it waits, so that waiting
	// checks cannot starve the ones they wait for. A shard always holds
	// both (see Shard).
	smtpIndex := map[string]int{}
	for i, c := range checks {
		if c.SMTP != nil {
			smtpIndex[c.SMTP.Label] = i
		}
	}
	finishedCh := make([]chan struct{}, len(checks))
	for i := range finishedCh {
		finishedCh[i] = make(chan struct{})
	}

	// Checks run in parallel; results are emitted in suite order as soon as
	// every earlier check has finished.
	done := make(chan int, len(checks))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(finishedCh[i])
			index := picked[i]
			if why := c.Disabled(); why != "" {
				// enabled = false: no traffic, no slot.
				res.Checks[i] = notTested(index, c, result.NotTested+why, opts)
				done <- i
				return
			}
			var from *result.Check
			if c.DNSBL != nil && c.DNSBL.ClientIPOf != "" {
				if j, ok := smtpIndex[c.DNSBL.ClientIPOf]; ok {
					<-finishedCh[j]
					from = res.Checks[j]
				}
				if why := disabledSMTP(s, c.DNSBL.ClientIPOf); why != "" {
					res.Checks[i] = notTested(index, c, fmt.Sprintf("%sit looks up the client IP of the smtp check %q, which is not tested (%s)",
						result.NotTested, c.DNSBL.ClientIPOf, why), opts)
					done <- i
					return
				}
			}
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				res.Checks[i] = notRun(ctx, index, c, opts)
				done <- i
				return
			}
			limit := checkDeadline(c, opts)
			cctx, cancel := context.WithTimeoutCause(ctx, limit, &smtpclient.CheckDeadline{Limit: limit})
			defer cancel()
			switch {
			case c.DNS != nil:
				res.Checks[i] = runDNS(cctx, index, c.DNS, opts, red)
			case c.DNSBL != nil:
				res.Checks[i] = runDNSBL(cctx, index, c.DNSBL, from, opts, red)
			default:
				res.Checks[i] = runCheck(cctx, index, c.SMTP, opts, red)
			}
			res.Checks[i].Line = declLine(c)
			// assert blocks, once the expectations are judged.
			asserts.Apply(c, res.Checks[i], red)
			done <- i
		}()
	}
	finished := make([]bool, len(checks))
	next := 0
	for range checks {
		finished[<-done] = true
		for next < len(finished) && finished[next] {
			emit(result.Event{Kind: result.CheckFinished, Suite: res, Check: res.Checks[next], Total: len(checks)})
			next++
		}
	}
	wg.Wait()
	if ctx.Err() != nil {
		res.Interrupted = Interruption(ctx)
	}
	// Which ways to send work, from the checks that prove a path; a
	// shard decides on its own checks, says which paths other shards
	// test, and merge decides again on all of them.
	if res.Paths = knowledge.ShardDecision(res.Checks, pathsElsewhere(all, picked)); res.Paths != nil {
		res.Paths.Subject = pathSubject(s)
	}
	res.Duration = opts.Now().Sub(res.Started)
	emit(result.Event{Kind: result.SuiteFinished, Suite: res, Total: len(checks)})
	return res
}

// pathsElsewhere maps the paths proven by checks of all that a shard did
// not pick to why they are not tested here: "" when another shard tests
// them, the enabled expression of a disabled check.
func pathsElsewhere(all []suite.Check, picked []int) map[string]string {
	if len(picked) == len(all) {
		return nil
	}
	mine := make(map[int]bool, len(picked))
	for _, i := range picked {
		mine[i] = true
	}
	ids := map[string]string{}
	for i, c := range all {
		if !mine[i] && c.SMTP != nil && c.SMTP.Path != "" {
			ids[c.SMTP.Path] = c.SMTP.Disabled
		}
	}
	return ids
}

// Interruption says why ctx ended: its cause when one was given
// (context.WithCancelCause), else "the run was interrupted".
func Interruption(ctx context.Context) string {
	if cause := context.Cause(ctx); cause != nil && cause != context.Canceled && cause != context.DeadlineExceeded {
		return cause.Error()
	}
	return "the run was interrupted"
}

// checkDeadline is how long a whole check may take: its max_duration
// expectation when set (the check fails past it anyway), else the
// check's check_timeout, else its endpoint's, else the command line's
// --check-timeout, else DefaultCheckTimeout.
func checkDeadline(c suite.Check, opts Options) time.Duration {
	if c.SMTP != nil && c.SMTP.Expect != nil && c.SMTP.Expect.MaxDuration != nil && *c.SMTP.Expect.MaxDuration > 0 {
		return *c.SMTP.Expect.MaxDuration
	}
	if c.SMTP != nil && c.SMTP.CheckTimeout > 0 {
		return c.SMTP.CheckTimeout
	}
	if c.SMTP != nil && c.SMTP.Endpoint != nil && c.SMTP.Endpoint.CheckTimeout > 0 {
		return c.SMTP.Endpoint.CheckTimeout
	}
	if opts.CheckTimeout > 0 {
		return opts.CheckTimeout
	}
	return DefaultCheckTimeout
}

// notRun is the result of a check that an interruption kept from
// starting.
func notRun(ctx context.Context, index int, c suite.Check, opts Options) *result.Check {
	return notTested(index, c, "not run: "+Interruption(ctx), opts)
}

// notTested is the result of a check that did not run, and why: its
// suite disabled it (enabled = false, or it looks up the client IP of a
// disabled smtp check), or an interruption kept it from starting.
func notTested(index int, c suite.Check, why string, opts Options) *result.Check {
	return &result.Check{Index: index, Label: c.Label(), Kind: c.Kind(), Path: c.Path(), Line: declLine(c),
		Status: result.Skipped, Error: why, Started: opts.Now()}
}

// disabledSMTP says why the smtp check labelled label is disabled, ""
// when it runs.
func disabledSMTP(s *suite.Suite, label string) string {
	for _, c := range s.Checks {
		if c.Label == label {
			return c.Disabled
		}
	}
	return ""
}

// pathSubject is whom a suite's decision on the ways to send is about:
// the user name its Basic auth or OAuth check signs in with (the
// device's mailbox), else the sender of its Direct Send or connector
// check, else "" (reporters name the suite instead). A disabled check
// names nobody: its body was not decoded. It reads the whole suite, not
// a shard's slice, so that every shard of a run names the same.
func pathSubject(s *suite.Suite) string {
	byPath := map[string]*suite.SMTPCheck{}
	for _, c := range s.Checks {
		if c.Path != "" && c.Disabled == "" {
			byPath[c.Path] = c
		}
	}
	for _, p := range []string{"basic_auth", "oauth"} {
		if c := byPath[p]; c != nil && c.Auth != nil && c.Auth.Username != "" {
			return c.Auth.Username
		}
	}
	for _, p := range []string{"direct_send", "connector"} {
		if c := byPath[p]; c != nil && c.MailFrom != nil && *c.MailFrom != "" {
			return *c.MailFrom
		}
	}
	return ""
}

// declLine is the line of c's block in its suite file.
func declLine(c suite.Check) int {
	switch {
	case c.SMTP != nil:
		return c.SMTP.DeclRange.Start.Line
	case c.DNS != nil:
		return c.DNS.DeclRange.Start.Line
	case c.DNSBL != nil:
		return c.DNSBL.DeclRange.Start.Line
	}
	return 0
}

// Redactor masks the secrets the suites declare: the union of their
// Redactors (suite.Suite.Redactor), for run and listen and every
// reporter of their results.
func Redactor(suites ...*suite.Suite) *redact.Redactor {
	rs := make([]*redact.Redactor, 0, len(suites))
	for _, s := range suites {
		rs = append(rs, s.Redactor)
	}
	return redact.Join(rs...)
}

func runCheck(ctx context.Context, index int, c *suite.SMTPCheck, opts Options, red *redact.Redactor) (res *result.Check) {
	res = &result.Check{Index: index, Label: c.Label, Kind: "smtp", Path: c.Path, Started: opts.Now()}
	defer func() {
		// A bug in one check must not take the others down with it.
		if p := recover(); p != nil {
			res.Status = result.Errored
			res.Error = red.String(fmt.Sprintf("internal error: %v", p))
		}
		res.Duration = opts.Now().Sub(res.Started)
	}()
	if c.Endpoint != nil {
		res.Endpoint = c.Endpoint.Name
		res.Target = net.JoinHostPort(c.Endpoint.Host, strconv.Itoa(c.Endpoint.Port))
	}
	plan, err := planFor(c, opts)
	plan.Redactor = red
	if err != nil {
		res.Status = result.Errored
		res.Error = red.String(err.Error())
		return res
	}
	res.DataSuppressed = opts.NoSend && c.Message != nil
	expect := c.Expect
	if res.DataSuppressed && expect != nil && expect.Data != nil {
		// --no-send is the operator's decision: the DATA expectation is
		// not judged (the summary says DATA was not sent) rather than
		// failed as "not reached".
		e := *expect
		e.Data = nil
		expect = &e
	}

	// The OAuth token and, for an mx endpoint, the host come first, shown
	// at the head of the transcript.
	var head transcriptHead
	if c.Auth != nil && c.Auth.OAuth != nil {
		lines, began, checkRed, stop := acquireToken(ctx, c, &plan, res, opts, red)
		if stop {
			return res
		}
		red = checkRed
		head.add(began, lines)
	}
	var mx *mxTarget
	if c.Endpoint != nil && c.Endpoint.MX != "" {
		var stop bool
		mx, stop = resolveMX(ctx, c.Endpoint, &plan, res, opts, red)
		if stop {
			return res
		}
		head.add(mx.start, result.LookupLines(mx.lookups, mx.start))
	}

	attempts := max(c.Retry.Attempts, 1)
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		conv := opts.Converse(ctx, plan)
		if mx != nil {
			mx.annotate(conv)
		}
		head.put(conv)
		conv.Redact(red.String)
		res.Conversation = conv
		res.Failures = assertions.Evaluate(expect, conv)
		if len(res.Failures) == 0 || attempt >= attempts || !temporary(conv) || ctx.Err() != nil {
			break
		}
		if opts.Sleep(ctx, c.Retry.Delay) != nil {
			break
		}
	}
	for i := range res.Failures {
		res.Failures[i].Message = red.String(res.Failures[i].Message)
	}
	if len(res.Failures) == 0 {
		res.Status = result.Passed
		return res
	}
	res.Status = result.Failed
	if d := knowledge.Diagnose(res.Conversation); d != nil {
		d.Summary = red.String(d.Summary)
		res.Diagnosis = d
	}
	// What the token's claims showed before it was sent is part of the
	// explanation of an AUTH that failed (already masked).
	res.Diagnosis = knowledge.TokenProblems(res.Diagnosis, res.Token)
	proveListing(ctx, res, opts, red)
	return res
}

// temporary reports whether a conversation ended in a way worth retrying:
// a 4xx reply anywhere (RFC 5321 section 4.2.1: transient negative), or a
// timeout or dropped connection.
func temporary(c *result.Conversation) bool {
	for _, s := range c.Steps {
		if s.Reply != nil && s.Reply.Temporary() && s.Step != result.StepQuit {
			return true
		}
	}
	if s := c.Stop(); s != nil && s.Fault != nil {
		switch s.Fault.Kind {
		case result.FaultTimeout, result.FaultClosed, result.FaultNetwork:
			return true
		}
	}
	return false
}

func planFor(c *suite.SMTPCheck, opts Options) (smtpclient.Plan, error) {
	e := c.Endpoint
	if e == nil {
		return smtpclient.Plan{}, fmt.Errorf("check %q has no endpoint", c.Label)
	}
	p := smtpclient.Plan{
		Host:              e.Host,
		Port:              e.Port,
		TLS:               smtpclient.TLSMode(e.TLS),
		Helo:              e.Helo,
		Timeout:           e.Timeout,
		TLSMinVersion:     e.TLSMinVersion,
		TLSMaxVersion:     e.TLSMaxVersion,
		ServerName:        e.ServerName,
		VerifyCertificate: e.VerifyCertificate,
		SourceAddress:     e.SourceAddress,
		IPVersion:         e.IPVersion,
		MailFrom:          c.MailFrom,
		RcptTo:            c.RcptTo,
		Now:               opts.Now,
	}
	if p.Helo == "" {
		p.Helo = opts.Helo
	}
	if opts.Timeout > 0 {
		p.Timeout = opts.Timeout
	}
	// The certificates of ca_file, read when the suite was loaded.
	p.ExtraRoots = e.CACertificates
	p.ClientCertificate = e.ClientCertificate
	if a := c.Auth; a != nil {
		p.Auth = &smtpclient.Auth{Username: a.Username, Password: a.Password, Token: a.Token, Mechanism: a.Mechanism,
			Force: a.ForceMechanism}
	}
	if m := c.Message; m != nil && !opts.NoSend {
		p.Message = &smtpclient.Message{From: m.From, To: m.To, Subject: m.Subject, Body: m.Body, Headers: m.Headers}
	}
	return p, nil
}
