package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/report/jsonreport"
	"github.com/smtpdiag/smtpdiag/internal/report/summary"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

const mergeUsage = `Usage: smtpdiag merge [flags] SHARD.json...

Combines the JSON results of the shards of one run (smtpdiag run --shard
K/N --json FILE on each of N runners) into the outputs one unsharded run
of the same suites would have written: the --junit, --json and --report
files, and the summary: each failed check with its failed expectations,
diagnosis and transcript, then the closing line "N passed, N failed"
(with -v, first a line for every check). Every shard from 1 to N must be
given once, and all must have run the same suites.

A suite's start is the earliest of its shards' and its duration runs from
there to the latest end among them.

Under GitHub Actions (GITHUB_ACTIONS=true) each failed check is also
annotated at its line in its suite file, and a summary is appended to
$GITHUB_STEP_SUMMARY.

Exit codes: 0 all checks passed, 1 a check failed, 2 usage error (also
shards that do not belong together), 3 internal error.
`

func cmdMerge(args []string, e env) error {
	var (
		f       runFlags
		format  string
		verbose bool
		noColor bool
	)
	fs := newFlagSet("merge", mergeUsage, e.stdout)
	fs.StringVar(&f.junit, "junit", "", "write JUnit XML to `FILE`")
	fs.StringVar(&f.json, "json", "", "write the full results as JSON to `FILE`")
	fs.StringVar(&f.report, "report", "", "write an evidence report to `FILE` (.html or .md)")
	fs.StringVar(&format, "format", "text", "what to print, `FORMAT`: text (the summary) or json (the merged results)")
	fs.BoolVar(&verbose, "v", false, "print a line, and the transcript, of every check, not only of failing ones")
	fs.BoolVar(&noColor, "no-color", false, "no colour (NO_COLOR is honoured too)")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("merge needs the JSON files of the shards, e.g. smtpdiag merge shard-*.json")
	}
	if format != "text" && format != "json" {
		return usagef("--format %s: write text or json", format)
	}
	if err := f.check(); err != nil {
		return err
	}
	if err := checkStepSummary(e); err != nil {
		return err
	}

	reports, err := readReports(files)
	if err != nil {
		return err
	}
	runs := make([]result.ShardRun, 0, len(files))
	var versions, hosts distinctStrings
	for i, rep := range reports {
		runs = append(runs, result.ShardRun{Name: files[i], Shard: rep.Shard, Suites: rep.Results()})
		versions.add(rep.Version)
		if rep.Shard != nil {
			hosts.add(rep.Shard.Hostname)
		}
	}
	reports = nil
	results, err := result.MergeShards(runs, knowledge.RunDecision)
	if err != nil {
		return usagef("%s", err)
	}
	f.fleet.version = strings.Join(versions, ", ")
	f.fleet.hostname = strings.Join(hosts, ", ")

	// The report files are written side by side, and beside the summary:
	// they only read the results.
	written := make(chan error, 1)
	go func() { written <- safely(func() error { return writeReportsAtOnce(results, f) }) }()
	if format == "json" {
		if err := jsonreport.Write(e.stdout, results, jsonreport.Options{Version: f.fleet.reportVersion()}); err != nil {
			<-written
			return err
		}
	} else {
		sum := summary.New(e.stdout, summary.Options{
			Color:   colorFor(e.stdout, noColor, e.getenv),
			Width:   outputWidth(e.stdout, e.getenv),
			Verbose: verbose,
		})
		if verbose {
			for _, s := range results {
				for _, c := range s.Checks {
					sum.Handle(result.Event{Kind: result.CheckFinished, Suite: s, Check: c, Total: len(s.Checks)})
				}
			}
		}
		sum.Finish(results)
	}
	if err := <-written; err != nil {
		return err
	}
	if err := reportGitHub(results, nil, format == "text", e); err != nil {
		return err
	}
	if c := result.Tally(results); c.Failed+c.Errored > 0 {
		return checksFailed{}
	}
	return nil
}

// readReports reads the shards' JSON reports, as many at once as there
// are processors.
func readReports(files []string) ([]*jsonreport.Report, error) {
	reports := make([]*jsonreport.Report, len(files))
	errs := make([]error, len(files))
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, name := range files {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			errs[i] = safely(func() (err error) {
				reports[i], err = readReport(name)
				return err
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return reports, nil
}

// writeReportsAtOnce writes the report files f asks for side by side,
// each as writeReportFiles writes it.
func writeReportsAtOnce(results []*result.Suite, f runFlags) error {
	var parts []runFlags
	for _, out := range []runFlags{{junit: f.junit}, {json: f.json}, {report: f.report, reportFormat: f.reportFormat}} {
		if len(out.outputs()) > 0 {
			out.fleet = f.fleet
			parts = append(parts, out)
		}
	}
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, part := range parts {
		wg.Go(func() { errs[i] = safely(func() error { return writeReportFiles(results, part, nil) }) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// safely runs fn on a goroutine of its own: a panic there, smtpdiag's own
// bug, becomes an error, reported in one line (exit code 3) as run
// reports one on the main goroutine.
func safely(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v", p)
		}
	}()
	return fn()
}

// readReport reads one shard's JSON report; a file that is missing or is
// not one is a usage error.
func readReport(name string) (*jsonreport.Report, error) {
	file, err := os.Open(name)
	if err != nil {
		return nil, usagef("cannot read %s: %v", name, unwrapPath(err))
	}
	defer file.Close()
	rep, err := jsonreport.Read(file)
	if err != nil {
		return nil, usagef("%s: %v", name, err)
	}
	return rep, nil
}

// distinctStrings collects non-empty strings in order of first appearance.
type distinctStrings []string

func (d *distinctStrings) add(s string) {
	if s == "" {
		return
	}
	for _, have := range *d {
		if have == s {
			return
		}
	}
	*d = append(*d, s)
}
