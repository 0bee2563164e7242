# A for-expression whose body builds a 1 MiB string once per element.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = "a@contoso.com"
  rcpt_to   = [for i in range(1024) : join("", [for k in range(100) : format("%10000s", i)])]
}
