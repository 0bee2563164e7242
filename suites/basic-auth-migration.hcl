# Every way off Basic auth, side by side: for one device mailbox, which of
# the ways Microsoft documents for a device to keep sending works today,
# for this tenant and from this machine. Microsoft disables Basic
# authentication for SMTP AUTH by default at the end of December 2026.
#
# When to use it: before the switch-off, for each copier, scanner or app
# that signs in to smtp.office365.com with a password, to choose where to
# move it. One check per path; `smtpdiag run` ends its summary with the
# matrix "Ways <mailbox> can send after the Basic auth switch-off" (yes:
# its check passed; no: it failed, with the reply and what it means;
# maybe: not tested, or Basic auth, which stays maybe even when it passes,
# being off by default after the switch-off). A path whose credentials are
# not given is not tested (enabled = false) and shows as maybe, so give only
# what you have:
#
#   SMTP_PASSWORD='...' smtpdiag run suites/basic-auth-migration.hcl \
#     -var domain=contoso.com -var mailbox=scanner@contoso.com \
#     -var internal_recipient=helpdesk@contoso.com \
#     -var external_recipient=someone@fabrikam.com
#
# Add OAuth with SMTP_OAUTH_CLIENT_ID and SMTP_OAUTH_CLIENT_SECRET (and
# -var tenant=... unless the domain is the tenant's verified domain), HVE
# with SMTP_HVE_ACCOUNT and SMTP_HVE_PASSWORD, the ACS relay with
# SMTP_ACS_USERNAME and SMTP_ACS_CLIENT_SECRET. Direct Send and the
# connector need no credentials and are always tested (port 25 to the
# tenant's MX endpoint).
#
# Nothing is sent: no check has a message block, so there is no DATA;
# after RCPT the runner sends RSET and QUIT.
#
# What each path needs of a device, below, comes from smtpdiag's knowledge
# base (docs/migration-paths.md, which names the page of each fact); what
# only third parties say is marked UNVERIFIED.
#
# Sources:
# https://techcommunity.microsoft.com/blog/exchange/updated-exchange-online-smtp-auth-basic-authentication-deprecation-timeline/4489835
# https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365

suite {
  name        = "m365: every way off Basic auth (end of December 2026)"
  description = "Basic auth, OAuth, HVE, the ACS relay, Direct Send and a connector, each proven by one check, for one device mailbox"
}

# --- The tenant and the device ------------------------------------------

variable "domain" {
  description = "Accepted domain of the tenant (contoso.com); also the tenant for OAuth unless tenant is set"
}

variable "mailbox" {
  description = "The licensed mailbox the device signs in and sends as (scanner@contoso.com)"
}

variable "password" {
  sensitive   = true
  default     = env("SMTP_PASSWORD")
  description = "Password of var.mailbox; empty: Basic auth is not tested"
}

variable "internal_recipient" {
  description = "A mailbox inside the tenant (helpdesk@contoso.com)"
}

variable "external_recipient" {
  description = "An address outside the tenant (someone@fabrikam.com), for the connector"
}

# --- OAuth: an app registration in Microsoft Entra ID -------------------

variable "tenant" {
  default     = ""
  description = "Directory (tenant) ID or a verified domain; empty: var.domain"
}

variable "client_id" {
  default     = env("SMTP_OAUTH_CLIENT_ID")
  description = "Application (client) ID of the app; empty: OAuth is not tested"
}

variable "client_secret" {
  sensitive   = true
  default     = env("SMTP_OAUTH_CLIENT_SECRET")
  description = "A client secret's value (not its ID); empty: OAuth is not tested"
}

variable "oauth_authority" {
  default     = "https://login.microsoftonline.com"
  description = "Entra ID authority host; another cloud, or a test identity provider"
}

variable "oauth_ca_file" {
  default     = ""
  description = "Extra trust anchors (PEM) for the authority, only for a test identity provider; relative to this file"
}

# --- HVE: a High Volume Email account ------------------------------------

variable "hve_account" {
  default     = env("SMTP_HVE_ACCOUNT")
  description = "The HVE account's address (scanner-hve@contoso.com); empty: HVE is not tested"
}

