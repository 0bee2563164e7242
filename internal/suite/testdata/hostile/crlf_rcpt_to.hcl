# CRLF injection in the second recipient only.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = "a@contoso.com"
  rcpt_to   = ["ok@contoso.com", "b@contoso.com>\r\nDATA\r\nSubject: forged\r\n\r\n.\r\nQUIT"]
}
