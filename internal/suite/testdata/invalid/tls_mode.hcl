endpoint "submission" {
  host = "smtp.office365.com"
  port = 587
  tls  = "ssl"
}
