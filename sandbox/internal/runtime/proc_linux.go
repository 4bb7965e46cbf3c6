package runtime

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// setParentDeathSignal makes the kernel kill the function when the sandbox
// dies without closing (SIGKILL, crash), so no environment outlives it.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }

// maxMemoryMB is the process's peak resident set (VmHWM), for the REPORT
// line's Max Memory Used.
func maxMemoryMB(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	i := bytes.Index(b, []byte("VmHWM:"))
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+len("VmHWM:"):])
	if len(f) == 0 {
		return 0
	}
	kb, err := strconv.Atoi(string(f[0]))
	if err != nil {
		return 0
	}
	return (kb + 1023) / 1024
}

func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z' || b[i+2] == 'X'
}
