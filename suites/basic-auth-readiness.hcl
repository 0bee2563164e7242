# Basic auth readiness for SMTP AUTH: which AUTH mechanisms
# smtp.office365.com offers, and whether Basic authentication (a password
# with AUTH LOGIN) still works for this mailbox.
#
# When to use it: ahead of Microsoft disabling Basic authentication for SMTP
# AUTH by default at the end of December 2026 (existing tenants; admins can
# re-enable it until the final removal, which Microsoft will announce in the
# second half of 2027). Run it for every mailbox a device signs in with:
# while it passes, the device still works with a password; once it fails
# with 550 5.7.30 (or 535 5.7.139), the device needs OAuth (XOAUTH2, scope
# https://outlook.office.com/SMTP.Send), a relay connector or another path.
#
#   SMTP_PASSWORD='...' smtpdiag run suites/basic-auth-readiness.hcl \
#     -var username=scanner@contoso.com
#
# Source: https://techcommunity.microsoft.com/blog/exchange/updated-exchange-online-smtp-auth-basic-authentication-deprecation-timeline/4489835

suite {
  name        = "m365: Basic auth readiness (SMTP AUTH, end of December 2026)"
  description = "AUTH mechanisms offered; whether Basic auth still works for this mailbox"
}

variable "username" {
  description = "Mailbox a device signs in as (scanner@contoso.com)"
}

variable "password" {
  sensitive   = true
  default     = env("SMTP_PASSWORD")
  description = "Password of var.username; masked in every output"
  validation {
    condition     = length(var.password) > 0
    error_message = "Set SMTP_PASSWORD or -var password=... (the mailbox's password)."
  }
}

variable "device_helo" {
  default     = ""
  description = "EHLO name to announce; empty: this machine's name"
}

variable "submission_host" {
  default     = "smtp.office365.com"
  description = "smtp.office365.com, or smtp-legacy.office365.com for tenants that allow legacy TLS clients"
}

variable "submission_port" {
  type    = number
  default = 587
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

# Exchange Online offers AUTH LOGIN and XOAUTH2 inside TLS, and neither
# PLAIN nor CRAM-MD5: a device set to one of those fails whatever the
# Basic auth timeline.
smtp "AUTH LOGIN and XOAUTH2 are offered after STARTTLS" {
  endpoint = endpoint.submission

  expect {
    starttls        = true
    auth_before_tls = false
    advertises      = ["AUTH LOGIN", "AUTH XOAUTH2"]
    not_advertises  = ["AUTH PLAIN", "AUTH CRAM-MD5"]
  }
}

# Signs in only: no MAIL FROM, nothing is sent.
smtp "Basic auth (AUTH LOGIN with the password) still works for this mailbox" {
  endpoint = endpoint.submission
  auth {
    username  = var.username
    password  = var.password
    mechanism = "LOGIN"
  }

  expect {
    auth = 235
    # Basic auth disabled for the tenant / SMTP AUTH off for the mailbox.
    no = ["550 5.7.30", "535 5.7.139"]
  }
}
