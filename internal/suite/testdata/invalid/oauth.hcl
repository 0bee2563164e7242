variable "client_secret" {
  sensitive = true
  default   = "Qx8~sEcReT.value-0123456789abcdefGHIJ"
}

endpoint "submission" {
  host = "smtp.office365.com"
  port = 587
}

smtp "no tenant, no client_id" {
  endpoint = endpoint.submission
  auth {
    username = "scanner@contoso.com"
    oauth {
      client_secret = var.client_secret
    }
  }
}

smtp "plain-text authority" {
  endpoint = endpoint.submission
  auth {
    username = "scanner@contoso.com"
    oauth {
      tenant        = "contoso.onmicrosoft.com"
      client_id     = "11111111-2222-4333-8444-555555555555"
      client_secret = var.client_secret
      authority     = "http://login.microsoftonline.com"
    }
  }
}

smtp "secret and certificate" {
  endpoint = endpoint.submission
  auth {
    username = "scanner@contoso.com"
    oauth {
      tenant        = "contoso.onmicrosoft.com"
      client_id     = "11111111-2222-4333-8444-555555555555"
      client_secret = var.client_secret
      certificate   = "not-a-cert.pem"
    }
  }
}

smtp "no credential" {
  endpoint = endpoint.submission
  auth {
    username = "scanner@contoso.com"
    oauth {
      tenant    = "contoso.onmicrosoft.com"
      client_id = "11111111-2222-4333-8444-555555555555"
    }
  }
}

smtp "not a certificate" {
  endpoint = endpoint.submission
  auth {
    username = "scanner@contoso.com"
    oauth {
      tenant      = "contoso.onmicrosoft.com"
      client_id   = "11111111-2222-4333-8444-555555555555"
      certificate = "not-a-cert.pem"
      key         = "not-a-cert.pem"
    }
  }
}

smtp "key without certificate" {
  endpoint = endpoint.submission
  auth {
    username = "scanner@contoso.com"
    oauth {
      tenant        = "contoso.onmicrosoft.com"
      client_id     = "11111111-2222-4333-8444-555555555555"
      client_secret = var.client_secret
      key           = "app.key"
    }
  }
}

smtp "device code with a secret" {
  endpoint = endpoint.submission
  auth {
    username = "scanner@contoso.com"
    oauth {
      tenant        = "contoso.onmicrosoft.com"
      client_id     = "11111111-2222-4333-8444-555555555555"
      client_secret = var.client_secret
      flow          = "device_code"
    }
  }
}

smtp "unknown flow" {
  endpoint = endpoint.submission
  auth {
    username = "scanner@contoso.com"
    oauth {
      tenant    = "contoso.onmicrosoft.com"
      client_id = "11111111-2222-4333-8444-555555555555"
      flow      = "password"
    }
  }
}

smtp "oauth with a password and LOGIN" {
  endpoint = endpoint.submission
  auth {
    username  = "scanner@contoso.com"
    password  = "hunter2-hunter2"
    mechanism = "LOGIN"
    oauth {
      tenant        = "contoso.onmicrosoft.com"
      client_id     = "11111111-2222-4333-8444-555555555555"
      client_secret = var.client_secret
    }
  }
}
