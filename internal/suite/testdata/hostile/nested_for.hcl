# Nested for-expressions: 1024 × 1024 values without a function call.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = "a@contoso.com"
  rcpt_to   = flatten([for i in range(1024) : [for j in range(1024) : "x${i}${j}@contoso.com"]])
}
