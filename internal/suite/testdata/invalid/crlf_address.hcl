endpoint "relay" {
  host = "127.0.0.1"
}

smtp "injection attempt" {
  endpoint  = endpoint.relay
  mail_from = "a@b.com\r\nDATA"
  rcpt_to   = ["helpdesk@contoso.com\nRCPT TO:<other@example.com>"]
}
