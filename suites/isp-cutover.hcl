# ISP cutover: run from the NEW line before and after the switch, so that
# the day it goes live the devices' paths to Microsoft 365 are already
# proven: outbound port 25 to the tenant MX endpoint and port 587 to
# smtp.office365.com are open, and Exchange Online sees the expected new
# static IP (the one the relay connector and the SPF record must name).
#
# When to use it: a client changes ISP or line (new static IP), or the ISP
# announces port filtering. Run it in CI from a runner on the new line.
#
#   smtpdiag run suites/isp-cutover.hcl -var domain=contoso.com -var egress_ip=203.0.113.5
#
# Not yet in this suite (needs the dns and dnsbl blocks of a later
# smtpdiag version; until then check them by hand):
#   - the new IP is on no blocklist (zen.spamhaus.org, b.barracudacentral.org, bl.spamcop.net):
#       dnsbl "egress IP is on no blocklist" {
#         ip = smtp["MX endpoint sees the new egress IP"].client_ip
#         expect { listed = false }
#       }
#   - SPF allows the new IP (Direct Send):
#       dns "SPF allows the new IP" {
#         name = var.domain
#         type = "TXT"
#         expect { spf_allows = var.egress_ip }
#       }
#   - the new IP has a PTR record (reverse DNS), which the ISP sets:
#       dns "new IP has a PTR record" {
#         name = var.egress_ip
#         type = "PTR"
#         expect { count = 1 }
#       }
#
# Source: https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365

suite {
  name        = "m365: ISP cutover (ports 25 and 587, egress IP)"
  description = "From the new line: port 25 to the MX endpoint, port 587 to smtp.office365.com, the IP Exchange Online sees"
}

variable "domain" {
  description = "Accepted domain of the tenant (contoso.com)"
}

variable "egress_ip" {
  description = "The new line's static public IP, as the connector and SPF record must name it (203.0.113.5)"
}

variable "device_helo" {
  default     = ""
  description = "EHLO name to announce; empty: this machine's name"
}

variable "mx_host" {
  default     = ""
  description = "Tenant MX host; empty: <domain with - for .>.mail.protection.outlook.com (check the MX record)"
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
  timeout = "15s"                       # a filtered port 25 shows up as a connect timeout
}

endpoint "submission" {
  host    = var.submission_host
  port    = var.submission_port
  helo    = var.device_helo != "" ? var.device_helo : null
  ca_file = var.ca_file != "" ? var.ca_file : null
  timeout = "15s"
}

# Many ISPs block outbound port 25 on consumer and small-business lines; a
# connect timeout here means Direct Send and relay cannot work from this
# line.
smtp "outbound port 25 reaches the MX endpoint" {
  endpoint = endpoint.mx

  expect {
    connect       = true
    banner        = "220"
    banner_within = "10s"
    starttls      = true
  }
}

smtp "outbound port 587 reaches smtp.office365.com" {
  endpoint = endpoint.submission

  expect {
    connect       = true
    banner        = "220"
    banner_within = "10s"
    starttls      = true
    tls_version   = ">= 1.2"
  }
}

smtp "MX endpoint sees the new egress IP" {
  endpoint = endpoint.mx

  expect {
    client_ip = var.egress_ip
  }
}

smtp "smtp.office365.com sees the new egress IP" {
  endpoint = endpoint.submission

  expect {
    client_ip = var.egress_ip
  }
}
