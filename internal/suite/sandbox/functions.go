package sandbox

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// errEnvNotAllowed is what the env function placed outside variable
// defaults returns. The decoder reports such calls itself, with their
// position, before any evaluation; this is the fallback for expressions it
// cannot inspect.
var errEnvNotAllowed = errors.New("env() is only allowed in variable defaults")

// StandardFunctions returns the functions every expression may call, those
// of a variables file and of a variable's description among them: the cty
// standard library under the names Terraform gives them, plus try and can.
// Every one is guarded by the limits on its arguments and its result, and
// format, join, setproduct and the others whose result can be far larger
// than their arguments are checked before they run. The table is the
// caller's own, to add functions to.
func StandardFunctions() map[string]function.Function {
	return maps.Clone(standardSet())
}

// standardSet builds the standard functions once per process; they hold no
// state between calls. The map is shared: callers that add functions work
// on a copy (StandardFunctions).
var standardSet = sync.OnceValue(func() map[string]function.Function {
	fns := map[string]function.Function{
		// Numbers.
		"abs":      stdlib.AbsoluteFunc,
		"ceil":     stdlib.CeilFunc,
		"floor":    stdlib.FloorFunc,
		"log":      stdlib.LogFunc,
		"max":      stdlib.MaxFunc,
		"min":      stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc,
		"pow":      stdlib.PowFunc,
		"signum":   stdlib.SignumFunc,

		// Strings.
		"chomp":      stdlib.ChompFunc,
		"format":     stdlib.FormatFunc,
		"formatlist": stdlib.FormatListFunc,
		"indent":     stdlib.IndentFunc,
		"join":       stdlib.JoinFunc,
		"lower":      stdlib.LowerFunc,
		"regex":      stdlib.RegexFunc,
		"regexall":   stdlib.RegexAllFunc,
		"replace":    replaceFunc,
		"split":      stdlib.SplitFunc,
		"strlen":     stdlib.StrlenFunc,
		"strrev":     stdlib.ReverseFunc,
		"substr":     stdlib.SubstrFunc,
		"title":      stdlib.TitleFunc,
		"trim":       stdlib.TrimFunc,
		"trimprefix": stdlib.TrimPrefixFunc,
		"trimspace":  stdlib.TrimSpaceFunc,
		"trimsuffix": stdlib.TrimSuffixFunc,
		"upper":      stdlib.UpperFunc,

		// Collections.
		"chunklist":              stdlib.ChunklistFunc,
		"coalesce":               stdlib.CoalesceFunc,
		"coalescelist":           stdlib.CoalesceListFunc,
		"compact":                stdlib.CompactFunc,
		"concat":                 stdlib.ConcatFunc,
		"contains":               stdlib.ContainsFunc,
		"distinct":               stdlib.DistinctFunc,
		"element":                stdlib.ElementFunc,
		"flatten":                stdlib.FlattenFunc,
		"index":                  stdlib.IndexFunc,
		"keys":                   stdlib.KeysFunc,
		"length":                 lengthFunc,
		"lookup":                 stdlib.LookupFunc,
		"merge":                  stdlib.MergeFunc,
		"range":                  stdlib.RangeFunc,
		"reverse":                stdlib.ReverseListFunc,
		"setintersection":        stdlib.SetIntersectionFunc,
		"setproduct":             stdlib.SetProductFunc,
		"setsubtract":            stdlib.SetSubtractFunc,
		"setsymmetricdifference": stdlib.SetSymmetricDifferenceFunc,
		"setunion":               stdlib.SetUnionFunc,
		"slice":                  stdlib.SliceFunc,
		"sort":                   stdlib.SortFunc,
		"values":                 stdlib.ValuesFunc,
		"zipmap":                 stdlib.ZipmapFunc,

		// Encodings and dates.
		"base64decode": base64DecodeFunc,
		"base64encode": base64EncodeFunc,
		"csvdecode":    stdlib.CSVDecodeFunc,
		"jsondecode":   stdlib.JSONDecodeFunc,
		"jsonencode":   stdlib.JSONEncodeFunc,
		"formatdate":   stdlib.FormatDateFunc,
		"timeadd":      stdlib.TimeAddFunc,

		// Type conversions.
		"tobool":   stdlib.MakeToFunc(cty.Bool),
		"tolist":   stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":    stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber": stdlib.MakeToFunc(cty.Number),
		"toset":    stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring": stdlib.MakeToFunc(cty.String),
	}
	for name, fn := range fns {
		fns[name] = guarded(fn, preChecks[name])
	}
	// can and try take unevaluated expressions, and each call inside
	// them is guarded.
	fns["can"] = tryfunc.CanFunc
	fns["try"] = tryfunc.TryFunc
	return fns
})

