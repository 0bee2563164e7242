package knowledge

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// pathFiles are the ways a device or app can still send through Microsoft
// 365 once Basic authentication for SMTP AUTH is off by default (end of
// December 2026): one JSON file of paths, each fact with its sources. It
// lives apart from kb/*.json because its entries are no reply codes.
//
//go:embed kb/paths/paths.json
var pathFiles embed.FS

// pathsFile is the file of pathFiles that holds the paths.
const pathsFile = "kb/paths/paths.json"

// Standing says how well a fact of the paths is established.
type Standing string

const (
	// Documented: a Microsoft page states it.
	Documented Standing = "documented"
	// Unverified: only third parties state it, or Microsoft's pages leave
	// the deciding part open; its text says UNVERIFIED.
	Unverified Standing = "unverified"
	// NotKnown: nothing reliable was found; its text says "not known".
	NotKnown Standing = "not_known"
)

// Publishers of a path source.
const (
	publisherMicrosoft  = "microsoft"
	publisherThirdParty = "third_party"
)

// PathSource is a page facts of the paths were taken from, named by an id
// the facts refer to, and who published it: a fact that only third
// parties state is never Documented.
type PathSource struct {
	ID string `json:"id"`
	Source
	Publisher string `json:"publisher"`
}

// Fact is one statement about a path, in the project's words, with its
// sources and how well they establish it. Value is the machine-readable
// part the rules of DecidePaths read ("1.2", "starttls", "XOAUTH2"),
// where the field has one.
type Fact struct {
	Value    string   `json:"value,omitempty"`
	Text     string   `json:"text"`
	Standing Standing `json:"standing"`
	// Sources are ids of the file's sources.
	Sources []string `json:"sources,omitempty"`
}

// PathEndpoint is where a device sends on a path.
type PathEndpoint struct {
	Host Fact `json:"host"`
	// Ports: the documented ports, space-separated ("587 25").
	Ports Fact `json:"ports"`
	// TLS: "starttls" (required before anything else) or "optional".
	TLS Fact `json:"tls"`
	// ImplicitTLS: "device_unsupported" (Microsoft says a device that
	// defaults to port 465 cannot use the path) or "not_known".
	ImplicitTLS Fact `json:"implicit_tls"`
}

// PathNeeds is what a path needs of the device and of the tenant.
type PathNeeds struct {
	// MinTLS: the oldest TLS version the endpoint accepts ("1.2").
	MinTLS Fact `json:"min_tls"`
	// ECDHE: whether a TLS 1.2 handshake needs an ECDHE suite: "required",
	// "not_required", "disputed" (sources disagree) or "not_known".
	ECDHE Fact `json:"ecdhe"`
	// Auth: one fact per SASL mechanism accepted (LOGIN, PLAIN, CRAM-MD5,
	// XOAUTH2), or a single "none" for a path without AUTH.
	Auth []Fact `json:"auth"`
	// StaticIP: "no", "recommended" or "or_certificate".
	StaticIP Fact `json:"static_ip"`
	// Certificate: "no" or "or_static_ip" (a client certificate).
	Certificate Fact `json:"certificate"`
	// Mailbox: "licensed", "hve_account" or "none".
	Mailbox Fact `json:"mailbox"`
	// EntraApp: "required", "optional" or "no".
	EntraApp Fact `json:"entra_app"`
	// Other needs, in the device's or the tenant's court.
	Other []Fact `json:"other,omitempty"`
}

// Path is one way to send through Microsoft 365: what it is, where the
// device sends, what it needs, whom it reaches, its limits and timeline,
// and how to set it up, in order.
type Path struct {
	// ID: basic_auth, oauth, hve, acs_relay, direct_send, connector.
	ID      string `json:"id"`
	Name    string `json:"name"`
	Short   string `json:"short"`
	Summary string `json:"summary"`

	Endpoint   PathEndpoint `json:"endpoint"`
	Needs      PathNeeds    `json:"needs"`
	Recipients Fact         `json:"recipients"` // "internal" or "any"
	Limits     []Fact       `json:"limits"`
	Status     []Fact       `json:"status"`
	// AfterSwitchOff: "disabled_by_default" or "unaffected".
	AfterSwitchOff Fact   `json:"after_switch_off"`
	Setup          []Fact `json:"setup"`
}

// Values of the facts the rules read.
const (
	tlsStartTLS = "starttls"
	tlsOptional = "optional"

	implicitUnsupported = "device_unsupported"

	ecdheRequired    = "required"
	ecdheNotRequired = "not_required"
	ecdheDisputed    = "disputed"
	ecdheNotKnown    = "not_known"

	authNone = "none"

	recipientsInternal = "internal"

	switchOffDisabled = "disabled_by_default"
)

