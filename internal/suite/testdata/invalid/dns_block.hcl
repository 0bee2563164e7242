variable "domain" {
  default = "contoso.com"
}

endpoint "mx" {
  mx = var.domain
}

smtp "device submits" {
  endpoint = endpoint.mx
}

dns "MX points at Exchange Online" {
  name     = var.domain
  type     = "MXX"
  resolver = "dns.google:53"
  expect {
    contains = ["mail.protection.outlook.com"]
  }
}

dns "SPF on an MX lookup" {
  name = var.domain
  type = "MX"
  expect {
    spf_allows   = ["203.0.113.5"]
    dmarc_policy = "reject"
  }
}

dns "SPF" {
  name = var.domain
  type = "TXT"
  expect {
    spf_allows   = ["203.0.113.5", "not-an-ip"]
    dmarc_policy = "strict"
    rcode        = "GONE"
  }
}

dns "PTR of a name" {
  name = "mail.contoso.com"
  type = "PTR"
  expect {
    forward_confirmed = true
  }
}

dns "A of an IP" {
  name = "203.0.113.5"
  type = "A"
}

dns "SPF" {
  name = var.domain
  type = "TXT"
}

dnsbl "egress IP is on no blocklist" {
  ip    = smtp["device submit"].client_ip
  zones = ["zen.spamhaus.org", "127.0.0.1"]
}

dnsbl "attribute" {
  ip = smtp["device submits"].banner
}

dnsbl "not an ip" {
  ip      = "egress"
  dqs_key = "abc.def"
}
