endpoint "submission" {
  hots = "smtp.office365.com"
  port = 587
}

smtp "device submits" {
  endpoint = endpoint.submission
  mail_form = "scanner@contoso.com"
  expect {
    starttsl = true
  }
  retyr {
    attempts = 2
  }
}

endpoint "relay" {
  host = "127.0.0.1"
  hots = "127.0.0.2"
}
