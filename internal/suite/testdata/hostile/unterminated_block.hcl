# A block that never closes.
endpoint "e" {
  host = "127.0.0.1"
smtp "c" { endpoint = endpoint.e
