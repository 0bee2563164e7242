# Contoso: the fax server sends faxes to the reception mailbox by Direct
# Send (tenant MX endpoint, port 25, no AUTH). It breaks when the office
# line's IP changes or gets listed, or when RejectDirectSend is turned on.

suite {
  name = "contoso: fax server Direct Send (MX endpoint, port 25)"
}

variable "domain" {}
variable "mx_host" {}
variable "fax_sender" {}
variable "fax_recipient" {}
variable "office_ip" {}

endpoint "mx" {
  host    = var.mx_host
  port    = 25
  helo    = "fax01.${var.domain}"
  timeout = "15s"
}

smtp "fax reaches the reception mailbox by Direct Send" {
  endpoint  = endpoint.mx
  mail_from = var.fax_sender
  rcpt_to   = [var.fax_recipient]

  expect {
    starttls       = true
    not_advertises = ["AUTH"]
    client_ip      = var.office_ip
    rcpt           = "250"
    no             = ["550 5.7.606-649", "550 5.7.1 Spamhaus", "5.7.68"]
  }
}
