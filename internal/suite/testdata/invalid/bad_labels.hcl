variable "smtp password" {
  default = "x"
}

endpoint "1st-relay" {
  host = "127.0.0.1"
}

smtp "" {
  endpoint = endpoint.relay
}
