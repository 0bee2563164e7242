package knowledge

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"sync"
)

// tokenErrorFiles are what the knowledge base says about Microsoft Entra
// ID's token errors: entries of the same schema as kb/*.json whose codes
// are AADSTS codes ("AADSTS7000215"). They live apart from kb/*.json
// because an SMTP reply can never select them: Lookup and Explain find
// reply codes, and an OAuth token request fails before any SMTP
// conversation.
//
//go:embed kb/aadsts/*.json
var tokenErrorFiles embed.FS

// aadstsCode is an AADSTS code as Entra ID writes it.
var aadstsCode = regexp.MustCompile(`(?i)\bAADSTS(\d{4,9})\b`)

// tokenErrors is the loaded knowledge about token errors.
var tokenErrors = sync.OnceValues(func() ([]Entry, error) { return loadTokenErrors(tokenErrorFiles, "kb/aadsts/*.json") })

// loadTokenErrors reads and checks the token error entries of the files
// matching pattern: the schema of Entry.check, with AADSTS codes for
// selectors.
func loadTokenErrors(fsys fs.FS, pattern string) ([]Entry, error) {
	return loadEntries(fsys, pattern, (*Entry).checkTokenError)
}

// checkTokenError validates a token error entry as check validates a
// reply entry, but for its codes, which must be AADSTS codes, and derives
// Fix and Source.
func (e *Entry) checkTokenError() error {
	if !idPattern.MatchString(e.ID) || !strings.HasPrefix(e.ID, "aadsts-") {
		return fmt.Errorf("id %q: aadsts- and lower-case words and digits joined by hyphens", e.ID)
	}
	if len(e.Codes) == 0 || len(e.Texts) > 0 {
		return fmt.Errorf("%s: give AADSTS codes and no texts", e.ID)
	}
	for _, c := range e.Codes {
		if m := aadstsCode.FindString(c); m != c {
			return fmt.Errorf("%s: code %q is not an AADSTS code such as AADSTS7000215", e.ID, c)
		}
	}
	return e.checkContent()
}

// TokenErrors returns what the knowledge base says about Microsoft Entra
// ID's token errors, one entry per AADSTS code it knows.
func TokenErrors() []Entry {
	all, err := tokenErrors()
	if err != nil {
		return nil
	}
	return all
}

// ExplainTokenError finds the entry for a token error: an AADSTS code
// ("AADSTS7000215" or "7000215"), or an error text holding one, such as
// MSAL's message or the token endpoint's JSON answer. Of several codes in
// a text the first the knowledge base knows wins.
func ExplainTokenError(text string) (Entry, bool) {
	text = strings.TrimSpace(text)
	codes := aadstsCode.FindAllString(text, -1)
	if len(codes) == 0 && text != "" && strings.Trim(text, "0123456789") == "" {
		codes = []string{"AADSTS" + text}
	}
	all := TokenErrors()
	for _, code := range codes {
		for _, e := range all {
			for _, c := range e.Codes {
				if strings.EqualFold(c, code) {
					return e, true
				}
			}
		}
	}
	return Entry{}, false
}

// LookupAfterXOAUTH2 explains a reply to AUTH XOAUTH2. Exchange Online
// refuses a token with the same 535 5.7.3 as a wrong password, so the
// mechanism is what tells the entry about refused tokens (its wording
// selector is "XOAUTH2") from the one about passwords.
func LookupAfterXOAUTH2(basic int, enhanced, text string) (Entry, bool) {
	return Lookup(basic, enhanced, "AUTH XOAUTH2: "+text)
}
