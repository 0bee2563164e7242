endpoint "legacy" {
  host            = "smtp-legacy.office365.com"
  tls_min_version = "1.4"
  tls_max_version = 1.0
}

endpoint "numbers" {
  host            = "127.0.0.1"
  tls_min_version = 1.0
  tls_max_version = 1.5
}

endpoint "inverted" {
  host            = "smtp.office365.com"
  tls_min_version = "1.3"
  tls_max_version = "1.2"
}
