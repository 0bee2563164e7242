endpoint "submission" {
  host = "smtp.office365.com"
  port = 587
}

smtp "typo in the reference" {
  endpoint = endpoint.submision
}

smtp "no such endpoint at all" {
  endpoint = endpoint.relay
}

smtp "quoted name" {
  endpoint = "submission"
}
