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
// may go on: a scan in progress is worth a little more patience.
const DefaultGrace = time.Minute

// DeviceServer is a server bound where the device is pointed (an
// internal/listener.Listener). Close stops it, ends the sessions still
// open and hands each one's record over before it returns.
type DeviceServer interface {
	Addr() string
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
	// Once ends the test after the first session.
	Once bool
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
// opts.Start, waits for devices until opts.Once has seen one session, the
// timeout passes or ctx is canceled, judges every session against the
// device block d of suite s, and reports through emit exactly as Run
// does. Sessions still open at the end are cut and, without Once, judged
// as they are. A block no device came to fails with a diagnosis.
func Listen(ctx context.Context, s *suite.Suite, d *suite.Device, opts ListenOptions, emit func(result.Event)) (*result.Suite, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
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
		opts.Progress(fmt.Sprintf("connection from %s (session %d)", hostOf(remote), n))
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
	t.wait(ctx, deadline)

	// Sessions still open are cut; without Once they are judged as they
	// are (their record says the listener stopped).
	srv.Close()
	if !opts.Once || len(t.res.Checks) == 0 {
		for _, sess := range t.queue.take() {
			t.judge(sess)
			if opts.Once {
				break
			}
		}
	}
	if len(t.res.Checks) == 0 {
		r := DeviceNoShow(d, srv.Addr(), started, opts.Now().Sub(started), 0)
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
	queue   *sessionQueue
	open    atomic.Int32
	res     *result.Suite
	keepErr error
}

// wait judges sessions as they end, until Once has seen one, the deadline
// (and the grace an open session gets after it) has passed, or ctx is
// canceled.
func (t *deviceTest) wait(ctx context.Context, deadline time.Time) {
	timer := time.NewTimer(deadline.Sub(t.opts.Now()))
	defer timer.Stop()
	graced := false
	for {
		select {
		case <-t.queue.notify:
			for _, sess := range t.queue.take() {
				t.judge(sess)
				if t.opts.Once {
					return
				}
			}
		case <-timer.C:
			if t.open.Load() == 0 || graced {
				return
			}
			graced = true
			t.opts.Progress(fmt.Sprintf("a device session is still open; waiting up to %s for it to end", t.opts.Grace))
			timer.Reset(t.opts.Grace)
		case <-ctx.Done():
			t.opts.Progress("interrupted; stopping")
			return
		}
	}
}

// judge evaluates one session, reports it and keeps its messages.
func (t *deviceTest) judge(sess *result.DeviceSession) {
	label := t.device.Label
	if !t.opts.Once {
		label = fmt.Sprintf("%s #%d (%s)", t.device.Label, sess.Number, sess.ClientIP)
	}
	r := DeviceResult(t.device, sess, label, len(t.res.Checks))
	t.res.Checks = append(t.res.Checks, r)
	t.emit(result.Event{Kind: result.CheckFinished, Suite: t.res, Check: r})
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
