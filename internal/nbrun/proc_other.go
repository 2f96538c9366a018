//go:build !unix

package nbrun

import "os/exec"

func setCancel(cmd *exec.Cmd) {}
