package result

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)

// shardOf builds shard k of n of a run of suites a.hcl (3 checks) and
// b.hcl (2 checks), holding the checks of a and b at the given indexes.
func shardOf(k, n int, started time.Time, d time.Duration, a, b []int) ShardRun {
	run := ShardRun{
		Name: "shard" + string(rune('0'+k)) + ".json",
		Shard: &Shard{Index: k, Count: n, Suites: []ShardSuite{
			{Path: "a.hcl", Checks: 3, Digest: "aa"},
			{Path: "b.hcl", Checks: 2, Digest: "bb"},
		}},
	}
	for _, part := range []struct {
		path    string
		indexes []int
	}{{"a.hcl", a}, {"b.hcl", b}} {
		if len(part.indexes) == 0 {
			continue
		}
		s := &Suite{Name: "suite " + part.path, Path: part.path, Started: started, Duration: d}
		for _, i := range part.indexes {
			s.Checks = append(s.Checks, &Check{Index: i, Label: part.path + string(rune('0'+i)), Status: Passed})
		}
		run.Suites = append(run.Suites, s)
	}
	return run
}

func TestMergeShardsOrdersSuitesAndChecks(t *testing.T) {
	// Shard 2 started later and ran longer: a.hcl runs from t0 (shard 1)
	// to t0+1s+10s (shard 2's end); b.hcl is in shard 2 only.
	s1 := shardOf(1, 2, t0, 5*time.Second, []int{2, 0}, nil)
	s2 := shardOf(2, 2, t0.Add(time.Second), 10*time.Second, []int{1}, []int{1, 0})
	s2.Suites[0].Interrupted = "the run was interrupted (SIGTERM)"
	merged, err := MergeShards([]ShardRun{s2, s1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged) != 2 || merged[0].Path != "a.hcl" || merged[1].Path != "b.hcl" {
		t.Fatalf("suites %+v", merged)
	}
	a, b := merged[0], merged[1]
	for i, c := range a.Checks {
		if c.Index != i {
			t.Errorf("a.hcl check %d has index %d", i, c.Index)
		}
	}
	if !a.Started.Equal(t0) || a.Duration != 11*time.Second {
		t.Errorf("a.hcl started %v and took %v, want %v and 11s", a.Started, a.Duration, t0)
	}
	if !b.Started.Equal(t0.Add(time.Second)) || b.Duration != 10*time.Second {
		t.Errorf("b.hcl started %v and took %v", b.Started, b.Duration)
	}
	if a.Interrupted == "" || a.Name != "suite a.hcl" {
		t.Errorf("a.hcl: name %q, interrupted %q", a.Name, a.Interrupted)
	}
	if c := Tally(merged); c.Passed != 5 || c.Total() != 5 {
		t.Errorf("counts %+v", c)
	}

	// A shard that ran inside another's time leaves the span alone.
	inner := shardOf(2, 2, t0.Add(time.Second), time.Second, []int{1}, []int{0, 1})
	merged, err = MergeShards([]ShardRun{s1, inner}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := merged[0]; !a.Started.Equal(t0) || a.Duration != 5*time.Second {
		t.Errorf("a.hcl started %v and took %v, want t0 and 5s", a.Started, a.Duration)
	}
}

func TestMergeShardsOfOneIsTheRun(t *testing.T) {
	only := shardOf(1, 1, t0, 3*time.Second, []int{0, 1, 2}, []int{0, 1})
	merged, err := MergeShards([]ShardRun{only}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range merged {
		orig := only.Suites[i]
		if s.Name != orig.Name || !s.Started.Equal(orig.Started) || s.Duration != orig.Duration || len(s.Checks) != len(orig.Checks) {
			t.Errorf("suite %d: %+v, want %+v", i, s, orig)
		}
		for j := range s.Checks {
			if s.Checks[j] != orig.Checks[j] {
				t.Errorf("suite %d check %d is not the shard's", i, j)
			}
		}
	}
	plain := ShardRun{Name: "run.json", Suites: only.Suites}
	if merged, err := MergeShards([]ShardRun{plain}, nil); err != nil || len(merged) != 2 || merged[0] != only.Suites[0] {
		t.Errorf("an unsharded run did not come back as it was: %v", err)
	}
}

func TestMergeShardsRefuses(t *testing.T) {
	ok1 := func() ShardRun { return shardOf(1, 2, t0, time.Second, []int{0, 2}, []int{1}) }
	ok2 := func() ShardRun { return shardOf(2, 2, t0, time.Second, []int{1}, []int{0}) }
	for _, tc := range []struct {
		name string
		runs func() []ShardRun
		want string
	}{
		{"nothing", func() []ShardRun { return nil }, "no shard results to merge"},
		{"missing", func() []ShardRun { return []ShardRun{ok1()} }, "shard results missing: 2/2 (merge needs all 2)"},
		{"twice", func() []ShardRun { return []ShardRun{ok1(), ok2(), ok1()} }, "shard 1/2 is given twice: shard1.json and shard1.json"},
		{"other N", func() []ShardRun {
			return []ShardRun{ok1(), shardOf(2, 3, t0, 0, []int{1}, []int{0})}
		}, "shard2.json is shard 2/3 but shard1.json is shard 1/2"},
		{"K out of range", func() []ShardRun {
			r := ok2()
			r.Shard.Index = 3
			return []ShardRun{ok1(), r}
		}, "says it is shard 3/2, which does not exist"},
		{"other suite", func() []ShardRun {
			r := ok2()
			r.Shard.Suites[1].Path = "c.hcl"
			return []ShardRun{ok1(), r}
		}, "ran different suites: suite 2 is b.hcl in one and c.hcl in the other"},
		{"fewer suites", func() []ShardRun {
			r := ok2()
			r.Shard.Suites = r.Shard.Suites[:1]
			r.Suites = r.Suites[:1]
			return []ShardRun{ok1(), r}
		}, "ran different suites: b.hcl is not in shard2.json"},
		{"more checks", func() []ShardRun {
			r := ok2()
			r.Shard.Suites[0].Checks = 4
			return []ShardRun{ok1(), r}
		}, "a.hcl has 3 checks in one and 4 in the other"},
		{"other checks", func() []ShardRun {
			r := ok2()
			r.Shard.Suites[0].Digest = "changed"
			return []ShardRun{ok1(), r}
		}, "the checks of a.hcl differ"},
		{"duplicate check", func() []ShardRun {
			r := shardOf(2, 2, t0, time.Second, []int{1, 2}, []int{0})
			return []ShardRun{ok1(), r}
		}, `check 2 ("a.hcl2") of suite a.hcl is in shard1.json and in shard2.json`},
		{"lost check", func() []ShardRun {
			return []ShardRun{ok1(), shardOf(2, 2, t0, time.Second, nil, []int{0})}
		}, "suite a.hcl: 1 of its 3 checks are in none of the shards (index 1)"},
		{"index out of range", func() []ShardRun {
			return []ShardRun{ok1(), shardOf(2, 2, t0, time.Second, []int{1, 7}, []int{0})}
		}, "check 7 (\"a.hcl7\") of suite a.hcl is not one of its 3 checks"},
		{"unknown suite", func() []ShardRun {
			r := ok2()
			r.Suites[0].Path = "z.hcl"
			return []ShardRun{ok1(), r}
		}, "shard2.json holds suite z.hcl, which is not one of the run's suites"},
		{"unsharded among shards", func() []ShardRun {
			r := ok2()
			r.Shard = nil
			return []ShardRun{ok1(), r}
		}, "shard2.json holds the results of a run without --shard"},
	} {
		_, err := MergeShards(tc.runs(), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestMergeShardsDecidesPathsAgain: each shard decided on the paths of
// its own checks only; the merge decides again on the merged checks of
// the suite, in index order, keeping the subject the shards name, and a
// merge without a decider keeps no shard's partial decision.
func TestMergeShardsDecidesPathsAgain(t *testing.T) {
	s1 := shardOf(1, 2, t0, time.Second, []int{0, 2}, []int{1})
	s2 := shardOf(2, 2, t0, time.Second, []int{1}, []int{0})
	s1.Suites[0].Checks[0].Path = "basic_auth"
	s2.Suites[0].Checks[0].Path = "oauth"
	partial := func(s *Suite, subject string) {
		s.Paths = &PathDecision{Subject: subject, Summary: "only " + s.Checks[0].Path}
	}
	partial(s1.Suites[0], "scanner@contoso.com")
	partial(s2.Suites[0], "scanner@contoso.com")
	var calls [][]int
	decide := func(checks []*Check) *PathDecision {
		var idx []int
		var paths []string
		for _, c := range checks {
			idx = append(idx, c.Index)
			if c.Path != "" {
				paths = append(paths, c.Path)
			}
		}
		calls = append(calls, idx)
		if len(paths) == 0 {
			return nil
		}
		return &PathDecision{Summary: strings.Join(paths, " and ")}
	}
	merged, err := MergeShards([]ShardRun{s2, s1}, decide)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || len(calls[0]) != 3 || calls[0][0] != 0 || calls[0][2] != 2 {
		t.Errorf("decide was called with the checks %v, want every check of each suite in index order", calls)
	}
	a, b := merged[0], merged[1]
	if a.Paths == nil || a.Paths.Summary != "basic_auth and oauth" || a.Paths.Subject != "scanner@contoso.com" {
		t.Errorf("a.hcl: %+v", a.Paths)
	}
	if b.Paths != nil {
		t.Errorf("b.hcl proves no path: %+v", b.Paths)
	}

	s1.Suites[0].Checks[0].Path, s2.Suites[0].Checks[0].Path = "", ""
	merged, err = MergeShards([]ShardRun{s1, s2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if merged[0].Paths != nil {
		t.Errorf("without a decider a shard's partial decision came through: %+v", merged[0].Paths)
	}
}
