# Every block and attribute of the suite language, each with a value that
# differs from its default.

suite {
  name        = "contoso: ${var.site}"
  description = "Runs before the ISP cutover"
  parallel    = 2
}

variable "site" {
  type        = string
  default     = "scan-to-email"
  description = "Which site this suite checks"
}

variable "domain" {
  default = "contoso.com"
}

variable "password" {
  type      = string
  sensitive = true
  default   = env("FULL_SMTP_PASSWORD")
  validation {
    condition     = length(var.password) >= 8
    error_message = "The password must have at least 8 characters."
  }
}

variable "recipients" {
  type    = list(string)
  default = ["helpdesk", "scans"]
}

variable "port" {
  type    = number
  default = 587
}

variable "strict" {
  type    = bool
  default = true
}

endpoint "submission" {
  host               = "smtp.office365.com"
  port               = var.port
  tls                = "starttls"
  helo               = "scanner01.${var.domain}"
  timeout            = "45s"
  tls_min_version    = "1.2"
  tls_max_version    = "1.3"
  server_name        = "outlook.office365.com"
  verify_certificate = var.strict
  ca_file            = "lab-ca.pem"
  source_address     = "192.0.2.10"
  ip_version         = 4
}

endpoint "smtps" {
  host = "127.0.0.1"
  tls  = "implicit"
}

endpoint "plain" {
  host               = "mail.contoso.com"
  tls                = "none"
  verify_certificate = false
}

smtp "device can submit" {
  endpoint = endpoint.submission

  auth {
    username  = "scanner@${var.domain}"
    password  = var.password
    mechanism = "login"
  }

  mail_from = "scanner@${var.domain}"
  rcpt_to   = [for r in var.recipients : "${r}@${var.domain}"]

  message {
    subject = upper("scan from ${var.site}")
    body    = file("body.txt")
    from    = "Scanner@${var.domain}"
    to      = ["helpdesk@${var.domain}"]
    headers = {
      "X-Smtpdiag-Run" = "acceptance"
      Importance       = "low"
    }
  }

  retry {
    attempts = 3
    delay    = "20s"
  }

  expect {
    connect               = true
    banner                = "220"
    ehlo                  = 250
    auth                  = 235
    mail                  = "250 2.1.0"
    rcpt                  = ["250", "2xx"]
    data                  = "250 2.6.0 queued"
    starttls              = true
    tls_version           = ">= 1.2"
    certificate_valid     = true
    certificate_days_left = 14
    advertises            = ["PIPELINING", "AUTH LOGIN"]
    not_advertises        = ["AUTH PLAIN"]
    auth_before_tls       = false
    no                    = ["550 5.7.606-649", "5.7.139"]
    client_ip             = "203.0.113.5"
    max_duration          = "10s"
    banner_within         = "5s"
  }

  assert {
    condition     = result.tls.version >= 1.2
    error_message = "TLS below 1.2 for ${var.site}"
  }

  assert {
    condition     = result.client_ip != ""
    error_message = "no client IP in ${result.ehlo.greeting}"
  }
}

smtp "token over implicit TLS" {
  endpoint = endpoint.smtps
  auth {
    username = "app@contoso.com"
    token    = "eyJ0eXAi.token"
  }
  mail_from = ""
  rcpt_to   = "postmaster"
  retry {
    attempts = 2
  }
  expect {
    rcpt = "550"
    no   = "421"
  }
}

smtp "port 25 is blocked" {
  endpoint = endpoint["plain"]
  expect {
    connect = false
  }
}
