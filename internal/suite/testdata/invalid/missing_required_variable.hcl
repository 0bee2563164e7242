variable "password" {
  sensitive   = true
  description = "SMTP AUTH password of the scanner mailbox"
}

endpoint "submission" {
  host = "smtp.office365.com"
  port = 587
}

smtp "device submits" {
  endpoint = endpoint.submission
  auth {
    username = "scanner@contoso.com"
    password = var.password
  }
}
