# A TLS server name (SNI) with a line break.
endpoint "e" {
  host        = "127.0.0.1"
  server_name = "mx.contoso.com\r\nEHLO evil"
}
smtp "c" { endpoint = endpoint.e }
