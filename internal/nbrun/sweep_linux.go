package nbrun

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// sweep stops the processes left over from one Run: those whose environment holds
// marker (the kernel and the cell's program, if nbconvert could not shut them down).
// They get SIGTERM first (GoNB then exits cleanly), SIGKILL after a grace period.
func sweep(marker string) {
	pids := markedProcesses(marker)
	if len(pids) == 0 {
		return
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	for range 30 {
		time.Sleep(100 * time.Millisecond)
		if pids = markedProcesses(marker); len(pids) == 0 {
			return
		}
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func markedProcesses(marker string) []int {
	environs, _ := filepath.Glob("/proc/[0-9]*/environ")
	want := []byte(marker)
	self := os.Getpid()
	var pids []int
	for _, path := range environs {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.Equal(kv, want) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}