// Functions returns the functions of a suite file's expressions: the
// standard ones (StandardFunctions), file(path) reading a UTF-8 text file
// of at most 1 MiB relative to dir and inside it, and env(name) reading
// from environ when withEnv is set (in variable defaults) or failing
// otherwise. The table is the caller's own, to add functions to.
func Functions(dir string, environ map[string]string, withEnv bool) map[string]function.Function {
	return FunctionsFor(FunctionOptions{Dir: dir, Environ: environ, WithEnv: withEnv})
}

// FunctionOptions say what file() and env() may read, and how what they
// read is handed on.
type FunctionOptions struct {
	// Dir is the suite file's directory: file() reads a relative path
	// from there.
	Dir string
	// Roots are the directories file() may read in, besides Dir's tree:
	// a path is taken after resolving symlinks, so that neither ../ nor
	// a symlink leads out of them.
	Roots []string
	// Environ is what env() reads; WithEnv makes env() available (in
	// variable defaults) instead of failing.
	Environ map[string]string
	WithEnv bool
	// UnknownUnset makes env() of a variable that is not set return an
	// unknown string instead of "": the value is not known, as when
	// validating a suite without its values.
	UnknownUnset bool
	// Mark, when not nil, marks what env() and file() return, so that
	// it can be told from values written in the suite (never quoted in
	// diagnostics).
	Mark any
	// Read, when not nil, is called with each text env() and file()
	// return, before cty normalizes it to NFC, so that the caller can
	// send the bytes as they were.
	Read func(text string)
}

// FunctionsFor is Functions with every option.
func FunctionsFor(opts FunctionOptions) map[string]function.Function {
	fns := StandardFunctions()
	fns["file"] = guarded(makeFileFunc(opts), nil)
	if opts.WithEnv {
		fns["env"] = makeEnvFunc(opts)
	} else {
		fns["env"] = function.New(&function.Spec{
			Description: "Not available here: env() is only allowed in variable defaults.",
			Params:      []function.Parameter{{Name: "name", Type: cty.String}},
			Type:        function.StaticReturnType(cty.String),
			Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
				return cty.UnknownVal(cty.String), errEnvNotAllowed
			},
		})
	}
	return fns
}

// handOn passes text to opts.Read and returns it as a cty string, marked
// with opts.Mark.
func (opts FunctionOptions) handOn(text string) cty.Value {
	if opts.Read != nil {
		opts.Read(text)
	}
	v := cty.StringVal(text)
	if opts.Mark != nil {
		v = v.Mark(opts.Mark)
	}
	return v
}

// makeEnvFunc returns env(name): the value of an environment variable, or
// "" when it is unset (as in Packer), so that a validation block can say
// what to set; with UnknownUnset, an unknown string instead.
func makeEnvFunc(opts FunctionOptions) function.Function {
	return function.New(&function.Spec{
		Description: "Returns the value of an environment variable, or \"\" when it is unset.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v, set := opts.Environ[args[0].AsString()]
			if !set && opts.UnknownUnset {
				return cty.UnknownVal(cty.String), nil
			}
			return opts.handOn(v), nil
		},
	})
}

// makeFileFunc returns file(path): the contents of a UTF-8 text file of at
// most maxReadBytes, the path taken relative to the suite file's
// directory and read only inside it or another of opts.Roots.
func makeFileFunc(opts FunctionOptions) function.Function {
	roots := resolveRoots(append([]string{opts.Dir}, opts.Roots...))
	return function.New(&function.Spec{
		Description: "Reads a UTF-8 text file, relative to the suite file's directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			if !filepath.IsAbs(p) {
				p = filepath.Join(opts.Dir, p)
			}
			// A device or pipe is refused as such wherever it is.
			if fi, err := os.Stat(p); err == nil {
				if err := checkRegular(fi); err != nil {
					return cty.UnknownVal(cty.String), fmt.Errorf("cannot read %s: %w", p, err)
				}
			}
			real, err := inside(p, roots, "file()")
			if err != nil {
				return cty.UnknownVal(cty.String), fmt.Errorf("cannot read %s: %w", p, err)
			}
			src, err := ReadFile(real)
			if err != nil {
				return cty.UnknownVal(cty.String), fmt.Errorf("cannot read %s: %w", p, err)
			}
			if !utf8.Valid(src) {
				return cty.UnknownVal(cty.String), fmt.Errorf("%s is not valid UTF-8 text", p)
			}
			return opts.handOn(string(src)), nil
		},
	})
}

// resolveRoots makes each directory absolute, with its symlinks resolved
// where it exists.
func resolveRoots(dirs []string) []string {
	out := make([]string, 0, len(dirs))
	for _, d := range dirs {
		if d == "" {
			d = "."
		}
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		if real, err := filepath.EvalSymlinks(d); err == nil {
			d = real
		}
		out = append(out, d)
	}
	return out
}

