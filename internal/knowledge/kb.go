package knowledge

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// kbFiles are the knowledge base: one JSON file per family of codes, each
// {"entries": [Entry, ...]}. The entries are data, not Go, so that a fact
// and its source are reviewed together and every output reads the same.
//
//go:embed kb/*.json
var kbFiles embed.FS

// Source is a page a fact was taken from.
type Source struct {
	URL   string `json:"url"`
	Title string `json:"title"`
	// Read is the day the page was read (YYYY-MM-DD).
	Read string `json:"read"`
}

// Entry is one reply Exchange Online documents: the codes and wordings
// that select it, what it means, and what fixes it, with its sources.
type Entry struct {
	// ID names the entry in tests and in docs links ("smtp-auth-disabled").
	ID string `json:"id"`
	// Codes are the selectors: "550 5.7.606-649" (the documentation ties
	// the basic code), "5.7.139" (any basic code), "5.7.x" (a family), or
	// "530" (a basic code alone, for replies without an enhanced code).
	Codes []string `json:"codes"`
	// Texts are documented wordings. When set, a reply selects the entry
	// only if its text contains one of them (case-insensitive).
	Texts    []string        `json:"texts,omitempty"`
	Category result.Category `json:"category"`
	// Title is the reply's documented wording in a few words.
	Title   string `json:"title"`
	Meaning string `json:"meaning"`
	// Steps are the fix in Microsoft's order: the first is what an admin
	// should do first.
	Steps []string `json:"fix"`
	// Setting names the Microsoft setting or cmdlet involved, if any.
	Setting string   `json:"setting,omitempty"`
	Sources []Source `json:"sources"`
	// Note marks what the sources do not fully establish ("UNVERIFIED:
	// ..."), so that every output that uses the entry says so.
	Note string `json:"note,omitempty"`

	// Fix is Steps as one paragraph and Source the first source's URL:
	// what a diagnosis carries.
	Fix    string `json:"-"`
	Source string `json:"-"`

	selectors []selector
}

// Code renders the entry's first selector, as a reply would show it.
func (e Entry) Code() string {
	if len(e.Codes) == 0 {
		return ""
	}
	return e.Codes[0]
}

// TextAlternatives returns the wordings of which the reply must contain
// one, or nil when the entry matches any text.
func (e Entry) TextAlternatives() []string { return e.Texts }

// selector is one parsed code of an entry.
type selector struct {
	basic    int // 0: any basic code
	enhanced bool
	rng      esmtp.EnhancedRange
}

// width is how many enhanced codes the selector covers: an exact code
// is narrower than a range, a range narrower than a wildcard.
func (s selector) width() int {
	switch {
	case !s.enhanced:
		return 1 << 30
	case s.rng.Subject == esmtp.Any:
		return 1 << 20
	case s.rng.DetailLo == esmtp.Any:
		return 1 << 10
	}
	return s.rng.DetailHi - s.rng.DetailLo + 1
}

// parseSelector reads "550 5.7.606-649", "5.7.139", "5.7.x" or "530".
func parseSelector(s string) (selector, error) {
	var sel selector
	words := strings.Fields(s)
	if len(words) == 0 || len(words) > 2 {
		return sel, fmt.Errorf("code %q: write BASIC, ENHANCED or BASIC ENHANCED", s)
	}
	if n, err := strconv.Atoi(words[0]); err == nil {
		if n < 200 || n > 599 {
			return sel, fmt.Errorf("code %q: basic code %d is not 2xx to 5xx", s, n)
		}
		sel.basic = n
		words = words[1:]
	}
	if len(words) == 0 {
		return sel, nil
	}
	r, err := esmtp.ParseEnhancedRange(words[0])
	if err != nil {
		return sel, fmt.Errorf("code %q: %v", s, err)
	}
	// No check that the classes agree: Exchange Online itself sends
	// "451 5.7.3 STARTTLS is required to send mail".
	sel.enhanced, sel.rng = true, r
	return sel, nil
}

