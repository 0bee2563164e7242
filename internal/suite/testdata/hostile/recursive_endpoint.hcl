# An endpoint that refers to itself.
endpoint "e" {
  host = endpoint.e.host
}
smtp "c" { endpoint = endpoint.e }
