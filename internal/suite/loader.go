package suite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/suite/sandbox"
)

// EnvVarPrefix is the prefix of environment variables that set suite
// variables: SMTPDIAG_VAR_domain sets var.domain.
const EnvVarPrefix = "SMTPDIAG_VAR_"

// Options are the variable values given from outside the suite files.
type Options struct {
	// Vars are raw -var "name=value" arguments, in order (a later one for
	// the same name wins).
	Vars []string
	// VarFiles are -var-file paths (files of HCL attributes), in order (a
	// later file wins).
	VarFiles []string
	// Environ holds "KEY=value" pairs, as os.Environ returns them;
	// SMTPDIAG_VAR_<name> and env() read from it. nil means os.Environ().
	Environ []string
	// AllowRead are directories file() may read in besides the suite
	// file's own directory tree (--allow-read).
	AllowRead []string
	// Validate loads suites for `smtpdiag validate`: syntax, types and
	// references are checked without variable values, as terraform
	// validate does. A variable without a value, or whose default reads
	// an environment variable that is not set, keeps an unknown value of
	// its type instead of being an error; what depends on it is checked
	// as far as its type allows. Values that are given are checked as
	// run checks them.
	Validate bool
	// NoPrompt, when set, says why nobody can answer a prompt in this run
	// ("smtpdiag run --no-input was given", "standard input is not a
	// terminal", "CI=true is set"): a suite that would need one (an oauth
	// block with flow = "device_code", which waits for someone to sign
	// in) is then an error. "" means someone may answer.
	NoPrompt string
}

// Loader decodes suite files. It keeps every file it parsed, so that
// WriteDiagnostics can show source snippets. A Loader is not safe for
// concurrent use.
type Loader struct {
	opts    Options
	parser  *hclparse.Parser
	environ map[string]string

	prepared bool

	cliVars     map[string]string // -var values by name
	cliVarOrder []string
	fileVars    map[string]*hcl.Attribute
	fileVarList []string
	varFileAbs  map[string]bool // var files, never loaded as suites

	// varFiles are the -var-files by the name diagnostics give them, with
	// their attributes where they could be parsed; their snippets show
	// only the values of variables known not to be secret (declared, and
	// hidden).
	varFiles map[string]hcl.Attributes
	declared map[string]bool
	hidden   map[string]bool
	// sources are texts parsed outside any file (a list given with
	// -var), by the name their ranges give.
	sources map[string][]byte
	// secrets are the strings of every loaded suite that no diagnostic
	// may quote.
	secrets []string
	// secretRanges are, by suite file, the expressions that write a secret
	// or key material into it, which no snippet shows (secretRanges).
	secretRanges map[string][]hcl.Range
}

// NewLoader returns a Loader that resolves variables from opts.
func NewLoader(opts Options) *Loader {
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ()
	}
	l := &Loader{
		opts:       opts,
		parser:     hclparse.NewParser(),
		environ:    map[string]string{},
		cliVars:    map[string]string{},
		fileVars:   map[string]*hcl.Attribute{},
		varFileAbs: map[string]bool{},
		varFiles:   map[string]hcl.Attributes{},
		declared:   map[string]bool{},
		hidden:     map[string]bool{},
		sources:    map[string][]byte{},
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			l.environ[k] = v
		}
	}
	return l
}

