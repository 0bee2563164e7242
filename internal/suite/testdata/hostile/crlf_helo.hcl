# CRLF injection in the EHLO name.
endpoint "e" {
  host = "127.0.0.1"
  helo = "scanner01\r\nMAIL FROM:<forged@example.com>"
}
smtp "c" { endpoint = endpoint.e }
