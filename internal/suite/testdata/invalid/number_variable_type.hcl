# -var port=submission
variable "port" {
  type = number
}

variable "retries" {
  type    = number
  default = "three"
}

variable "servers" {
  type    = list(string)
  default = "smtp.office365.com"
}

variable "options" {
  type = map(string)
}
