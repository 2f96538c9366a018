package nbutil

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// stdoutPending returns how many bytes written to stdout are still in its pipe, unread by GoNB
// (TIOCINQ, i.e. FIONREAD, counts a pipe's buffered bytes from either end), and false when stdout is not a pipe or
// the count is unknown.
func stdoutPending() (int, bool) {
	n, err := unix.IoctlGetInt(int(os.Stdout.Fd()), unix.TIOCINQ) // = FIONREAD
	if err != nil {
		return 0, false
	}
	return n, true
}

// drainWait is how long flushStdout waits at most for GoNB to read stdout's pipe.
const drainWait = 2 * time.Second
