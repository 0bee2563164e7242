//go:build unix

package listener

import (
	"errors"
	"io/fs"
	"syscall"
)

// noFollow makes os.OpenFile refuse a symbolic link as the file itself.
const noFollow = syscall.O_NOFOLLOW

// isSymlinkLoop reports the error O_NOFOLLOW gives for a symbolic link
// (ELOOP on Linux; EMLINK on some BSDs).
func isSymlinkLoop(err error) bool {
	return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK)
}

// worldWritable reports whether every user may write to the directory
// while it lacks the sticky bit, which would keep them from removing or
// renaming other users' files.
func worldWritable(st fs.FileInfo) bool {
	return st.Mode().Perm()&0o002 != 0 && st.Mode()&fs.ModeSticky == 0
}
