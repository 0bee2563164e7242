# Microsoft 365 SMTP AUTH client submission (smtp.office365.com:587), the
# way a copier or scanner sends "scan to email".
#
# `smtpdiag demo` runs this suite against the built-in simulator on
# loopback and sets the variables below. To point the same checks at the
# real service, give the real host and port, your own mailbox and password,
# and delete the ca_file line (the real certificate chains to a public root):
#
#   smtpdiag run -var submission_host=smtp.office365.com -var submission_port=587 \
#     -var username=scanner@yourtenant.com -var password=... m365-submission.hcl

suite {
  name        = "demo: Microsoft 365 client submission"
  description = "SMTP AUTH on port 587: STARTTLS first, then AUTH LOGIN, then MAIL and RCPT"
}

variable "submission_host" {
  description = "Submission host (smtp.office365.com in production; set by smtpdiag demo)"
}

variable "submission_port" {
  type        = number
  description = "Submission port (587 in production; set by smtpdiag demo)"
}

variable "ca_file" {
  description = "PEM file with the simulator's test CA (set by smtpdiag demo)"
}

variable "username" {
  default     = "scanner@contoso.com"
  description = "Mailbox the device signs in as; it must also be the envelope sender"
}

variable "password" {
  # sensitive: the value is masked in every output, also in its base64
  # form inside the AUTH exchange. In a real suite use
  # default = env("SMTP_PASSWORD") instead of a literal.
  sensitive   = true
  default     = "demo-password"
  description = "Password of var.username"
}

variable "oauth_token" {
  sensitive   = true
  default     = "demo-token"
  description = "OAuth 2.0 access token for XOAUTH2 (scope https://outlook.office.com/SMTP.Send)"
}

endpoint "submission" {
  host    = var.submission_host
  port    = var.submission_port
  tls     = "starttls"                # Exchange Online requires STARTTLS before AUTH
  helo    = "scanner01.contoso.com"
  ca_file = var.ca_file               # only for the simulator's test CA
}

# The whole path a scanner takes: STARTTLS, AUTH LOGIN, MAIL FROM, RCPT TO.
# smtpdiag sends DATA only for a check with a message block, and no demo
# check has one: after RCPT the runner sends RSET and QUIT instead.
smtp "scanner signs in with AUTH LOGIN after STARTTLS" {
  endpoint = endpoint.submission
  auth {
    username  = var.username
    password  = var.password
    mechanism = "LOGIN"               # what most copiers use
  }
  mail_from = var.username            # From must be the signed-in mailbox (else 5.7.60)
  rcpt_to   = ["helpdesk@contoso.com"]

  expect {
    starttls        = true
    tls_version     = ">= 1.2"        # TLS 1.0/1.1 are refused by Exchange Online
    auth_before_tls = false           # AUTH is offered only inside TLS
    advertises      = ["AUTH LOGIN"]
    auth            = 235
    mail            = "250 2.1.0"
    rcpt            = "250 2.1.5"
    client_ip       = "127.0.0.1"     # the IP in the EHLO greeting "Hello [IP]"
  }
}

# The same with OAuth (XOAUTH2), the way forward once Basic auth for SMTP
# AUTH is switched off.
smtp "scanner signs in with XOAUTH2" {
  endpoint = endpoint.submission
  auth {
    username  = var.username
    token     = var.oauth_token
    mechanism = "XOAUTH2"
  }
  mail_from = var.username
  rcpt_to   = ["helpdesk@contoso.com"]

  expect {
    advertises = ["AUTH XOAUTH2"]
    auth       = 235
    rcpt       = "250"
  }
}

# A device with no credentials configured: Exchange Online answers at
# MAIL FROM. Expecting the rejection makes this check pass.
smtp "no credentials gets 530 5.7.57" {
  endpoint  = endpoint.submission
  mail_from = var.username

  expect {
    mail = "530 5.7.57"
  }
}

# The right password, but SMTP AUTH is switched off for the mailbox or the
# tenant (Set-CASMailbox -SmtpClientAuthenticationDisabled).
smtp "SMTP AUTH disabled for the mailbox gets 535 5.7.139" {
  endpoint = endpoint.submission
  auth {
    username  = "disabled@contoso.com"
    password  = var.password
    mechanism = "LOGIN"
  }

  expect {
    auth = "535 5.7.139"
  }
}

smtp "wrong password gets 535 5.7.3" {
  endpoint = endpoint.submission
  auth {
    username  = var.username
    password  = "not-the-password"
    mechanism = "LOGIN"
  }

  expect {
    auth = "535 5.7.3 Authentication unsuccessful"
  }
}
