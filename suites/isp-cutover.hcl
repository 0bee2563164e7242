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
# From the same line it proves what receivers check about that IP: it is on
# no blocklist (looked up for the address Exchange Online actually echoes,
# not the one you expect), the domain's SPF record allows it, and it has
# forward-confirmed reverse DNS (a PTR record whose name points back to it,
# which the ISP sets). It also checks that the tenant's MX record points at
# Exchange Online.
#
# Spamhaus does not answer queries that come through public resolvers
# (8.8.8.8, 1.1.1.1 and the like: the blocklist check then fails with "cannot
# prove ... is not listed"): run it with --resolver set to a resolver of your
# own, or give a free Spamhaus Data Query Service key with
# SPAMHAUS_DQS_KEY=... or -var spamhaus_dqs_key=....
#
# Sources: https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365
# https://www.rfc-editor.org/rfc/rfc5782 (DNS blocklists), https://www.rfc-editor.org/rfc/rfc7208 (SPF),
# https://docs.spamhaus.com/ (Spamhaus zones and the Data Query Service)

suite {
  name        = "m365: ISP cutover (ports 25 and 587, egress IP)"
  description = "From the new line: port 25 to the MX endpoint, port 587 to smtp.office365.com, the IP Exchange Online sees, its blocklist, SPF and PTR status"
}

variable "domain" {
  description = "Accepted domain of the tenant (contoso.com)"
}

variable "egress_ip" {
  description = "The new line's static public IP, as the connector and SPF record must name it (203.0.113.5)"
  validation {
    condition     = can(regex("^[0-9.]+$|^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$", var.egress_ip))
    error_message = "egress_ip must be an IP address, like 203.0.113.5."
  }
}

variable "spamhaus_dqs_key" {
  sensitive   = true
  default     = env("SPAMHAUS_DQS_KEY")
  description = "Spamhaus Data Query Service key; empty: ask zen.spamhaus.org through the resolver (not a public one)"
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

# The tenant's MX record names its Exchange Online MX endpoint, whose host
# starts with the domain written with - for . (contoso-com): under
# mail.protection.outlook.com, or, for domains added since July 2026, under
# mx.microsoft (contoso-com.<x>-v1.mx.microsoft, UNVERIFIED as official).
# `contains` needs each string in some record, so the one string both forms
# share is the host's first label, after the MX preference and a space.
# A filtering service in front of Exchange Online fails this check.
dns "tenant MX points at Exchange Online" {
  name = var.domain
  type = "MX"

  expect {
    contains = [" ${replace(lower(var.domain), ".", "-")}"]
  }
}

# Receivers check the domain's SPF record for mail from the new IP: a
# destination system that enforces it refuses a failing message (550
# 5.7.23 is the receiving system's reply, not one Exchange Online's
# submission gives), others file it as junk. The new IP must get "pass".
# For Direct Send Microsoft documents the record
# v=spf1 ip4:<new IP> include:spf.protection.outlook.com ~all
# (https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365).
dns "SPF allows the new IP" {
  name = var.domain
  type = "TXT"

  expect {
    spf_allows = [var.egress_ip]
  }
}

# Reverse DNS is the ISP's to set: receivers distrust an IP without a PTR
# record, or whose PTR name does not resolve back to it.
dns "new IP has forward-confirmed reverse DNS" {
  name = var.egress_ip
  type = "PTR"

  expect {
    forward_confirmed = true
  }
}

# The address smtp.office365.com echoed, which is what the world sees from
# this line (port 587 is open on more lines than port 25, so this gives a
# verdict even where port 25 is filtered). A Spamhaus PBL listing only
# matters for sending on port 25: Direct Send and relay.
dnsbl "egress IP is on no blocklist" {
  ip      = smtp["smtp.office365.com sees the new egress IP"].client_ip
  dqs_key = var.spamhaus_dqs_key != "" ? var.spamhaus_dqs_key : null

  expect {
    listed = false
  }
}
