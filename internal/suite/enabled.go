package suite

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// PathIDs are the ways to send through Microsoft 365 after the Basic auth
// switch-off (end of December 2026) that an smtp check may say it proves
// (path = "oauth"), in the order of the knowledge base's data: SMTP AUTH
// with a password, SMTP AUTH with OAuth, High Volume Email, the Azure
// Communication Services relay, Direct Send and a relay connector. The
// decoder knows nothing of the knowledge base (docs/architecture.md); a
// test of package runner keeps this list equal to knowledge.Paths().
var PathIDs = []string{"basic_auth", "oauth", "hve", "acs_relay", "direct_send", "connector"}

// enabledSchema and pathSchema are the attributes evaluated before the
// rest of a check block.
var (
	enabledSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "enabled"}}}
	pathSchema    = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "path"}}}
)

// maxDisabledText bounds the source text of an enabled expression quoted
// in a disabled check's reason.
const maxDisabledText = 200

// disabled evaluates a check block's enabled attribute before anything
// else of the block, and returns why the check is left out of the run:
// "enabled = <the expression as written>" when it is false, "" when it
// is true, unset or null, or when its value is not known (smtpdiag
// validate without the variable's value: the block is then checked as
// if enabled) or has an error (reported; the block is checked too).
func (d *decoder) disabled(b *hcl.Block) string {
	content, _, _ := b.Body.PartialContent(enabledSchema)
	attr := content.Attributes["enabled"]
	if attr == nil {
		return ""
	}
	v, _, ok := d.attrValue(attr, cty.Bool, false)
	if !ok || v.True() {
		return ""
	}
	return "enabled = " + d.sourceText(attr.Expr.Range(), maxDisabledText)
}

// sourceText is the text of rng in the suite file on one line (runs of
// white space, line breaks included, become one space), cut to at most
// limit bytes at a rune boundary with "…".
func (d *decoder) sourceText(rng hcl.Range, limit int) string {
	if rng.Start.Byte < 0 || rng.End.Byte > len(d.src) || rng.Start.Byte > rng.End.Byte {
		return ""
	}
	text := strings.Join(strings.Fields(string(rng.SliceBytes(d.src))), " ")
	if len(text) <= limit {
		return text
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}

// checkPath decodes an smtp block's path attribute: one of PathIDs, at
// most one check per path in a file. A disabled check keeps its path, so
// that the path shows as not tested. "" when unset, null, not known
// (validate) or wrong (reported).
func (d *decoder) checkPath(b *hcl.Block) string {
	content, _, _ := b.Body.PartialContent(pathSchema)
	attr := content.Attributes["path"]
	if attr == nil {
		return ""
	}
	p, sens, ok := d.str(attr, false)
	if !ok {
		return ""
	}
	id := strings.TrimSpace(p)
	known := false
	for _, k := range PathIDs {
		known = known || id == k
	}
	if !known {
		d.errorAt(attr.Expr.Range(), "Invalid path",
			fmt.Sprintf("path is %s; it names the way to send after the Basic auth switch-off that the check proves, "+
				"one of %s.%s", show(p, sens), strings.Join(PathIDs, ", "), suggestion(id, PathIDs)))
		return ""
	}
	if first, dup := d.paths[id]; dup {
		d.errorAt(attr.Expr.Range(), "Duplicate path",
			fmt.Sprintf("The smtp check at %s already proves the path %q; a suite proves each path with at most one "+
				"check, so that its matrix of the ways to send has one verdict per path.", posString(first), id))
		return ""
	}
	d.paths[id] = b.DefRange
	return id
}

// shape checks a disabled check's block without evaluating anything:
// every argument and block is one its kind has, and the required ones
// are there, so that a misspelt name is found also while a block is
// disabled. References and values are not checked: the block's body is
// not decoded.
type shape struct {
	schema *hcl.BodySchema
	blocks map[string]shape
}

// check reports what in body does not fit the shape.
func (s shape) check(d *decoder, body hcl.Body) {
	content, diags := d.content(body, s.schema)
	d.add(diags...)
	for _, b := range content.Blocks {
		if inner, ok := s.blocks[b.Type]; ok {
			inner.check(d, b.Body)
		}
	}
}

// The shapes of the check blocks, for disabled checks.
var (
	smtpShape = shape{smtpSchema, map[string]shape{
		"auth":    {authSchema, map[string]shape{"oauth": {schema: oauthSchema}}},
		"message": {schema: messageSchema},
		"retry":   {schema: retrySchema},
		"expect":  {schema: expectSchema},
		"assert":  {schema: assertSchema},
	}}
	dnsShape = shape{dnsSchema, map[string]shape{
		"expect": {schema: dnsExpectSchema},
		"assert": {schema: assertSchema},
	}}
	dnsblShape = shape{dnsblSchema, map[string]shape{"expect": {schema: dnsblExpectSchema}}}
)
