package runner

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// DefaultGrace is how long a device session still open at the deadline
// may go on: a scan in progress is worth a little more patience. The
// grace ends as soon as no session is open any more.
const DefaultGrace = time.Minute

// DefaultMaxSessions bounds the sessions one Listen judges: a device
// sends a scan per session, and a run's results (and reports) must stay
// small whatever a client does. Listen ends once it has judged that many.
const DefaultMaxSessions = 100

// maxListed is how many sessions that are no test of the device
// (refused, or without SMTP) Listen records one by one; the others are
// counted in one line. maxConnectLines bounds the progress lines about
// connections in the same way.
const (
	maxListed       = 20
	maxConnectLines = 50
)

// DeviceServer is a server bound where the device is pointed (an
// internal/listener.Listener). StopAccepting stops listening and lets
// the sessions already open go on; Close stops it, ends the sessions
// still open and hands each one's record over before it returns.
type DeviceServer interface {
	Addr() string
	StopAccepting()
	Close() error
}

// ListenOptions tune a device test.
type ListenOptions struct {
	// Start binds the server. It must call connected as each device
	// connects, and finished with each session's record once that
	// session's connection has ended (from any goroutine).
	Start func(connected func(number int, remote string), finished func(*result.DeviceSession)) (DeviceServer, error)
	// Bound, when not nil, is called once the server listens, with the
	// deadline, before any device is waited for.
	Bound func(srv DeviceServer, deadline time.Time)
	// Timeout is how long to wait for the device; 0 means the device
	// block's.
	Timeout time.Duration
	// Once ends the test after the first session that is a test of the
	// device (one that sent EHLO or HELO, or began TLS at once); sessions
	// that are not (DeviceSession.NotTested) are recorded but not judged
	// and do not end it.
	Once bool
	// MaxSessions ends the test after that many judged sessions; 0 means
	// DefaultMaxSessions.
	MaxSessions int
	// Grace bounds an open session after the deadline; 0 means
	// DefaultGrace.
	Grace time.Duration
	// Keep, when not nil, is given each judged session (to keep its
	// messages); its first error is returned by Listen.
	Keep func(*result.DeviceSession) error
	// Progress, when not nil, receives one line per event worth telling
	// the person at the device ("connection from 192.0.2.7").
	Progress func(line string)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Listen tests a device instead of a server: it binds the server through
// opts.Start, waits for devices until opts.Once has judged one session,
// the timeout passes (then no new connection is accepted, and a session
// still open gets opts.Grace to end) or ctx is canceled, judges every
// session that is a test of the device against the device block d of
// suite s, and reports through emit exactly as Run does. A session that
// is no test (a port scan, a health check, a session the server refused)
// is recorded as a skipped check, never judged and never dropped; past
// maxListed of them they are counted. Sessions still open at the end
// are cut and, without Once, judged as they are. A block no device came
// to fails with a diagnosis.
func Listen(ctx context.Context, s *suite.Suite, d *suite.Device, opts ListenOptions, emit func(result.Event)) (*result.Suite, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = DefaultMaxSessions
	}
	if opts.Progress == nil {
		opts.Progress = func(string) {}
	}
	if emit == nil {
		emit = func(result.Event) {}
	}
	timeout := d.Timeout
	if opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	t := &deviceTest{device: d, opts: opts, emit: emit, queue: &sessionQueue{notify: make(chan struct{}, 1)}}
	srv, err := opts.Start(func(n int, remote string) {
		t.open.Add(1)
		switch c := t.connects.Add(1); {
		case c <= maxConnectLines:
			opts.Progress(fmt.Sprintf("connection from %s (session %d)", hostOf(remote), n))
		case c == maxConnectLines+1:
			opts.Progress("further connections are not listed here")
		}
	}, func(sess *result.DeviceSession) {
		t.open.Add(-1)
		t.queue.push(sess)
	})
	if err != nil {
		return nil, err
	}
	started := opts.Now()
	deadline := started.Add(timeout)
	if opts.Bound != nil {
		opts.Bound(srv, deadline)
	}
	t.res = &result.Suite{Name: s.Name, Description: s.Description, Path: s.Path, Started: started}
	emit(result.Event{Kind: result.SuiteStarted, Suite: t.res})
	t.wait(ctx, deadline, srv)

	// Sessions still open are cut; without Once they are judged as they
	// are (their record says the listener stopped). Whatever is not
	// judged is listed.
	srv.Close()
	for _, sess := range t.queue.take() {
		t.take(sess)
	}
	if t.unlisted > 0 {
		r := &result.Check{
			Index:  len(t.res.Checks),
			Label:  fmt.Sprintf("%s: %d more %s", d.Label, t.unlisted, plural(t.unlisted, "session")),
			Kind:   "device",
			Target: srv.Addr(),
			Status: result.Skipped,
			Error: fmt.Sprintf("not judged and not listed one by one: %d more %s refused or without SMTP",
				t.unlisted, plural(t.unlisted, "session")),
			Started: started,
		}
		t.res.Checks = append(t.res.Checks, r)
		emit(result.Event{Kind: result.CheckFinished, Suite: t.res, Check: r})
	}
	if t.judged == 0 {
		r := DeviceNoSMTP(d, srv.Addr(), started, opts.Now().Sub(started), t.untested, len(t.res.Checks))
		t.res.Checks = append(t.res.Checks, r)
		emit(result.Event{Kind: result.CheckFinished, Suite: t.res, Check: r})
	}
	if ctx.Err() != nil {
		t.res.Interrupted = Interruption(ctx)
	}
	t.res.Duration = opts.Now().Sub(started)
	emit(result.Event{Kind: result.SuiteFinished, Suite: t.res})
	return t.res, t.keepErr
}

