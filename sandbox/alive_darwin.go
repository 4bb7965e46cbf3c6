package sandbox

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// processStart is when pid started (the kernel's p_starttime, in
// microseconds): with the pid it names one process, so a lock whose pid
// now belongs to another program is known to be stale.
func processStart(pid int) string {
	k, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || k.Proc.P_pid != int32(pid) {
		return ""
	}
	t := k.Proc.P_starttime
	return strconv.FormatInt(int64(t.Sec)*1e6+int64(t.Usec), 10)
}
