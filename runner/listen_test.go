package runner

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// fakeServer stands in for the listener: the test plays the devices by
// calling connected and finished, as the listener's goroutines would.
type fakeServer struct {
	mu        sync.Mutex
	connected func(int, string)
	finished  func(*result.DeviceSession)
	open      []*result.DeviceSession // connected, not yet finished
	closed    bool
	stopped   bool // StopAccepting was called
}

func (f *fakeServer) Addr() string { return "127.0.0.1:2525" }

// StopAccepting notes that no connection may come any more.
func (f *fakeServer) StopAccepting() {
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
}

// Close ends the open sessions as the listener does: each is handed over
// with "the listener stopped" as its end.
func (f *fakeServer) Close() error {
	f.mu.Lock()
	open := f.open
	f.open, f.closed = nil, true
	f.mu.Unlock()
	for _, s := range open {
		s.End = "the listener stopped"
		f.finished(s)
	}
	return nil
}

func (f *fakeServer) connect(n int) *result.DeviceSession {
	s := &result.DeviceSession{Number: n, Listen: f.Addr(), RemoteAddr: "192.0.2.7:40000", ClientIP: "192.0.2.7", Helo: "copier", SentHello: true}
	f.mu.Lock()
	f.open = append(f.open, s)
	f.mu.Unlock()
	f.connected(n, s.RemoteAddr)
	return s
}

func (f *fakeServer) finish(s *result.DeviceSession) {
	f.mu.Lock()
	for i, o := range f.open {
		if o == s {
			f.open = append(f.open[:i], f.open[i+1:]...)
		}
	}
	f.mu.Unlock()
	s.End = "QUIT"
	f.finished(s)
}

type listenRun struct {
	srv      *fakeServer
	events   []result.Event
	progress []string
	res      *result.Suite
	err      error
	done     chan struct{}
}

// startListen runs Listen in the background; play is called once the
// server is bound.
func startListen(t *testing.T, ctx context.Context, opts ListenOptions, play func(*fakeServer)) *listenRun {
	t.Helper()
	run := &listenRun{srv: &fakeServer{}, done: make(chan struct{})}
	var mu sync.Mutex
	opts.Start = func(connected func(int, string), finished func(*result.DeviceSession)) (DeviceServer, error) {
		run.srv.connected, run.srv.finished = connected, finished
		return run.srv, nil
	}
	opts.Bound = func(DeviceServer, time.Time) { go play(run.srv) }
	opts.Progress = func(line string) { mu.Lock(); run.progress = append(run.progress, line); mu.Unlock() }
	s := &suite.Suite{Name: "copier", Path: "copier.hcl"}
	d := &suite.Device{Label: "reception copier", Timeout: time.Minute}
	go func() {
		defer close(run.done)
		run.res, run.err = Listen(ctx, s, d, opts, func(ev result.Event) { run.events = append(run.events, ev) })
	}()
	select {
	case <-run.done:
	case <-time.After(20 * time.Second):
		t.Fatal("Listen did not return")
	}
	return run
}

func TestListenOnceJudgesTheFirstSession(t *testing.T) {
	run := startListen(t, context.Background(), ListenOptions{Once: true}, func(f *fakeServer) {
		f.finish(f.connect(1))
	})
	if run.err != nil || len(run.res.Checks) != 1 {
		t.Fatalf("err %v, checks %+v", run.err, run.res.Checks)
	}
	c := run.res.Checks[0]
	if c.Label != "reception copier" || c.Kind != "device" || c.Device.Number != 1 || c.Status != result.Passed {
		t.Errorf("check %+v", c)
	}
	kinds := []result.EventKind{}
	for _, ev := range run.events {
		kinds = append(kinds, ev.Kind)
	}
	if len(kinds) != 3 || kinds[0] != result.SuiteStarted || kinds[1] != result.CheckFinished || kinds[2] != result.SuiteFinished {
		t.Errorf("events %v", kinds)
	}
	if len(run.progress) == 0 || run.progress[0] != "connection from 192.0.2.7 (session 1)" {
		t.Errorf("progress %q", run.progress)
	}
}

