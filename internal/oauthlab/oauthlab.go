// Package oauthlab starts, for tests and for `smtpdiag demo`, a Microsoft
// Entra ID stand-in with a directory of app registrations (package
// idptest) and an Exchange-Online-like simulator that checks its tokens,
// both on loopback.
package oauthlab

import (
	"crypto/x509"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/oauth/idptest"
	"github.com/smtpdiag/smtpdiag/internal/simulator"
)

// The directory: one tenant, its apps and their credentials.
const (
	TenantID     = "8c1b2f4e-3a5d-4e6f-9a0b-1c2d3e4f5a6b"
	TenantDomain = "contoso.onmicrosoft.com"
	// SendApp may send as Mailbox: a client secret (Secret; ExpiredSecret
	// has expired) and a certificate (Lab.Cert), the application
	// permission SMTP.SendAsApp, and a service principal in Exchange
	// Online with FullAccess on Mailbox.
	SendApp    = "11111111-2222-4333-8444-555555555555"
	SendAppOID = "6d0f1e2a-3b4c-4d5e-8f60-718293a4b5c6"
	// NoRoleApp has a client secret (Secret) and a service principal
	// with FullAccess on Mailbox, but no SMTP.SendAsApp: Exchange Online
	// refuses its tokens.
	NoRoleApp    = "22222222-3333-4444-8555-666666666666"
	NoRoleAppOID = "6d000000-0000-4000-8000-000000000002"
	// PublicApp is a public client whose users consented to SMTP.Send:
	// the device code flow.
	PublicApp = "33333333-4444-4555-8666-777777777777"
	// ConsentlessApp is a public client nobody consented to.
	ConsentlessApp = "44444444-5555-4666-8777-888888888888"
	// UnknownApp is registered nowhere.
	UnknownApp = "99999999-0000-4000-8000-000000000000"

	Secret        = "Qx8~sEcReT.value-0123456789abcdefGHIJ"
	ExpiredSecret = "Zz9~ExPiReD.value-9876543210zyxwvuTSRQ"
	// Mailbox is the mailbox the apps and the users send as.
	Mailbox = "scanner@contoso.com"
	// HVEAccount is a High Volume Email account that signs in with
	// HVEPassword (AUTH LOGIN). The simulator has no HVE endpoint: its
	// submission endpoint takes the account like any user.
	HVEAccount  = "scanner-hve@contoso.com"
	HVEPassword = "demo-hve-password"
)

// Lab is a running identity provider and simulator.
type Lab struct {
	IdP *idptest.IdP
	Sim *simulator.Simulator
	// Cert is the certificate credential registered on SendApp;
	// OtherCert one registered on no app (AADSTS700027).
	Cert      idptest.Certificate
	OtherCert idptest.Certificate
}

// Start starts the identity provider and the simulator; Close stops them.
func Start() (*Lab, error) {
	idp, err := idptest.Start()
	if err != nil {
		return nil, err
	}
	l := &Lab{IdP: idp}
	if l.Cert, err = idptest.NewCertificate("smtpdiag scanner app"); err != nil {
		idp.Close()
		return nil, err
	}
	if l.OtherCert, err = idptest.NewCertificate("not registered"); err != nil {
		idp.Close()
		return nil, err
	}
	idp.AddTenant(idptest.Tenant{ID: TenantID, Domain: TenantDomain})
	idp.AddApp(idptest.App{TenantID: TenantID, ClientID: SendApp, Name: "scanner", ObjectID: SendAppOID,
		Secrets:      []idptest.Secret{{Value: Secret}, {Value: ExpiredSecret, Expires: time.Now().Add(-24 * time.Hour)}},
		Certificates: []*x509.Certificate{l.Cert.Cert}, Roles: []string{"SMTP.SendAsApp"}})
	idp.AddApp(idptest.App{TenantID: TenantID, ClientID: NoRoleApp, Name: "no role", ObjectID: NoRoleAppOID,
		Secrets: []idptest.Secret{{Value: Secret}}})
	idp.AddApp(idptest.App{TenantID: TenantID, ClientID: PublicApp, Name: "device", PublicClient: true, Scopes: []string{"SMTP.Send"}})
	idp.AddApp(idptest.App{TenantID: TenantID, ClientID: ConsentlessApp, Name: "unconsented", PublicClient: true})
	users := simulator.DefaultUsers()
	users["helpdesk@contoso.com"] = simulator.User{}
	users[HVEAccount] = simulator.User{Password: HVEPassword}
	l.Sim, err = simulator.Start(simulator.Options{Users: users, OAuth: &simulator.OAuthOptions{
		Issuer: idp.Issuer(TenantID),
		JWKS:   idp.JWKS(),
		ServicePrincipals: []simulator.ServicePrincipal{
			{AppID: SendApp, ObjectID: SendAppOID, FullAccess: []string{Mailbox}},
			{AppID: NoRoleApp, ObjectID: NoRoleAppOID, FullAccess: []string{Mailbox}},
		},
	}})
	if err != nil {
		idp.Close()
		return nil, err
	}
	return l, nil
}

// Close stops the simulator and the identity provider.
func (l *Lab) Close() {
	l.Sim.Close()
	l.IdP.Close()
}
