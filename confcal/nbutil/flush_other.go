//go:build !linux

package nbutil

import "time"

// stdoutPending is unknown outside Linux: flushStdout then only pauses.
func stdoutPending() (int, bool) { return 0, false }

const drainWait = 0 * time.Second
