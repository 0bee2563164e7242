# 66 strings of 30 interpolations of a 1 MiB variable: each string is
# within the limit of 64 interpolations, the file within that of 2,000,
# and together they would build about 2 GiB. The budget of built bytes,
# which they share, refuses the second one.
variable "s" {
  type = string
  # 1,024,000 bytes: each function result may be up to 1 MiB.
  default = join("", [for i in range(1024) : "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"])
}
endpoint "e" { host = "127.0.0.1" }

smtp "c0" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c1" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c2" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c3" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c4" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c5" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c6" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c7" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c8" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c9" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c10" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c11" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c12" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c13" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c14" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c15" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c16" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c17" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c18" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c19" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c20" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c21" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c22" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c23" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c24" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c25" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c26" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c27" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c28" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c29" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c30" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c31" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c32" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c33" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c34" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c35" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c36" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c37" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c38" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c39" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c40" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c41" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c42" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c43" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c44" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c45" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c46" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c47" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c48" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c49" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c50" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c51" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c52" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c53" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c54" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c55" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c56" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c57" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c58" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c59" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c60" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c61" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c62" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c63" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c64" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}

smtp "c65" {
  endpoint  = endpoint.e
  mail_from = "${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}${var.s}"
}
