# Values of the wrong type everywhere.
endpoint "e" {
  host    = ["127.0.0.1"]
  port    = "twenty-five"
  timeout = 30
  tls     = true
}
smtp "c" {
  endpoint = "endpoint.e"
  rcpt_to  = "b@contoso.com"
}
