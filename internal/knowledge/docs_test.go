package knowledge

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/knowledge-base.md from the knowledge base")

const kbDoc = "../../docs/knowledge-base.md"

// renderKnowledgeBase renders the knowledge base as the Markdown page the
// docs link to: one section per entry, anchored by its id.
func renderKnowledgeBase(entries []Entry) string {
	var b strings.Builder
	b.WriteString("# The knowledge base\n\n")
	b.WriteString("What `smtpdiag explain` and every diagnosis say about a reply, with the page each fact comes from.\n")
	b.WriteString("This page is generated from `internal/knowledge/kb/*.json` (`go test ./internal/knowledge -update-docs`);\n")
	b.WriteString("edit the JSON, not this page. Facts marked UNVERIFIED come from third parties only.\n\n")
	fmt.Fprintf(&b, "%d entries.\n\n", len(entries))
	b.WriteString("| codes | reply | category |\n|---|---|---|\n")
	for _, e := range entries {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s |\n", strings.Join(e.Codes, ", "), e.ID, mdCell(e.Title), e.Category)
	}
	for _, e := range entries {
		fmt.Fprintf(&b, "\n<a id=\"%s\"></a>\n## %s: %s\n\n", e.ID, strings.Join(e.Codes, ", "), mdCell(e.Title))
		if len(e.Texts) > 0 {
			quoted := make([]string, len(e.Texts))
			for i, t := range e.Texts {
				quoted[i] = "`" + strings.ReplaceAll(t, "`", "'") + "`"
			}
			fmt.Fprintf(&b, "Selected when the reply says %s.\n\n", strings.Join(quoted, " or "))
		}
		fmt.Fprintf(&b, "Category: %s.\n\n%s\n\n", e.Category, e.Meaning)
		b.WriteString("Fix:\n\n")
		for i, s := range e.Steps {
			fmt.Fprintf(&b, "%d. %s\n", i+1, s)
		}
		if e.Setting != "" {
			fmt.Fprintf(&b, "\nSetting: %s\n", e.Setting)
		}
		if e.Note != "" {
			fmt.Fprintf(&b, "\n%s\n", e.Note)
		}
		b.WriteString("\nSources:\n\n")
		for _, s := range e.Sources {
			fmt.Fprintf(&b, "- [%s](%s), read %s\n", mdCell(s.Title), s.URL, s.Read)
		}
	}
	return b.String()
}

func mdCell(s string) string { return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s) }

// TestKnowledgeBaseDoc keeps docs/knowledge-base.md what the knowledge
// base says.
func TestKnowledgeBaseDoc(t *testing.T) {
	want := renderKnowledgeBase(Entries())
	if *updateDocs {
		if err := os.WriteFile(kbDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(kbDoc)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date: go test ./internal/knowledge -update-docs", kbDoc)
	}
}

// docCode finds the enhanced codes (and ranges) a doc mentions.
var docCode = regexp.MustCompile(`\b([245])\.(\d{1,3})\.(\d{1,3})(?:-(\d{1,3}))?\b`)

// TestDocsCodesAreKnown: every code the field notes mention is in the
// knowledge base, and every link they make to it names an entry.
func TestDocsCodesAreKnown(t *testing.T) {
	ids := map[string]bool{}
	for _, e := range Entries() {
		ids[e.ID] = true
	}
	link := regexp.MustCompile(`knowledge-base\.md#([a-z0-9-]+)`)
	for _, doc := range []string{"../../docs/m365-smtp-behavior.md", "../../docs/troubleshooting.md"} {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range docCode.FindAllStringSubmatch(string(data), -1) {
			code := m[1] + "." + m[2] + "." + m[3]
			if len(Candidates(0, code)) == 0 {
				t.Errorf("%s mentions %s, which no entry of the knowledge base covers", doc, m[0])
			}
		}
		for _, m := range link.FindAllStringSubmatch(string(data), -1) {
			if !ids[m[1]] {
				t.Errorf("%s links to entry %s, which does not exist", doc, m[1])
			}
		}
	}
}
