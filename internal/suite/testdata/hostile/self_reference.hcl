# A variable whose default refers to itself.
variable "a" { default = "${var.a}x" }
endpoint "e" { host = "127.0.0.1" }
smtp "c" { endpoint = endpoint.e }
