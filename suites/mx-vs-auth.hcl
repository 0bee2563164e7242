# The tenant MX endpoint and smtp.office365.com compared: the two ways into
# Exchange Online that devices mix up. The MX endpoint (port 25) accepts
# mail for the tenant without AUTH and never offers AUTH; client submission
# (port 587) offers AUTH only after STARTTLS and refuses MAIL FROM without
# it (530 5.7.57).
#
# When to use it: a device was pointed at the wrong one ("Direct Send
# configured with smtp.office365.com", "credentials entered for the MX
# endpoint"), or before choosing a sending method. `smtpdiag probe
# <mx host>:25 smtp.office365.com:587` shows the same side by side without
# expectations.
#
#   smtpdiag run suites/mx-vs-auth.hcl -var domain=contoso.com \
#     -var sender=scanner@contoso.com -var internal_recipient=helpdesk@contoso.com
#
# Source: https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365

suite {
  name        = "m365: MX endpoint vs SMTP AUTH submission"
  description = "Where AUTH is offered, and what each endpoint accepts without it"
}

variable "domain" {
  description = "Accepted domain of the tenant (contoso.com)"
}

variable "sender" {
  description = "Envelope sender the device uses (scanner@contoso.com)"
}

variable "internal_recipient" {
  description = "A mailbox of the tenant (helpdesk@contoso.com)"
}

variable "device_helo" {
  default     = ""
  description = "EHLO name to announce; empty: this machine's name"
}

variable "mx_host" {
  default     = ""
  description = "Tenant MX host; empty: <domain with - for .>.mail.protection.outlook.com. Set it when the MX record names another host (see the check \"tenant MX points at Exchange Online\"), or to a lab server"
}

variable "mx_port" {
  type    = number
  default = 25
}

variable "submission_host" {
  default = "smtp.office365.com"
}

variable "submission_port" {
  type    = number
  default = 587
}

variable "ca_file" {
  default     = ""
  description = "Extra trust anchors (PEM), only for test servers; relative to this file"
}

endpoint "mx" {
  host    = var.mx_host != "" ? var.mx_host : "${replace(lower(var.domain), ".", "-")}.mail.protection.outlook.com"
  port    = var.mx_port
  helo    = var.device_helo != "" ? var.device_helo : null
  ca_file = var.ca_file != "" ? var.ca_file : null
}

endpoint "submission" {
  host    = var.submission_host
  port    = var.submission_port
  helo    = var.device_helo != "" ? var.device_helo : null
  ca_file = var.ca_file != "" ? var.ca_file : null
}

smtp "MX endpoint offers STARTTLS but never AUTH" {
  endpoint = endpoint.mx

  expect {
    starttls       = true
    not_advertises = ["AUTH"]
  }
}

smtp "submission offers AUTH only after STARTTLS" {
  endpoint = endpoint.submission

  expect {
    starttls        = true
    auth_before_tls = false
    advertises      = ["AUTH LOGIN", "AUTH XOAUTH2"]
  }
}

smtp "MX endpoint accepts an internal recipient without AUTH" {
  endpoint  = endpoint.mx
  mail_from = var.sender
  rcpt_to   = [var.internal_recipient]

  expect {
    mail = "250"
    rcpt = "250"
  }
}

smtp "submission refuses MAIL FROM without AUTH (530 5.7.57)" {
  endpoint  = endpoint.submission
  mail_from = var.sender

  expect {
    mail = "530 5.7.57"
  }
}

# The tenant's MX record must name its Exchange Online MX endpoint, whose
# host starts with the domain written with - for . (contoso-com): under
# mail.protection.outlook.com, or, for domains added since July 2026, under
# mx.microsoft (UNVERIFIED as official). `contoso-com` after the preference
# and a space is what both forms share. If the record's host is not the one
# this suite connects to, set -var mx_host to it.
dns "tenant MX points at Exchange Online" {
  name = var.domain
  type = "MX"

  expect {
    contains = [" ${replace(lower(var.domain), ".", "-")}"]
  }
}
