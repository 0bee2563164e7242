# A heredoc without its end marker.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint = endpoint.e
  mail_from = <<EOT
a@contoso.com