// prepare parses the -var options and -var-files once. The problems it
// finds are returned by the first call only, so that a run over many
// suites reports them once.
func (l *Loader) prepare() hcl.Diagnostics {
	if l.prepared {
		return nil
	}
	l.prepared = true
	var diags hcl.Diagnostics
	for _, raw := range l.opts.Vars {
		name, value, ok := strings.Cut(raw, "=")
		if !ok || !hclsyntax.ValidIdentifier(name) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid -var option",
				Detail: fmt.Sprintf("The option -var %q is not of the form name=value, "+
					"for example -var domain=contoso.com.", raw),
			})
			continue
		}
		if _, seen := l.cliVars[name]; !seen {
			l.cliVarOrder = append(l.cliVarOrder, name)
		}
		l.cliVars[name] = value
	}
	for _, path := range l.opts.VarFiles {
		if abs, err := filepath.Abs(path); err == nil {
			l.varFileAbs[abs] = true
		}
		l.varFiles[path] = nil
		src, err := sandbox.ReadSource(path)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read variables file",
				Detail:   fmt.Sprintf("-var-file %s: %v.", path, unwrapPathError(err)),
			})
			continue
		}
		if limit := sandbox.CheckSource(src, path, "variables file"); limit.HasErrors() {
			l.parser.AddFile(path, &hcl.File{Bytes: src[:min(len(src), sandbox.MaxSourceBytes)]})
			diags = append(diags, limit...)
			continue
		}
		file, fdiags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
		if file != nil {
			l.parser.AddFile(path, file)
		}
		if fdiags.HasErrors() {
			diags = append(diags, firstSyntaxError(fdiags)...)
			continue
		}
		diags = append(diags, fdiags...)
		if body, ok := file.Body.(*hclsyntax.Body); ok {
			if limit := sandbox.CheckSyntax(body); limit.HasErrors() {
				diags = append(diags, limit...)
				continue
			}
		}
		attrs, adiags := file.Body.JustAttributes()
		diags = append(diags, adiags...)
		l.varFiles[path] = attrs
		for _, attr := range attrs {
			if len(attr.Expr.Variables()) > 0 {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "References not allowed in a variables file",
					Detail:   "A variables file holds fixed values; it cannot refer to other variables.",
					Subject:  attr.Expr.Range().Ptr(),
				})
				continue
			}
			if _, seen := l.fileVars[attr.Name]; !seen {
				l.fileVarList = append(l.fileVarList, attr.Name)
			}
			l.fileVars[attr.Name] = attr
		}
	}
	return diags
}

// LoadPaths loads suite files: each path is a file, or a directory whose
// *.hcl files are loaded in name order (subdirectories are not searched;
// files given as -var-file are skipped). No paths means ".". Suites are
// returned even when they have errors; check diags.HasErrors().
func (l *Loader) LoadPaths(paths []string) ([]*Suite, hcl.Diagnostics) {
	diags := l.prepare()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var files []string
	seen := map[string]bool{}
	addFile := func(p string) {
		key := p
		if abs, err := filepath.Abs(p); err == nil {
			key = abs
		}
		if !seen[key] {
			seen[key] = true
			files = append(files, p)
		}
	}
	// dirOf maps a file found in a directory to that directory, for the
	// hint on a variables file found there.
	dirOf := map[string]string{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read suite path",
				Detail:   fmt.Sprintf("%s: %v.", p, unwrapPathError(err)),
			})
			continue
		}
		if !fi.IsDir() {
			addFile(p)
			continue
		}
		entries, err := os.ReadDir(p) // sorted by file name
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read suite directory",
				Detail:   fmt.Sprintf("%s: %v.", p, unwrapPathError(err)),
			})
			continue
		}
		found := 0
		var varFiles []string
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".hcl") {
				continue
			}
			fp := filepath.Join(p, e.Name())
			if abs, err := filepath.Abs(fp); err == nil && l.varFileAbs[abs] {
				varFiles = append(varFiles, e.Name())
				continue
			}
			found++
			dirOf[fp] = p
			addFile(fp)
		}
		if found == 0 {
			detail := fmt.Sprintf("The directory %s holds no *.hcl files (subdirectories are not searched).", p)
			if len(varFiles) > 0 {
				detail = fmt.Sprintf("The directory %s holds no suite files: its *.hcl files (%s) are given with "+
					"-var-file, and subdirectories are not searched.", p, strings.Join(varFiles, ", "))
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No suite files",
				Detail:   detail + suitesHint(p),
			})
		}
	}
	var suites []*Suite
	var declared []map[string]bool
	for _, f := range files {
		s, decl, more := l.loadFile(f)
		if dir, ok := dirOf[f]; ok {
			for _, d := range more {
				if d.Summary == summaryVarsFile {
					d.Detail += suitesHint(dir)
				}
			}
		}
		diags = append(diags, more...)
		if s != nil {
			suites = append(suites, s)
		}
		declared = append(declared, decl)
	}
	if len(files) > 0 {
		// With no suite file at all, every value would be "undeclared".
		diags = append(diags, l.undeclared(declared, files)...)
	}
	return suites, diags
}

