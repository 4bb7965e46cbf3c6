package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/slab-lab/slab/awsenv"
)

// Exit codes, the contract scripts and CI rely on.
const (
	exitOK          = 0
	exitChecksFail  = 1
	exitUsage       = 2
	exitUnreachable = 3
	exitCancelled   = 130
)

// exitError carries an exit code; its message is printed unless silent.
type exitError struct {
	code   int
	err    error
	silent bool // the command already printed what went wrong
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// exitCode maps an error to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, context.Canceled) {
		return exitCancelled
	}
	var te *awsenv.Error
	if errors.As(err, &te) {
		if te.Kind == awsenv.ErrConfig {
			return exitUsage
		}
		return exitUnreachable
	}
	return exitUsage
}
