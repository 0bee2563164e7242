endpoint "with_port" {
  host = "smtp.office365.com:587"
}

endpoint "with_space" {
  host = "smtp office365.com"
}

endpoint "bracketed" {
  host = "[::1]"
}

endpoint "source" {
  host           = "127.0.0.1"
  source_address = "eth0"
  ip_version     = 6
}
