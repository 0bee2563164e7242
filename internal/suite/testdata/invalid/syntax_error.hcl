endpoint "submission" {
  host = "smtp.office365.com"
  port = 587

smtp "device submits" {
  endpoint = endpoint.submission
}
