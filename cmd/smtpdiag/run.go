package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/oauth"
	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/report/evidence"
	"github.com/smtpdiag/smtpdiag/internal/report/summary"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/safetext"
	"github.com/smtpdiag/smtpdiag/internal/suite"
	"github.com/smtpdiag/smtpdiag/runner"
)

const runUsage = `Usage: smtpdiag run [flags] [PATH...]

Runs the suites in PATH (suite files, or directories searched for *.hcl;
default: the current directory). Every suite is checked before anything
runs: if one is invalid, nothing is sent and the exit code is 2.

One line is printed per check as it completes; failing checks are then
shown with their failed expectations, a diagnosis and the redacted
transcript, and a closing line "N passed, N failed".

No message is ever sent unless a check has a message block (and never with
--no-send). Passwords, tokens and sensitive variables are masked in every
output, also in base64 form.

A check whose auth block has an oauth block first gets its access token
from Microsoft Entra ID (one request per oauth block per run, shared by the
checks that use it); the transcript shows the request and the token's
claims, never the token or the client secret. With flow = "device_code" the
code to enter is printed on standard error and the check waits for the
sign-in until its deadline: that needs someone at a terminal, so it is an
error with --no-input, in CI, or when standard input is not a terminal.

With --shard K/N (or SMTPDIAG_SHARD=K/N) only the K-th of N disjoint,
stable slices of the checks runs, so that N runners share a fleet's
suites; 'smtpdiag merge' combines their --json files into the outputs of
one run. Under GitHub Actions (GITHUB_ACTIONS=true) each failed check is
also annotated at its line in its suite file, and a summary is appended to
$GITHUB_STEP_SUMMARY.

Exit codes: 0 all checks passed, 1 a check failed, 2 suite or usage error,
3 internal error.
`

// runFlags are the flags of run (and, in part, of demo).
type runFlags struct {
	vars     stringList
	varFiles stringList
	// allowRead are directories file() may read besides each suite's
	// own directory tree (--allow-read).
	allowRead stringList
	junit     string
	json      string
	report    string
	metrics   string // Prometheus text format
	parallel  int
	timeout   time.Duration
	// checkTimeout bounds each whole check.
	checkTimeout time.Duration
	resolver     string
	noSend       bool
	verbose      bool
	noColor      bool
	// noInput: nobody is there to answer a prompt (--no-input).
	noInput bool

	// reportFormat is the evidence report's format, set by check from
	// the name of report.
	reportFormat evidence.Format

	// fleet is run's --shard, and what the reports and GitHub get.
	fleet fleetFlags
}

func (f *runFlags) register(fs *flagSet) {
	fs.Var(&f.vars, "var", "set a variable, `NAME=VALUE` (repeatable)")
	fs.Var(&f.varFiles, "var-file", "read variables from an HCL `FILE` of name = value lines (repeatable)")
	fs.Var(&f.allowRead, "allow-read", allowReadUsage)
	fs.StringVar(&f.junit, "junit", "", "write JUnit XML to `FILE`")
	fs.StringVar(&f.json, "json", "", "write the full results as JSON to `FILE`")
	fs.StringVar(&f.report, "report", "", "write an evidence report to `FILE` (.html or .md)")
	fs.StringVar(&f.metrics, "metrics", "", metricsUsage)
	fs.Var(rangeFlag{&f.parallel, 1, 1000}, "parallel", "run `N` checks at once, 1 to 1000 (default: the suite's parallel, else 4)")
	fs.Var(durationFlag{&f.timeout}, "timeout", "per-step `DURATION` for every endpoint, e.g. 10s (overrides the suites)")
	fs.Var(durationFlag{&f.checkTimeout}, "check-timeout", "deadline (`DURATION`) of each whole check, every step and retry included (default 2m; a check's max_duration wins)")
	fs.StringVar(&f.resolver, "resolver", "", "DNS resolver `IP[:PORT]` for MX, dns and dnsbl checks (port 53 when omitted)")
	fs.BoolVar(&f.noSend, "no-send", false, "never send DATA, whatever a suite says")
	fs.BoolVar(&f.noInput, "no-input", false, noInputUsage)
	fs.BoolVar(&f.verbose, "v", false, "show the transcript of every check, not only failing ones")
	fs.BoolVar(&f.noColor, "no-color", false, "no colour (NO_COLOR is honoured too)")
}

