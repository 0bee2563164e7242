endpoint "relay" {
  host = "127.0.0.1"
}

smtp "two at signs" {
  endpoint  = endpoint.relay
  mail_from = "scanner@contoso.com@evil.example"
  rcpt_to   = ["helpdesk@contoso.com"]
  message {
    from = "x@y@z"
  }
}
