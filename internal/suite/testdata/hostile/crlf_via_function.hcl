# The injection is built by a function at evaluation time.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = format("a@contoso.com%sDATA", "\r\n")
  rcpt_to   = [join("\n", ["b@contoso.com", "QUIT"])]
}
