# CRLF injection: MAIL FROM followed by a command of its own.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = "a@contoso.com>\r\nRCPT TO:<victim@example.com"
}
