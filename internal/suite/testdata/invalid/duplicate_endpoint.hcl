variable "domain" {
  default = "contoso.com"
}

variable "domain" {
  default = "fabrikam.com"
}

endpoint "relay" {
  host = "127.0.0.1"
}

endpoint "relay" {
  host = "127.0.0.2"
}
