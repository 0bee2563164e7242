package runner

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/smtpclient"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shard
		err  string
	}{
		{in: "1/4", want: Shard{1, 4}},
		{in: "4/4", want: Shard{4, 4}},
		{in: "1/1", want: Shard{1, 1}},
		{in: " 2/3 ", want: Shard{2, 3}},
		{in: "index:0/4", want: Shard{1, 4}},
		{in: "index:3/4", want: Shard{4, 4}},
		{in: "0/4", err: "K counts from 1: the first shard is 1/4 (or index:0/4 with a 0-based index)"},
		{in: "5/4", err: "K must be a whole number from 1 to 4"},
		{in: "-1/4", err: "K must be a whole number from 1 to 4"},
		{in: "a/4", err: "K must be a whole number from 1 to 4"},
		{in: "1/0", err: "N must be a whole number from 1 to 100000"},
		{in: "1/100001", err: "N must be a whole number from 1 to 100000"},
		{in: "1/x", err: "N must be a whole number"},
		{in: "1/2/3", err: "N must be a whole number"},
		{in: "3", err: "write K/N, e.g. 1/4"},
		{in: "", err: "write K/N"},
		{in: "index:4/4", err: "I counts from 0 and must be less than N (4)"},
		{in: "index:-1/4", err: "I counts from 0"},
		{in: "index:x/4", err: "I must be a whole number from 0 to 3"},
	} {
		got, err := ParseShard(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseShard(%q) = %v, %v; want error %q", tc.in, got, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseShard(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if s := (Shard{2, 5}).String(); s != "2/5" {
		t.Errorf("String() = %q", s)
	}
}

// TestShardOfIsStable pins the function: a change would send checks to
// other shards than the ones an older smtpdiag on another runner picked,
// and merging their results would fail.
func TestShardOfIsStable(t *testing.T) {
	for _, tc := range []struct {
		path, label string
		n, want     int
	}{
		{"suites/contoso.hcl", "device can submit", 2, 2},
		{"suites/contoso.hcl", "device can submit", 4, 2},
		{"suites/contoso.hcl", "device can submit", 7, 3},
		{"suites/contoso.hcl", "device can submit", 100, 70},
		{"suites/fabrikam.hcl", "MX points at Exchange Online", 3, 3},
		{"suites/fabrikam.hcl", "MX points at Exchange Online", 7, 1},
		{"suites/fabrikam.hcl", "MX points at Exchange Online", 100, 34},
		{"x.hcl", "", 4, 3},
		{"anything.hcl", "at all", 1, 1},
		// The path as given, cleaned, with forward slashes.
		{"./suites/contoso.hcl", "device can submit", 100, 70},
		{filepath.Join("suites", "contoso.hcl"), "device can submit", 100, 70},
		{"suites//contoso.hcl", "device can submit", 100, 70},
	} {
		if got := ShardOf(tc.path, tc.label, tc.n); got != tc.want {
			t.Errorf("ShardOf(%q, %q, %d) = %d, want %d", tc.path, tc.label, tc.n, got, tc.want)
		}
	}
}

// shardSuites are suites of smtp checks and dnsbl checks, some of which
// read an smtp check's client IP, and one suite without checks.
func shardSuites() []*suite.Suite {
	at := func(line int) hcl.Range { return hcl.Range{Start: hcl.Pos{Line: line, Byte: line * 100}} }
	var suites []*suite.Suite
	for f := range 4 {
		s := &suite.Suite{Name: fmt.Sprintf("suite %d", f), Path: fmt.Sprintf("suites/s%d.hcl", f)}
		line := 1
		for i := range 12 {
			c := check(fmt.Sprintf("smtp %d", i))
			c.DeclRange = at(line)
			line += 5
			s.Checks = append(s.Checks, c)
			if i%4 == 0 {
				s.DNSBLChecks = append(s.DNSBLChecks, &suite.DNSBLCheck{
					Label: fmt.Sprintf("egress of smtp %d", i), ClientIPOf: c.Label, DeclRange: at(line)})
				line += 5
			}
		}
		suites = append(suites, s)
	}
	return append(suites, &suite.Suite{Name: "empty", Path: "suites/empty.hcl"})
}