variable "hve_password" {
  sensitive   = true
  default     = env("SMTP_HVE_PASSWORD")
  description = "The HVE account's password; empty: HVE is not tested"
}

# --- ACS: an Azure Communication Services SMTP user ------------------------

variable "acs_username" {
  default     = env("SMTP_ACS_USERNAME")
  description = "SMTP Username resource, or <ACS resource>.<app ID>.<tenant ID>; empty: the ACS relay is not tested"
}

variable "acs_client_secret" {
  sensitive   = true
  default     = env("SMTP_ACS_CLIENT_SECRET")
  description = "A client secret of the Entra app behind the SMTP user name; empty: the ACS relay is not tested"
}

# --- Where to connect (Microsoft's hosts; change only for a lab) ----------

variable "submission_host" {
  default     = "smtp.office365.com"
  description = "SMTP AUTH client submission (Basic auth and OAuth)"
}

variable "submission_port" {
  type    = number
  default = 587
}

variable "hve_host" {
  default     = "smtp.hve.mx.microsoft"
  description = "The HVE endpoint (smtp-hve.office365.com still works but is to be deprecated)"
}

variable "hve_port" {
  type    = number
  default = 587
}

variable "acs_host" {
  default = "smtp.azurecomm.net"
}

variable "acs_port" {
  type    = number
  default = 587
}

variable "mx_host" {
  default     = ""
  description = "Tenant MX host; empty: <domain with - for .>.mail.protection.outlook.com. Set it when the MX record names another host"
}

variable "mx_port" {
  type    = number
  default = 25
}

variable "check_mx_record" {
  type        = bool
  default     = true
  description = "Check that the domain's MX record names the tenant's MX endpoint; false for a filtering service in front of Exchange Online (then set mx_host), or offline"
}

variable "device_helo" {
  default     = ""
  description = "EHLO name to announce; empty: this machine's name"
}

variable "connector_certificate" {
  default     = ""
  description = "For a certificate-based connector: the device's certificate (PEM file relative to this file, or PEM text), its CN or SAN the connector's TlsSenderCertificateName; empty: the connector check proves an IP-based connector only"
}

variable "connector_key" {
  sensitive   = true
  default     = ""
  description = "The private key of connector_certificate (PEM file or text); empty: in connector_certificate's file"
}

variable "ca_file" {
  default     = ""
  description = "Extra trust anchors (PEM), only for test servers; relative to this file"
}

endpoint "submission" {
  host    = var.submission_host
  port    = var.submission_port
  helo    = var.device_helo != "" ? var.device_helo : null
  ca_file = var.ca_file != "" ? var.ca_file : null
}

endpoint "hve" {
  host    = var.hve_host
  port    = var.hve_port
  helo    = var.device_helo != "" ? var.device_helo : null
  ca_file = var.ca_file != "" ? var.ca_file : null
}

endpoint "acs" {
  host    = var.acs_host
  port    = var.acs_port
  helo    = var.device_helo != "" ? var.device_helo : null
  ca_file = var.ca_file != "" ? var.ca_file : null
}

endpoint "mx" {
  host    = var.mx_host != "" ? var.mx_host : "${replace(lower(var.domain), ".", "-")}.mail.protection.outlook.com"
  port    = var.mx_port
  helo    = var.device_helo != "" ? var.device_helo : null
  ca_file = var.ca_file != "" ? var.ca_file : null
}

# The MX endpoint as the connector check sees it: with the device's client
# certificate when one is given (Direct Send presents none).
endpoint "mx_connector" {
  host               = var.mx_host != "" ? var.mx_host : "${replace(lower(var.domain), ".", "-")}.mail.protection.outlook.com"
  port               = var.mx_port
  helo               = var.device_helo != "" ? var.device_helo : null
  ca_file            = var.ca_file != "" ? var.ca_file : null
  client_certificate = var.connector_certificate
  client_key         = var.connector_key
}

