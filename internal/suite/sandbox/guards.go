package sandbox

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// guarded wraps a function so that a call fails with an ordinary error,
// instead of exhausting memory, when its arguments or its result exceed
// the limits of limits.go. pre, when set, checks before the call what the
// arguments would make the function allocate, for the functions whose
// result can be far larger than their arguments (format("%9999999s"),
// setproduct, join with a long separator...).
func guarded(fn function.Function, pre func(args []cty.Value) error) function.Function {
	return function.New(&function.Spec{
		Description: fn.Description(),
		Params:      fn.Params(),
		VarParam:    fn.VarParam(),
		Type:        fn.ReturnTypeForValues,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			// Measured together: concat(var.l, var.l, ...) is as large
			// as all its arguments.
			var size valueSize
			for i, a := range args {
				if size.add(a); size.err != nil {
					if err := CheckValue(a, "argument"); err != nil || len(args) == 1 {
						return cty.NilVal, function.NewArgError(i, fmt.Errorf("the argument %s", size.err))
					}
					return cty.NilVal, function.NewArgError(i,
						fmt.Errorf("together with the arguments before it, this argument %s", size.err))
				}
			}
			if pre != nil {
				if err := pre(args); err != nil {
					return cty.NilVal, err
				}
			}
			v, err := fn.Call(args)
			if err != nil {
				return v, err
			}
			if err := CheckValue(v, "result"); err != nil {
				return cty.NilVal, err
			}
			return v, nil
		},
	})
}

// valueSize measures a value for the limits, stopping as soon as one is
// exceeded so that measuring never costs more than the limits allow.
type valueSize struct {
	bytes    int // string bytes plus 16 per value
	elements int // values inside collections, nested ones included
	longest  int // the longest string
	err      error
}

func (s *valueSize) add(v cty.Value) {
	if s.err != nil {
		return
	}
	v, _ = v.Unmark()
	if !v.IsKnown() || v.IsNull() {
		return
	}
	s.bytes += 16
	ty := v.Type()
	switch {
	case ty == cty.String:
		n := len(v.AsString())
		s.bytes += n
		s.longest = max(s.longest, n)
		if n <= 400 {
			// A string is converted to a number by arithmetic.
			if num, err := cty.ParseNumberVal(v.AsString()); err == nil && !numberInRange(num.AsBigFloat()) {
				s.err = fmt.Errorf("holds the number %s, but %s", SafeNumberText(num.AsBigFloat()), errNumberRange)
				return
			}
		}
	case ty == cty.Number:
		if f := v.AsBigFloat(); !numberInRange(f) {
			s.err = fmt.Errorf("holds the number %s, but %s", SafeNumberText(f), errNumberRange)
			return
		}
	case ty.IsCollectionType() || ty.IsTupleType() || ty.IsObjectType():
		s.elements += v.LengthInt()
		if s.elements > maxElements {
			break
		}
		for it := v.ElementIterator(); it.Next() && s.err == nil; {
			_, e := it.Element()
			s.add(e)
			if s.bytes > maxValueBytes || s.longest > maxStringBytes {
				break
			}
		}
	}
	switch {
	case s.err != nil:
	case s.longest > maxStringBytes:
		s.err = fmt.Errorf("holds a string longer than %s, the limit", sizeText(maxStringBytes))
	case s.elements > maxElements:
		s.err = fmt.Errorf("holds more than %d values, the limit", maxElements)
	case s.bytes > maxValueBytes:
		s.err = fmt.Errorf("is larger than %s, the limit", sizeText(maxValueBytes))
	}
}

// CheckValue reports a value beyond the limits on the arguments and the
// result of a function call: a number outside float64's range, or a
// string that arithmetic would turn into one, a string longer than 1 MiB,
// more than 10,000 values, more than 4 MiB in all. what names the value
// in the error ("argument", "result", "value"), which says "the <what>
// holds ..." or "the <what> is ...".
func CheckValue(v cty.Value, what string) error {
	var s valueSize
	s.add(v)
	if s.err != nil {
		return fmt.Errorf("the %s %s", what, s.err)
	}
	return nil
}

// measure returns a value's size estimate, saturated past the limits.
func measure(v cty.Value) valueSize {
	var s valueSize
	s.add(v)
	return s
}

// preChecks are the checks guarded runs before the functions whose result
// can be much larger than their arguments.
var preChecks = map[string]func(args []cty.Value) error{
	"format":     checkFormat,
	"formatlist": checkFormatList,
	"join":       checkJoin,
	"indent":     checkIndent,
	"replace":    checkReplace,
	"regex":      checkRegex,
	"regexall":   checkRegex,
	"split":      checkSplit,
	"setproduct": checkSetProduct,
	"csvdecode":  checkCSV,
	"jsondecode": checkJSON,
	"parseint":   checkParseInt,
}

// errResultTooLarge says which limit a call would exceed.
func errResultTooLarge(limit string) error {
	return fmt.Errorf("the result would be larger than %s, the limit", limit)
}

