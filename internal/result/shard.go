package result

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Shard says which slice of a run's checks a sharded run (smtpdiag run
// --shard K/N) ran, and what the whole run holds, so that the results of
// the N shards can be merged into those of one run.
type Shard struct {
	// Index is K, from 1 to Count; Count is N.
	Index int `json:"index"`
	Count int `json:"count"`
	// Hostname is the machine the shard ran on.
	Hostname string `json:"hostname,omitempty"`
	// Suites are the suites of the whole run in run order, those none of
	// whose checks is in this shard included.
	Suites []ShardSuite `json:"suites"`
}

// ShardSuite is one suite of a sharded run.
type ShardSuite struct {
	Path string `json:"path"`
	// Checks is the number of the suite's checks in the whole run.
	Checks int `json:"checks"`
	// Digest identifies the suite's checks (their kinds and labels in
	// order), so that shards that ran different versions of a suite file
	// are told apart.
	Digest string `json:"digest"`
}

// ShardRun is what one shard reported, as MergeShards reads it.
type ShardRun struct {
	// Name names the shard in errors: its file name.
	Name string
	// Shard is nil for the results of a run that was not sharded.
	Shard  *Shard
	Suites []*Suite
}

// MergeShards combines the results of the N shards of one run into the
// results one unsharded run of the same suites would have had: the suites
// in run order (matched by path), each suite's checks ordered by their
// index, from whichever shard ran them. Every shard from 1 to N must be
// there exactly once, all must have run the same suites, and every check
// must be in exactly one shard; otherwise it says what is wrong.
//
// A suite's name, description and interruption come from the first shard
// (by K) that reports it. Its Started is the earliest start among the
// shards that ran part of it and its Duration runs from there to the
// latest end among them: the span in which its checks ran, which is what
// an unsharded run measures (from the suite's start to its last check's
// end) and equals it for N = 1. Shards that ran one after another rather
// than side by side thus count the time between them too; the sum of the
// shards' durations would instead overstate every suite whose shards ran
// side by side, and put its end after the run's.
//
// A suite's decision on the ways to send (Paths) rests on checks that may
// have run in different shards, so each shard's is only partial: decide
// makes it again from the merged checks, as the runner made it from the
// checks of an unsharded run (both use knowledge.RunDecision, which this
// package cannot import), and the subject is the one the shards give (each
// shard names the same, from the whole suite). With decide nil a merged
// suite has no Paths.
//
// The results of a run that was not sharded (Shard nil) merge only on
// their own, and come back as they are.
func MergeShards(runs []ShardRun, decide PathDecider) ([]*Suite, error) {
	if len(runs) == 0 {
		return nil, errors.New("no shard results to merge")
	}
	for _, r := range runs {
		if r.Shard == nil {
			if len(runs) > 1 {
				return nil, fmt.Errorf("%s holds the results of a run without --shard, which cannot be merged with others", r.Name)
			}
			return r.Suites, nil
		}
	}
	runs = slices.Clone(runs)
	slices.SortStableFunc(runs, func(a, b ShardRun) int { return cmp.Compare(a.Shard.Index, b.Shard.Index) })
	if err := checkShards(runs); err != nil {
		return nil, err
	}

	ref := runs[0].Shard.Suites
	order := make(map[string]int, len(ref))
	for i, s := range ref {
		if _, dup := order[s.Path]; dup {
			return nil, fmt.Errorf("%s lists suite %s twice", runs[0].Name, s.Path)
		}
		order[s.Path] = i
	}
	merged := make([]*Suite, len(ref))
	// subjects are the suites' Paths.Subject, as the first shard that
	// decided on them names it.
	subjects := make([]string, len(ref))
	// from names the shard each merged check came from, for errors.
	from := make([][]string, len(ref))
	for _, r := range runs {
		seen := make(map[string]bool, len(r.Suites))
		for _, s := range r.Suites {
			i, ok := order[s.Path]
			if !ok {
				return nil, fmt.Errorf("%s holds suite %s, which is not one of the run's suites", r.Name, s.Path)
			}
			if seen[s.Path] {
				return nil, fmt.Errorf("%s holds suite %s twice", r.Name, s.Path)
			}
			seen[s.Path] = true
			if merged[i] == nil {
				merged[i] = &Suite{Name: s.Name, Description: s.Description, Path: s.Path, Checks: make([]*Check, ref[i].Checks)}
				from[i] = make([]string, ref[i].Checks)
			}
			if err := mergeSuite(merged[i], s, r.Name, from[i]); err != nil {
				return nil, err
			}
			if s.Paths != nil && subjects[i] == "" {
				subjects[i] = s.Paths.Subject
			}
		}
	}
	for i, s := range merged {
		if s == nil {
			return nil, fmt.Errorf("no shard holds suite %s", ref[i].Path)
		}
		var missing []string
		for j, c := range s.Checks {
			if c == nil {
				missing = append(missing, fmt.Sprint(j))
			}
		}
		if n := len(missing); n > 0 {
			if n > 10 {
				missing = append(missing[:10], "...")
			}
			return nil, fmt.Errorf("suite %s: %d of its %d checks are in none of the shards (index %s)", s.Path, n, len(s.Checks), strings.Join(missing, ", "))
		}
		if decide != nil {
			s.Paths = decide(s.Checks)
			if s.Paths != nil {
				s.Paths.Subject = subjects[i]
			}
		}
	}
	return merged, nil
}

