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
		diags = append(diags, fdiags...)
		if fdiags.HasErrors() {
			continue
		}
		if body, ok := file.Body.(*hclsyntax.Body); ok {
			if limit := sandbox.CheckSyntax(body); limit.HasErrors() {
				diags = append(diags, limit...)
				continue
			}
		}
		attrs, adiags := file.Body.JustAttributes()
		diags = append(diags, adiags...)
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
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".hcl") {
				continue
			}
			fp := filepath.Join(p, e.Name())
			if abs, err := filepath.Abs(fp); err == nil && l.varFileAbs[abs] {
				continue
			}
			found++
			addFile(fp)
		}
		if found == 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No suite files",
				Detail:   fmt.Sprintf("The directory %s holds no *.hcl files (subdirectories are not searched).", p),
			})
		}
	}
	var suites []*Suite
	var declared []map[string]bool
	for _, f := range files {
		s, decl, more := l.loadFile(f)
		diags = append(diags, more...)
		if s != nil {
			suites = append(suites, s)
		}
		declared = append(declared, decl)
	}
	diags = append(diags, l.undeclared(declared, files)...)
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

// loadSource parses and decodes one file and returns the names of the
// variables it declares (nil when it could not be parsed).
//
// Nothing is parsed when the source exceeds the limits of package
// sandbox, and nothing is evaluated when its syntax does.
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
		return nil, nil, diags
	}
	body, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		return nil, nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported file syntax"})
	}
	if limit := sandbox.CheckSyntax(body); limit.HasErrors() {
		return nil, nil, append(diags, limit...)
	}
	d := &decoder{
		l:         l,
		filename:  filename,
		dir:       filepath.Dir(filename),
		vars:      map[string]*Variable{},
		endpoints: map[string]*Endpoint{},
		noCalls:   !callsFunctions(body),
	}
	s := d.decodeFile(body)
	s.Redactor = redactorFor(s)
	scrubDiagnostics(d.diags, s.Redactor)
	declared := map[string]bool{}
	for name := range d.vars {
		declared[name] = true
	}
	diags = append(diags, d.diags...)
	sortDiagnostics(diags)
	return s, declared, diags
}

// scrubDiagnostics replaces sensitive values in diagnostic texts: the
// decoder never quotes them, but cty's function errors quote their
// arguments ("cannot convert "..." to number"). Values shorter than three
// bytes are left alone, as in package redact, so as not to mangle words.
func scrubDiagnostics(diags hcl.Diagnostics, red *redact.Redactor) {
	for _, d := range diags {
		d.Summary = red.String(d.Summary)
		d.Detail = red.String(d.Detail)
	}
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
