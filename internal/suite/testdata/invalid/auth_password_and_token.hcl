endpoint "submission" {
  host = "smtp.office365.com"
  port = 587
}

smtp "both secrets" {
  endpoint = endpoint.submission
  auth {
    username = "scanner@contoso.com"
    password = "hunter2-hunter2"
    token    = "eyJ0eXAiOiJKV1Qi"
  }
}

smtp "xoauth2 with a password" {
  endpoint = endpoint.submission
  auth {
    username  = "scanner@contoso.com"
    password  = "hunter2-hunter2"
    mechanism = "xoauth2"
  }
}

smtp "no secret" {
  endpoint = endpoint.submission
  auth {
    username  = "scanner@contoso.com"
    mechanism = "NTLM"
  }
}
