endpoint "lab" {
  host    = "127.0.0.1"
  ca_file = "missing-ca.pem"
}

endpoint "wrong" {
  host    = "127.0.0.1"
  ca_file = "not-a-cert.pem"
}