type flagSet = flag.FlagSet

func cmdRun(args []string, e env) error {
	var f runFlags
	fs := newFlagSet("run", runUsage, e.stdout)
	f.register(fs)
	f.fleet.register(fs)
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	if err := f.fleet.check(e); err != nil {
		return err
	}
	interrupt := watchInterrupt()
	defer interrupt.stop()
	loader := suite.NewLoader(suite.Options{Vars: f.vars, VarFiles: f.varFiles, Environ: e.environ, AllowRead: f.allowRead,
		NoPrompt: noPrompt(f.noInput, e)})
	suites, diags := loader.LoadPaths(paths)
	if diags.HasErrors() {
		loader.WriteDiagnostics(e.stderr, diags, colorFor(e.stderr, f.noColor, e.getenv), 100)
		return &suiteError{count: len(diags.Errs())}
	}
	if len(suites) == 0 {
		return usagef("no suite files (*.hcl) in %s", strings.Join(orDot(paths), ", "))
	}
	if checks, devices := countChecks(suites); checks == 0 && devices > 0 {
		return usagef("the suites hold only device blocks, which wait for a device to connect: run them with 'smtpdiag listen SUITE'")
	}
	f.fleet.describe(suites)
	results, red, err := execute(interrupt.context(), suites, f, e)
	if err != nil {
		return err
	}
	if err := reportGitHub(results, red, true, e); err != nil {
		return err
	}
	if c := result.Tally(results); c.Failed+c.Errored > 0 {
		return checksFailed{}
	}
	return nil
}

func orDot(paths []string) []string {
	if len(paths) == 0 {
		return []string{"."}
	}
	return paths
}

// check rejects flag values that cannot work, before anything runs.
func (f *runFlags) check() error {
	if f.resolver != "" {
		addr, err := suite.ParseResolver(f.resolver)
		if err != nil {
			return usagef("--resolver %s: %s", f.resolver, err)
		}
		f.resolver = addr
	}
	if f.report != "" {
		format, err := evidence.FormatOf(f.report)
		if err != nil {
			return usagef("--report %s: the file name must end in .html, .htm or .md", f.report)
		}
		f.reportFormat = format
	}
	for _, out := range append(f.outputs(), f.metricsOutput()...) {
		if err := checkOutput(out); err != nil {
			return err
		}
	}
	return nil
}

// execute runs decoded suites, prints the live summary and writes the
// requested report files. It is shared by run and demo. A canceled ctx (the
// first Ctrl-C) ends the checks in progress; the reports are written all
// the same. It returns the run's Redactor: the suites' secrets and those
// the run learnt (OAuth access tokens), for any later output.
func execute(ctx context.Context, suites []*suite.Suite, f runFlags, e env) ([]*result.Suite, *redact.Redactor, error) {
	if err := clearOutputs(f.outputs()); err != nil {
		return nil, nil, err
	}
	red := runner.Redactor(suites...)
	sum := summary.New(e.stdout, summary.Options{
		Color:    colorFor(e.stdout, f.noColor, e.getenv),
		Width:    outputWidth(e.stdout, e.getenv),
		Verbose:  f.verbose,
		Redactor: red,
	})

	results := runner.Run(ctx, suites, runner.Options{
		Parallel:     f.parallel,
		Timeout:      f.timeout,
		CheckTimeout: f.checkTimeout,
		NoSend:       f.noSend,
		Resolver:     f.resolver,
		Shard:        f.fleet.shard,
		Redactor:     red,
		DevicePrompt: devicePrompt(e.stderr, red),
	}, sum.Handle)
	sum.Finish(results)

	return results, red, writeReportFiles(results, f, red)
}