// pathFields lists the enumerated values of each rule field.
var pathFields = map[string][]string{
	"endpoint.tls":          {tlsStartTLS, tlsOptional},
	"endpoint.implicit_tls": {implicitUnsupported, "not_known"},
	"needs.min_tls":         {"1.2", "1.3"},
	"needs.ecdhe":           {ecdheRequired, ecdheNotRequired, ecdheDisputed, ecdheNotKnown},
	"needs.auth":            {"LOGIN", "PLAIN", "CRAM-MD5", "XOAUTH2", authNone},
	"needs.static_ip":       {"no", "recommended", "or_certificate"},
	"needs.certificate":     {"no", "or_static_ip"},
	"needs.mailbox":         {"licensed", "hve_account", "none"},
	"needs.entra_app":       {"required", "optional", "no"},
	"recipients":            {recipientsInternal, "any"},
	"after_switch_off":      {switchOffDisabled, "unaffected"},
}

// tlsVersions maps the MinTLS values to crypto/tls constants.
var tlsVersions = map[string]uint16{"1.2": esmtp.VersionTLS12, "1.3": esmtp.VersionTLS13}

// pathBase is the loaded paths file.
type pathBase struct {
	paths   []Path
	sources map[string]PathSource
}

var pathData = sync.OnceValues(func() (*pathBase, error) { return loadPaths(pathFiles, pathsFile) })

