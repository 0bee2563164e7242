# A check whose recipient is its own result.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = "a@contoso.com"
  rcpt_to   = [smtp["c"].client_ip]
}