// deviceTest is one Listen in progress.
type deviceTest struct {
	device *suite.Device
	opts   ListenOptions
	emit   func(result.Event)
	// queue holds the sessions the server handed over, open counts those
	// connected and not yet handed over. Sessions are queued rather than
	// sent on a channel, so that the server's Close, which waits for every
	// open session to be handed over, never waits for Listen.
	queue    *sessionQueue
	open     atomic.Int32
	connects atomic.Int32
	res      *result.Suite
	keepErr  error
	// judged counts the sessions judged; untested those that were no
	// test of the device, listed the ones recorded as skipped checks and
	// unlisted the ones only counted.
	judged, untested, listed, unlisted int
}

// wait judges sessions as they end, until Once has judged one, the most
// sessions were judged, the deadline (and the grace an open session gets
// after it) has passed, or ctx is canceled. At the deadline srv stops
// accepting connections, and the grace ends as soon as no session is
// open.
func (t *deviceTest) wait(ctx context.Context, deadline time.Time, srv DeviceServer) {
	timer := time.NewTimer(deadline.Sub(t.opts.Now()))
	defer timer.Stop()
	graced := false
	for {
		select {
		case <-t.queue.notify:
			for _, sess := range t.queue.take() {
				t.take(sess)
				if t.enough() {
					return
				}
			}
			if graced && t.open.Load() == 0 {
				return
			}
		case <-timer.C:
			if graced {
				return
			}
			srv.StopAccepting()
			if t.open.Load() == 0 {
				return
			}
			graced = true
			t.opts.Progress(fmt.Sprintf("a device session is still open; waiting up to %s for it to end (no new connection is accepted)", t.opts.Grace))
			timer.Reset(t.opts.Grace)
		case <-ctx.Done():
			t.opts.Progress("interrupted; stopping")
			return
		}
	}
}

// enough reports whether the test has judged all it may: one session
// with Once, else MaxSessions.
func (t *deviceTest) enough() bool {
	if t.opts.Once {
		return t.judged > 0
	}
	if t.judged >= t.opts.MaxSessions {
		t.opts.Progress(fmt.Sprintf("%d sessions judged, the most one run takes; stopping", t.judged))
		return true
	}
	return false
}

// take judges a session that is a test of the device, or lists one that
// is not (or one that comes when the test has judged all it may).
func (t *deviceTest) take(sess *result.DeviceSession) {
	why := sess.NotTested()
	switch {
	case why != "":
		t.untested++
	case t.opts.Once && t.judged > 0:
		why = fmt.Sprintf("--once judged the first device session already (%s)", t.res.Checks[t.firstJudged()].Label)
	case t.judged >= t.opts.MaxSessions:
		why = fmt.Sprintf("%d sessions were judged already, the most one run takes", t.judged)
	default:
		t.judge(sess)
		return
	}
	t.keep(sess)
	if t.listed >= maxListed {
		t.unlisted++
		return
	}
	t.listed++
	label := fmt.Sprintf("%s #%d (%s)", t.device.Label, sess.Number, sess.ClientIP)
	r := DeviceNotTested(sess, label, why, len(t.res.Checks))
	t.res.Checks = append(t.res.Checks, r)
	t.emit(result.Event{Kind: result.CheckFinished, Suite: t.res, Check: r})
}

// firstJudged is the index of the first judged check.
func (t *deviceTest) firstJudged() int {
	for i, c := range t.res.Checks {
		if c.Status != result.Skipped {
			return i
		}
	}
	return 0
}

// judge evaluates one session, reports it and keeps its messages.
func (t *deviceTest) judge(sess *result.DeviceSession) {
	t.judged++
	label := t.device.Label
	if !t.opts.Once {
		label = fmt.Sprintf("%s #%d (%s)", t.device.Label, sess.Number, sess.ClientIP)
	}
	r := DeviceResult(t.device, sess, label, len(t.res.Checks))
	t.res.Checks = append(t.res.Checks, r)
	t.emit(result.Event{Kind: result.CheckFinished, Suite: t.res, Check: r})
	t.keep(sess)
}

// keep hands a session to opts.Keep, keeping its first error.
func (t *deviceTest) keep(sess *result.DeviceSession) {
	if t.opts.Keep != nil {
		if err := t.opts.Keep(sess); err != nil && t.keepErr == nil {
			t.keepErr = err
		}
	}
}

// sessionQueue hands finished sessions from the server's goroutines to
// Listen's loop.
type sessionQueue struct {
	mu      sync.Mutex
	pending []*result.DeviceSession
	notify  chan struct{}
}

func (q *sessionQueue) push(s *result.DeviceSession) {
	q.mu.Lock()
	q.pending = append(q.pending, s)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *sessionQueue) take() []*result.DeviceSession {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.pending
	q.pending = nil
	return out
}

// hostOf is the host part of "host:port", or addr when it has none.
func hostOf(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}