// noInputUsage is the help of --no-input.
const noInputUsage = "nobody is there to answer a prompt: a suite that needs one (an oauth block with flow = \"device_code\") is an error before anything runs; " +
	"implied when standard input is not a terminal or in CI (CI=true, GITHUB_ACTIONS, GITLAB_CI, TF_BUILD)"

// noPrompt says why nobody can answer a prompt in this run, or "" when
// someone may: --no-input, a CI job, or standard input that is not a
// terminal.
func noPrompt(noInput bool, e env) string {
	if noInput {
		return "smtpdiag run --no-input was given"
	}
	if v := e.getenv("CI"); v != "" && !strings.EqualFold(v, "false") && v != "0" {
		return "CI=" + v + " is set (a CI job)"
	}
	for _, name := range []string{"GITHUB_ACTIONS", "GITLAB_CI", "TF_BUILD"} {
		if e.getenv(name) != "" {
			return name + " is set (a CI job)"
		}
	}
	if !e.terminal {
		return "standard input is not a terminal"
	}
	return ""
}

// devicePrompt shows on w what a user must do to complete an OAuth device
// code sign-in: the page to open, the code to enter, and until when the
// check waits. What the identity provider sent is masked and shown as one
// safe line each.
func devicePrompt(w io.Writer, red *redact.Redactor) func(oauth.DevicePrompt) {
	var mu sync.Mutex
	return func(p oauth.DevicePrompt) {
		mu.Lock()
		defer mu.Unlock()
		line := func(s string) string { return safetext.Line(red.String(s)) }
		until := ""
		if !p.ExpiresOn.IsZero() {
			until = " (the code expires at " + p.ExpiresOn.Local().Format("15:04:05") + ")"
		}
		fmt.Fprintf(w, "\nOAuth sign-in needed (device code flow): on any device, open\n    %s\nand enter the code\n    %s\n"+
			"then sign in as the mailbox the check sends as. smtpdiag waits until the check's deadline%s.\n",
			line(p.VerificationURL), line(p.UserCode), until)
		if p.Message != "" {
			fmt.Fprintf(w, "The identity provider says: %s\n", line(p.Message))
		}
		fmt.Fprintln(w)
	}
}

