// Command testlog reads `go test -json` on standard input and prints what
// plain `go test` prints (a line per package, and the output of failing
// tests), then one line counting the skipped tests that need a real server
// or tool (Postfix, Dovecot, rbldnsd, swaks, xmllint, chromium), each named
// with its reason. .ci/run uses it so that a CI log shows at a glance
// whether the integration tests really ran. It exits 1 when a test or a
// package failed.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// realServer tells a skip for lack of a real server or tool from any
// other skip, by the words the tests use when they skip.
var realServer = []string{"peers", "rbldnsd", "Postfix", "swaks", "xmllint", "chromium"}

func main() {
	type key struct{ pkg, test string }
	outputs := map[key][]string{}
	var skips []string
	failed := false
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	for in.Scan() {
		var e event
		if err := json.Unmarshal(in.Bytes(), &e); err != nil {
			// Build errors and the like are not JSON: show them as they are.
			fmt.Println(in.Text())
			continue
		}
		k := key{e.Package, e.Test}
		switch e.Action {
		case "output":
			if e.Test == "" {
				// Package lines ("ok ...", "FAIL ...", "--- FAIL" summaries).
				if strings.HasPrefix(e.Output, "ok ") || strings.HasPrefix(e.Output, "FAIL") ||
					strings.HasPrefix(e.Output, "?") || strings.HasPrefix(e.Output, "panic") {
					fmt.Print(e.Output)
				} else {
					outputs[k] = append(outputs[k], e.Output)
				}
				continue
			}
			outputs[k] = append(outputs[k], e.Output)
		case "fail":
			failed = true
			for _, line := range outputs[k] {
				fmt.Print(line)
			}
			delete(outputs, k)
		case "skip":
			reason := skipReason(outputs[k])
			for _, word := range realServer {
				if e.Test != "" && strings.Contains(reason, word) {
					skips = append(skips, fmt.Sprintf("  %s %s: %s", e.Package, e.Test, reason))
					break
				}
			}
			delete(outputs, k)
		case "pass":
			delete(outputs, k)
		}
	}
	sort.Strings(skips)
	fmt.Printf("%d tests that need a real server or tool were skipped\n", len(skips))
	for _, s := range skips {
		fmt.Println(s)
	}
	if failed {
		os.Exit(1)
	}
}

// skipReason finds the message a skipped test logged.
func skipReason(lines []string) string {
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		if _, msg, ok := strings.Cut(l, ": "); ok && strings.Contains(l, "_test.go:") {
			return msg
		}
		return l
	}
	return ""
}
