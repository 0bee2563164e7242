variable "domain" {
  default = "contoso.com"
}

endpoint "mx" {
  host = "contoso-com.mail.protection.outlook.com"
}

smtp "direct send" {
  endpoint  = endpoint.mx
  mail_from = "scanner@${var.domian}"
  rcpt_to   = ["helpdesk@${var.tenant}"]
  expect {
    client_ip = ip.egress
  }
}