// TestShardsAreDisjointAndComplete: for N from 1 to 8, the N shards
// together run every check exactly once, keep each check's index and
// line, put a dnsbl check that reads a client IP with the smtp check it
// reads, leave out the suites none of whose checks they hold, and report
// a suite without checks in shard 1 only.
func TestShardsAreDisjointAndComplete(t *testing.T) {
	suites := shardSuites()
	total := 0
	for _, s := range suites {
		total += s.CheckCount()
	}
	converse := func(context.Context, smtpclient.Plan) *result.Conversation {
		c := okConversation()
		c.ClientIP = "192.0.2.1"
		return c
	}
	for n := 1; n <= 8; n++ {
		seen := map[string]int{}
		leftOut := 0
		for k := 1; k <= n; k++ {
			sh := Shard{Index: k, Count: n}
			// The dnsbl checks are only picked, not run: they would ask DNS.
			for _, s := range suites {
				all := s.AllChecks()
				picked, ok := sh.pick(s.Path, all)
				if ok != (len(picked) > 0 || len(all) == 0 && k == 1) {
					t.Errorf("N=%d K=%d %s: picked %v, in the shard %v", n, k, s.Path, picked, ok)
				}
				in := map[string]bool{}
				for _, i := range picked {
					in[all[i].Label()] = true
					seen[fmt.Sprintf("%s#%d", s.Path, i)]++
				}
				for _, i := range picked {
					if c := all[i]; c.DNSBL != nil && !in[c.DNSBL.ClientIPOf] {
						t.Errorf("N=%d K=%d %s: %q without %q", n, k, s.Path, c.Label(), c.DNSBL.ClientIPOf)
					}
				}
			}
			smtpOnly := make([]*suite.Suite, len(suites))
			for i, s := range suites {
				c := *s
				c.DNSBLChecks = nil
				smtpOnly[i] = &c
			}
			res := Run(context.Background(), smtpOnly, Options{Converse: converse, Shard: sh}, nil)
			leftOut += len(suites) - len(res)
			for _, s := range res {
				if s.Path == "suites/empty.hcl" && k != 1 {
					t.Errorf("N=%d: shard %d reports the suite without checks", n, k)
				}
				for _, c := range s.Checks {
					if ShardOf(s.Path, c.Label, n) != k {
						t.Errorf("N=%d: shard %d ran %q of %s", n, k, c.Label, s.Path)
					}
				}
			}
		}
		if len(seen) != total {
			t.Errorf("N=%d: %d of %d checks in some shard", n, len(seen), total)
		}
		for id, times := range seen {
			if times != 1 {
				t.Errorf("N=%d: %s in %d shards", n, id, times)
			}
		}
		if n >= 7 && leftOut == 0 {
			t.Errorf("N=%d: no shard left a suite out", n)
		}
	}
}

// TestShardKeepsIndexesAndLines: a shard's results keep each check's
// index in its suite ("smtp 5" is check 5 once the dnsbl checks are
// gone) and the line of its block.
func TestShardKeepsIndexesAndLines(t *testing.T) {
	suites := shardSuites()[:1]
	s := suites[0]
	s.DNSBLChecks = nil
	lines := map[string]int{}
	for _, c := range s.Checks {
		lines[c.Label] = c.DeclRange.Start.Line
	}
	converse := func(context.Context, smtpclient.Plan) *result.Conversation { return okConversation() }
	for k := 1; k <= 3; k++ {
		res := Run(context.Background(), suites, Options{Converse: converse, Shard: Shard{Index: k, Count: 3}}, nil)
		for _, r := range res {
			for _, c := range r.Checks {
				if want := lines[c.Label]; c.Line != want {
					t.Errorf("%q: line %d, want %d", c.Label, c.Line, want)
				}
				if c.Label != fmt.Sprintf("smtp %d", c.Index) {
					t.Errorf("%q has index %d", c.Label, c.Index)
				}
			}
		}
	}
}
