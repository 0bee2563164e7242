package idptest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// deviceCodeLifetime is how long a user code stays valid (Entra ID:
// 15 minutes).
const deviceCodeLifetime = 15 * time.Minute

// deviceGrant is a pending device authorization (RFC 8628 section 3.2).
type deviceGrant struct {
	tenantID, clientID string
	resource           string
	permissions        []string // the delegated permissions asked for
	scope              string   // as asked, for the response
	userCode           string
	expires            time.Time
	approvedBy         string // the UPN of the user who approved, "" while pending
}

// deviceAuthorization answers the device authorization endpoint: a user
// code, a device code and where to enter the first. The scope must name
// one resource the tenant has (AADSTS70011, AADSTS500011).
func (p *IdP) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("tenant")
	r.ParseForm()
	f := r.PostForm
	req := Request{Endpoint: "devicecode", Tenant: name, ClientID: f.Get("client_id"), Scope: f.Get("scope")}
	t, ok := p.tenant(name)
	if !ok {
		p.refuse(w, req, 90002, params{tenant: name})
		return
	}
	app, ok := p.app(t.ID, req.ClientID)
	if !ok {
		p.refuse(w, req, 700016, params{appID: req.ClientID, tenant: t.ID})
		return
	}
	fill := params{appID: app.ClientID, appName: app.Name, tenant: t.ID}
	g := &deviceGrant{tenantID: t.ID, clientID: app.ClientID, scope: req.Scope}
	for _, s := range splitScopes(req.Scope) {
		res, perm := resourceOf(s)
		if res == "" || perm == "" || (g.resource != "" && !strings.EqualFold(res, g.resource)) {
			fill.scope = s
			p.refuse(w, req, 70011, fill)
			return
		}
		if !knownResource(res) {
			fill.resource = res
			p.refuse(w, req, 500011, fill)
			return
		}
		g.resource = res
		if perm == ".default" {
			g.permissions = append(g.permissions, app.Scopes...)
		} else {
			g.permissions = append(g.permissions, perm)
		}
	}
	if g.resource == "" {
		p.refuse(w, req, 900144, params{scope: "scope"})
		return
	}
	g.userCode = userCode()
	g.expires = p.now().Add(deviceCodeLifetime)
	deviceCode := newID() + newID()
	p.mu.Lock()
	p.devices[deviceCode] = g
	p.mu.Unlock()
	req.Status = http.StatusOK
	p.record(req)
	verify := p.URL + "/devicelogin"
	writeJSON(w, http.StatusOK, map[string]any{
		"user_code":        g.userCode,
		"device_code":      deviceCode,
		"verification_uri": verify,
		"expires_in":       int(deviceCodeLifetime / time.Second),
		"interval":         5,
		"message": fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.",
			verify, g.userCode),
	})
}

// userCode makes a code of nine capitals and digits, as Entra ID's.
func userCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 9)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Approve completes the sign-in of a pending device code as the user
// upn, as if they had entered userCode at the verification URL: the
// scripted approval of a test.
func (p *IdP) Approve(userCode, upn string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, g := range p.devices {
		if g.userCode == userCode {
			if g.approvedBy != "" {
				return errors.New("idptest: the code was already used")
			}
			g.approvedBy = upn
			return nil
		}
	}
	return fmt.Errorf("idptest: no pending device code %q", userCode)
}

// redeemDeviceCode answers the device code grant's polling (RFC 8628
// section 3.5): authorization_pending (AADSTS70016) until Approve, then,
// for a public client whose delegated permissions were consented, a
// token for the user; a confidential client gets AADSTS7000218, missing
// consent AADSTS65001, an expired code AADSTS70019.
func (p *IdP) redeemDeviceCode(w http.ResponseWriter, req Request, t Tenant, app *App, code string, fill params) {
	p.mu.Lock()
	g, ok := p.devices[code]
	var approvedBy string
	if ok {
		approvedBy = g.approvedBy
		if approvedBy != "" || !p.now().Before(g.expires) {
			delete(p.devices, code) // a device code is redeemed once
		}
	}
	p.mu.Unlock()
	switch {
	case !ok || !strings.EqualFold(g.clientID, app.ClientID) || g.tenantID != t.ID:
		p.refuse(w, req, 70000, fill)
		return
	case !p.now().Before(g.expires):
		p.refuse(w, req, 70019, fill)
		return
	case approvedBy == "":
		p.refuse(w, req, 70016, fill)
		return
	case !app.PublicClient:
		p.refuse(w, req, 7000218, fill)
		return
	}
	for _, perm := range g.permissions {
		if !slices.ContainsFunc(app.Scopes, func(s string) bool { return strings.EqualFold(s, perm) }) {
			p.refuse(w, req, 65001, fill)
			return
		}
	}
	aud := g.resource
	if app.Audience != "" {
		aud = app.Audience
	}
	now := p.now()
	oid := idFor(approvedBy)
	access := p.Sign(Claims{TenantID: t.ID, Audience: aud, AppID: app.ClientID, ObjectID: oid,
		Scopes: g.permissions, UPN: approvedBy, IssuedAt: now, ExpiresAt: now.Add(lifetime(app))})
	p.issue(access)
	idToken := p.sign(map[string]any{
		"aud": app.ClientID, "iss": p.Issuer(t.ID), "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(), "oid": oid, "sub": oid, "tid": t.ID,
		"preferred_username": approvedBy, "name": approvedBy, "ver": "2.0",
	})
	granted := make([]string, len(g.permissions))
	for i, perm := range g.permissions {
		granted[i] = g.resource + "/" + perm
	}
	req.Status = http.StatusOK
	p.record(req)
	expiresIn := int(lifetime(app) / time.Second)
	if expiresIn < 1 {
		expiresIn = 1
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type": "Bearer", "scope": strings.Join(granted, " "),
		"expires_in": expiresIn, "ext_expires_in": expiresIn,
		"access_token": access, "refresh_token": newID() + newID(), "id_token": idToken,
		"client_info": clientInfo(oid, t.ID),
	})
}
