# The injection arrives through a variable default and interpolation.
variable "to" { default = "b@contoso.com>\r\nDATA" }
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = "a@contoso.com"
  rcpt_to   = ["${var.to}"]
}