// Without Once, every session until the deadline is judged and numbered;
// one still open when the listener stops is judged as it is.
func TestListenJudgesEverySessionUntilTheDeadline(t *testing.T) {
	opened := make(chan *result.DeviceSession, 1)
	run := startListen(t, context.Background(), ListenOptions{Timeout: 300 * time.Millisecond, Grace: 50 * time.Millisecond}, func(f *fakeServer) {
		f.finish(f.connect(1))
		f.finish(f.connect(2))
		opened <- f.connect(3)
	})
	open := <-opened
	if run.err != nil || len(run.res.Checks) != 3 {
		t.Fatalf("err %v, %d checks", run.err, len(run.res.Checks))
	}
	for i, c := range run.res.Checks {
		if c.Index != i || !strings.HasPrefix(c.Label, "reception copier #") {
			t.Errorf("check %d: %+v", i, c)
		}
	}
	if open.End != "the listener stopped" || run.res.Checks[2].Device != open {
		t.Errorf("the open session was not cut and judged: %+v", open)
	}
	joined := strings.Join(run.progress, "\n")
	if !strings.Contains(joined, "a device session is still open; waiting up to 50ms") {
		t.Errorf("no grace announced: %q", run.progress)
	}
}

// A device that never comes fails the block with a diagnosis.
func TestListenNoDevice(t *testing.T) {
	run := startListen(t, context.Background(), ListenOptions{Timeout: 50 * time.Millisecond}, func(*fakeServer) {})
	if run.err != nil || len(run.res.Checks) != 1 {
		t.Fatalf("err %v, checks %+v", run.err, run.res.Checks)
	}
	c := run.res.Checks[0]
	if c.Status != result.Failed || c.Diagnosis == nil || c.Diagnosis.Category != result.Network ||
		!strings.Contains(c.FirstFailure(), "no device connected to 127.0.0.1:2525") {
		t.Errorf("no-show: %+v", c)
	}
}

// A canceled context ends the wait at once.
func TestListenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	run := startListen(t, ctx, ListenOptions{Timeout: time.Hour}, func(*fakeServer) { cancel() })
	if time.Since(start) > 10*time.Second || !run.srv.closed {
		t.Fatalf("Listen did not end on cancel (server closed %v)", run.srv.closed)
	}
	if !strings.Contains(strings.Join(run.progress, "\n"), "interrupted") || len(run.res.Checks) != 1 {
		t.Errorf("progress %q, checks %d", run.progress, len(run.res.Checks))
	}
}

// Keep gets every judged session, and its first error is Listen's.
func TestListenKeep(t *testing.T) {
	var kept []int
	run := startListen(t, context.Background(), ListenOptions{Timeout: 200 * time.Millisecond, Keep: func(s *result.DeviceSession) error {
		kept = append(kept, s.Number)
		return errKeep
	}}, func(f *fakeServer) {
		f.finish(f.connect(1))
		f.finish(f.connect(2))
	})
	if run.err != errKeep || len(kept) != 2 {
		t.Errorf("err %v, kept %v", run.err, kept)
	}
}

var errKeep = &keepError{}

type keepError struct{}

func (*keepError) Error() string { return "disk full" }

// scan is a connection that never sends EHLO or HELO: a port scan or a
// health check.
func (f *fakeServer) scan(n int) *result.DeviceSession {
	s := f.connect(n)
	s.SentHello, s.Helo = false, ""
	return s
}

// A port scan or a health check is recorded as a skipped check, not
// judged, and does not end --once; the device after it is judged.
func TestListenOnceSkipsConnectionsWithoutSMTP(t *testing.T) {
	run := startListen(t, context.Background(), ListenOptions{Once: true}, func(f *fakeServer) {
		f.finish(f.scan(1))
		refused := f.connect(2)
		refused.Refused = "another device session was being tested (one session at a time)"
		f.finish(refused)
		f.finish(f.connect(3))
	})
	if run.err != nil || len(run.res.Checks) != 3 {
		t.Fatalf("err %v, checks %+v", run.err, run.res.Checks)
	}
	scan, refused, device := run.res.Checks[0], run.res.Checks[1], run.res.Checks[2]
	if scan.Status != result.Skipped || scan.Label != "reception copier #1 (192.0.2.7)" ||
		!strings.Contains(scan.Error, "not judged: a connection without SMTP") || scan.Device == nil {
		t.Errorf("scan: %+v", scan)
	}
	if refused.Status != result.Skipped || !strings.Contains(refused.Error, "refused with 421 4.3.2: another device session") {
		t.Errorf("refused: %+v", refused)
	}
	if device.Status != result.Passed || device.Label != "reception copier" || device.Device.Number != 3 {
		t.Errorf("device: %+v", device)
	}
	if c := result.Tally([]*result.Suite{run.res}); c.Failed != 0 || c.Passed != 1 || c.Skipped != 2 {
		t.Errorf("tally %+v", c)
	}
}

