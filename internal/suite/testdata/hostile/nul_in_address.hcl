# A NUL byte in an address.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = "a\u0000@contoso.com"
}
