// Command slab is an interactive terminal tutor and verifier for the AWS
// Serverless Integration Patterns lab. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/slab-lab/slab/lambdas"
)

// Stamped by goreleaser through -ldflags "-X main.version=...".
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func main() {
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" { // started as a Lambda function's bootstrap
		os.Exit(lambdas.RunBootstrap())
	}
	os.Exit(run(os.Args[1:], System()))
}

func run(args []string, ios *IOStreams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := newRootCmd(ios)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		code = exitCancelled
	}
	var ee *exitError
	if !(errors.As(err, &ee) && ee.silent) {
		if code == exitCancelled {
			fmt.Fprintln(ios.ErrOut, "slab: cancelled")
		} else {
			fmt.Fprintln(ios.ErrOut, "slab: "+err.Error())
		}
	}
	return code
}
