variable "domain" {
  default = "contoso.com"
}

dns "MX points at Exchange Online" {
  name = var.domain
  type = "MX"
  expect {
    contains = ["mail.protection.outlook.com"]
  }
}

dnsbl "egress IP is on no blocklist" {
  ip = "203.0.113.5"
  expect { listed = false }
}
