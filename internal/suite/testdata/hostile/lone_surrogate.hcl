# A string escape that is not a Unicode scalar value.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = "a\uD800@contoso.com"
}
