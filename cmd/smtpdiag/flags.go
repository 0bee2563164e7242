package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	wordwrap "github.com/mitchellh/go-wordwrap"
)

// errHelp is returned after --help printed the usage; exit code 0.
var errHelp = errors.New("help shown")

// stringList is a repeatable string flag (-var a=1 -var b=2).
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// newFlagSet makes a flag set whose --help text is the given synopsis and
// the flags in their double-dash form. Parse errors print nothing:
// parseInterleaved turns them into one-line usage errors.
func newFlagSet(name, synopsis string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	helpTexts[fs] = func() {
		fmt.Fprint(out, synopsis)
		fmt.Fprintln(out, "\nFlags:")
		writeFlags(out, fs)
	}
	return fs
}

// helpTexts holds the --help printer of each flag set.
var helpTexts = map[*flag.FlagSet]func(){}

// writeFlags lists the flags as users type them: "--junit FILE", "-v",
// each placeholder named, then the description and the default.
func writeFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		dashes := "--"
		if len(f.Name) == 1 {
			dashes = "-"
		}
		line := "  " + dashes + f.Name
		if name != "" {
			line += " " + strings.ToUpper(name)
		}
		fmt.Fprintln(w, line)
		if def := f.DefValue; def != "" && def != "0" && def != "false" && def != "0s" && def != "[]" {
			usage += " (default " + def + ")"
		}
		for _, l := range strings.Split(wordwrap.WrapString(usage, 72), "\n") {
			fmt.Fprintln(w, "        "+l)
		}
	})
}

// flagError reads the flag package's parse errors.
var flagError = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for flag -(\S+): (.*)$`)

// parseInterleaved parses flags that may come before, between or after the
// positional arguments ("run suites/ --junit out.xml"), as users expect;
// "--" ends flag parsing. --help prints the help once; a mistake is a
// one-line usage error that points at the command's --help.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				if help := helpTexts[fs]; help != nil {
					help()
				}
				return nil, errHelp
			}
			return nil, &usageError{msg: flagMistake(err), command: fs.Name()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// flagMistake words a flag parse error the way users type flags.
func flagMistake(err error) string {
	msg := err.Error()
	if m := flagError.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("--%s %s: %s", m[2], m[1], m[3])
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag --" + strings.TrimPrefix(name, "-")
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "--" + strings.TrimPrefix(name, "-") + " needs a value"
	}
	return msg
}

// durationFlag is a duration flag whose mistakes say how to write one.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, numErr := strconv.ParseFloat(s, 64); numErr == nil {
			return errors.New("a duration needs a unit, such as 10s, 2m or 1h")
		}
		return errors.New("not a duration: write it like 500ms, 10s or 2m")
	}
	if d <= 0 {
		return errors.New("must be positive")
	}
	*f.d = d
	return nil
}

// rangeFlag is an integer flag that must lie within [min, max] when given.
type rangeFlag struct {
	n        *int
	min, max int
}

func (f rangeFlag) String() string {
	if f.n == nil || *f.n == 0 {
		return ""
	}
	return strconv.Itoa(*f.n)
}

func (f rangeFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < f.min || n > f.max {
		return fmt.Errorf("must be a whole number from %d to %d", f.min, f.max)
	}
	*f.n = n
	return nil
}

// version is the module version when built from a tagged module, else the
// VCS revision, else "devel". The build information is read once.
var version = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return "devel"
	}
	return "devel-" + rev + dirty
})
