# file() of a device that never ends.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint = endpoint.e
  mail_from = "a@contoso.com"
  rcpt_to   = ["b@contoso.com"]
  message {
    body = file("/dev/zero")
  }
}
