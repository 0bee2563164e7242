package oauth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// refreshMargin is how long before its expiry a cached token is replaced:
// a check that starts with it must still be able to send it.
const refreshMargin = 2 * time.Minute

// Source hands out tokens for a run: one acquisition per distinct Config,
// shared by every check that asks for the same one, also when they ask at
// once. A failure is shared too (the same credentials would fail again),
// except a canceled one, which the next caller retries. The zero value is
// not ready; use NewSource.
type Source struct {
	prompt func(DevicePrompt)
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
}

// entry is one Config's acquisition; done closes when it ends.
type entry struct {
	done  chan struct{}
	token *Token
	err   error
}

// NewSource makes a Source whose device code flows hand their prompt to
// prompt (nil: the device code flow fails with a *ConfigError).
func NewSource(prompt func(DevicePrompt)) *Source {
	return &Source{prompt: prompt, now: time.Now, entries: map[string]*entry{}}
}

// Token returns cfg's token: acquired now (Record.Outcome Acquired) or
// earlier in the run (a copy whose Record.Outcome is Cached).
func (s *Source) Token(ctx context.Context, cfg Config) (*Token, error) {
	full, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	key := full.key()
	for {
		s.mu.Lock()
		e, ok := s.entries[key]
		if !ok {
			e = &entry{done: make(chan struct{})}
			s.entries[key] = e
			s.mu.Unlock()
			e.token, e.err = Acquire(ctx, full, s.prompt)
			if canceled(e.err) {
				s.forget(key, e)
			}
			close(e.done)
			return e.token, e.err
		}
		s.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			rec := Record{Authority: full.Authority, Tenant: full.Tenant, ClientID: full.ClientID, Scope: full.Scope, Grant: full.Flow}
			return nil, newError(ctx, ctx.Err(), full, rec, "waiting for the token another check is acquiring")
		}
		switch {
		case canceled(e.err):
			continue // the caller that tried gave up; try again
		case e.err != nil:
			return nil, e.err
		case !s.now().Add(refreshMargin).Before(e.token.ExpiresOn):
			s.forget(key, e)
			continue
		}
		t := *e.token
		t.Record.Outcome, t.Record.Duration = Cached, 0
		return &t, nil
	}
}

// forget drops e, if it is still key's entry.
func (s *Source) forget(key string, e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries[key] == e {
		delete(s.entries, key)
	}
}

func canceled(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == KindCanceled
}
