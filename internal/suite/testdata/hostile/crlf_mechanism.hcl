# CRLF injection in the AUTH mechanism, which goes on the wire as is.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint = endpoint.e
  auth {
    username  = "scanner@contoso.com"
    password  = "p"
    mechanism = "LOGIN\r\nMAIL FROM:<x@example.com>"
  }
}
