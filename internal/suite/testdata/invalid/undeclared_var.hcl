# -var domian=contoso.com
# -var tenant=contoso
variable "domain" {
  default = "contoso.com"
}
