# Microsoft 365 Direct Send: a device delivers straight to the tenant's MX
# endpoint (contoso-com.mail.protection.outlook.com:25) without signing in.
# That works for internal recipients only, and the device's public IP must
# not be on Microsoft's block list.
#
# `smtpdiag demo` runs this suite against the built-in simulator on
# loopback and sets the variables below. Against the real service, set
# mx_host to your tenant's MX host, mx_port to 25, and delete the ca_file
# line.

suite {
  name        = "demo: Microsoft 365 Direct Send (MX endpoint)"
  description = "Port 25 to the tenant MX: STARTTLS, no AUTH, internal recipients only"
}

variable "mx_host" {
  description = "The tenant's MX host (set by smtpdiag demo)"
}

variable "mx_port" {
  type        = number
  description = "MX port (25 in production; set by smtpdiag demo)"
}

variable "ca_file" {
  description = "PEM file with the simulator's test CA (set by smtpdiag demo)"
}

variable "domain" {
  default     = "contoso.com"
  description = "Accepted domain of the tenant"
}

endpoint "mx" {
  host    = var.mx_host
  port    = var.mx_port
  tls     = "starttls"
  helo    = "scanner01.${var.domain}"
  ca_file = var.ca_file
}

# An MX endpoint must never offer AUTH (not before TLS, not after). Internal
# recipients are accepted without credentials.
smtp "MX offers STARTTLS and no AUTH" {
  endpoint  = endpoint.mx
  mail_from = "scanner@${var.domain}"
  rcpt_to   = ["helpdesk@${var.domain}"]

  expect {
    starttls       = true
    tls_version    = ">= 1.2"
    not_advertises = ["AUTH"]
    rcpt           = "250 2.1.5"
    client_ip      = "127.0.0.1"
  }
}

# Direct Send cannot relay: a recipient outside the accepted domain is
# refused. A list of patterns matches the RCPT replies in order.
smtp "external recipient is refused with 550 5.7.64" {
  endpoint  = endpoint.mx
  mail_from = "scanner@${var.domain}"
  rcpt_to   = ["helpdesk@${var.domain}", "someone@fabrikam.com"]

  expect {
    rcpt = ["250 2.1.5", "550 5.7.64"]
  }
}

# The simulator answers any recipient whose local part starts with
# "blocked" the way Exchange Online answers a sender IP on its block list.
# This check proves the block: it passes because the rejection is expected.
smtp "banned sending IP is refused with 550 5.7.606" {
  endpoint  = endpoint.mx
  mail_from = "scanner@${var.domain}"
  rcpt_to   = ["blocked@${var.domain}"]

  expect {
    rcpt = "550 5.7.606"
  }
}

# Throttling is temporary (4xx). In a real suite a retry block would try
# again later:  retry { attempts = 3  delay = "20s" }
smtp "busy front end answers 451 4.7.500" {
  endpoint  = endpoint.mx
  mail_from = "scanner@${var.domain}"
  rcpt_to   = ["busy@${var.domain}"]

  expect {
    rcpt = "451 4.7.500"
  }
}

# EXPECTED FAILURE: this is what a check looks like when reality disagrees
# with the suite. It expects the mail to be accepted, so it fails, and the
# output shows the 5.7.606 rejection, its diagnosis and the transcript.
# `smtpdiag demo` succeeds only when exactly the checks whose label starts
# with "EXPECTED FAILURE" fail.
smtp "EXPECTED FAILURE: scanner mail to blocked@contoso.com is accepted" {
  endpoint  = endpoint.mx
  mail_from = "scanner@${var.domain}"
  rcpt_to   = ["blocked@${var.domain}"]

  expect {
    rcpt = "250"
    no   = ["550 5.7.606-649"]
  }
}
