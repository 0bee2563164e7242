// Package sandbox bounds what evaluating an untrusted suite file may cost:
// it refuses, with an ordinary positioned diagnostic or error and before
// doing the work, any source, syntax tree, function call or evaluation that
// would exhaust the memory, the stack or the time of the process.
package sandbox