// LoadFile loads one suite file. The Suite is returned even when it has
// errors (nil only when the file could not be read or parsed).
func (l *Loader) LoadFile(path string) (*Suite, hcl.Diagnostics) {
	diags := l.prepare()
	s, decl, more := l.loadFile(path)
	diags = append(diags, more...)
	diags = append(diags, l.undeclared([]map[string]bool{decl}, []string{path})...)
	return s, diags
}

// LoadSource loads a suite from memory (embedded suites, tests). filename
// names it in diagnostics; file() and ca_file are relative to its
// directory. Loading a source under a name already loaded replaces it.
func (l *Loader) LoadSource(filename string, src []byte) (*Suite, hcl.Diagnostics) {
	diags := l.prepare()
	s, decl, more := l.loadSource(filename, src)
	diags = append(diags, more...)
	diags = append(diags, l.undeclared([]map[string]bool{decl}, []string{filename})...)
	return s, diags
}

// Source is a suite held in memory.
type Source struct {
	Filename string
	Src      []byte
}

// LoadSources loads several suites from memory as LoadPaths loads files: a
// -var is an error only when none of them declares its variable.
func (l *Loader) LoadSources(sources []Source) ([]*Suite, hcl.Diagnostics) {
	diags := l.prepare()
	var suites []*Suite
	var declared []map[string]bool
	var names []string
	for _, src := range sources {
		s, decl, more := l.loadSource(src.Filename, src.Src)
		diags = append(diags, more...)
		if s != nil {
			suites = append(suites, s)
		}
		declared = append(declared, decl)
		names = append(names, src.Filename)
	}
	diags = append(diags, l.undeclared(declared, names)...)
	return suites, diags
}

// loadFile reads a suite file and loads it as loadSource does; a file too
// large comes back from sandbox.ReadSource one byte over the limit, which
// loadSource reports.
func (l *Loader) loadFile(path string) (*Suite, map[string]bool, hcl.Diagnostics) {
	src, err := sandbox.ReadSource(path)
	if err != nil {
		return nil, nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read suite file",
			Detail:   fmt.Sprintf("%s: %v.", path, unwrapPathError(err)),
		}}
	}
	return l.loadSource(path, src)
}

// summaryVarsFile is the summary of the error for a file that holds only
// attributes, as a -var-file does, given or found as a suite.
const summaryVarsFile = "Variables file, not a suite"

// suitesHint points at dir's suites/ subdirectory when it has one that
// holds *.hcl files: the layout of a client repo, where the variables
// file sits next to the suites directory.
func suitesHint(dir string) string {
	sub := filepath.Join(dir, "suites")
	matches, err := filepath.Glob(filepath.Join(sub, "*.hcl"))
	if err != nil || len(matches) == 0 {
		return ""
	}
	name := filepath.ToSlash(sub) + "/"
	noun := "files"
	if len(matches) == 1 {
		noun = "file"
	}
	return fmt.Sprintf(" The suites are probably in %s (%d *.hcl %s): give %s as the path.", name, len(matches), noun, name)
}

