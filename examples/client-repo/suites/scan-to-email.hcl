# Contoso: scan-to-email from the copiers (SMTP AUTH client submission on
# smtp.office365.com:587). Runs nightly from the office network, and as the
# acceptance test after a copier is replaced
# (see ../../copier-replacement-runbook.md).

suite {
  name        = "contoso: scan-to-email (smtp.office365.com:587)"
  description = "Copiers sign in as scanner@contoso.com; Basic auth ends by default at the end of December 2026"
}

variable "domain" {}

variable "username" {
  description = "Mailbox the copiers sign in as"
}

variable "password" {
  sensitive = true
  default   = env("SMTP_PASSWORD")
  validation {
    condition     = length(var.password) > 0
    error_message = "Set SMTP_PASSWORD (CI secret) to the scanner mailbox's password."
  }
}

variable "recipients" {
  type = list(string)
}

variable "office_ip" {
  description = "The office line's static public IP"
}

endpoint "submission" {
  host = "smtp.office365.com"
  port = 587
  tls  = "starttls"
  helo = "mfp-2nd-floor.${var.domain}"
}

smtp "copiers reach smtp.office365.com with STARTTLS and TLS 1.2+" {
  endpoint = endpoint.submission

  expect {
    starttls              = true
    tls_version           = ">= 1.2"
    certificate_valid     = true
    certificate_days_left = ">= 14"
    auth_before_tls       = false
    advertises            = ["AUTH LOGIN"]
    client_ip             = var.office_ip
  }
}

smtp "scanner mailbox signs in and internal and external recipients are accepted" {
  endpoint = endpoint.submission
  auth {
    username  = var.username
    password  = var.password
    mechanism = "LOGIN"
  }
  mail_from = var.username
  rcpt_to   = var.recipients
  retry {
    attempts = 3                          # throttling (4xx) only
    delay    = "30s"
  }

  expect {
    auth = 235
    mail = "250"
    rcpt = "250"
    no   = ["5.7.57", "5.7.139", "5.7.30", "5.7.60"]
  }
}
