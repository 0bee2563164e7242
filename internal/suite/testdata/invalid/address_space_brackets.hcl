endpoint "relay" {
  host = "127.0.0.1"
}

smtp "addresses" {
  endpoint  = endpoint.relay
  mail_from = "<scanner@contoso.com>"
  rcpt_to   = ["help desk@contoso.com", "ok@contoso.com", "", "tab\t@contoso.com"]
}
