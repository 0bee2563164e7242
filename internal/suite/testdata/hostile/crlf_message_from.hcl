# Header injection through the From header.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = "a@contoso.com"
  rcpt_to   = ["b@contoso.com"]
  message {
    from = "a@contoso.com\r\nBcc: everyone@example.com"
  }
}
