# Invalid UTF-8 inside a string.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = "a√(@contoso.com"
}
