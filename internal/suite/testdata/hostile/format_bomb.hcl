# A format width that would allocate gigabytes.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = format("%999999999999s", "a@contoso.com")
}
