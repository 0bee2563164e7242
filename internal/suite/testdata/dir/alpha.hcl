variable "domain" {}

endpoint "mx" {
  host = "mx.${var.domain}"
}
