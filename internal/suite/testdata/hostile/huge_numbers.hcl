# Numbers beyond any range.
endpoint "e" {
  host    = "127.0.0.1"
  port    = 1e400
  timeout = "9999999999999999999h"
}
smtp "c" {
  endpoint = endpoint.e
  retry {
    attempts = 18446744073709551617
    delay    = "-1s"
  }
}
