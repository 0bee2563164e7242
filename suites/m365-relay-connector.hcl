# Microsoft 365 SMTP relay through an inbound connector: a device delivers to
# the tenant's MX endpoint on port 25 from a static public IP that an
# inbound connector ("from your organization's email server") trusts, and
# may then send to external recipients too.
#
# When to use it: the device (or a local relay) uses the MX endpoint with no
# authentication and must reach external recipients, for example after the
# ISP changed the line's IP or after a connector was created or edited. It
# proves the line's egress IP is the connector's IP and that an external
# recipient is accepted (no 550 5.7.64 TenantAttribution).
#
#   smtpdiag run suites/m365-relay-connector.hcl -var domain=contoso.com \
#     -var connector_ip=203.0.113.5 -var sender=scanner@contoso.com \
#     -var external_recipient=partner@fabrikam.com
#
# Since 2023-11-01 the connector's certificate domain or the envelope
# sender's domain must be an accepted domain of the tenant. Dynamic IPs are
# not supported for connectors.
#
# Source: https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365

suite {
  name        = "m365: SMTP relay through an inbound connector (MX endpoint, port 25)"
  description = "Egress IP equals the connector IP; external recipient accepted; no 5.7.64; MX at Exchange Online"
}

variable "domain" {
  description = "Accepted domain of the tenant (contoso.com)"
}

variable "connector_ip" {
  description = "The static public IP the inbound connector trusts (203.0.113.5)"
}

variable "sender" {
  description = "Envelope sender; its domain should be an accepted domain (scanner@contoso.com)"
}

variable "external_recipient" {
  description = "An address outside the tenant (partner@fabrikam.com)"
}

variable "device_helo" {
  default     = ""
  description = "EHLO name the device or relay announces; empty: this machine's name"
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

# Exchange Online echoes the IP it sees in its EHLO greeting ("Hello [IP]");
# the connector matches on exactly that address.
smtp "the MX endpoint sees the connector IP" {
  endpoint = endpoint.mx

  expect {
    starttls  = true
    client_ip = var.connector_ip
  }
}

smtp "external recipient is relayed through the connector" {
  endpoint  = endpoint.mx
  mail_from = var.sender
  rcpt_to   = [var.external_recipient]

  expect {
    starttls  = true
    client_ip = var.connector_ip
    rcpt      = "250"
    # No connector matched / banned sending IP / Spamhaus.
    no = ["5.7.64", "550 5.7.606-649", "550 5.7.1 Spamhaus"]
  }
}

# The tenant's MX record must name its Exchange Online MX endpoint, whose
# host starts with the domain written with - for . (contoso-com): under
# mail.protection.outlook.com, or, for domains added since July 2026, under
# mx.microsoft (UNVERIFIED as official). `contoso-com` after the preference
# and a space is what both forms share. If the record's host is not the one
# this suite connects to, set -var mx_host to it.
# A filtering service in front of Exchange Online fails this check, although
# relay to the tenant's MX endpoint may still work.
dns "tenant MX points at Exchange Online" {
  name = var.domain
  type = "MX"

  expect {
    contains = [" ${replace(lower(var.domain), ".", "-")}"]
  }
}
