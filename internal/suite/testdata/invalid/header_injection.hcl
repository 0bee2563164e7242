endpoint "relay" {
  host = "127.0.0.1"
  helo = "scanner01 contoso.com"
}

smtp "headers" {
  endpoint  = endpoint.relay
  mail_from = "scanner@contoso.com"
  rcpt_to   = ["helpdesk@contoso.com"]
  auth {
    username = "scanner\r\nMAIL FROM:<x@y>"
    password = "pw-with\nnewline"
  }
  message {
    subject = "scan\r\nBcc: everyone@contoso.com"
    headers = {
      "X-Scan"     = "ok\r\nX-Injected: yes"
      "Bad Header" = "value"
      Subject      = "twice"
    }
  }
}
