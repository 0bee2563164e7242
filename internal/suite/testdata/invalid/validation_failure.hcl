# env SMTP_PASSWORD=
variable "password" {
  sensitive = true
  default   = env("SMTP_PASSWORD")
  validation {
    condition     = length(var.password) > 0
    error_message = "Set SMTP_PASSWORD or -var password=..."
  }
}

variable "domain" {
  default = "contoso"
  validation {
    condition     = can(regex("\\.", var.domain))
    error_message = "The domain must contain a dot, like contoso.com."
  }
}
