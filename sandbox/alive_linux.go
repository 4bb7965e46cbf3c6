package sandbox

import (
	"bytes"
	"os"
	"strconv"
)

// processStart is when pid started, in clock ticks since boot (field 22 of
// /proc/<pid>/stat): with the pid it names one process, so a lock whose pid
// now belongs to another program is known to be stale.
func processStart(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces and parentheses; the
	// fields after it start at the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ""
	}
	f := bytes.Fields(b[i+1:])
	const starttime = 22 - 3 // f[0] is field 3
	if len(f) <= starttime {
		return ""
	}
	return string(f[starttime])
}
