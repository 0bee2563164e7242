endpoint "relay" {
  host    = "127.0.0.1"
  timeout = 30
}

smtp "durations" {
  endpoint = endpoint.relay
  expect {
    max_duration  = "ten seconds"
    banner_within = "5 s"
  }
}
