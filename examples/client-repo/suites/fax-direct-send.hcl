# Contoso: the fax server sends faxes to the reception mailbox by Direct
# Send (tenant MX endpoint, port 25, no AUTH). It breaks when the office
# line's IP changes or gets listed, when the SPF record no longer names it,
# or when RejectDirectSend is turned on.
#
# The blocklist check needs a resolver that Spamhaus answers: not a public
# one (8.8.8.8, 1.1.1.1). If the office router forwards to one, run with
# --resolver set to a resolver of your own.

suite {
  name = "contoso: fax server Direct Send (MX endpoint, port 25)"
}

variable "domain" {}
variable "fax_sender" {}
variable "fax_recipient" {}
variable "office_ip" {}

endpoint "mx" {
  mx      = var.domain                    # the host the domain's MX record names
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

# Exchange Online checks SPF on Direct Send: the office IP must pass.
dns "SPF allows the office IP" {
  name = var.domain
  type = "TXT"

  expect {
    spf_allows = [var.office_ip]
  }
}

# The address Exchange Online saw the fax check come from.
dnsbl "office IP is on no blocklist" {
  ip = smtp["fax reaches the reception mailbox by Direct Send"].client_ip

  expect {
    listed = false
  }
}
