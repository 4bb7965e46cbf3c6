//go:build !linux

package runtime

import (
	"errors"
	"os/exec"
)

var errNoRestriction = errors.New("restricted function processes need Linux")

func restrictCmd(*exec.Cmd, string, string, string, int) (bool, error) {
	return false, errNoRestriction
}

func restrictLimits(int, int) error { return errNoRestriction }
