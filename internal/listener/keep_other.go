//go:build !unix

package listener

import "io/fs"

// noFollow is 0 where the system has no O_NOFOLLOW: O_EXCL alone refuses
// a name that exists, a symbolic link included (on Windows, CREATE_NEW).
const noFollow = 0

// isSymlinkLoop is false: without O_NOFOLLOW no error says "symbolic
// link".
func isSymlinkLoop(error) bool { return false }

// worldWritable is false where permission bits do not say who may write
// (Windows ACLs): there the directory is not checked.
func worldWritable(fs.FileInfo) bool { return false }
