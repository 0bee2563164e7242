# An interpolation that never closes.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = "${upper("a@contoso.com")"
}