// loadSource parses and decodes one file and returns the names of the
// variables it declares (nil when it could not be parsed).
//
// Nothing is parsed when the source exceeds the limits of package
// sandbox, and nothing is evaluated when its syntax does. A file with
// syntax errors gets one error, the first (firstSyntaxError). A file
// that holds only attributes is a variables file, not a suite.
func (l *Loader) loadSource(filename string, src []byte) (*Suite, map[string]bool, hcl.Diagnostics) {
	if diags := sandbox.CheckSource(src, filename, "suite file"); diags.HasErrors() {
		l.parser.AddFile(filename, &hcl.File{Bytes: src[:min(len(src), sandbox.MaxSourceBytes)]})
		return nil, nil, diags
	}
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if file != nil {
		l.parser.AddFile(filename, file)
	}
	if diags.HasErrors() || file == nil {
		return nil, nil, firstSyntaxError(diags)
	}
	body, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		return nil, nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported file syntax"})
	}
	if limit := sandbox.CheckSyntax(body); limit.HasErrors() {
		return nil, nil, append(diags, limit...)
	}
	secretVars := secretVariables(body)
	if ranges := secretRanges(body, src, secretVars); len(ranges) > 0 {
		if l.secretRanges == nil {
			l.secretRanges = map[string][]hcl.Range{}
		}
		l.secretRanges[filename] = ranges
	}
	if len(body.Blocks) == 0 && len(body.Attributes) > 0 {
		// Not a suite: it declares no variable. Its snippet hides values
		// as a -var-file's does: it may hold a password.
		attrs, _ := body.JustAttributes()
		l.varFiles[filename] = attrs
		return nil, map[string]bool{}, append(diags, varsFileDiagnostic(filename, body))
	}
	d := &decoder{
		l:            l,
		filename:     filename,
		dir:          filepath.Dir(filename),
		src:          src,
		paths:        map[string]hcl.Range{},
		vars:         map[string]*Variable{},
		decls:        map[string]*variableDecl{},
		endpoints:    map[string]*Endpoint{},
		noCalls:      !callsFunctions(body),
		secretVars:   secretVars,
		hidden:       map[string]secrecy{},
		hints:        map[hcl.Range]string{},
		unsetEnv:     map[string]string{},
		raw:          map[string]rawValue{},
		rawReads:     map[string]string{},
		refusedShort: map[string]bool{},
		misspelt:     map[misspeltKey]hcl.Range{},
	}
	s := d.decodeFile(body)
	s.Redactor = redactorFor(s)
	d.hideQuoted(d.diags)
	d.scrub(d.diags, s.Redactor)
	declared := map[string]bool{}
	for name, v := range d.vars {
		declared[name] = true
		l.declared[name] = true
		if v.Sensitive || d.secretVars[name] {
			l.hidden[name] = true
		}
	}
	for secret := range d.hidden {
		l.secrets = append(l.secrets, secret)
	}
	l.secrets = append(l.secrets, s.Sensitive...)
	diags = append(diags, d.diags...)
	sortDiagnostics(diags)
	return s, declared, diags
}

// firstSyntaxError keeps the first of a file's syntax errors: after a
// missing quote or brace the parser reads the rest of the file askew,
// and every later error follows from the first. Where several start at
// the same place, the one that names the cause ("Unterminated template
// string") wins. A hint says what a missing closing quote looks like.
func firstSyntaxError(diags hcl.Diagnostics) hcl.Diagnostics {
	var first *hcl.Diagnostic
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		switch {
		case first == nil:
			first = d
		case d.Subject == nil || first.Subject == nil:
		case d.Subject.Start.Byte < first.Subject.Start.Byte:
			first = d
		case d.Subject.Start.Byte == first.Subject.Start.Byte &&
			strings.HasPrefix(d.Summary, "Unterminated") && !strings.HasPrefix(first.Summary, "Unterminated"):
			first = d
		}
	}
	if first == nil {
		return diags
	}
	out := *first
	if strings.HasPrefix(out.Summary, "Unterminated template string") || out.Summary == "Invalid multi-line string" {
		out.Detail += " If the string should end on this line, its closing quote is missing."
	}
	switch n := len(diags.Errs()) - 1; {
	case n == 1:
		out.Detail += " (1 more syntax error after this one is not shown: it follows from this one.)"
	case n > 1:
		out.Detail += fmt.Sprintf(" (%d more syntax errors after this one are not shown: they follow from this one.)", n)
	}
	return hcl.Diagnostics{&out}
}

// varsFileDiagnostic reports a file that holds only name = value lines,
// like a -var-file, given or found as a suite, at its first attribute.
func varsFileDiagnostic(filename string, body *hclsyntax.Body) *hcl.Diagnostic {
	var first *hclsyntax.Attribute
	for _, a := range body.Attributes {
		if first == nil || a.SrcRange.Start.Byte < first.SrcRange.Start.Byte {
			first = a
		}
	}
	base := filepath.Base(filename)
	rename := strings.TrimSuffix(base, ".hcl")
	if !strings.HasSuffix(rename, ".vars") {
		rename += ".vars"
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summaryVarsFile,
		Detail: fmt.Sprintf("%s holds only name = value lines and no blocks: it is a variables file, not a suite. "+
			"Give it with -var-file %s; to keep directory scans from loading it as a suite, name it without "+
			".hcl (such as %s).", base, filename, rename),
		Subject: first.NameRange.Ptr(),
	}
}