var (
	pathIDPattern   = regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	sourceIDPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// loadPaths reads the paths file name from fsys and checks it against the
// schema: known fields only, every rule field one of its values, every
// fact with a valid standing that its sources bear out, every source
// used and every reference resolved.
func loadPaths(fsys fs.FS, name string) (*pathBase, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	var file struct {
		Sources []PathSource `json:"sources"`
		Paths   []Path       `json:"paths"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	base := &pathBase{paths: file.Paths, sources: map[string]PathSource{}}
	for _, s := range file.Sources {
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		if _, dup := base.sources[s.ID]; dup {
			return nil, fmt.Errorf("%s: source %s is defined twice", name, s.ID)
		}
		base.sources[s.ID] = s
	}
	if len(file.Paths) == 0 {
		return nil, fmt.Errorf("%s: no paths", name)
	}
	used := map[string]bool{}
	ids := map[string]bool{}
	for i := range file.Paths {
		p := &file.Paths[i]
		if err := p.check(base.sources, used); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		if ids[p.ID] {
			return nil, fmt.Errorf("%s: path %s is defined twice", name, p.ID)
		}
		ids[p.ID] = true
	}
	for _, s := range file.Sources {
		if !used[s.ID] {
			return nil, fmt.Errorf("%s: source %s is not used by any fact", name, s.ID)
		}
	}
	return base, nil
}

// check validates a source: an id, an https page of microsoft.com for a
// Microsoft source, an http(s) page for a third party, a title and the
// day it was read.
func (s PathSource) check() error {
	if !sourceIDPattern.MatchString(s.ID) {
		return fmt.Errorf("source id %q: lower-case words and digits joined by hyphens", s.ID)
	}
	u, err := url.Parse(s.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("source %s: URL %q", s.ID, s.URL)
	}
	switch s.Publisher {
	case publisherMicrosoft:
		if u.Scheme != "https" || (u.Host != "microsoft.com" && !strings.HasSuffix(u.Host, ".microsoft.com")) {
			return fmt.Errorf("source %s: a Microsoft source must be an https page on microsoft.com, not %s", s.ID, s.URL)
		}
	case publisherThirdParty:
		if u.Scheme != "https" && u.Scheme != "http" {
			return fmt.Errorf("source %s: URL %q", s.ID, s.URL)
		}
	default:
		return fmt.Errorf("source %s: publisher %q is not microsoft or third_party", s.ID, s.Publisher)
	}
	if strings.TrimSpace(s.Title) == "" || !datePattern.MatchString(s.Read) {
		return fmt.Errorf("source %s: needs a title and the day it was read (YYYY-MM-DD)", s.ID)
	}
	return nil
}

// check validates a fact at where: text, a standing its sources and text
// bear out, and known source ids, which it marks used.
func (f Fact) check(where string, sources map[string]PathSource, used map[string]bool) error {
	if strings.TrimSpace(f.Text) == "" {
		return fmt.Errorf("%s: no text", where)
	}
	microsoft := false
	for _, id := range f.Sources {
		s, ok := sources[id]
		if !ok {
			return fmt.Errorf("%s: unknown source %q", where, id)
		}
		used[id] = true
		microsoft = microsoft || s.Publisher == publisherMicrosoft
	}
	marked := strings.Contains(f.Text, "UNVERIFIED")
	switch f.Standing {
	case Documented:
		if !microsoft {
			return fmt.Errorf("%s: a documented fact needs a Microsoft source; with third-party sources only it is unverified", where)
		}
		if marked {
			return fmt.Errorf("%s: a documented fact must not say UNVERIFIED", where)
		}
	case Unverified:
		if len(f.Sources) == 0 || !marked {
			return fmt.Errorf("%s: an unverified fact needs a source and must say UNVERIFIED", where)
		}
	case NotKnown:
		if marked || !strings.Contains(strings.ToLower(f.Text), "not known") {
			return fmt.Errorf("%s: a fact whose standing is not_known must say \"not known\"", where)
		}
	default:
		return fmt.Errorf("%s: standing %q is not documented, unverified or not_known", where, f.Standing)
	}
	return nil
}

// checkValue validates fact f of rule field field: its own check, and a
// value from pathFields.
func (f Fact) checkValue(id, field string, sources map[string]PathSource, used map[string]bool) error {
	where := id + ": " + field
	if err := f.check(where, sources, used); err != nil {
		return err
	}
	if !slices.Contains(pathFields[field], f.Value) {
		return fmt.Errorf("%s: value %q is not one of %s", where, f.Value, strings.Join(pathFields[field], ", "))
	}
	return nil
}

// check validates a path against the schema and marks the sources its
// facts use.
func (p *Path) check(sources map[string]PathSource, used map[string]bool) error {
	if !pathIDPattern.MatchString(p.ID) {
		return fmt.Errorf("path id %q: lower-case words joined by underscores", p.ID)
	}
	if p.Name == "" || p.Short == "" || p.Summary == "" {
		return fmt.Errorf("%s: name, short and summary are required", p.ID)
	}
	e, n := &p.Endpoint, &p.Needs
	for _, f := range []struct {
		field string
		fact  Fact
	}{
		{"endpoint.tls", e.TLS}, {"endpoint.implicit_tls", e.ImplicitTLS}, {"needs.min_tls", n.MinTLS},
		{"needs.ecdhe", n.ECDHE}, {"needs.static_ip", n.StaticIP}, {"needs.certificate", n.Certificate},
		{"needs.mailbox", n.Mailbox}, {"needs.entra_app", n.EntraApp}, {"recipients", p.Recipients},
		{"after_switch_off", p.AfterSwitchOff},
	} {
		if err := f.fact.checkValue(p.ID, f.field, sources, used); err != nil {
			return err
		}
	}
	if err := e.Host.check(p.ID+": endpoint.host", sources, used); err != nil {
		return err
	}
	if e.Host.Value == "" {
		return fmt.Errorf("%s: endpoint.host: no host", p.ID)
	}
	if err := e.Ports.check(p.ID+": endpoint.ports", sources, used); err != nil {
		return err
	}
	if len(portsOf(e.Ports)) == 0 || len(portsOf(e.Ports)) != len(strings.Fields(e.Ports.Value)) {
		return fmt.Errorf("%s: endpoint.ports: %q is not a list of ports", p.ID, e.Ports.Value)
	}
	if len(n.Auth) == 0 {
		return fmt.Errorf("%s: needs.auth: no mechanism (write \"none\" for a path without AUTH)", p.ID)
	}
	for i, a := range n.Auth {
		if err := a.checkValue(p.ID, "needs.auth", sources, used); err != nil {
			return fmt.Errorf("%v (mechanism %d)", err, i+1)
		}
		if a.Value == authNone && len(n.Auth) > 1 {
			return fmt.Errorf("%s: needs.auth: \"none\" excludes every mechanism", p.ID)
		}
	}
	if (n.StaticIP.Value == "or_certificate") != (n.Certificate.Value == "or_static_ip") {
		return fmt.Errorf("%s: needs.static_ip or_certificate and needs.certificate or_static_ip go together", p.ID)
	}
	lists := []struct {
		field string
		facts []Fact
		min   int
	}{{"needs.other", n.Other, 0}, {"limits", p.Limits, 1}, {"status", p.Status, 1}, {"setup", p.Setup, 1}}
	for _, l := range lists {
		if len(l.facts) < l.min {
			return fmt.Errorf("%s: %s: at least %d", p.ID, l.field, l.min)
		}
		for i, f := range l.facts {
			if err := f.check(fmt.Sprintf("%s: %s %d", p.ID, l.field, i+1), sources, used); err != nil {
				return err
			}
		}
	}
	return nil
}

// portsOf reads the ports of a Ports fact, skipping what is not a port.
func portsOf(f Fact) []int {
	var out []int
	for _, w := range strings.Fields(f.Value) {
		if n, err := strconv.Atoi(w); err == nil && n > 0 && n < 65536 {
			out = append(out, n)
		}
	}
	return out
}

// Paths returns the migration paths in the order of the data file. The
// embedded file is checked by the package's tests; should it still not
// load, there are none.
func Paths() []Path {
	base, err := pathData()
	if err != nil {
		return nil
	}
	return slices.Clone(base.paths)
}

// URLs returns the addresses of the fact's sources.
func (f Fact) URLs() []string {
	base, err := pathData()
	if err != nil {
		return nil
	}
	return base.urls(f)
}

func (b *pathBase) urls(f Fact) []string {
	var out []string
	for _, id := range f.Sources {
		if s, ok := b.sources[id]; ok {
			out = append(out, s.URL)
		}
	}
	return out
}

// DeviceOffer is what a device was seen to do when it sent to smtpdiag
// (listen), the evidence DecidePaths judges.
type DeviceOffer struct {
	// TLSVersions are the versions its ClientHello offered (crypto/tls
	// constants); nil when no TLS handshake was seen.
	TLSVersions []uint16
	// ECDHE: whether the ClientHello offered an ECDHE suite; nil when not
	// known.
	ECDHE *bool
	// StartTLS: the device sent STARTTLS.
	StartTLS bool
	// ImplicitTLS: the device began with a TLS handshake (as on port 465).
	ImplicitTLS bool
	// AuthMechanisms are the SASL mechanisms the device used or tried
	// (LOGIN, PLAIN, CRAM-MD5, XOAUTH2).
	AuthMechanisms []string
	// Port is the port it connected to.
	Port int
	// SentWithoutAuth: it sent MAIL FROM without AUTH.
	SentWithoutAuth bool
}

// OfferOf reads a device session (smtpdiag listen) as the evidence
// DecidePaths judges: the ClientHello's versions and ECDHE, STARTTLS or
// implicit TLS, the AUTH mechanisms in order, the listening port, and
// whether the device sent MAIL FROM without any AUTH command.
func OfferOf(s *result.DeviceSession) DeviceOffer {
	o := DeviceOffer{StartTLS: s.StartTLS, ImplicitTLS: s.ImplicitTLS}
	if h := s.ClientHello; h != nil {
		for _, name := range h.Versions {
			for _, v := range []uint16{0x0300, esmtp.VersionTLS10, esmtp.VersionTLS11, esmtp.VersionTLS12, esmtp.VersionTLS13} {
				if esmtp.TLSVersion(v) == name {
					o.TLSVersions = append(o.TLSVersions, v)
				}
			}
		}
		ecdhe := h.ECDHE
		o.ECDHE = &ecdhe
	}
	for _, a := range s.Auth {
		o.AuthMechanisms = append(o.AuthMechanisms, a.Mechanism)
	}
	if i := strings.LastIndexByte(s.Listen, ':'); i >= 0 {
		o.Port, _ = strconv.Atoi(s.Listen[i+1:])
	}
	o.SentWithoutAuth = len(s.Auth) == 0 && (s.MailFrom != nil || len(s.Messages) > 0)
	return o
}

// String describes the offer in a few words: "TLS 1.2 with ECDHE and AUTH
// LOGIN only", "plaintext on port 25 without AUTH".
func (o DeviceOffer) String() string {
	var b strings.Builder
	versions := tlsVersionNames(o.TLSVersions)
	switch {
	case len(o.TLSVersions) == 0 && !o.StartTLS && !o.ImplicitTLS:
		b.WriteString("plaintext")
		if o.Port > 0 {
			fmt.Fprintf(&b, " on port %d", o.Port)
		}
	case o.ImplicitTLS && !o.StartTLS:
		b.WriteString("implicit TLS")
		if o.Port > 0 {
			fmt.Fprintf(&b, " on port %d", o.Port)
		}
		if versions != "" {
			b.WriteString(" (" + versions + ")")
		}
	case versions == "":
		b.WriteString("STARTTLS (TLS versions not recorded)")
	case maxVersion(o.TLSVersions) < esmtp.VersionTLS12:
		b.WriteString("only " + versions)
	default:
		b.WriteString(versions)
	}
	if o.ECDHE != nil && (len(o.TLSVersions) > 0 || o.StartTLS || o.ImplicitTLS) {
		if *o.ECDHE {
			b.WriteString(" with ECDHE")
		} else {
			b.WriteString(" without ECDHE")
		}
	}
	mechs := normalMechanisms(o.AuthMechanisms)
	switch {
	case len(mechs) == 1:
		b.WriteString(" and AUTH " + mechs[0] + " only")
	case len(mechs) > 1:
		b.WriteString(" and AUTH " + joinWords(mechs, "and"))
	case o.SentWithoutAuth:
		b.WriteString(" without AUTH")
	}
	return b.String()
}

// tlsVersionNames writes versions as "TLS 1.0 and 1.1", oldest first.
func tlsVersionNames(versions []uint16) string {
	vs := slices.Clone(versions)
	slices.Sort(vs)
	vs = slices.Compact(vs)
	if len(vs) == 0 {
		return ""
	}
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = esmtp.TLSVersion(v)
	}
	return "TLS " + joinWords(names, "and")
}

// maxVersion is the newest version offered, 0 for none.
func maxVersion(versions []uint16) uint16 {
	var best uint16
	for _, v := range versions {
		best = max(best, v)
	}
	return best
}

// normalMechanisms upper-cases, trims and de-duplicates mechanism names,
// keeping their order.
func normalMechanisms(mechs []string) []string {
	var out []string
	for _, m := range mechs {
		m = strings.ToUpper(strings.TrimSpace(m))
		if m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// joinWords joins words as prose: "a", "a and b", "a, b and c".
func joinWords(words []string, conj string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + conj + " " + words[len(words)-1]
}

// Verdict says whether a path is open to a device: Yes, Maybe (it depends
// on something the evidence does not show, or on an unsettled fact) or
// No.
type Verdict int

const (
	No Verdict = iota
	Maybe
	Yes
)

func (v Verdict) String() string {
	switch v {
	case Yes:
		return "yes"
	case Maybe:
		return "maybe"
	}
	return "no"
}

// MarshalText writes the verdict as its name, for JSON.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// PathVerdict is the verdict on one path, with the reasons (one sentence
// each, the deciding one first), what else the path needs, and the pages
// the facts behind them come from.
type PathVerdict struct {
	Path   string
	Name   string
	Short  string
	Usable Verdict
	// Recipients: "internal" or "any", whom the path reaches.
	Recipients string
	// Basis is what the verdict rests on: the device's offer, or a run.
	Basis   string
	Reasons []string
	Needs   []string
	Sources []string
}

// reason is one sentence of a verdict and how far it lowers the verdict.
type reason struct {
	level Verdict
	text  string
}

// decision gathers the reasons, needs and sources of one path's verdict.
type decision struct {
	base    *pathBase
	path    *Path
	level   Verdict
	reasons []reason
	needs   []string
	sources []string
}

func newDecision(base *pathBase, p *Path) *decision {
	return &decision{base: base, path: p, level: Yes}
}

// add records a reason at level, citing facts.
func (d *decision) add(level Verdict, text string, facts ...Fact) {
	d.level = min(d.level, level)
	d.reasons = append(d.reasons, reason{level, text})
	d.cite(facts...)
}

// need records what the path still needs, citing facts.
func (d *decision) need(text string, facts ...Fact) {
	if !slices.Contains(d.needs, text) {
		d.needs = append(d.needs, text)
	}
	d.cite(facts...)
}

func (d *decision) cite(facts ...Fact) {
	for _, f := range facts {
		for _, u := range d.base.urls(f) {
			if !slices.Contains(d.sources, u) {
				d.sources = append(d.sources, u)
			}
		}
	}
}

// levelOf is how far a violated requirement lowers a verdict: a
// documented one rules the path out, an unverified or unknown one leaves
// it open.
func levelOf(f Fact) Verdict {
	if f.Standing == Documented {
		return No
	}
	return Maybe
}

// marker is what a sentence resting on f says about its standing.
func marker(f Fact) string {
	switch f.Standing {
	case Unverified:
		return " (UNVERIFIED)"
	case NotKnown:
		return " (not known)"
	}
	return ""
}

// verdict finishes the decision: reasons ordered by how far they lower
// the verdict (the deciding one first), with pathNeeds the path's own
// needs after the rules' ones, and at least the endpoint's source.
func (d *decision) verdict(basis string, pathNeeds bool) PathVerdict {
	p := d.path
	n := &p.Needs
	if pathNeeds {
		for _, f := range []Fact{n.Mailbox, n.EntraApp, n.StaticIP, n.Certificate} {
			if f.Value != "none" && f.Value != "no" {
				d.need(f.Text, f)
			}
		}
		for _, f := range n.Other {
			d.need(f.Text, f)
		}
	}
	d.cite(p.Endpoint.Host)
	sort.SliceStable(d.reasons, func(i, j int) bool { return d.reasons[i].level < d.reasons[j].level })
	v := PathVerdict{
		Path: p.ID, Name: p.Name, Short: p.Short, Usable: d.level, Recipients: p.Recipients.Value, Basis: basis,
		Needs: d.needs, Sources: d.sources,
	}
	for _, r := range d.reasons {
		v.Reasons = append(v.Reasons, r.text)
	}
	return v
}

// DecidePaths judges, from what a device was seen to do, which paths it
// can use once Basic authentication for SMTP AUTH is off by default, one
// verdict per path in the data's order. The rules read the facts of each
// path: its switch-off status, TLS mode and minimum version, ECDHE,
// implicit TLS, AUTH mechanisms, static IP or certificate, and recipient
// scope; a requirement the evidence violates rules a path out when
// Microsoft documents it and leaves it open (Maybe) when it is unverified
// or not known; what the evidence cannot show (XOAUTH2 firmware, a static
// IP) is Maybe with the need stated.
func DecidePaths(o DeviceOffer) []PathVerdict {
	base, err := pathData()
	if err != nil {
		return nil
	}
	basis := o.String()
	var out []PathVerdict
	for i := range base.paths {
		p := &base.paths[i]
		d := newDecision(base, p)
		if p.AfterSwitchOff.Value == switchOffDisabled {
			d.add(No, p.AfterSwitchOff.Text, p.AfterSwitchOff)
		}
		d.transport(o)
		d.auth(o)
		d.identity()
		if p.Recipients.Value == recipientsInternal {
			d.add(Yes, "It reaches only recipients inside the tenant.", p.Recipients)
		}
		out = append(out, d.verdict(basis, true))
	}
	return out
}

// transport applies the rules on implicit TLS, TLS versions and ECDHE.
func (d *decision) transport(o DeviceOffer) {
	p := d.path
	e, n := &p.Endpoint, &p.Needs
	host, minName := e.Host.Value, n.MinTLS.Value
	required := e.TLS.Value == tlsStartTLS
	ports := joinWords(strings.Fields(e.Ports.Value), "or")
	port := "port 465"
	if o.Port > 0 {
		port = fmt.Sprintf("port %d", o.Port)
	}
	if o.ImplicitTLS && !o.StartTLS {
		switch {
		case e.ImplicitTLS.Value == implicitUnsupported:
			d.add(levelOf(e.ImplicitTLS), fmt.Sprintf("It used implicit TLS (%s), and Microsoft says a device that recommends or defaults to port 465 does not support SMTP AUTH client submission, which %s on %s is%s.",
				port, p.Short, host, marker(e.ImplicitTLS)), e.ImplicitTLS)
		case required:
			d.add(Maybe, fmt.Sprintf("It used implicit TLS (%s), but %s is documented with STARTTLS on port %s: only if the device can be switched to STARTTLS.",
				port, host, ports), e.ImplicitTLS, e.Ports)
		default:
			d.add(Maybe, fmt.Sprintf("It used implicit TLS (%s), but %s takes mail on port %s: only if the device can send there, with STARTTLS or without TLS.",
				port, host, ports), e.ImplicitTLS, e.Ports)
		}
		d.need(e.ImplicitTLS.Text, e.ImplicitTLS)
	}
	sawTLS := len(o.TLSVersions) > 0 || o.StartTLS || o.ImplicitTLS
	if !sawTLS {
		if required {
			d.add(Maybe, fmt.Sprintf("It sent without TLS in this test, and %s requires STARTTLS with TLS %s or newer: only if the device can be set to use STARTTLS.",
				host, minName), e.TLS, n.MinTLS)
			d.need(n.MinTLS.Text, n.MinTLS)
		} else {
			d.add(Yes, fmt.Sprintf("It sent without TLS, which %s accepts (TLS is optional there).", host), e.TLS)
		}
		return
	}
	best, least := maxVersion(o.TLSVersions), tlsVersions[minName]
	switch {
	case best == 0:
		d.need(fmt.Sprintf("TLS %s or newer (the versions the device offered were not recorded): %s", minName, n.MinTLS.Text), n.MinTLS)
	case best < least && required:
		d.add(levelOf(n.MinTLS), fmt.Sprintf("It offers only %s, but %s requires TLS %s or newer%s.",
			tlsVersionNames(o.TLSVersions), host, minName, marker(n.MinTLS)), n.MinTLS)
		d.need(n.MinTLS.Text, n.MinTLS)
		return
	case best < least:
		d.add(Maybe, fmt.Sprintf("It offers only %s, which %s refuses, so it reaches %s only if it then carries on without TLS (not seen in this test).",
			tlsVersionNames(o.TLSVersions), host, p.Short), n.MinTLS, e.TLS)
		d.need(n.MinTLS.Text, n.MinTLS)
		return
	case required:
		d.add(Yes, fmt.Sprintf("It offers TLS %s, and %s needs TLS %s or newer.", esmtp.TLSVersion(best), host, minName), n.MinTLS)
	default:
		d.add(Yes, fmt.Sprintf("It offers TLS %s, which %s accepts when TLS is used.", esmtp.TLSVersion(best), host), n.MinTLS)
	}
	d.ecdhe(o)
}

// ecdhe applies the rule on ECDHE suites to a device that can do the
// endpoint's TLS version.
func (d *decision) ecdhe(o DeviceOffer) {
	f, host := d.path.Needs.ECDHE, d.path.Endpoint.Host.Value
	if f.Value == ecdheNotRequired {
		return
	}
	if o.ECDHE == nil {
		d.need("ECDHE cipher suites (the device's suites were not recorded): "+f.Text, f)
		return
	}
	if *o.ECDHE {
		return
	}
	switch f.Value {
	case ecdheRequired:
		d.add(levelOf(f), fmt.Sprintf("It offers no ECDHE cipher suite, which %s requires%s.", host, marker(f)), f)
	case ecdheDisputed:
		d.add(Maybe, fmt.Sprintf("It offers no ECDHE cipher suite, and whether %s still accepts RSA key exchange is disputed (UNVERIFIED reports of failures).", host), f)
	default:
		d.add(Maybe, fmt.Sprintf("It offers no ECDHE cipher suite, and whether %s accepts RSA key exchange is not known.", host), f)
	}
	d.need(f.Text, f)
}

// auth applies the rules on AUTH: a mechanism the path accepts, or none
// for a path without AUTH.
func (d *decision) auth(o DeviceOffer) {
	p := d.path
	used := normalMechanisms(o.AuthMechanisms)
	accepted := p.Needs.Auth
	if len(accepted) == 1 && accepted[0].Value == authNone {
		switch {
		case o.SentWithoutAuth:
			d.add(Yes, fmt.Sprintf("It sent without AUTH, as %s expects.", p.Short), accepted[0])
		case len(used) > 0:
			d.add(Maybe, fmt.Sprintf("It authenticated (AUTH %s) in this test, and %s takes no AUTH: only if the device can be set to send without authentication.",
				joinWords(used, "and"), p.Short), accepted[0])
		default:
			d.add(Maybe, fmt.Sprintf("It never reached MAIL FROM in this test, so whether it can send without AUTH, as %s needs, was not seen.", p.Short), accepted[0])
		}
		return
	}
	var names []string
	for _, f := range accepted {
		names = append(names, f.Value)
		if slices.Contains(used, f.Value) {
			d.add(Yes, fmt.Sprintf("It used AUTH %s, which %s accepts%s.", f.Value, p.Short, marker(f)), f)
			d.need(f.Text, f)
			return
		}
	}
	want := joinWords(names, "or")
	switch {
	case len(used) > 0:
		d.add(Maybe, fmt.Sprintf("It used AUTH %s, and %s needs AUTH %s: only if its firmware supports %s (not seen in this test).",
			joinWords(used, "and"), p.Short, want, want), accepted...)
	case o.SentWithoutAuth:
		d.add(Maybe, fmt.Sprintf("It sent without AUTH in this test, and %s needs AUTH %s: only if the device can be set to authenticate that way.",
			p.Short, want), accepted...)
	default:
		d.add(Maybe, fmt.Sprintf("No AUTH was seen in this test, and %s needs AUTH %s: only if the device supports it.", p.Short, want), accepted...)
	}
	for _, f := range accepted {
		d.need(f.Text, f)
	}
}

// identity applies the rule on a static public IP or certificate, which
// no device session can show.
func (d *decision) identity() {
	n := &d.path.Needs
	if n.StaticIP.Value == "or_certificate" {
		d.add(Maybe, fmt.Sprintf("%s must recognise the device by its site's static public IP address or by a certificate in an accepted domain, which this test cannot see: only if one of them is available.",
			capitalize(d.path.Short)), n.StaticIP, n.Certificate)
	}
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Summary sums verdicts up in one line: what rests on what, which paths
// are out, which are open, which remain: "TLS 1.2 with ECDHE and AUTH
// LOGIN only: Basic auth is out; maybe OAuth, Direct Send or a connector;
// HVE or the ACS relay remain".
func Summary(verdicts []PathVerdict) string {
	var out, maybe, yes []string
	basis := ""
	for i, v := range verdicts {
		if i == 0 {
			basis = v.Basis
		} else if v.Basis != basis {
			basis = ""
		}
		switch v.Usable {
		case No:
			out = append(out, v.Short)
		case Maybe:
			maybe = append(maybe, v.Short)
		default:
			yes = append(yes, v.Short)
		}
	}
	var parts []string
	switch len(out) {
	case 0:
	case 1:
		parts = append(parts, out[0]+" is out")
	default:
		parts = append(parts, joinWords(out, "and")+" are out")
	}
	if len(maybe) > 0 {
		parts = append(parts, "maybe "+joinWords(maybe, "or"))
	}
	switch len(yes) {
	case 0:
		parts = append(parts, "nothing remains for certain")
	case 1:
		parts = append(parts, yes[0]+" remains")
	default:
		parts = append(parts, joinWords(yes, "or")+" remain")
	}
	line := strings.Join(parts, "; ")
	if basis != "" {
		line = basis + ": " + line
	}
	return line
}

// PathResult is how a path's check ended in a run.
type PathResult int

const (
	// PathNotTested: the run had no check for the path, or it was skipped.
	PathNotTested PathResult = iota
	// PathPassed: the path's check passed.
	PathPassed
	// PathFailed: the path's check failed.
	PathFailed
)

// PathRun is the outcome of one path's check in a run: its result, for a
// failure the first failure's text ("unexpected 535 5.7.139 at AUTH"),
// and for a check that was not tested why, when the run knows ("its
// check was skipped (enabled = var.client_id != \"\")").
type PathRun struct {
	Result  PathResult
	Failure string
	Note    string
}

// runBasis is the Basis of verdicts from a run.
const runBasis = "this run (this tenant, this machine)"

// replyInText finds a reply with an enhanced code in a failure's text:
// "535 5.7.139".
var replyInText = regexp.MustCompile(`\b([245]\d\d)[ -]([245]\.\d{1,3}\.\d{1,3})\b`)

// PathsFromRun turns a run's outcomes, by path id, into verdicts with
// "works today for this tenant from this machine" semantics, one per path
// in the data's order, so that a summary prints one matrix for a device
// and for a run: a passed check is Yes, or Maybe where the switch-off
// disables the path by default, a failed one No with its failure and what the knowledge
// base says of its reply, a path without a check Maybe. Ids that name no
// path are ignored.
func PathsFromRun(runs map[string]PathRun) []PathVerdict {
	base, err := pathData()
	if err != nil {
		return nil
	}
	var out []PathVerdict
	for i := range base.paths {
		p := &base.paths[i]
		d := newDecision(base, p)
		run := runs[p.ID]
		switch run.Result {
		case PathPassed:
			if p.AfterSwitchOff.Value == switchOffDisabled {
				// Working today proves nothing about the switch-off:
				// it is off by default then, and on again only while
				// an admin keeps re-enabling it.
				d.add(Maybe, fmt.Sprintf("Its check passed, so %s works today for this tenant from this machine; after the switch-off: %s",
					p.Short, p.AfterSwitchOff.Text), p.Endpoint.Host, p.AfterSwitchOff)
			} else {
				d.add(Yes, fmt.Sprintf("Its check passed: %s works today for this tenant from this machine.", p.Short), p.Endpoint.Host)
			}
		case PathFailed:
			failure := strings.TrimSuffix(strings.TrimSpace(run.Failure), ".")
			if failure == "" {
				failure = "no failure text was recorded"
			}
			d.add(No, fmt.Sprintf("Its check failed: %s.", failure), p.Endpoint.Host)
			if m := replyInText.FindStringSubmatchIndex(run.Failure); m != nil {
				code := run.Failure[m[2]:m[3]] + " " + run.Failure[m[4]:m[5]]
				basic, _ := strconv.Atoi(run.Failure[m[2]:m[3]])
				lookup := Lookup
				if p.ID == "oauth" && (strings.HasPrefix(failure, "auth:") || strings.Contains(failure, " at AUTH")) {
					// OAuth's AUTH is XOAUTH2: a 535 5.7.3 there is a
					// refused token, not a wrong password.
					lookup = LookupAfterXOAUTH2
				}
				if e, ok := lookup(basic, run.Failure[m[4]:m[5]], run.Failure[m[1]:]); ok && len(e.Steps) > 0 {
					d.add(No, fmt.Sprintf("The knowledge base on %s (%s): %s", code, e.Title, e.Steps[0]))
					if !slices.Contains(d.sources, e.Source) {
						d.sources = append(d.sources, e.Source)
					}
				}
			}
		default:
			text := "It was not tested in this run."
			if note := strings.TrimSuffix(strings.TrimSpace(run.Note), "."); note != "" {
				text = "It was not tested in this run: " + note + "."
			}
			d.add(Maybe, text, p.Endpoint.Host)
		}
		if p.Recipients.Value == recipientsInternal {
			d.add(Yes, "It reaches only recipients inside the tenant.", p.Recipients)
		}
		out = append(out, d.verdict(runBasis, run.Result != PathPassed))
	}
	return out
}

// Decision is verdicts as the results model holds them.
func Decision(verdicts []PathVerdict) *result.PathDecision {
	if len(verdicts) == 0 {
		return nil
	}
	d := &result.PathDecision{Basis: verdicts[0].Basis, Summary: Summary(verdicts)}
	for _, v := range verdicts {
		d.Paths = append(d.Paths, result.PathVerdict{
			Path: v.Path, Name: v.Name, Short: v.Short, Usable: v.Usable.String(), Recipients: v.Recipients,
			Reasons: v.Reasons, Needs: v.Needs, Sources: v.Sources,
		})
	}
	return d
}

// RunDecision decides, from a suite's checks, which ways to send through
// Microsoft 365 work today for this tenant from this machine: each check
// that proves a path (result.Check.Path) counts for it, a passed one as
// PathPassed, a failed one as PathFailed with its first failure, a
// skipped or errored one, like a path without a check, as not tested,
// with the reason. nil when no check proves a path. Should two checks
// name the same path (a suite cannot), the first counts.
//
// The runner decides with it after a suite's checks, and smtpdiag merge
// after merging the checks of a sharded run (result.MergeShards), so that
// the shards of a run decide as the run would have.
func RunDecision(checks []*result.Check) *result.PathDecision {
	return ShardDecision(checks, nil)
}

// inAnotherShard is the note on a path whose check another shard runs.
const inAnotherShard = "its check runs in another shard; smtpdiag merge decides on the checks of every shard"

// ShardDecision is RunDecision for one shard of a run (smtpdiag run
// --shard): elsewhere are, by path, the checks other shards hold, not
// tested here, with why ("" when another shard runs it; the enabled
// expression of one that is disabled), rather than as paths without a
// check. A shard without a check that proves a path decides nothing (nil).
func ShardDecision(checks []*result.Check, elsewhere map[string]string) *result.PathDecision {
	runs := map[string]PathRun{}
	for _, c := range checks {
		if c == nil || c.Path == "" {
			continue
		}
		if _, seen := runs[c.Path]; seen {
			continue
		}
		switch c.Status {
		case result.Passed:
			runs[c.Path] = PathRun{Result: PathPassed}
		case result.Failed:
			runs[c.Path] = PathRun{Result: PathFailed, Failure: c.FirstFailure()}
		case result.Skipped:
			note := "its check was skipped"
			if why, ok := strings.CutPrefix(c.Error, result.NotTested); ok {
				note += " (" + why + ")"
			} else if c.Error != "" {
				note += " (" + c.Error + ")"
			}
			runs[c.Path] = PathRun{Note: note}
		default:
			note := "its check could not run"
			if c.Error != "" {
				note += " (" + c.Error + ")"
			}
			runs[c.Path] = PathRun{Note: note}
		}
	}
	if len(runs) == 0 {
		return nil
	}
	for id, disabled := range elsewhere {
		if _, ok := runs[id]; ok {
			continue
		}
		note := inAnotherShard
		if disabled != "" {
			note = "its check was skipped (" + disabled + ")"
		}
		runs[id] = PathRun{Note: note}
	}
	return Decision(PathsFromRun(runs))
}
