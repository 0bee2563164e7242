# env() outside a variable default, inside interpolation.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = "${env("HOME")}@contoso.com"
}
