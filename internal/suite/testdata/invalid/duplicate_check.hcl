endpoint "relay" {
  host = "127.0.0.1"
}

smtp "banner" {
  endpoint = endpoint.relay
}

smtp "banner" {
  endpoint = endpoint.relay
  expect {
    banner = "220"
  }
}