// PathDecider decides, from a suite's checks, which ways to send through
// Microsoft 365 work (Suite.Paths), nil when no check proves a path.
type PathDecider func(checks []*Check) *PathDecision

// checkShards makes sure runs, sorted by K, are the N shards of one run:
// the same N, every K once, the same suites.
func checkShards(runs []ShardRun) error {
	first := runs[0]
	n := first.Shard.Count
	for i, r := range runs {
		sh := r.Shard
		if sh.Count != n {
			return fmt.Errorf("%s is shard %d/%d but %s is shard %d/%d: merge the shards of one run", r.Name, sh.Index, sh.Count, first.Name, first.Shard.Index, n)
		}
		if sh.Index < 1 || sh.Index > n {
			return fmt.Errorf("%s says it is shard %d/%d, which does not exist", r.Name, sh.Index, n)
		}
		if i > 0 && runs[i-1].Shard.Index == sh.Index {
			return fmt.Errorf("shard %d/%d is given twice: %s and %s", sh.Index, n, runs[i-1].Name, r.Name)
		}
		if err := sameSuites(first, r); err != nil {
			return err
		}
	}
	if len(runs) < n {
		have := make(map[int]bool, len(runs))
		for _, r := range runs {
			have[r.Shard.Index] = true
		}
		var missing []string
		for k := 1; k <= n; k++ {
			if !have[k] {
				missing = append(missing, fmt.Sprintf("%d/%d", k, n))
			}
		}
		if len(missing) > 10 {
			missing = append(missing[:10], "...")
		}
		return fmt.Errorf("shard results missing: %s (merge needs all %d)", strings.Join(missing, ", "), n)
	}
	return nil
}

// sameSuites says how the suites of shard b differ from those of shard a.
func sameSuites(a, b ShardRun) error {
	x, y := a.Shard.Suites, b.Shard.Suites
	for i := 0; i < len(x) || i < len(y); i++ {
		switch {
		case i >= len(x):
			return fmt.Errorf("%s and %s ran different suites: %s is not in %s", a.Name, b.Name, y[i].Path, a.Name)
		case i >= len(y):
			return fmt.Errorf("%s and %s ran different suites: %s is not in %s", a.Name, b.Name, x[i].Path, b.Name)
		case x[i].Path != y[i].Path:
			return fmt.Errorf("%s and %s ran different suites: suite %d is %s in one and %s in the other", a.Name, b.Name, i+1, x[i].Path, y[i].Path)
		case x[i].Checks != y[i].Checks:
			return fmt.Errorf("%s and %s ran different suites: %s has %d checks in one and %d in the other", a.Name, b.Name, x[i].Path, x[i].Checks, y[i].Checks)
		case x[i].Digest != y[i].Digest:
			return fmt.Errorf("%s and %s ran different suites: the checks of %s differ", a.Name, b.Name, x[i].Path)
		}
	}
	return nil
}

// mergeSuite adds one shard's part s of a suite to m; from names the
// shard each of m's checks came from.
func mergeSuite(m, s *Suite, name string, from []string) error {
	for _, c := range s.Checks {
		if c == nil {
			return fmt.Errorf("%s: suite %s holds a null check", name, s.Path)
		}
		if c.Index < 0 || c.Index >= len(m.Checks) {
			return fmt.Errorf("%s: check %d (%q) of suite %s is not one of its %d checks", name, c.Index, c.Label, s.Path, len(m.Checks))
		}
		if from[c.Index] != "" {
			return fmt.Errorf("check %d (%q) of suite %s is in %s and in %s", c.Index, c.Label, s.Path, from[c.Index], name)
		}
		m.Checks[c.Index], from[c.Index] = c, name
	}
	if m.Interrupted == "" {
		m.Interrupted = s.Interrupted
	}
	if s.Started.IsZero() {
		return nil
	}
	end := s.Started.Add(s.Duration)
	if m.Started.IsZero() {
		m.Started, m.Duration = s.Started, s.Duration
		return nil
	}
	if m.Started.Add(m.Duration).After(end) {
		end = m.Started.Add(m.Duration)
	}
	if s.Started.Before(m.Started) {
		m.Started = s.Started
	}
	m.Duration = end.Sub(m.Started)
	return nil
}
