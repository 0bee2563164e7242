# A host name with a line break.
endpoint "e" { host = "mx.contoso.com\r\nEHLO evil" }
smtp "c" { endpoint = endpoint.e }
