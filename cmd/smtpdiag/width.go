package main

import (
	"os"
	"strconv"

	"golang.org/x/term"
)

// outputWidth is the width output to w should fit: $COLUMNS when set
// (what a shell exports, and what users set to pin it), else the
// terminal's size when w is one, else 0 for no limit: a CI log or a file
// keeps each line whole.
func outputWidth(w any, getenv func(string) string) int {
	if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if n, _, err := term.GetSize(int(f.Fd())); err == nil && n > 0 {
			return n
		}
	}
	return 0
}