# Basic auth: SMTP AUTH client submission with the mailbox's password.
# The device needs: smtp.office365.com on port 587 (or 25) with STARTTLS
# and TLS 1.2 or newer (TLS 1.0 and 1.1 only on the opt-in endpoint
# smtp-legacy.office365.com); UNVERIFIED: devices limited to RSA key
# exchange (no ECDHE suite) are reported to fail since about February
# 2025; UNVERIFIED: AUTH LOGIN (observed EHLO replies offer LOGIN and
# XOAUTH2, no PLAIN); a device that defaults to port 465 (implicit TLS)
# does not support it. Any source IP, no certificate; a licensed mailbox
# with SMTP AUTH enabled, Entra ID security defaults off. Reaches internal
# and external recipients. Disabled by default from the end of December
# 2026: then 550 5.7.30 (Basic authentication is not supported for Client
# Submission), or 535 5.7.139 with SMTP AUTH off for the tenant or mailbox.
smtp "Basic auth: the mailbox signs in with its password" {
  path     = "basic_auth"
  enabled  = var.password != ""
  endpoint = endpoint.submission
  auth {
    username  = var.mailbox
    password  = var.password
    mechanism = "LOGIN"
  }
  mail_from = var.mailbox
  rcpt_to   = [var.internal_recipient]

  expect {
    starttls    = true
    tls_version = ">= 1.2"
    auth        = 235
    rcpt        = "250"
    no          = ["550 5.7.30", "535 5.7.139"]
  }
}

# OAuth: SMTP AUTH client submission with an OAuth 2.0 access token (SASL
# XOAUTH2), which the switch-off does not affect. The device needs: the
# same endpoint and TLS as Basic auth (smtp.office365.com, port 587,
# STARTTLS, TLS 1.2 or newer; ECDHE UNVERIFIED as above), AUTH XOAUTH2,
# and firmware that gets and refreshes tokens: app-only with the scope
# https://outlook.office365.com/.default (client credentials), or a user's
# https://outlook.office.com/SMTP.Send. The tenant needs an app
# registration with SMTP.SendAsApp (admin consent), its service principal
# registered in Exchange Online (New-ServicePrincipal) with FullAccess on
# the mailbox (Add-MailboxPermission), and SMTP AUTH enabled for the
# mailbox. Any source IP, no client certificate for SMTP. Reaches internal
# and external recipients. smtpdiag gets the token itself here (app-only,
# client secret).
smtp "OAuth: the app signs in for the mailbox with XOAUTH2" {
  path     = "oauth"
  enabled  = var.client_id != "" && var.client_secret != ""
  endpoint = endpoint.submission
  auth {
    username = var.mailbox
    oauth {
      tenant        = var.tenant != "" ? var.tenant : var.domain
      client_id     = var.client_id
      client_secret = var.client_secret
      authority     = var.oauth_authority
      ca_file       = var.oauth_ca_file != "" ? var.oauth_ca_file : null
    }
  }
  mail_from = var.mailbox
  rcpt_to   = [var.internal_recipient]

  expect {
    starttls    = true
    tls_version = ">= 1.2"
    auth        = 235
    rcpt        = "250"
  }
}

# HVE: High Volume Email for Microsoft 365. The device needs:
# smtp.hve.mx.microsoft on port 587 with STARTTLS; TLS 1.2 (UNVERIFIED for
# HVE: its pages require TLS without naming a version); whether it takes
# TLS 1.2 without ECDHE is not known; the HVE account's address and
# password, UNVERIFIED to go with AUTH LOGIN (Basic auth on HVE is
# supported until September 2028), or XOAUTH2 with an app on the account's
# allowed-apps list. Any source IP, no certificate; an HVE account (a mail
# user made with New-MailUser -HVEAccount, not a mailbox) with a valid
# billing policy. Reaches recipients inside the tenant only (UNVERIFIED:
# 550 5.5.105 for an outside address), at most 50 per message.
smtp "HVE: the HVE account signs in" {
  path     = "hve"
  enabled  = var.hve_account != "" && var.hve_password != ""
  endpoint = endpoint.hve
  auth {
    username  = var.hve_account
    password  = var.hve_password
    mechanism = "LOGIN"
  }

  expect {
    starttls    = true
    tls_version = ">= 1.2"
    auth        = 235
  }
}

