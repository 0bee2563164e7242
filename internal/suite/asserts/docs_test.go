package asserts

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// The object types that docs/suite-language.md documents in a table of
// their own, by the root the table's rows start with.
var (
	smtpType        = suite.ResultType("smtp")
	docReplyType    = smtpType.AttributeType("banner")
	docCertType     = smtpType.AttributeType("tls").AttributeType("certificate")
	docLookupType   = smtpType.AttributeType("lookups").ElementType()
	documentedTypes = map[string]cty.Type{"reply": docReplyType, "certificate": docCertType, "lookup": docLookupType}
)

// docTypeNames maps the type column of the docs to a test of the type.
var docTypeNames = map[string]func(cty.Type) bool{
	"string":               func(t cty.Type) bool { return t == cty.String },
	"number":               func(t cty.Type) bool { return t == cty.Number },
	"bool":                 func(t cty.Type) bool { return t == cty.Bool },
	"list of strings":      func(t cty.Type) bool { return t.Equals(cty.List(cty.String)) },
	"object":               func(t cty.Type) bool { return t.IsObjectType() },
	"list of objects":      func(t cty.Type) bool { return t.IsListType() && t.ElementType().IsObjectType() },
	"reply":                func(t cty.Type) bool { return t.Equals(docReplyType) },
	"list of replies":      func(t cty.Type) bool { return t.Equals(cty.List(docReplyType)) },
	"certificate":          func(t cty.Type) bool { return t.Equals(docCertType) },
	"list of certificates": func(t cty.Type) bool { return t.Equals(cty.List(docCertType)) },
	"list of lookups":      func(t cty.Type) bool { return t.Equals(cty.List(docLookupType)) },
}

// documented reads the attribute tables of the assert section of
// docs/suite-language.md: for each table's root ("smtp", "dns", "reply",
// "certificate", "lookup"), the documented paths and their type column.
func documented(t *testing.T) map[string]map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "suite-language.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "### `assert`")
	end := strings.Index(doc, "## `dns`")
	if start < 0 || end < start {
		t.Fatal("no assert section before the dns section")
	}
	row := regexp.MustCompile("^\\| `((result|reply|certificate|lookup)\\.[^`]+)` \\| ([^|]+) \\|")
	out := map[string]map[string]string{}
	kind := ""
	for _, line := range strings.Split(doc[start:end], "\n") {
		switch {
		case strings.HasPrefix(line, "#### Result of an smtp check"):
			kind = "smtp"
		case strings.HasPrefix(line, "#### Result of a dns check"):
			kind = "dns"
		case strings.HasPrefix(line, "#### "):
			kind = ""
		}
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		root := m[2]
		if root == "result" {
			if kind == "" {
				t.Errorf("%s is documented outside the smtp and dns tables", m[1])
				continue
			}
			root = kind
		}
		if out[root] == nil {
			out[root] = map[string]string{}
		}
		out[root][m[1]] = strings.TrimSpace(m[3])
	}
	return out
}

// resolve follows a documented path (result.steps[*].reply) through ty.
func resolve(ty cty.Type, path string) (cty.Type, bool) {
	parts := strings.Split(path, ".")[1:]
	for _, p := range parts {
		list := strings.HasSuffix(p, "[*]")
		p = strings.TrimSuffix(p, "[*]")
		if !ty.IsObjectType() || !ty.HasAttribute(p) {
			return cty.NilType, false
		}
		ty = ty.AttributeType(p)
		if list {
			if !ty.IsListType() {
				return cty.NilType, false
			}
			ty = ty.ElementType()
		}
	}
	return ty, true
}

// paths lists the attribute paths of ty under prefix that the docs must
// document: every attribute, and those of the objects inside, but not
// inside the types documented in tables of their own.
func paths(ty cty.Type, prefix string) []string {
	var out []string
	for name, at := range ty.AttributeTypes() {
		p := prefix + "." + name
		out = append(out, p)
		switch {
		case isDocumentedType(at):
		case at.IsObjectType():
			out = append(out, paths(at, p)...)
		case at.IsListType() && at.ElementType().IsObjectType() && !isDocumentedType(at.ElementType()):
			out = append(out, paths(at.ElementType(), p+"[*]")...)
		}
	}
	sort.Strings(out)
	return out
}

func isDocumentedType(t cty.Type) bool {
	for _, d := range documentedTypes {
		if t.Equals(d) || t.Equals(cty.List(d)) {
			return true
		}
	}
	return false
}

// TestDocumentedResultAttributesExist: every attribute the docs give for
// assert blocks exists, with the type they give, and every attribute of
// the result object is documented.
func TestDocumentedResultAttributesExist(t *testing.T) {
	docs := documented(t)
	roots := map[string]struct {
		ty     cty.Type
		prefix string
	}{
		"smtp":        {suite.ResultType("smtp"), "result"},
		"dns":         {suite.ResultType("dns"), "result"},
		"reply":       {docReplyType, "reply"},
		"certificate": {docCertType, "certificate"},
		"lookup":      {docLookupType, "lookup"},
	}
	for root, r := range roots {
		rows := docs[root]
		if len(rows) == 0 {
			t.Errorf("no table documents the %s attributes", root)
			continue
		}
		for path, typeName := range rows {
			ty, ok := resolve(r.ty, path)
			if !ok {
				t.Errorf("%s (%s) is documented but does not exist", path, root)
				continue
			}
			test, known := docTypeNames[typeName]
			if !known {
				t.Errorf("%s: unknown type %q in the docs", path, typeName)
			} else if !test(ty) {
				t.Errorf("%s is documented as %s, but is %s", path, typeName, ty.FriendlyName())
			}
		}
		for _, p := range paths(r.ty, r.prefix) {
			if _, ok := rows[p]; !ok {
				t.Errorf("%s (%s) is not documented", p, root)
			}
		}
	}
}
