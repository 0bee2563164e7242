package sandbox

import (
	"fmt"
	"math"
	"math/big"
)

// MaxSourceBytes bounds a suite file, a -var-file and a list given with
// -var: CheckSource refuses a longer source, and ReadSource never reads
// more than one byte beyond it.
const MaxSourceBytes = 1 << 20

// The limits below keep a hostile or broken suite file from exhausting the
// memory, the stack or the time of the process that loads it: every one is
// checked before the work it bounds is done, and exceeding one is an
// ordinary positioned error. They are far above what a suite needs.
const (
	// maxReadBytes bounds what ReadFile reads: file(), ca_file, a
	// device's certificate and key.
	maxReadBytes = 1 << 20
	// maxNesting bounds how deeply brackets, braces, parentheses, strings,
	// heredocs and interpolations nest. The parser recurses once (or more)
	// per level, and a Go stack overflow is fatal.
	maxNesting = 256
	// maxExprCost bounds the nesting levels plus the operators along one
	// path of an expression: `!!!!x`, `1+1+1...` and `a ? b : c ? ...`
	// nest as deeply as brackets do, without any bracket.
	maxExprCost = 1000
	// maxMultiplications bounds the multiplications and divisions in a
	// file: each one can add 308 decimal digits to a number, and turning
	// a number of millions of digits into text takes minutes.
	maxMultiplications = 64
	// maxStringBytes bounds a string given to or returned by a function.
	maxStringBytes = 1 << 20
	// maxValueBytes bounds the size of the arguments or of the result of
	// one function call: the bytes of its strings plus 16 per value.
	maxValueBytes = 4 << 20
	// maxElements bounds the values (nested ones included) of the
	// arguments or of the result of one function call.
	maxElements = 10000
	// maxFormatWidth bounds the width and precision of a format directive.
	maxFormatWidth = 10000
	// maxNumberDigits bounds parseint's input: a 512-bit number has at
	// most 155 decimal digits.
	maxNumberDigits = 256
	// maxTemplateParts bounds the interpolations and directives of one
	// string template, and maxFileTemplateParts those of a file: each
	// copies a value of up to maxStringBytes into the string built.
	maxTemplateParts     = 64
	maxFileTemplateParts = 2000
	// maxForBodyBytes bounds the source text of a for-expression's body
	// (its key, value and condition). With checkForExpr this bounds what
	// one iteration builds; see there for the bound on the whole result.
	maxForBodyBytes = 1024
	// maxEvalBytes bounds what the expressions of one suite file build
	// while it is evaluated: every attribute's value, every element a
	// for-expression builds and every value interpolated into a string
	// template are charged to one Budget (see AddBudgetGuards). A suite
	// builds kilobytes; without it, [for i in range(10000) : "${var.s}"]
	// with a 1 MiB var.s builds 10 GiB, each element within every other
	// limit.
	maxEvalBytes = 64 << 20
)

// Numbers beyond float64's range are refused: converting 1e600000000 to
// text needs 600 MB.
var (
	maxMagnitude = big.NewFloat(math.MaxFloat64)
	minMagnitude = big.NewFloat(math.SmallestNonzeroFloat64)
)

// numberInRange reports whether a number is zero or within float64's
// range in magnitude (about 4.9e-324 to 1.8e308).
func numberInRange(f *big.Float) bool {
	if f.IsInf() {
		return false
	}
	if f.Sign() == 0 {
		return true
	}
	abs := new(big.Float).Abs(f)
	return abs.Cmp(maxMagnitude) <= 0 && abs.Cmp(minMagnitude) >= 0
}

// errNumberRange is the message for a number numberInRange refuses.
const errNumberRange = "numbers are limited to the range of a float64, about 1.8e308 in magnitude"

// SafeNumberText renders a number for a message without the cost of
// writing out a huge one: big.Float converts every digit to decimal even
// for Text('g', 10), which takes minutes for 1e600000000. A number within
// float64's range is written out in full, as Text('f', -1) does.
func SafeNumberText(f *big.Float) string {
	if numberInRange(f) {
		return f.Text('f', -1)
	}
	if f.IsInf() {
		return f.String()
	}
	mant := new(big.Float)
	exp := f.MantExp(mant) // f = mant × 2^exp, 0.5 <= |mant| < 1
	m, _ := mant.Float64()
	log := math.Log10(math.Abs(m)) + float64(exp)*math.Log10(2)
	digits := math.Floor(log)
	sign := ""
	if f.Sign() < 0 {
		sign = "-"
	}
	return fmt.Sprintf("%s%.3fe%+.0f", sign, math.Pow(10, log-digits), digits)
}

// sizeText names a byte count for messages.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