# The ACS relay: Azure Communication Services Email's SMTP endpoint. The
# device needs: smtp.azurecomm.net on port 587 (or 25) with STARTTLS and
# TLS 1.2 or newer; whether it takes TLS 1.2 without ECDHE is not known;
# the SMTP user name (an SMTP Username resource, or <ACS resource>.<Entra
# app ID>.<tenant ID>) and one of the app's client secrets as password,
# UNVERIFIED to go with AUTH LOGIN only (PLAIN reported refused), or
# XOAUTH2 with a token for https://communication.azure.com/.default. Any
# source IP, no certificate, no Exchange Online mailbox: the sender is an
# address of a domain connected to the ACS resource. Reaches internal and
# external recipients; the client secret expires (at most 24 months) and
# must be replaced on the device before it does.
smtp "ACS relay: the SMTP user signs in with the app's client secret" {
  path     = "acs_relay"
  enabled  = var.acs_username != "" && var.acs_client_secret != ""
  endpoint = endpoint.acs
  auth {
    username  = var.acs_username
    password  = var.acs_client_secret
    mechanism = "LOGIN"
  }

  expect {
    starttls    = true
    tls_version = ">= 1.2"
    auth        = 235
  }
}

# Direct Send: the device delivers to the tenant's MX endpoint on port 25
# without AUTH, like any outside mail server. The device needs: port 25 out
# of its network; TLS is optional (TLS 1.2 when used; RSA-only key
# exchange there is not known); no AUTH, no mailbox, no app; a static
# public IP is recommended for the SPF record (v=spf1 ip4:<IP>
# include:spf.protection.outlook.com ~all). Reaches only recipients inside
# the tenant. A tenant with RejectDirectSend on refuses it with 550 5.7.68
# TenantInboundAttribution; then the device needs a connector. Never
# combine Direct Send with a connector for the same device.
smtp "Direct Send: the MX endpoint accepts an internal recipient without AUTH" {
  path      = "direct_send"
  endpoint  = endpoint.mx
  mail_from = var.mailbox
  rcpt_to   = [var.internal_recipient]

  expect {
    rcpt = "250"
    no   = ["5.7.68"]
  }
}

# A connector: SMTP relay through an inbound connector (OnPremises type)
# on the tenant's MX endpoint, port 25, without AUTH, to internal and
# external recipients; TLS 1.2 when TLS is used (a certificate-matched
# connector needs TLS). The connector recognises the device by the site's
# static public IP (not shared, not dynamic) or by a TLS certificate whose
# subject is an accepted domain (TlsSenderCertificateName); since November
# 2023 the certificate's or the envelope sender's domain must be an
# accepted domain. UNVERIFIED (MC1226222): Microsoft prefers
# certificate-based connectors. An IP-matched connector relays (250); when
# none matches, Exchange Online refuses the outside recipient with 550
# 5.7.64 TenantAttribution; Relay Access Denied. Without
# connector_certificate this check proves an IP-matched connector only;
# with it (-var connector_certificate=relay.pem -var connector_key=relay.key,
# paths relative to this suite's directory, or absolute ones under
# --allow-read DIR), smtpdiag presents the device's certificate when the
# MX asks for one, and the transcript says whether it asked and which
# certificate was sent.
smtp "Connector: the MX endpoint relays to an external recipient" {
  path      = "connector"
  endpoint  = endpoint.mx_connector
  mail_from = var.mailbox
  rcpt_to   = [var.external_recipient]

  expect {
    rcpt = "250"
    no   = ["5.7.64"]
  }
}

# The tenant's MX record must name its Exchange Online MX endpoint (host
# starting with the domain written with - for ., under
# mail.protection.outlook.com or mx.microsoft), or Direct Send and the
# connector go to a host that is not the one the world delivers to.
dns "tenant MX points at Exchange Online" {
  enabled = var.check_mx_record
  name    = var.domain
  type    = "MX"

  expect {
    contains = [" ${replace(lower(var.domain), ".", "-")}"]
  }
}
