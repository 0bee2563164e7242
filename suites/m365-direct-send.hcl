# Microsoft 365 Direct Send: a device delivers straight to the tenant's MX
# endpoint on port 25, without signing in. That reaches internal recipients
# only; the MX endpoint never offers AUTH.
#
# When to use it: the device is set to "<tenant>.mail.protection.outlook.com,
# port 25, no authentication" (for example because it cannot do TLS 1.2 or
# OAuth), and you need proof that internal mail is accepted from this line,
# that the sending IP is not blocked, and that external recipients are (as
# expected) refused. Port 25 must be open outbound on the device's line.
#
#   smtpdiag run suites/m365-direct-send.hcl -var domain=contoso.com \
#     -var sender=scanner@contoso.com -var internal_recipient=helpdesk@contoso.com \
#     -var external_recipient=someone@fabrikam.com
#
# mx_host defaults to <domain with - for .>.mail.protection.outlook.com.
# Domains added to a tenant since July 2026 may have an MX under
# mx.microsoft instead (UNVERIFIED as official): the check "tenant MX points
# at Exchange Online" shows the domain's MX record; when it names another
# host, set -var mx_host=... to it. (The endpoint names a host, rather than
# `mx = var.domain`, so that mx_host can also point it at a lab server.)
#
# Source: https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365

suite {
  name        = "m365: Direct Send (tenant MX endpoint, port 25)"
  description = "Internal recipient accepted, external refused, no AUTH offered, sending IP not blocked, MX at Exchange Online"
}

variable "domain" {
  description = "Accepted domain of the tenant (contoso.com)"
}

variable "sender" {
  description = "Envelope sender the device uses; must be in an accepted domain (scanner@contoso.com)"
}

variable "internal_recipient" {
  description = "A mailbox of the tenant (helpdesk@contoso.com)"
}

variable "external_recipient" {
  description = "An address outside the tenant, which Direct Send must refuse (someone@fabrikam.com)"
}

variable "device_helo" {
  default     = ""
  description = "EHLO name the device announces; empty: this machine's name"
}

variable "mx_host" {
  default     = ""
  description = "Tenant MX host; empty: <domain with - for .>.mail.protection.outlook.com. Set it when the MX record names another host (see the check \"tenant MX points at Exchange Online\"), or to a lab server"
}

variable "mx_port" {
  type    = number
  default = 25
}

variable "ca_file" {
  default     = ""
  description = "Extra trust anchors (PEM), only for test servers; relative to this file"
}

endpoint "mx" {
  host    = var.mx_host != "" ? var.mx_host : "${replace(lower(var.domain), ".", "-")}.mail.protection.outlook.com"
  port    = var.mx_port
  tls     = "starttls"
  helo    = var.device_helo != "" ? var.device_helo : null
  ca_file = var.ca_file != "" ? var.ca_file : null
}

smtp "internal recipient is accepted without AUTH" {
  endpoint  = endpoint.mx
  mail_from = var.sender
  rcpt_to   = [var.internal_recipient]

  expect {
    starttls       = true
    tls_version    = ">= 1.2"
    not_advertises = ["AUTH"]           # an MX endpoint never offers AUTH
    rcpt           = "250"
    # Banned sending IP / Spamhaus / Direct Send rejected by the tenant.
    no = ["550 5.7.606-649", "550 5.7.1 Spamhaus", "5.7.68"]
  }
}

# Direct Send cannot relay to the internet: an external recipient must be
# refused. If this is accepted, an inbound connector matches this IP (see
# m365-relay-connector.hcl).
smtp "external recipient is refused (Direct Send is internal only)" {
  endpoint  = endpoint.mx
  mail_from = var.sender
  rcpt_to   = [var.external_recipient]

  expect {
    rcpt = "55x"
  }
}

# The tenant's MX record must name its Exchange Online MX endpoint, whose
# host starts with the domain written with - for . (contoso-com): under
# mail.protection.outlook.com, or, for domains added since July 2026, under
# mx.microsoft (UNVERIFIED as official). `contoso-com` after the preference
# and a space is what both forms share. If the record's host is not the one
# this suite connects to, set -var mx_host to it.
# A filtering service in front of Exchange Online fails this check, although
# Direct Send to the tenant's MX endpoint may still work.
dns "tenant MX points at Exchange Online" {
  name = var.domain
  type = "MX"

  expect {
    contains = [" ${replace(lower(var.domain), ".", "-")}"]
  }
}
