# An attribute the block does not have.
endpoint "e" {
  host    = "127.0.0.1"
  command = "id"
}
smtp "c" { endpoint = endpoint.e }
