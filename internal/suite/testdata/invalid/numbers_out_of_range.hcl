suite {
  parallel = 0
}

endpoint "relay" {
  host       = "127.0.0.1"
  port       = 70000
  ip_version = 5
}

smtp "retry" {
  endpoint = endpoint.relay
  retry {
    attempts = 0
  }
}
