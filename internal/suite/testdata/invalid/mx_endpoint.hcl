variable "domain" {
  default = "contoso.com"
}

endpoint "both" {
  host = "mx.contoso.com"
  mx   = var.domain
}

endpoint "ip" {
  mx = "203.0.113.5"
}

endpoint "bad" {
  mx = "contoso..com"
}

smtp "direct send" {
  endpoint = endpoint.both
}
