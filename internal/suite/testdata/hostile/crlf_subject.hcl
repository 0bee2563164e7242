# Header injection through the subject.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = "a@contoso.com"
  rcpt_to   = ["b@contoso.com"]
  message {
    subject = "hello\r\nBcc: everyone@example.com"
  }
}
