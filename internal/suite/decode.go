package suite

import (
	"fmt"
	"math/big"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// fileSchema is the top level of a suite file.
var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "suite"},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "endpoint", LabelNames: []string{"name"}},
		{Type: "smtp", LabelNames: []string{"label"}},
		{Type: "dns", LabelNames: []string{"label"}},
		{Type: "dnsbl", LabelNames: []string{"label"}},
		{Type: "device", LabelNames: []string{"label"}},
	},
}

var suiteSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name"},
		{Name: "description"},
		{Name: "parallel"},
	},
}

// decodeFile decodes a parsed file in dependency order: the suite block,
// variables (declared, then resolved, then validated), endpoints, checks.
func (d *decoder) decodeFile(body *hclsyntax.Body) *Suite {
	s := &Suite{
		Path:      d.filename,
		Name:      strings.TrimSuffix(filepath.Base(d.filename), ".hcl"),
		DeclRange: hcl.Range{Filename: d.filename, Start: hcl.InitialPos, End: hcl.InitialPos},
	}
	d.suite = s

	content, diags := d.content(body, fileSchema)
	d.add(diags...)

	var suiteBlock *hcl.Block
	var variableBlocks, endpointBlocks, smtpBlocks, dnsBlocks, dnsblBlocks, deviceBlocks []*hcl.Block
	for _, b := range content.Blocks {
		switch b.Type {
		case "suite":
			if suiteBlock != nil {
				d.duplicateBlock(b, suiteBlock, "in a file")
				continue
			}
			suiteBlock = b
		case "variable":
			variableBlocks = append(variableBlocks, b)
		case "endpoint":
			endpointBlocks = append(endpointBlocks, b)
		case "smtp":
			smtpBlocks = append(smtpBlocks, b)
		case "dns":
			dnsBlocks = append(dnsBlocks, b)
		case "dnsbl":
			dnsblBlocks = append(dnsblBlocks, b)
		case "device":
			deviceBlocks = append(deviceBlocks, b)
		}
	}

	d.decodeVariables(variableBlocks)
	if suiteBlock != nil {
		d.decodeSuiteBlock(suiteBlock)
	}
	for _, b := range endpointBlocks {
		if ep := d.decodeEndpoint(b); ep != nil {
			s.Endpoints = append(s.Endpoints, ep)
		}
	}
	var smtpLabels []string
	for _, b := range d.uniqueLabels(smtpBlocks) {
		smtpLabels = append(smtpLabels, b.Labels[0])
		if c := d.decodeSMTP(b); c != nil {
			s.Checks = append(s.Checks, c)
		}
	}
	for _, b := range d.uniqueLabels(dnsBlocks) {
		if c := d.decodeDNS(b); c != nil {
			s.DNSChecks = append(s.DNSChecks, c)
		}
	}
	for _, b := range d.uniqueLabels(dnsblBlocks) {
		if c := d.decodeDNSBL(b, smtpLabels); c != nil {
			s.DNSBLChecks = append(s.DNSBLChecks, c)
		}
	}
	for _, b := range d.uniqueLabels(deviceBlocks) {
		if dev := d.decodeDevice(b); dev != nil {
			s.Devices = append(s.Devices, dev)
		}
	}
	s.Sensitive = d.sensitiveValues()
	return s
}

// uniqueLabels returns the check blocks of one type whose labels were not
// used by an earlier block of that type, and reports the others.
func (d *decoder) uniqueLabels(blocks []*hcl.Block) []*hcl.Block {
	first := map[string]*hcl.Block{}
	var out []*hcl.Block
	for _, b := range blocks {
		label := b.Labels[0]
		if f := first[label]; f != nil {
			article := "A"
			if b.Type == "smtp" {
				article = "An"
			}
			d.errorAt(b.LabelRanges[0], "Duplicate check label",
				fmt.Sprintf("%s %s check labelled %q is already declared at %s; labels name checks in reports "+
					"and must be unique per block type.", article, b.Type, label, posString(f.DefRange)))
			continue
		}
		first[label] = b
		out = append(out, b)
	}
	return out
}

