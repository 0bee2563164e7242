# A string that never ends.
endpoint "e" { host = "127.0.0.1
smtp "c" { endpoint = endpoint.e }
