// Package examples ships the example suites inside the smtpdiag binary.
package examples

import "embed"

// Demo holds the example suites that `smtpdiag demo` runs against the
// built-in Exchange-Online-like simulator (demo/m365-submission.hcl and
// demo/m365-mx.hcl). They read the simulator's addresses and CA file from
// the variables submission_host, submission_port, mx_host, mx_port and
// ca_file. The demo also runs the ready-made migration suite, which
// package suites embeds (suites/basic-auth-migration.hcl), with the same
// variables and those of its paths.
//
//go:embed demo/*.hcl
var Demo embed.FS
