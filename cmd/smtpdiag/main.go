// Command smtpdiag runs declarative SMTP test suites against Microsoft 365 /
// Exchange Online endpoints (or any SMTP server) and proves, at protocol
// level, why mail from a device does or does not get through.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// Exit codes of SPEC section 5.
const (
	exitPassed   = 0 // every check passed
	exitFailed   = 1 // a check failed
	exitUsage    = 2 // a suite or usage error; no network traffic happened
	exitInternal = 3 // smtpdiag's own fault
)

// usageError is a mistake on the command line; its message is shown on
// standard error with a pointer to the command's --help, and exit code 2.
type usageError struct {
	msg string
	// command is the subcommand whose --help the pointer names; "" for
	// smtpdiag's own.
	command string
}

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// suiteError means the suites did not decode; the diagnostics were already
// printed. Exit code 2.
type suiteError struct{ count int }

func (e *suiteError) Error() string {
	if e.count == 1 {
		return "1 problem in the suites; nothing was run"
	}
	return fmt.Sprintf("%d problems in the suites; nothing was run", e.count)
}

// checksFailed means the run completed and at least one check failed.
type checksFailed struct{}

func (checksFailed) Error() string { return "checks failed" }

// env is what a command may touch of the process, so that tests can run
// the CLI in-process.
type env struct {
	stdout, stderr io.Writer
	environ        []string
	getenv         func(string) string
	// terminal is set when standard input is a terminal: someone may be
	// there to answer a prompt (an OAuth device code sign-in).
	terminal bool
}

func main() {
	os.Exit(run(os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ(), getenv: os.Getenv,
		terminal: term.IsTerminal(int(os.Stdin.Fd()))}))
}

const topUsage = `smtpdiag proves, at protocol level, why mail from a copier, scanner or
application does or does not get through Microsoft 365 / Exchange Online.

Usage:
  smtpdiag run [flags] [PATH...]     run suites (files, or directories of *.hcl; default .)
  smtpdiag validate [flags] [PATH...] check suites without any network traffic
  smtpdiag init [flags] DOMAIN       write a starter suite for a client's domain from
                                     what DNS says (MX, SPF, DMARC)
  smtpdiag merge [flags] SHARD.json... combine the --json results of the shards of one
                                     run (run --shard K/N) into the outputs of one run
  smtpdiag probe [flags] HOST[:PORT]... EHLO/STARTTLS/TLS capabilities of one or more
                                     servers, side by side (never sends MAIL or DATA)
  smtpdiag explain CODE|"REPLY"      what a reply code means on Exchange Online, and the fix
  smtpdiag listen [flags] SUITE      be the SMTP server a copier or scanner is pointed at,
                                     and test the device itself (TLS offer, AUTH, sender)
  smtpdiag demo [flags]              run the example suites against the built-in
                                     Exchange-Online-like simulator (offline)
  smtpdiag version                   print the version

Run 'smtpdiag COMMAND --help' for a command's flags.

Exit codes: 0 all checks passed, 1 a check failed, 2 suite or usage error
(nothing was sent), 3 internal error.
`

// commands are smtpdiag's subcommands, whose --help a usage error names.
var commands = map[string]bool{"run": true, "validate": true, "demo": true, "explain": true, "probe": true, "listen": true, "version": true, "merge": true, "init": true}

func run(args []string, e env) (code int) {
	defer func() {
		// A panic is smtpdiag's own bug: say so in one line, exit 3, and
		// keep the stack out of a user's CI log unless asked for.
		if p := recover(); p != nil {
			fmt.Fprintf(e.stderr, "smtpdiag: internal error: %v\n", p)
			code = exitInternal
		}
	}()
	if len(args) == 0 {
		fmt.Fprint(e.stderr, topUsage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(args[1:], e)
	case "validate":
		err = cmdValidate(args[1:], e)
	case "init":
		err = cmdInit(args[1:], e)
	case "merge":
		err = cmdMerge(args[1:], e)
	case "demo":
		err = cmdDemo(args[1:], e)
	case "explain":
		err = cmdExplain(args[1:], e)
	case "probe":
		err = cmdProbe(args[1:], e)
	case "listen":
		err = cmdListen(args[1:], e)
	case "version", "--version", "-version":
		if len(args) > 1 && (args[1] == "-h" || args[1] == "-help" || args[1] == "--help") {
			fmt.Fprintln(e.stdout, "Usage: smtpdiag version\n\nPrints smtpdiag's version: the module version, or the revision it was built from.")
			break
		}
		if len(args) > 1 {
			err = &usageError{msg: fmt.Sprintf("version takes no arguments (got %q)", args[1]), command: "version"}
			break
		}
		fmt.Fprintf(e.stdout, "smtpdiag %s\n", version())
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return run([]string{args[1], "--help"}, e)
		}
		fmt.Fprint(e.stdout, topUsage)
	default:
		err = usagef("unknown command %q", args[0])
	}
	var ue *usageError
	if errors.As(err, &ue) && ue.command == "" && commands[args[0]] {
		ue.command = args[0]
	}
	return exitCode(err, e.stderr)
}

func exitCode(err error, stderr io.Writer) int {
	var (
		ue *usageError
		se *suiteError
		cf checksFailed
	)
	switch {
	case err == nil:
		return exitPassed
	case errors.Is(err, errHelp):
		return exitPassed
	case errors.As(err, &cf):
		return exitFailed
	case errors.As(err, &ue):
		help := "smtpdiag --help"
		if ue.command != "" {
			help = "smtpdiag " + ue.command + " --help"
		}
		fmt.Fprintf(stderr, "smtpdiag: %s\nRun '%s' for usage.\n", ue.msg, help)
		return exitUsage
	case errors.As(err, &se):
		fmt.Fprintf(stderr, "smtpdiag: %s\n", se)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "smtpdiag: %s\n", err)
		return exitInternal
	}
}
