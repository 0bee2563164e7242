endpoint "relay" {
  host = "127.0.0.1"
}

smtp "patterns" {
  endpoint  = endpoint.relay
  mail_from = "scanner@contoso.com"
  rcpt_to   = ["a@contoso.com", "b@contoso.com"]
  expect {
    banner = "6xx"
    mail   = 1234
    rcpt   = ["250", "25O"]
    no     = ["550 4.7.1"]
    ehlo   = ["250", "251"]
  }
}