var (
	idPattern   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	datePattern = regexp.MustCompile(`^20\d\d-\d\d-\d\d$`)
)

// validCategories are the categories of SPEC section 4.
var validCategories = map[result.Category]bool{result.Network: true, result.DNS: true, result.TLS: true, result.Auth: true,
	result.Policy: true, result.Reputation: true, result.Recipient: true, result.Throttling: true, result.Configuration: true}

// check validates an entry against the schema, parses its selectors and
// derives Fix and Source.
func (e *Entry) check() error {
	if !idPattern.MatchString(e.ID) {
		return fmt.Errorf("id %q: lower-case words and digits joined by hyphens", e.ID)
	}
	if len(e.Codes) == 0 {
		return fmt.Errorf("%s: no codes", e.ID)
	}
	for _, c := range e.Codes {
		sel, err := parseSelector(c)
		if err != nil {
			return fmt.Errorf("%s: %v", e.ID, err)
		}
		e.selectors = append(e.selectors, sel)
	}
	for _, t := range e.Texts {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("%s: an empty text", e.ID)
		}
	}
	return e.checkContent()
}

// checkContent checks what every entry, a reply's or a token error's,
// holds beside its codes (category, title, meaning, fix steps, sources,
// note), and derives Fix and Source.
func (e *Entry) checkContent() error {
	switch {
	case !validCategories[e.Category]:
		return fmt.Errorf("%s: category %q", e.ID, e.Category)
	case e.Title == "" || e.Meaning == "" || len(e.Steps) == 0:
		return fmt.Errorf("%s: title, meaning and fix are required", e.ID)
	case len(e.Sources) == 0:
		return fmt.Errorf("%s: no source", e.ID)
	case e.Note != "" && !strings.HasPrefix(e.Note, "UNVERIFIED"):
		return fmt.Errorf("%s: a note must start with UNVERIFIED", e.ID)
	}
	for _, step := range e.Steps {
		if strings.TrimSpace(step) == "" {
			return fmt.Errorf("%s: an empty fix step", e.ID)
		}
	}
	for _, s := range e.Sources {
		if !strings.HasPrefix(s.URL, "https://") || s.Title == "" || !datePattern.MatchString(s.Read) {
			return fmt.Errorf("%s: source %+v needs an https URL, a title and the day it was read", e.ID, s)
		}
	}
	e.Fix = strings.Join(e.Steps, " ")
	e.Source = e.Sources[0].URL
	return nil
}

// base is the loaded knowledge base, in file order (files by name).
var base = sync.OnceValues(func() ([]Entry, error) { return load(kbFiles, "kb/*.json") })

// load reads the reply entries of the files matching pattern in fsys.
func load(fsys fs.FS, pattern string) ([]Entry, error) {
	return loadEntries(fsys, pattern, (*Entry).check)
}

// loadEntries reads the entries of the files matching pattern in fsys,
// checking each with check and that no id is used twice.
func loadEntries(fsys fs.FS, pattern string, check func(*Entry) error) ([]Entry, error) {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var all []Entry
	ids := map[string]bool{}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var file struct {
			Entries []Entry `json:"entries"`
		}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&file); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		for i := range file.Entries {
			e := &file.Entries[i]
			if err := check(e); err != nil {
				return nil, fmt.Errorf("%s: %v", name, err)
			}
			if ids[e.ID] {
				return nil, fmt.Errorf("%s: id %s is used twice", name, e.ID)
			}
			ids[e.ID] = true
			all = append(all, *e)
		}
	}
	return all, nil
}

// Entries returns the knowledge base. Its embedded files are checked by
// the package's tests; should one still not load, the base is empty and
// every reply gets its RFC meaning.
func Entries() []Entry {
	all, err := base()
	if err != nil {
		return nil
	}
	return all
}
