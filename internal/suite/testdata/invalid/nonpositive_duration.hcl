endpoint "relay" {
  host    = "127.0.0.1"
  timeout = "0s"
}

smtp "durations" {
  endpoint = endpoint.relay
  retry {
    attempts = 2
    delay    = "-1s"
  }
  expect {
    max_duration = "-5s"
  }
}
