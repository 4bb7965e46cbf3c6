//go:build unix

package runtime

import (
	"os/exec"
	"syscall"
)

// isolate puts the function in a process group of its own, so that killing
// the environment also kills whatever the function started.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(cmd.SysProcAttr)
}

// killTree kills the process group of a started command.
func killTree(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}

// processGone reports whether no process with the pid is left (a zombie
// not yet reaped counts as gone: it runs no code).
func processGone(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == syscall.ESRCH || isZombie(pid)
}