// With --once, a session still open when the device's session was judged
// is cut and recorded, never dropped.
func TestListenOnceRecordsTheOthers(t *testing.T) {
	run := startListen(t, context.Background(), ListenOptions{Once: true}, func(f *fakeServer) {
		f.scan(1) // stays open
		f.finish(f.connect(2))
	})
	if run.err != nil || len(run.res.Checks) != 2 || run.res.Checks[0].Device.Number != 2 ||
		run.res.Checks[1].Status != result.Skipped || run.res.Checks[1].Device.Number != 1 ||
		run.res.Checks[1].Device.End != "the listener stopped" {
		t.Fatalf("err %v, checks %+v", run.err, run.res.Checks)
	}
}

// At the deadline no new connection is accepted, and the grace ends as
// soon as the open session ends, not when the grace runs out.
func TestListenGraceEndsWithTheSession(t *testing.T) {
	run := startListen(t, context.Background(), ListenOptions{Timeout: 100 * time.Millisecond, Grace: time.Hour}, func(f *fakeServer) {
		s := f.connect(1)
		time.Sleep(300 * time.Millisecond)
		f.finish(s)
	})
	if run.err != nil || len(run.res.Checks) != 1 || run.res.Checks[0].Status != result.Passed {
		t.Fatalf("err %v, checks %+v", run.err, run.res.Checks)
	}
	if !run.srv.stopped {
		t.Error("the server still accepted connections after the deadline")
	}
	if !strings.Contains(strings.Join(run.progress, "\n"), "no new connection is accepted") {
		t.Errorf("progress %q", run.progress)
	}
}

// Sessions that are no test are listed up to maxListed, then counted in
// one line; a block that only saw them fails as no device.
func TestListenBoundsWhatItLists(t *testing.T) {
	run := startListen(t, context.Background(), ListenOptions{Timeout: 300 * time.Millisecond}, func(f *fakeServer) {
		for i := 1; i <= maxListed+10; i++ {
			f.finish(f.scan(i))
		}
	})
	if run.err != nil || len(run.res.Checks) != maxListed+2 {
		t.Fatalf("err %v, %d checks", run.err, len(run.res.Checks))
	}
	more, noShow := run.res.Checks[maxListed], run.res.Checks[maxListed+1]
	if more.Status != result.Skipped || more.Label != "reception copier: 10 more sessions" || more.Device != nil {
		t.Errorf("the count: %+v", more)
	}
	if noShow.Status != result.Failed || !strings.Contains(noShow.FirstFailure(), "no device spoke SMTP to 127.0.0.1:2525") ||
		!strings.Contains(noShow.FirstFailure(), "30 connections without EHLO or HELO") || noShow.Diagnosis == nil {
		t.Errorf("no-show: %+v", noShow)
	}
	if n := strings.Count(strings.Join(run.progress, "\n"), "connection from"); n != 30 {
		t.Errorf("%d progress lines about connections", n)
	}
}

// A run judges at most MaxSessions sessions.
func TestListenMaxSessions(t *testing.T) {
	run := startListen(t, context.Background(), ListenOptions{MaxSessions: 3}, func(f *fakeServer) {
		for i := 1; i <= 5; i++ {
			f.finish(f.connect(i))
		}
	})
	judged := 0
	for _, c := range run.res.Checks {
		if c.Status != result.Skipped {
			judged++
		}
	}
	if run.err != nil || judged != 3 || !strings.Contains(strings.Join(run.progress, "\n"), "3 sessions judged, the most one run takes") {
		t.Fatalf("err %v, %d judged of %d, progress %q", run.err, judged, len(run.res.Checks), run.progress)
	}
}