// source returns the text a range's filename names: a parsed file, or a
// text parsed outside any file (a -var list).
func (l *Loader) source(filename string) []byte {
	if f := l.parser.Files()[filename]; f != nil {
		return f.Bytes
	}
	return l.sources[filename]
}

// writtenText returns the source text of a literal value as written
// (0123, 1.50, "0123" without its quotes), or "" for an expression that
// is not one.
func (l *Loader) writtenText(expr hcl.Expression) string {
	sx, ok := expr.(hclsyntax.Expression)
	if !ok || len(expr.Variables()) > 0 {
		return ""
	}
	calls := false
	hclsyntax.VisitAll(sx, func(n hclsyntax.Node) hcl.Diagnostics {
		_, isCall := n.(*hclsyntax.FunctionCallExpr)
		calls = calls || isCall
		return nil
	})
	src := l.source(expr.Range().Filename)
	r := expr.Range()
	if calls || r.Start.Byte < 0 || r.End.Byte > len(src) || r.Start.Byte >= r.End.Byte {
		return ""
	}
	text := strings.TrimSpace(string(src[r.Start.Byte:r.End.Byte]))
	if len(text) >= 2 && text[0] == '"' && text[len(text)-1] == '"' {
		text = text[1 : len(text)-1]
	}
	return text
}

// redactorFor builds the suite's Redactor from the values it declared
// sensitive and the credentials of its auth blocks.
func redactorFor(s *Suite) *redact.Redactor {
	r := redact.New(s.Sensitive...)
	for _, c := range s.Checks {
		if a := c.Auth; a != nil {
			r.WithAuth(a.Username, a.Password).WithAuth(a.Username, a.Token)
		}
	}
	return r
}

// sortDiagnostics orders diagnostics by position (those without one
// first), so that output is stable and reads top to bottom.
func sortDiagnostics(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
}

// undeclared reports -var options (errors) and -var-file attributes
// (warnings: a shared file may set more than a suite needs) that no loaded
// suite declares. When some file could not be parsed its declarations are
// unknown, and nothing is reported.
func (l *Loader) undeclared(declared []map[string]bool, files []string) hcl.Diagnostics {
	all := map[string]bool{}
	for _, decl := range declared {
		if decl == nil {
			return nil
		}
		for name := range decl {
			all[name] = true
		}
	}
	names := sortedKeys(all)
	where := "none of the loaded suites declares a"
	if len(files) == 1 {
		where = files[0] + " declares no"
	}
	var diags hcl.Diagnostics
	for _, name := range l.cliVarOrder {
		if all[name] {
			continue
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Value for undeclared variable",
			Detail: fmt.Sprintf("The option -var %q sets a variable, but %s variable of that name.%s",
				name+"=...", where, suggestion(name, names)),
		})
	}
	for _, name := range l.fileVarList {
		if all[name] {
			continue
		}
		attr := l.fileVars[name]
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Value for undeclared variable",
			Detail: fmt.Sprintf("The variables file sets %q, but %s variable of that name; the value is ignored.%s",
				name, where, suggestion(name, names)),
			Subject: attr.NameRange.Ptr(),
		})
	}
	return diags
}

// callsFunctions reports whether body calls any function. A file that calls
// none is evaluated without the function table, which costs more to build
// than a small suite takes to decode. A variable's type constraint, such as
// list(string), looks like a call but is never evaluated.
func callsFunctions(body *hclsyntax.Body) bool {
	calls := false
	find := func(n hclsyntax.Node) hcl.Diagnostics {
		if _, ok := n.(*hclsyntax.FunctionCallExpr); ok {
			calls = true
		}
		return nil
	}
	var walk func(b *hclsyntax.Body, variable bool)
	walk = func(b *hclsyntax.Body, variable bool) {
		for name, attr := range b.Attributes {
			if !(variable && name == "type") {
				hclsyntax.VisitAll(attr.Expr, find)
			}
		}
		for _, block := range b.Blocks {
			walk(block.Body, b == body && block.Type == "variable")
		}
	}
	walk(body, false)
	return calls
}

// unwrapPathError drops the operation and path an *os.PathError repeats,
// which the messages that quote it name themselves.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
