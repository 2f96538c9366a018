//go:build unix

package nbrun

import (
	"os"
	"os/exec"
)

// setCancel makes cancelling interrupt nbconvert (SIGINT) rather than kill it: on SIGINT
// nbconvert shuts the kernel down, and GoNB stops the cell's program and removes its
// temporary directory. Killed, nbconvert would leave the kernel running (Jupyter starts
// kernels in their own session).
func setCancel(cmd *exec.Cmd) {
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
}
