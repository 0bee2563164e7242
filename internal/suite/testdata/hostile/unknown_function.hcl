# A function that does not exist.
endpoint "e" { host = "127.0.0.1" }
smtp "c" {
  endpoint  = endpoint.e
  mail_from = exec("rm -rf /")
}
