package runner

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// MaxShards is the largest N of --shard K/N.
const MaxShards = 100000

// Shard selects the K-th of N disjoint slices of a run's checks (smtpdiag
// run --shard K/N), so that a CI matrix or a Kubernetes Indexed Job can
// spread a fleet's suites over N runners. The zero value selects every
// check.
//
// A check's slice depends only on its suite's path and its label (see
// ShardOf), never on which other files or checks the run holds, so it
// stays where it is when suites are added or reordered. A dnsbl check
// that looks up the client IP an smtp check saw (ip =
// smtp["x"].client_ip) goes where that check goes. A suite without any
// checks belongs to shard 1.
type Shard struct {
	// Index is K, from 1 to Count; Count is N.
	Index, Count int
}

// ParseShard reads a shard in the form "K/N", K from 1 to N, or
// "index:I/N", I from 0 to N-1, a 0-based index such as the
// JOB_COMPLETION_INDEX of a Kubernetes Indexed Job (shard I+1).
func ParseShard(s string) (Shard, error) {
	v := strings.TrimSpace(s)
	zeroBased := false
	if rest, ok := strings.CutPrefix(v, "index:"); ok {
		v, zeroBased = rest, true
	}
	k, n, ok := strings.Cut(v, "/")
	if !ok {
		return Shard{}, fmt.Errorf("write K/N, e.g. 1/4 for the first of four shards (or index:I/N with a 0-based index)")
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 1 || count > MaxShards {
		return Shard{}, fmt.Errorf("N must be a whole number from 1 to %d", MaxShards)
	}
	index, err := strconv.Atoi(k)
	switch {
	case err != nil && zeroBased:
		return Shard{}, fmt.Errorf("I must be a whole number from 0 to %d", count-1)
	case err != nil:
		return Shard{}, fmt.Errorf("K must be a whole number from 1 to %d", count)
	case zeroBased && (index < 0 || index >= count):
		return Shard{}, fmt.Errorf("I counts from 0 and must be less than N (%d)", count)
	case zeroBased:
		index++
	case index == 0:
		return Shard{}, fmt.Errorf("K counts from 1: the first shard is 1/%d (or index:0/%d with a 0-based index)", count, count)
	case index < 1 || index > count:
		return Shard{}, fmt.Errorf("K must be a whole number from 1 to %d", count)
	}
	return Shard{Index: index, Count: count}, nil
}

// String renders the shard as "K/N", "" for the zero value.
func (s Shard) String() string {
	if s.Count == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// ShardOf returns the slice, from 1 to n, of a check with the label in the
// suite file at path: the first eight bytes of the SHA-256 of the path
// (as given, cleaned, with forward slashes, so that Windows and Linux
// runners agree), a NUL byte and the label, as a big-endian number, modulo
// n, plus 1.
func ShardOf(path, label string, n int) int {
	if n <= 1 {
		return 1
	}
	h := sha256.New()
	h.Write([]byte(filepath.ToSlash(filepath.Clean(path))))
	h.Write([]byte{0})
	h.Write([]byte(label))
	sum := h.Sum(nil)
	return int(binary.BigEndian.Uint64(sum[:8])%uint64(n)) + 1
}

// pick returns the indexes (into checks, a suite's AllChecks) of the checks
// in the shard, and whether the suite is part of the shard at all.
func (s Shard) pick(path string, checks []suite.Check) ([]int, bool) {
	if s.Count == 0 {
		picked := make([]int, len(checks))
		for i := range picked {
			picked[i] = i
		}
		return picked, true
	}
	if len(checks) == 0 {
		return nil, s.Index == 1
	}
	smtp := make(map[string]bool)
	for _, c := range checks {
		if c.SMTP != nil {
			smtp[c.SMTP.Label] = true
		}
	}
	var picked []int
	for i, c := range checks {
		if ShardOf(path, shardLabel(c, smtp), s.Count) == s.Index {
			picked = append(picked, i)
		}
	}
	return picked, len(picked) > 0
}

// shardLabel is the label that decides c's shard: its own, or for a dnsbl
// check that looks up an smtp check's client IP, that check's label, so
// that both run in the same shard.
func shardLabel(c suite.Check, smtp map[string]bool) string {
	if c.DNSBL != nil && c.DNSBL.ClientIPOf != "" && smtp[c.DNSBL.ClientIPOf] {
		return c.DNSBL.ClientIPOf
	}
	return c.Label()
}

// Describe says, for the report of a sharded run, which shard it is and
// what the whole run holds: every suite in order, with its number of
// checks and a digest of their kinds and labels. smtpdiag merge checks
// with it that the shards it merges belong together. Nil for the zero
// Shard.
func (s Shard) Describe(suites []*suite.Suite, hostname string) *result.Shard {
	if s.Count == 0 {
		return nil
	}
	out := &result.Shard{Index: s.Index, Count: s.Count, Hostname: hostname, Suites: make([]result.ShardSuite, 0, len(suites))}
	for _, st := range suites {
		checks := st.AllChecks()
		h := sha256.New()
		for _, c := range checks {
			fmt.Fprintf(h, "%s\x00%s\n", c.Kind(), c.Label())
		}
		out.Suites = append(out.Suites, result.ShardSuite{
			Path:   st.Path,
			Checks: len(checks),
			Digest: hex.EncodeToString(h.Sum(nil)[:12]),
		})
	}
	return out
}
