# Microsoft 365 SMTP AUTH client submission: a device signs in to
# smtp.office365.com on port 587 with a licensed mailbox and sends as that
# mailbox, to internal and external recipients.
#
# When to use it: a copier, scanner or application is set up (or about to
# be) with "smtp.office365.com, port 587, TLS/STARTTLS, user name and
# password", and you need proof that this exact path works: STARTTLS is
# offered, TLS 1.2 or newer is negotiated, AUTH is offered only inside TLS,
# the mailbox may sign in, and MAIL FROM / RCPT TO are accepted. No message
# is sent (no message block): after RCPT the runner sends RSET and QUIT.
#
#   SMTP_PASSWORD='...' smtpdiag run suites/m365-smtp-auth.hcl \
#     -var domain=contoso.com -var username=scanner@contoso.com \
#     -var 'recipients=["helpdesk@contoso.com"]'
#
# Source: https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365

suite {
  name        = "m365: SMTP AUTH client submission (smtp.office365.com:587)"
  description = "STARTTLS, TLS >= 1.2, AUTH only after TLS, sign-in, MAIL FROM and RCPT TO accepted"
}

variable "domain" {
  description = "Accepted domain of the tenant (contoso.com)"
}

variable "username" {
  description = "Mailbox the device signs in as (scanner@contoso.com)"
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

variable "sender" {
  default     = ""
  description = "Envelope sender the device uses; empty: var.username. Anything else needs Send As (else 5.7.60)"
}

variable "recipients" {
  type        = list(string)
  description = "Recipients to try with RCPT TO (internal and external); no message is sent"
}

variable "device_helo" {
  default     = ""
  description = "EHLO name the device announces (scanner01.contoso.com); empty: this machine's name"
}

variable "submission_host" {
  default     = "smtp.office365.com"
  description = "Client submission host; always the DNS name, never an IP"
}

variable "submission_port" {
  type        = number
  default     = 587
  description = "587 (recommended) or 25; 465 is not supported by Microsoft 365"
}

variable "ca_file" {
  default     = ""
  description = "Extra trust anchors (PEM), only for test servers; a relative path is relative to this file"
}

endpoint "submission" {
  host    = var.submission_host
  port    = var.submission_port
  tls     = "starttls"
  helo    = var.device_helo != "" ? var.device_helo : null
  ca_file = var.ca_file != "" ? var.ca_file : null
}

# The capabilities alone, without signing in: if this fails, the device
# cannot get as far as AUTH.
smtp "smtp.office365.com offers STARTTLS, TLS 1.2+ and AUTH only inside TLS" {
  endpoint = endpoint.submission

  expect {
    starttls              = true
    tls_version           = ">= 1.2"    # TLS 1.0/1.1 are refused (421 4.7.66)
    certificate_valid     = true
    certificate_days_left = ">= 14"
    auth_before_tls       = false       # AUTH appears only after STARTTLS
    advertises            = ["AUTH LOGIN"]
  }
}

# The whole path of the device: STARTTLS, AUTH LOGIN, MAIL FROM, RCPT TO.
smtp "mailbox signs in and its sender and recipients are accepted" {
  endpoint = endpoint.submission
  auth {
    username  = var.username
    password  = var.password
    mechanism = "LOGIN"                 # what most devices use
  }
  mail_from = var.sender != "" ? var.sender : var.username
  rcpt_to   = var.recipients

  expect {
    starttls = true
    auth     = 235
    mail     = "250"
    rcpt     = "250"
    # Not authenticated / SMTP AUTH disabled / Basic auth off / Send As
    # missing / wrong credentials or MFA.
    no = ["5.7.57", "5.7.139", "5.7.30", "5.7.60", "535 5.7.3"]
  }
}
