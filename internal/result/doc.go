// Package result is the model of what a run found: suites and checks with
// their verdicts and failed expectations, the record of each SMTP
// conversation, the DNS exchanges and blocklist verdicts, the sessions of
// devices tested with smtpdiag listen, and the diagnosis of each failure.
//
// It is pure data, filled by the runner and the clients it drives and read
// by the assertions, the knowledge base and every reporter. It imports no
// decoder, no protocol library and no server, so that a reporter depends
// on this model alone.
package result