// formatDirectives reads the directives of a format string and returns
// their count and an upper bound of the bytes each adds beyond its
// argument: width and precision, which are limited to maxFormatWidth. It
// also returns the largest factor by which a directive can expand its
// argument: %q and %v escape (up to 6 bytes for one).
func formatDirectives(f string) (n, pad, factor int, err error) {
	factor = 1
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			continue
		}
		for i < len(f) && strings.IndexByte("-+# 0", f[i]) >= 0 {
			i++
		}
		if i < len(f) && f[i] == '[' {
			for i < len(f) && f[i] != ']' {
				i++
			}
			i++
		}
		width, next, werr := formatNumber(f, i, "width")
		if werr != nil {
			return 0, 0, 0, werr
		}
		i = next
		prec := 0
		if i < len(f) && f[i] == '.' {
			prec, next, werr = formatNumber(f, i+1, "precision")
			if werr != nil {
				return 0, 0, 0, werr
			}
			i = next
		}
		if i < len(f) && (f[i] == 'q' || f[i] == 'v') {
			factor = 6
		}
		n++
		pad += width + prec + 400 // 400: the longest number a directive writes
	}
	return n, pad, factor, nil
}

// formatNumber reads the digits of a width or precision at i.
func formatNumber(f string, i int, what string) (int, int, error) {
	start := i
	for i < len(f) && f[i] >= '0' && f[i] <= '9' {
		i++
	}
	digits := f[start:i]
	n := 0
	for _, c := range digits {
		n = n*10 + int(c-'0')
		if n > maxFormatWidth {
			return 0, 0, function.NewArgErrorf(0, "the %s %s is above %d, the limit", what, digits, maxFormatWidth)
		}
	}
	return n, i, nil
}

// checkFormat bounds format(): widths, precisions and the result.
func checkFormat(args []cty.Value) error {
	if !args[0].IsKnown() || args[0].IsNull() {
		return nil
	}
	f, _ := args[0].Unmark()
	n, pad, factor, err := formatDirectives(f.AsString())
	if err != nil {
		return err
	}
	largest := 0
	for _, a := range args[1:] {
		largest = max(largest, measure(a).bytes)
	}
	if len(f.AsString())+pad+n*factor*largest > maxStringBytes {
		return errResultTooLarge(sizeText(maxStringBytes))
	}
	return nil
}

// checkFormatList bounds formatlist(): each element as format(), times
// the length of the longest list argument.
func checkFormatList(args []cty.Value) error {
	if !args[0].IsKnown() || args[0].IsNull() {
		return nil
	}
	f, _ := args[0].Unmark()
	n, pad, factor, err := formatDirectives(f.AsString())
	if err != nil {
		return err
	}
	count, largest := 1, 0
	for _, a := range args[1:] {
		a, _ = a.Unmark()
		if !a.IsKnown() || a.IsNull() {
			continue
		}
		if ty := a.Type(); ty.IsListType() || ty.IsTupleType() || ty.IsSetType() {
			count = max(count, a.LengthInt())
			for it := a.ElementIterator(); it.Next(); {
				_, e := it.Element()
				largest = max(largest, measure(e).bytes)
			}
			continue
		}
		largest = max(largest, measure(a).bytes)
	}
	each := len(f.AsString()) + pad + n*factor*largest
	if each > maxStringBytes {
		return errResultTooLarge(sizeText(maxStringBytes))
	}
	if count*(each+16) > maxValueBytes {
		return errResultTooLarge(sizeText(maxValueBytes))
	}
	return nil
}

// concrete returns args unmarked, and whether all of them are known and
// not null: a guard bounds only what it can measure, and leaves unknown
// and null arguments to the function.
func concrete(args []cty.Value) ([]cty.Value, bool) {
	out := make([]cty.Value, len(args))
	for i, a := range args {
		a, _ = a.Unmark()
		if !a.IsKnown() || a.IsNull() {
			return nil, false
		}
		out[i] = a
	}
	return out, true
}

// checkJoin bounds join(separator, lists...).
func checkJoin(args []cty.Value) error {
	sep, _ := args[0].Unmark()
	if !sep.IsKnown() || sep.IsNull() {
		return nil
	}
	total, count := 0, 0
	for _, l := range args[1:] {
		l, _ = l.Unmark()
		if !l.IsKnown() || l.IsNull() {
			return nil
		}
		for it := l.ElementIterator(); it.Next(); {
			_, e := it.Element()
			e, _ = e.Unmark()
			if e.IsKnown() && !e.IsNull() && e.Type() == cty.String {
				total += len(e.AsString())
			}
			count++
		}
	}
	if count > 1 {
		total += (count - 1) * len(sep.AsString())
	}
	if total > maxStringBytes {
		return errResultTooLarge(sizeText(maxStringBytes))
	}
	return nil
}

// checkIndent bounds indent(spaces, string).
func checkIndent(args []cty.Value) error {
	v, ok := concrete(args[:2])
	if !ok {
		return nil
	}
	n, s := v[0], v[1]
	f := n.AsBigFloat()
	if f.Sign() < 0 || f.Cmp(big.NewFloat(maxFormatWidth)) > 0 {
		return function.NewArgErrorf(0, "the number of spaces must be between 0 and %d", maxFormatWidth)
	}
	spaces, _ := f.Int64()
	lines := strings.Count(s.AsString(), "\n") + 1
	if int64(len(s.AsString()))+int64(lines)*spaces > maxStringBytes {
		return errResultTooLarge(sizeText(maxStringBytes))
	}
	return nil
}

