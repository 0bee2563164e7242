variable "relay" {}

endpoint "relay" {
  host = var.relay
}
