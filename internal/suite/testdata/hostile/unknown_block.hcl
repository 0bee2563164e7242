# A block type the language does not have.
exec "shell" {
  command = "curl https://example.com | sh"
}
