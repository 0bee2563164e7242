endpoint "relay" {
  host = "127.0.0.1"
}

smtp "banner only" {
  endpoint = endpoint.relay
  expect {
    auth = 235
    mail = "250"
    rcpt = "250"
    data = "354"
  }
}

smtp "message without envelope" {
  endpoint = endpoint.relay
  rcpt_to  = ["helpdesk@contoso.com"]
  message {}
}
