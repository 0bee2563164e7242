// Package knowledge answers what an outcome means and what fixes it: the
// Exchange Online reply codes of its knowledge base (embedded data, each
// entry with its sources), the RFC 3463 and RFC 5321 generic meanings as
// fallback, and the diagnosis of every failed check (a conversation from
// the reply and the step where it stopped, a device session, a DNS,
// blocklist or MX lookup).
package knowledge

import (
	"sort"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
)

// match is one entry's best way of selecting a reply, compared by how
// specific it is.
type match struct {
	entry    *Entry
	sel      selector
	textLen  int  // length of the documented wording found in the reply
	hasTexts bool // the entry requires a wording
}

// moreSpecific reports whether m selects a reply more specifically than o:
// an enhanced code beats a basic code alone; then a documented wording
// beats none (and a longer one a shorter one); then a narrower code beats
// a wider range; then a tied basic code beats any basic code. What an
// enhanced code and its documented wording select is never overridden by
// a wording alone.
func (m match) moreSpecific(o match) bool {
	if m.sel.enhanced != o.sel.enhanced {
		return m.sel.enhanced
	}
	if m.hasTexts != o.hasTexts {
		return m.hasTexts
	}
	if m.textLen != o.textLen {
		return m.textLen > o.textLen
	}
	if m.sel.width() != o.sel.width() {
		return m.sel.width() < o.sel.width()
	}
	return (m.sel.basic != 0) && (o.sel.basic == 0)
}

// codes reports whether the selector covers a reply's codes: its enhanced
// code in the selector's range, and its basic code equal to the
// selector's where both are known; a selector of a basic code alone
// covers only replies without an enhanced code it could be judged by.
func (s selector) codes(basic int, enhanced string) bool {
	if s.basic != 0 && basic != 0 && s.basic != basic {
		return false
	}
	if !s.enhanced {
		return s.basic != 0 && s.basic == basic
	}
	return enhanced != "" && s.rng.Contains(enhanced)
}

// best finds the most specific way entry e selects the reply, if any.
func (e *Entry) best(basic int, enhanced, lower string) (match, bool) {
	textLen, found := 0, len(e.Texts) == 0
	for _, t := range e.Texts {
		if strings.Contains(lower, strings.ToLower(t)) && len(t) > textLen {
			textLen, found = len(t), true
		}
	}
	if !found {
		return match{}, false
	}
	var out match
	ok := false
	for _, sel := range e.selectors {
		if !sel.codes(basic, enhanced) {
			continue
		}
		m := match{entry: e, sel: sel, textLen: textLen, hasTexts: len(e.Texts) > 0}
		if !ok || m.moreSpecific(out) {
			out, ok = m, true
		}
	}
	return out, ok
}

// Lookup finds the entry that explains a reply: of the entries whose codes
// cover the reply's and whose documented wording (where they have one)
// the text contains, the most specific (see match.moreSpecific); among
// equals the first in the knowledge base.
func Lookup(basic int, enhanced, text string) (Entry, bool) {
	return lookup(Entries(), basic, enhanced, text)
}

func lookup(all []Entry, basic int, enhanced, text string) (Entry, bool) {
	lower := strings.ToLower(text)
	var best match
	found := false
	for i := range all {
		if m, ok := all[i].best(basic, enhanced, lower); ok && (!found || m.moreSpecific(best)) {
			best, found = m, true
		}
	}
	if !found {
		return Entry{}, false
	}
	return *best.entry, true
}

// Candidates returns the entries a reply could be when Lookup finds none:
// those whose codes cover the reply's but whose wording the text lacks
// ("5.7.1" is a blocklist, a relay denial or a restricted group, by its
// text), or, for a basic code alone, every entry tied to that basic code.
func Candidates(basic int, enhanced string) []Entry {
	return candidates(Entries(), basic, enhanced)
}

func candidates(all []Entry, basic int, enhanced string) []Entry {
	var out []Entry
	for i := range all {
		e := &all[i]
		if enhanced != "" {
			for _, sel := range e.selectors {
				if sel.enhanced && sel.codes(basic, enhanced) {
					out = append(out, *e)
					break
				}
			}
			continue
		}
		for _, sel := range e.selectors {
			if basic != 0 && sel.basic == basic {
				out = append(out, *e)
				break
			}
		}
	}
	return out
}

// maxRelated bounds how many related entries Related returns.
const maxRelated = 6

// Related returns, for a reply the knowledge base does not know, the
// documented replies closest to its enhanced code: the same class and
// subject ("5.7.x" for 5.7.999), nearest detail first, at most six. They
// are the closest known replies, never the meaning of this one.
func Related(enhanced string) []Entry {
	return related(Entries(), enhanced)
}

func related(all []Entry, enhanced string) []Entry {
	code, ok := esmtp.ParseEnhanced(enhanced)
	if !ok {
		return nil
	}
	type near struct {
		entry    Entry
		distance int
	}
	var found []near
	for _, e := range all {
		best := -1
		for _, sel := range e.selectors {
			if !sel.enhanced || sel.rng.Class != code.Class || sel.rng.Subject != code.Subject {
				continue
			}
			d := 0
			switch {
			case sel.rng.DetailLo == esmtp.Any:
				d = 1 << 20
			case code.Detail < sel.rng.DetailLo:
				d = sel.rng.DetailLo - code.Detail
			case code.Detail > sel.rng.DetailHi:
				d = code.Detail - sel.rng.DetailHi
			}
			if best < 0 || d < best {
				best = d
			}
		}
		if best >= 0 {
			found = append(found, near{e, best})
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].distance < found[j].distance })
	var out []Entry
	for i := 0; i < len(found) && i < maxRelated; i++ {
		out = append(out, found[i].entry)
	}
	return out
}