// outputs are the report files the flags ask for.
func (f *runFlags) outputs() []string {
	var out []string
	for _, p := range []string{f.junit, f.json, f.report} {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// colorFor says whether to colour output to w: only on a terminal, and
// never with --no-color or NO_COLOR set (https://no-color.org).
func colorFor(w any, noColor bool, getenv func(string) string) bool {
	f, ok := w.(*os.File)
	if !ok || noColor || getenv("NO_COLOR") != "" {
		return false
	}
	return summary.UseColor(f, false)
}

const validateUsage = `Usage: smtpdiag validate [flags] [PATH...]

Parses and checks suites (files, or directories searched for *.hcl; default:
the current directory) without any network traffic: syntax, types, unknown
references, duplicate labels, durations, reply patterns and addresses.
Problems are shown with file:line:col.

Like terraform validate, it needs no variable values: a variable without
one (or whose default reads an environment variable that is not set) is
checked by its type alone, so that CI can validate without secrets. Values
that are given (--var, --var-file, SMTPDIAG_VAR_<name>) are checked, with
the validation blocks, as run checks them.

Exit codes: 0 valid, 2 invalid.
`

// allowReadUsage is the help of --allow-read, for run and validate.
const allowReadUsage = "let file() and the key files of an oauth block or client_certificate read in `DIR` too, besides each suite's own directory tree (repeatable)"

func cmdValidate(args []string, e env) error {
	var (
		vars, varFiles, allowRead stringList
		noColor                   bool
	)
	fs := newFlagSet("validate", validateUsage, e.stdout)
	fs.Var(&vars, "var", "set a variable, `NAME=VALUE` (repeatable)")
	fs.Var(&varFiles, "var-file", "read variables from an HCL `FILE` of name = value lines (repeatable)")
	fs.Var(&allowRead, "allow-read", allowReadUsage)
	fs.BoolVar(&noColor, "no-color", false, "no colour (NO_COLOR is honoured too)")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	loader := suite.NewLoader(suite.Options{Vars: vars, VarFiles: varFiles, Environ: e.environ, AllowRead: allowRead, Validate: true})
	suites, diags := loader.LoadPaths(paths)
	if len(diags) > 0 {
		loader.WriteDiagnostics(e.stderr, diags, colorFor(e.stderr, noColor, e.getenv), 100)
	}
	if diags.HasErrors() {
		return &suiteError{count: len(diags.Errs())}
	}
	if len(suites) == 0 {
		return usagef("no suite files (*.hcl) in %s", strings.Join(orDot(paths), ", "))
	}
	checks, devices := countChecks(suites)
	for _, s := range suites {
		extra := ""
		if n := len(s.Devices); n > 0 {
			extra = fmt.Sprintf(", %d device blocks for smtpdiag listen", n)
		}
		// A block whose enabled is known to be false is not decoded, so
		// validate has not checked it either: say so.
		disabled := 0
		for _, c := range s.AllChecks() {
			if c.Disabled() != "" {
				disabled++
			}
		}
		if disabled > 0 {
			extra += fmt.Sprintf(", %d with enabled = false not checked", disabled)
		}
		fmt.Fprintf(e.stdout, "ok  %s  (%s, %d checks%s)\n", s.Path, s.Name, s.CheckCount(), extra)
	}
	if devices > 0 {
		fmt.Fprintf(e.stdout, "%d suites valid, %d checks, %d device blocks\n", len(suites), checks, devices)
	} else {
		fmt.Fprintf(e.stdout, "%d suites valid, %d checks\n", len(suites), checks)
	}
	return nil
}

// countChecks counts the checks run runs and the device blocks listen runs.
func countChecks(suites []*suite.Suite) (checks, devices int) {
	for _, s := range suites {
		checks += s.CheckCount()
		devices += len(s.Devices)
	}
	return checks, devices
}

// interruptWatch handles Ctrl-C (SIGINT), and SIGTERM and SIGHUP, which CI
// runners, timeout(1) and a closed terminal send, the same way. Before the
// checks start, a signal ends the process at once, as it would without a
// handler: nothing has been sent and no report is due. Once they run, the
// first signal cancels the context with the signal as its cause, the
// checks in progress end as canceled, those not started are skipped, and
// the summary and report files are still written, saying so; later
// signals are ignored until stop, so that a second Ctrl-C cannot cut a
// report file short.
type interruptWatch struct {
	ctx       context.Context
	cancel    context.CancelCauseFunc
	signals   chan os.Signal
	installed chan struct{}
	running   atomic.Bool
}

// watchInterrupt installs the handler in the background: os/signal starts
// an OS thread for it, which takes about a millisecond that the caller
// spends decoding suites instead.
func watchInterrupt() *interruptWatch {
	w := &interruptWatch{signals: make(chan os.Signal, 1), installed: make(chan struct{})}
	w.ctx, w.cancel = context.WithCancelCause(context.Background())
	go func() {
		signal.Notify(w.signals, stopSignals...)
		close(w.installed)
		select {
		case sig := <-w.signals:
			if !w.running.Load() {
				reraise(w.signals, sig)
			}
			w.cancel(fmt.Errorf("the run was interrupted (%s)", signalName(sig)))
		case <-w.ctx.Done():
		}
	}()
	return w
}

// context waits until the handler is in place, so that a signal during the
// checks is always caught, marks the checks as started and returns the
// context the first signal cancels.
func (w *interruptWatch) context() context.Context {
	<-w.installed
	w.running.Store(true)
	return w.ctx
}

// stop removes the handler: a later signal ends the process at once.
func (w *interruptWatch) stop() {
	<-w.installed
	signal.Stop(w.signals)
	w.cancel(nil)
}

// reraise ends the process the way the unhandled signal would: with the
// handler removed, the signal's default action applies.
func reraise(signals chan os.Signal, sig os.Signal) {
	signal.Stop(signals)
	if p, err := os.FindProcess(os.Getpid()); err == nil && p.Signal(sig) == nil {
		time.Sleep(time.Second) // the signal ends the process meanwhile
	}
	os.Exit(130) // where a process cannot signal itself (Windows)
}
