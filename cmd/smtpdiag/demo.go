package main

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/smtpdiag/smtpdiag/examples"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/simulator"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

const demoUsage = `Usage: smtpdiag demo [flags]

Starts the built-in Exchange-Online-like simulator on loopback ports it picks
itself (a submission endpoint like smtp.office365.com:587 and an MX endpoint
like contoso-com.mail.protection.outlook.com:25) and runs the example suites
against it. Works with no network at all.

Some checks pass, and checks labelled "EXPECTED FAILURE" fail on purpose to
show what a failure, its diagnosis and its transcript look like. The exit
code is 0 when every check behaved as the demo expects.
`

// expectedFailurePrefix marks demo checks that must fail.
const expectedFailurePrefix = "EXPECTED FAILURE"

func cmdDemo(args []string, e env) error {
	var f runFlags
	fs := newFlagSet("demo", demoUsage, e.stdout)
	fs.StringVar(&f.junit, "junit", "", "write JUnit XML to `FILE`")
	fs.StringVar(&f.json, "json", "", "write the full results as JSON to `FILE`")
	fs.StringVar(&f.report, "report", "", "write an evidence report to `FILE` (.html or .md)")
	fs.StringVar(&f.metrics, "metrics", "", metricsUsage)
	fs.BoolVar(&f.verbose, "v", false, "show the transcript of every check")
	fs.BoolVar(&f.noColor, "no-color", false, "no colour (NO_COLOR is honoured too)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("demo takes no arguments (got %q)", rest[0])
	}
	if err := f.check(); err != nil {
		return err
	}

	sim, err := simulator.Start(simulator.Options{})
	if err != nil {
		return fmt.Errorf("start the simulator: %w", err)
	}
	defer sim.Close()
	dir, err := os.MkdirTemp("", "smtpdiag-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	caFile, err := sim.WriteCAFile(dir)
	if err != nil {
		return fmt.Errorf("write the simulator's CA: %w", err)
	}

	subHost, subPort, _ := net.SplitHostPort(sim.SubmissionAddr)
	mxHost, mxPort, _ := net.SplitHostPort(sim.MXAddr)
	vars := []string{
		"submission_host=" + subHost, "submission_port=" + subPort,
		"mx_host=" + mxHost, "mx_port=" + mxPort,
		"ca_file=" + caFile,
	}
	suites, err := loadDemoSuites(vars, e)
	if err != nil {
		return err
	}

	fmt.Fprintf(e.stdout, "smtpdiag demo: Exchange-Online-like simulator on %s (submission, like\n"+
		"smtp.office365.com:587) and %s (MX, like *.mail.protection.outlook.com:25)\n\n",
		sim.SubmissionAddr, sim.MXAddr)
	interrupt := watchInterrupt()
	defer interrupt.stop()
	results, _, err := execute(interrupt.context(), suites, f, e)
	if err != nil {
		return err
	}
	if sim.DataCommands() != 0 {
		return fmt.Errorf("the simulator saw %d DATA commands, but no demo check has a message block", sim.DataCommands())
	}
	return judgeDemo(results, e)
}

// loadDemoSuites decodes the embedded example suites; a variable only has
// to be declared by one of them.
func loadDemoSuites(vars []string, e env) ([]*suite.Suite, error) {
	names, err := fs.Glob(examples.Demo, "demo/*.hcl")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var sources []suite.Source
	for _, name := range names {
		src, err := fs.ReadFile(examples.Demo, name)
		if err != nil {
			return nil, err
		}
		sources = append(sources, suite.Source{Filename: path.Join("examples", name), Src: src})
	}
	loader := suite.NewLoader(suite.Options{Vars: vars, Environ: e.environ})
	suites, diags := loader.LoadSources(sources)
	if diags.HasErrors() {
		loader.WriteDiagnostics(e.stderr, diags, false, 100)
		return nil, fmt.Errorf("the embedded demo suites do not decode")
	}
	return suites, nil
}

// judgeDemo passes when exactly the checks labelled EXPECTED FAILURE failed.
func judgeDemo(results []*result.Suite, e env) error {
	var wrong []string
	expected := 0
	for _, s := range results {
		for _, c := range s.Checks {
			mustFail := strings.HasPrefix(c.Label, expectedFailurePrefix)
			if mustFail {
				expected++
			}
			if mustFail != (c.Status == result.Failed) {
				wrong = append(wrong, fmt.Sprintf("%s › %s: %s", s.Name, c.Label, c.Status))
			}
		}
	}
	fmt.Fprintln(e.stdout)
	if len(wrong) > 0 {
		fmt.Fprintln(e.stdout, "Demo: these checks did not behave as the demo expects:")
		for _, w := range wrong {
			fmt.Fprintln(e.stdout, "  "+w)
		}
		return checksFailed{}
	}
	total := result.Tally(results).Total()
	fmt.Fprintf(e.stdout, "Demo OK: all %d checks behaved as expected (%d failed on purpose, labelled %q).\n", total, expected, expectedFailurePrefix)
	fmt.Fprintln(e.stdout, "Next: write a suite for your tenant (see README.md and docs/suite-language.md), then 'smtpdiag run'.")
	return nil
}
