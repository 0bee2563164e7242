variable "domain" {
  default = "contoso.com"
}

variable "sender" {
  default = "scanner@${var.domain}"
}