func (d *decoder) decodeSuiteBlock(b *hcl.Block) {
	d.suite.DeclRange = b.DefRange
	content, diags := d.content(b.Body, suiteSchema)
	d.add(diags...)
	if attr := content.Attributes["name"]; attr != nil {
		if name, _, ok := d.str(attr, false); ok {
			if strings.TrimSpace(name) == "" {
				d.errorAt(attr.Expr.Range(), "Invalid suite name", "The suite name must not be empty.")
			} else if err := checkLine(name); err != nil {
				d.errorAt(attr.Expr.Range(), "Invalid suite name", "The suite name "+err.Error()+".")
			} else {
				d.suite.Name = name
			}
		}
	}
	if attr := content.Attributes["description"]; attr != nil {
		if desc, _, ok := d.str(attr, false); ok {
			d.suite.Description = desc
		}
	}
	if attr := content.Attributes["parallel"]; attr != nil {
		if n, ok := d.integer(attr, 1, 1000, "parallel"); ok {
			d.suite.Parallel = n
		}
	}
}

// checkLabel rejects check labels that would break reports: empty ones and
// ones with line breaks or control characters.
func (d *decoder) checkLabel(b *hcl.Block) bool {
	label := b.Labels[0]
	if strings.TrimSpace(label) == "" {
		d.errorAt(b.LabelRanges[0], "Invalid check label", "A check label names the check in reports and must not be empty.")
		return false
	}
	for _, r := range label {
		if r < 0x20 || r == 0x7f {
			d.errorAt(b.LabelRanges[0], "Invalid check label",
				fmt.Sprintf("The label contains the control character %q; labels are shown on one line in reports.", r))
			return false
		}
	}
	return true
}

// identifierLabel checks that a variable or endpoint label can be referred
// to as var.<label> or endpoint.<label>.
func (d *decoder) identifierLabel(b *hcl.Block) bool {
	label := b.Labels[0]
	if hclsyntax.ValidIdentifier(label) {
		return true
	}
	d.errorAt(b.LabelRanges[0], fmt.Sprintf("Invalid %s name", b.Type),
		fmt.Sprintf("The name %q cannot be referred to as %s.%s: a name starts with a letter and holds only "+
			"letters, digits, underscores and hyphens.", label, refRoot(b.Type), label))
	return false
}

func refRoot(blockType string) string {
	if blockType == "variable" {
		return "var"
	}
	return blockType
}

// sensitiveValues collects what must be masked in every output: the
// values of sensitive variables (each element of a list; a number in
// cty's form and as it was written, 0123 as well as 123; bools are left
// out, masking "true" would hide too much), in the form they were given
// in and in cty's NFC form, and every auth password and token, oauth
// client secret and private key (whole and each line of its PEM).
func (d *decoder) sensitiveValues() []string {
	var out []string
	seen := map[string]bool{}
	addValue := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, name := range d.varNames {
		v := d.vars[name]
		if !v.Sensitive || v.Value == cty.NilVal || !v.Value.IsWhollyKnown() || v.Value.IsNull() {
			continue
		}
		raw := d.raw[name]
		switch {
		case v.Value.Type() == cty.String:
			addValue(v.Value.AsString())
			if raw.ok {
				addValue(raw.s)
			}
		case v.Value.Type() == cty.Number:
			addValue(v.Value.AsBigFloat().Text('f', -1))
			if decl := d.decls[name]; decl != nil {
				for _, w := range decl.written {
					addValue(strings.TrimSpace(w))
				}
			}
		case v.Value.Type().IsListType():
			for _, e := range v.Value.AsValueSlice() {
				if !e.IsNull() {
					addValue(e.AsString())
				}
			}
			for _, e := range raw.list {
				addValue(e)
			}
		}
	}
	for _, c := range d.suite.Checks {
		if c.Auth != nil {
			addValue(c.Auth.Password)
			addValue(cty.NormalizeString(c.Auth.Password))
			addValue(c.Auth.Token)
			addValue(cty.NormalizeString(c.Auth.Token))
			if o := c.Auth.OAuth; o != nil {
				addValue(o.ClientSecret)
				addValue(cty.NormalizeString(o.ClientSecret))
				for _, s := range privateKeyTexts(o.CertificatePEM, o.KeyPEM) {
					addValue(s)
				}
			}
		}
	}
	for _, c := range d.suite.DNSBLChecks {
		addValue(c.DQSKey)
	}
	for _, name := range d.endpointNames {
		if ep := d.endpoints[name]; ep != nil {
			for _, s := range ep.keyTexts {
				addValue(s)
			}
		}
	}
	return out
}

// numberText renders a cty number the way it was most likely written.
func numberText(f *big.Float) string { return f.Text('f', -1) }
