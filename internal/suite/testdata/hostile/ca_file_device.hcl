# A CA file that never ends.
endpoint "e" {
  host    = "127.0.0.1"
  ca_file = "/dev/zero"
}
smtp "c" { endpoint = endpoint.e }
