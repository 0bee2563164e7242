# Two variables whose defaults refer to each other.
variable "a" { default = var.b }
variable "b" { default = var.a }
endpoint "e" { host = "127.0.0.1" }
smtp "c" { endpoint = endpoint.e }
