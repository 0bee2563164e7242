variable "domain" {
  default = "contoso.com"
}

endpoint "mx" {
  mx   = var.domain
  port = 25
}

smtp "direct send" {
  endpoint = endpoint.mx
}
