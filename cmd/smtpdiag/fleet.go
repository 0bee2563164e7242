package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/report/github"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/suite"
	"github.com/smtpdiag/smtpdiag/runner"
)

// shardEnv names the environment variable that --shard falls back to.
const shardEnv = "SMTPDIAG_SHARD"

// reportClock dates the evidence report; tests fix it.
var reportClock = time.Now

// fleetFlags are what run needs to be one shard of many, and what run and
// merge write for GitHub Actions.
type fleetFlags struct {
	// shardArg is --shard as given; shard what it (or SMTPDIAG_SHARD)
	// says.
	shardArg string
	shard    runner.Shard
	// info describes the shard for the JSON report, once the suites are
	// loaded; nil when the run is not sharded.
	info *result.Shard
	// version and hostname, when not "", are written into the reports
	// instead of this smtpdiag's version and this machine's name: merge
	// takes them from the shards.
	version, hostname string
}

// register adds --shard to run's flags.
func (f *fleetFlags) register(fs *flagSet) {
	fs.StringVar(&f.shardArg, "shard", "", "run only shard `K/N`: the K-th of N disjoint, stable slices of the checks, K from 1 (index:I/N takes a 0-based I); default: $"+shardEnv)
}

// check reads the shard from --shard, else SMTPDIAG_SHARD, and makes sure
// that the GitHub job summary can be written, before anything runs.
func (f *fleetFlags) check(e env) error {
	arg, from := f.shardArg, "--shard "+f.shardArg
	if arg == "" {
		arg, from = e.getenv(shardEnv), shardEnv+"="+e.getenv(shardEnv)
	}
	if arg != "" {
		sh, err := runner.ParseShard(arg)
		if err != nil {
			return usagef("%s: %s", from, err)
		}
		f.shard = sh
	}
	return checkStepSummary(e)
}

// describe records, for the JSON report of a sharded run, which shard it
// is and what the whole run holds.
func (f *fleetFlags) describe(suites []*suite.Suite) {
	host, _ := os.Hostname()
	f.info = f.shard.Describe(suites, host)
}

// reportVersion is the version the reports name.
func (f *fleetFlags) reportVersion() string {
	if f.version != "" {
		return f.version
	}
	return version()
}

// reportHost is the machine the reports name.
func (f *fleetFlags) reportHost() string {
	if f.hostname != "" {
		return f.hostname
	}
	host, _ := os.Hostname()
	return host
}

// onGitHub says whether smtpdiag runs as a step of GitHub Actions.
func onGitHub(e env) bool { return e.getenv("GITHUB_ACTIONS") == "true" }

// checkStepSummary refuses, before any traffic, a $GITHUB_STEP_SUMMARY
// that cannot be appended to.
func checkStepSummary(e env) error {
	path := e.getenv("GITHUB_STEP_SUMMARY")
	if !onGitHub(e) || path == "" {
		return nil
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return usagef("cannot write GITHUB_STEP_SUMMARY %s: %v", path, unwrapPath(err))
	}
	return file.Close()
}

// reportGitHub, under GitHub Actions, annotates every failed check at its
// line in its suite file (when annotate is set: not when standard output
// carries JSON) and appends the job summary to $GITHUB_STEP_SUMMARY.
func reportGitHub(results []*result.Suite, red *redact.Redactor, annotate bool, e env) error {
	if !onGitHub(e) {
		return nil
	}
	opts := github.Options{Redactor: red, Workspace: e.getenv("GITHUB_WORKSPACE")}
	if annotate {
		if err := github.WriteAnnotations(e.stdout, results, opts); err != nil {
			return err
		}
	}
	path := e.getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return nil
	}
	return appendFile(path, func(w io.Writer) error { return github.WriteSummary(w, results, opts) })
}

// appendFile appends what write writes to the file at path in one write:
// the GitHub job summary is one file that every step of a job appends to.
func appendFile(path string, write func(io.Writer) error) error {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	if _, err := file.Write(b.Bytes()); err != nil {
		file.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
