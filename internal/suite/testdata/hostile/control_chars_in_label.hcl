# Terminal escape sequences and an XML-illegal control character in a
# check label, which reaches the summary, JUnit and the report.
endpoint "e" { host = "127.0.0.1" }
smtp "\u001b[2J\u001b[31mPASS\u001b[0m \u0007" {
  endpoint = endpoint.e
}
