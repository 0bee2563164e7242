// Package suites holds the ready-made suites (*.hcl in this directory).
// The binary embeds the one `smtpdiag demo` runs against the simulator.
package suites

import _ "embed"

// MigrationFile is the name of BasicAuthMigration in this directory.
const MigrationFile = "basic-auth-migration.hcl"

// BasicAuthMigration is basic-auth-migration.hcl: every way off Basic
// auth, one check per path, for one device mailbox.
//
//go:embed basic-auth-migration.hcl
var BasicAuthMigration []byte
