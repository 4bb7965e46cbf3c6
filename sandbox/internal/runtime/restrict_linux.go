package runtime

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// nobody is the unprivileged uid and gid a restricted function runs as
// when the sandbox runs as root.
const nobody = 65534

// limit is one rlimit of a restricted child.
type limit struct {
	res  int
	flag string // util-linux prlimit's option
	v    uint64
}

func childLimits(memoryMB int) []limit {
	l := []limit{
		{unix.RLIMIT_CPU, "--cpu", 900},                            // Lambda's longest timeout, in CPU seconds
		{unix.RLIMIT_DATA, "--data", uint64(2*memoryMB+256) << 20}, // the function's memory, with room for its runtime
		{unix.RLIMIT_NOFILE, "--nofile", 1024},                     // Lambda's file descriptor limit
		{unix.RLIMIT_FSIZE, "--fsize", 10240 << 20},                // Lambda's largest /tmp
	}
	if os.Geteuid() == 0 {
		// Per uid: meaningful only when the child has a uid of its own.
		l = append(l, limit{unix.RLIMIT_NPROC, "--nproc", 1024})
	}
	return l
}

// restrictCmd makes cmd a restricted child. When the sandbox is root it
// runs as nobody, so that it cannot read the data directory, the accounts
// file or other functions' code (0600/0700, owned by root); the dirs it
// needs are made reachable. Its rlimits are set by util-linux's prlimit,
// which lowers them on itself and then executes the function, so no
// instant of the function runs unlimited. Without that tool (it is in
// every Debian and most Linux systems) they are set just after the start
// (post is true), which a sandbox run as root cannot do for nobody's
// process: that case is refused.
func restrictCmd(cmd *exec.Cmd, base, code, tmp string, memoryMB int) (post bool, err error) {
	root := os.Geteuid() == 0
	if root {
		if err := os.Chmod(base, 0o711); err != nil {
			return false, err
		}
		if err := os.Chmod(code, 0o755); err != nil {
			return false, err
		}
		if err := os.Chown(tmp, nobody, nobody); err != nil {
			return false, err
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}
	}
	tool, lerr := exec.LookPath("prlimit")
	if lerr != nil {
		if root {
			return false, &exec.Error{Name: "prlimit", Err: lerr}
		}
		return true, nil
	}
	args := []string{"prlimit"}
	for _, l := range childLimits(memoryMB) {
		v := strconv.FormatUint(l.v, 10)
		args = append(args, l.flag+"="+v+":"+v)
	}
	cmd.Args = append(append(args, "--", cmd.Path), cmd.Args[1:]...)
	cmd.Path = tool
	return false, nil
}

// restrictLimits sets the limits on a started child (see restrictCmd).
func restrictLimits(pid, memoryMB int) error {
	for _, l := range childLimits(memoryMB) {
		if err := unix.Prlimit(pid, l.res, &unix.Rlimit{Cur: l.v, Max: l.v}, nil); err != nil {
			return err
		}
	}
	return nil
}