// ReadConfined reads a file the way file() does, for an attribute that
// names a file a suite may only read inside its own tree, such as an
// oauth block's certificate and key (what names the attribute in the
// refusal): p is taken relative to dir, and read only when, after its
// symlinks are resolved, it lies inside dir's tree or one of roots, and
// is a regular file of at most 1 MiB. It returns the path it read.
func ReadConfined(p, dir string, roots []string, what string) (string, []byte, error) {
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	if fi, err := os.Stat(p); err == nil {
		if err := checkRegular(fi); err != nil {
			return p, nil, err
		}
	}
	real, err := inside(p, resolveRoots(append([]string{dir}, roots...)), what)
	if err != nil {
		return p, nil, err
	}
	src, err := ReadFile(real)
	return real, src, err
}

// inside resolves p's symlinks and returns the path it leads to when that
// lies inside one of roots (resolveRoots). A path that does not exist is
// returned as it is, for the read to report. what names the reader in a
// refusal ("file()").
func inside(p string, roots []string, what string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// Resolve what exists of it: a missing file under a
			// symlinked directory is still judged by where it would be.
			dir, rerr := filepath.EvalSymlinks(filepath.Dir(abs))
			if rerr != nil {
				return abs, nil
			}
			real = filepath.Join(dir, filepath.Base(abs))
		} else {
			return "", unwrapPathError(err)
		}
	}
	for _, root := range roots {
		rel, err := filepath.Rel(root, real)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel) {
			return real, nil
		}
	}
	where := "outside the suite file's directory " + roots[0]
	if real != abs {
		where = "a link to " + real + ", " + where
	}
	return "", fmt.Errorf("it is %s; %s reads only inside the suite's directory tree (add a directory with --allow-read DIR)", where, what)
}

// lengthFunc is Terraform's length: the number of characters of a string,
// or of elements of a collection (the cty one only counts collections, and
// `length(var.password) > 0` is the natural validation of a string).
var lengthFunc = function.New(&function.Spec{
	Description: "Returns the number of characters in a string or elements in a collection.",
	Params: []function.Parameter{{
		Name:             "value",
		Type:             cty.DynamicPseudoType,
		AllowDynamicType: true,
		AllowUnknown:     true,
	}},
	Type: func(args []cty.Value) (cty.Type, error) {
		ty := args[0].Type()
		switch {
		case ty == cty.String, ty == cty.DynamicPseudoType,
			ty.IsListType(), ty.IsTupleType(), ty.IsMapType(), ty.IsSetType(), ty.IsObjectType():
			return cty.Number, nil
		}
		return cty.NilType, errors.New("argument must be a string or a collection")
	},
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v := args[0]
		if !v.IsKnown() {
			return cty.UnknownVal(cty.Number), nil
		}
		if v.IsNull() {
			return cty.NilVal, errors.New("argument must not be null")
		}
		switch ty := v.Type(); {
		case ty == cty.String:
			return stdlib.Strlen(v)
		case ty.IsObjectType():
			return cty.NumberIntVal(int64(len(ty.AttributeTypes()))), nil
		}
		return v.Length(), nil
	},
})

// replaceFunc is Terraform's replace: a substring wrapped in slashes is a
// regular expression ("/[0-9]+/"), anything else is replaced literally.
var replaceFunc = function.New(&function.Spec{
	Description: "Replaces each occurrence of substr (a regular expression when wrapped in /.../) with replace.",
	Params: []function.Parameter{
		{Name: "str", Type: cty.String},
		{Name: "substr", Type: cty.String},
		{Name: "replace", Type: cty.String},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		substr := args[1].AsString()
		if len(substr) > 1 && strings.HasPrefix(substr, "/") && strings.HasSuffix(substr, "/") {
			return stdlib.RegexReplace(args[0], cty.StringVal(substr[1:len(substr)-1]), args[2])
		}
		return stdlib.Replace(args[0], args[1], args[2])
	},
})

var base64EncodeFunc = function.New(&function.Spec{
	Description: "Encodes a string as standard base64 (RFC 4648 section 4).",
	Params:      []function.Parameter{{Name: "str", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(base64.StdEncoding.EncodeToString([]byte(args[0].AsString()))), nil
	},
})

var base64DecodeFunc = function.New(&function.Spec{
	Description: "Decodes standard base64 (RFC 4648 section 4) into a UTF-8 string.",
	Params:      []function.Parameter{{Name: "str", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		b, err := base64.StdEncoding.DecodeString(args[0].AsString())
		if err != nil {
			return cty.UnknownVal(cty.String), fmt.Errorf("invalid base64: %w", err)
		}
		if !utf8.Valid(b) {
			return cty.UnknownVal(cty.String), errors.New("the decoded bytes are not valid UTF-8")
		}
		return cty.StringVal(string(b)), nil
	},
})
