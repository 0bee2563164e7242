endpoint "submission" {
  host = "smtp.office365.com"
  port = 587
}

smtp "comparisons" {
  endpoint = endpoint.submission
  expect {
    tls_version           = "about 1.2"
    certificate_days_left = "> fourteen"
  }
}

smtp "not a tls version" {
  endpoint = endpoint.submission
  expect {
    tls_version = ">= 12"
  }
}