// checkReplace bounds replace(string, substring, replacement): a plain
// substring by counting it, a /regex/ by counting its matches (at most as
// many as the result could hold) and the $n references of the
// replacement, each of which can repeat a whole match.
func checkReplace(args []cty.Value) error {
	v, ok := concrete(args[:3])
	if !ok {
		return nil
	}
	s, substr, repl := v[0].AsString(), v[1].AsString(), v[2].AsString()
	if len(substr) > 1 && strings.HasPrefix(substr, "/") && strings.HasSuffix(substr, "/") {
		re, err := regexp.Compile(substr[1 : len(substr)-1])
		if err != nil {
			return nil // the function reports it
		}
		limit := maxStringBytes/max(len(repl), 1) + 1
		matches := len(re.FindAllStringIndex(s, limit))
		if len(repl) > 0 && matches >= limit {
			return errResultTooLarge(sizeText(maxStringBytes))
		}
		if len(s)+matches*len(repl)+strings.Count(repl, "$")*len(s) > maxStringBytes {
			return errResultTooLarge(sizeText(maxStringBytes))
		}
		return nil
	}
	count := strings.Count(s, substr)
	if len(s)+count*(len(repl)-len(substr)) > maxStringBytes {
		return errResultTooLarge(sizeText(maxStringBytes))
	}
	return nil
}

// checkRegex bounds regex and regexall(pattern, string): the matches,
// counted up to the limit, and their capture groups, each at most as long
// as the string.
func checkRegex(args []cty.Value) error {
	v, ok := concrete(args[:2])
	if !ok {
		return nil
	}
	pat, str := v[0], v[1]
	re, err := regexp.Compile(pat.AsString())
	if err != nil {
		return nil // the function reports it
	}
	s := str.AsString()
	groups := re.NumSubexp() + 1
	if len(re.FindAllStringIndex(s, maxElements/groups+1)) > maxElements/groups {
		return fmt.Errorf("the result would hold more than %d values, the limit", maxElements)
	}
	if groups*len(s) > maxValueBytes {
		return errResultTooLarge(sizeText(maxValueBytes))
	}
	return nil
}

// checkSplit bounds split(separator, string).
func checkSplit(args []cty.Value) error {
	v, ok := concrete(args[:2])
	if !ok {
		return nil
	}
	sep, str := v[0], v[1]
	n := 0
	if sep.AsString() == "" {
		n = utf8.RuneCountInString(str.AsString())
	} else {
		n = strings.Count(str.AsString(), sep.AsString()) + 1
	}
	if n > maxElements {
		return fmt.Errorf("the result would hold %d values, more than %d, the limit", n, maxElements)
	}
	return nil
}

// checkSetProduct bounds setproduct(sets...): the product of the lengths.
func checkSetProduct(args []cty.Value) error {
	product := 1
	for _, a := range args {
		a, _ = a.Unmark()
		if !a.IsKnown() || a.IsNull() {
			return nil
		}
		product *= a.LengthInt()
		if product > maxElements {
			return fmt.Errorf("the result would hold more than %d values, the limit", maxElements)
		}
	}
	if product*len(args) > maxElements {
		return fmt.Errorf("the result would hold more than %d values, the limit", maxElements)
	}
	return nil
}

// checkCSV bounds csvdecode(string): every field becomes a value.
func checkCSV(args []cty.Value) error {
	v, ok := concrete(args[:1])
	if !ok {
		return nil
	}
	s := v[0].AsString()
	if strings.Count(s, ",")+strings.Count(s, "\n") > maxElements {
		return fmt.Errorf("the result would hold more than %d values, the limit", maxElements)
	}
	return nil
}

// checkJSON bounds jsondecode(string): nesting, which cty decodes
// recursively, and the number of values.
func checkJSON(args []cty.Value) error {
	v, ok := concrete(args[:1])
	if !ok {
		return nil
	}
	depth, values, inString := 0, 0, false
	s := v[0].AsString()
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			values++
			if depth > maxNesting {
				return function.NewArgErrorf(0, "the JSON nests more than %d levels deep, the limit", maxNesting)
			}
		case ']', '}':
			depth--
		case ',':
			values++
		}
	}
	if values > maxElements {
		return function.NewArgErrorf(0, "the JSON holds more than %d values, the limit", maxElements)
	}
	return nil
}

// checkParseInt bounds parseint(string, base): big.Int parsing is
// quadratic in the digits, and a cty number keeps only 512 bits anyway.
func checkParseInt(args []cty.Value) error {
	str, _ := args[0].Unmark()
	if str.IsKnown() && !str.IsNull() && str.Type() == cty.String && len(str.AsString()) > maxNumberDigits {
		return function.NewArgError(0, errors.New("the number is longer than 256 digits, the limit"))
	}
	return nil
}
