package listener

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// CheckKeepDir refuses a directory to keep messages in (Config.KeepDir)
// that is not a directory, or, on Unix, that every user may write to and
// that has no sticky bit: there another user could plant a file or a
// symbolic link under the name smtpdiag is about to write, or swap one
// it wrote. A world-writable directory with the sticky bit (/tmp) is
// safe enough, as files are created anew there and never followed
// (createKept).
func CheckKeepDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return fmt.Errorf("%s: not a directory", dir)
	}
	if worldWritable(st) {
		return fmt.Errorf("%s: every user may write to this directory and it has no sticky bit, so another user could "+
			"put a file or a symbolic link where smtpdiag writes a message; choose a directory only you can write to "+
			"(or chmod o-w it, or chmod +t it)", dir)
	}
	return nil
}

// newRunID names one run's kept messages: the time and a random number,
// "20261204-182929-3f9a1c", so that two runs never pick the same names
// and no other user can predict them.
func newRunID(now time.Time) string {
	b := make([]byte, 3)
	rand.Read(b)
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

// errKeepExists is why a message was not kept: a file by its name was
// there already, and smtpdiag never overwrites one.
var errKeepExists = errors.New("a file of that name exists already; smtpdiag never overwrites one")

// createKept creates the file of message m of session n, exclusively
// (O_EXCL) and without following a symbolic link (O_NOFOLLOW where the
// system has it), readable by its owner only; the directory is checked
// again first.
func (l *Listener) createKept(session, message int) (*keptFile, error) {
	if err := CheckKeepDir(l.cfg.KeepDir); err != nil {
		return nil, err
	}
	path := filepath.Join(l.cfg.KeepDir, fmt.Sprintf("%s-session-%d-message-%d.eml", l.cfg.RunID, session, message))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) || isSymlinkLoop(err) {
			return nil, fmt.Errorf("%s: %w", path, errKeepExists)
		}
		return nil, err
	}
	return &keptFile{f: f, path: path}, nil
}

// keptFile is a message being written as it arrives. Writes never fail:
// the first error is kept, the rest of the message dropped, and the
// transfer goes on.
type keptFile struct {
	f    *os.File
	path string
	err  error
}

func (k *keptFile) Write(p []byte) (int, error) {
	if k.err == nil {
		_, k.err = k.f.Write(p)
	}
	return len(p), nil
}

// finish closes the file; a file that could not be written whole is
// removed.
func (k *keptFile) finish() error {
	if err := k.f.Close(); k.err == nil {
		k.err = err
	}
	if k.err != nil {
		os.Remove(k.path)
	}
	return k.err
}

// abort removes the file of a message that did not arrive whole.
func (k *keptFile) abort() {
	k.f.Close()
	os.Remove(k.path)
}
