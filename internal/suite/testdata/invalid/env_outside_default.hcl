# env SMTP_USER=scanner@contoso.com
variable "user" {
  default = env("SMTP_USER")
}

endpoint "submission" {
  host = "smtp.office365.com"
  port = 587
}

smtp "device submits" {
  endpoint = endpoint.submission
  auth {
    username = var.user
    password = env("SMTP_PASSWORD")
  }
}
