# Every kind of duplicate at once.
suite { name = "a" }
suite { name = "b" }
variable "v" {}
variable "v" {}
endpoint "e" { host = "127.0.0.1" }
endpoint "e" { host = "127.0.0.2" }
smtp "c" {
  endpoint = endpoint.e
  endpoint = endpoint.e
}
smtp "c" { endpoint = endpoint.e }
