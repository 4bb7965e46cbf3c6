package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/lambdas"
)

type packageOptions struct {
	Function string
	Output   string
	Arch     string
	Runtime  string
	Sandbox  bool // the target is slab's sandbox
}

// packageFunction maps what the learner typed to the handler's name: the
// handler itself, or the Lambda function's name (the guide's, or the one
// --name/--config gives it).
func packageFunction(g *globalOptions, arg string) (string, error) {
	if lambdas.IsFunction(arg) {
		return arg, nil
	}
	overrides, err := g.nameOverrides()
	if err != nil {
		return "", err
	}
	names, err := lab.DefaultNames().Apply(overrides)
	if err != nil {
		return "", usageErr("%v", err)
	}
	defaults := lab.DefaultNames()
	for _, m := range []struct{ yours, guide, handler string }{
		{names.S3Function, defaults.S3Function, lambdas.S3Processor},
		{names.EventFunction, defaults.EventFunction, lambdas.EventProcessor},
		{names.QueueFunction, defaults.QueueFunction, lambdas.QueueProcessor},
	} {
		if arg == m.yours || arg == m.guide {
			return m.handler, nil
		}
	}
	return "", usageErr("unknown function %q: use one of %s, or a function name: %s, %s, %s",
		arg, strings.Join(lambdas.Functions(), ", "), names.S3Function, names.EventFunction, names.QueueFunction)
}

func newPackageCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	o := &packageOptions{}
	cmd := &cobra.Command{
		Use:   "package FUNCTION -o FILE",
		Short: "Write a function's deployment zip (s3-processor, event-processor, queue-processor)",
		Long: `Write a function's deployment zip, the file create-function's --zip-file takes.
FUNCTION is s3-processor, event-processor or queue-processor, or the Lambda
function's name (s3-to-dynamodb-processor, event-to-sns-processor, sqs-processor,
or yours with --name).

For --runtime go (provided.al2023, handler s3-processor, event-processor or
queue-processor) the zip holds a static linux bootstrap (cmd/bootstrap: the
handlers and the Lambda Runtime API loop): the one embedded in a release build,
or a cross-compile of slab's source with the local Go toolchain (cached). For
the sandbox (the default target) a slab without embedded bootstraps writes a
sandbox-only package at once: the sandbox runs it with its own slab. With --aws
or --endpoint-url the package is always one AWS can run. For --runtime nodejs
(nodejs22.x, handler index.handler) the zip holds the function's index.mjs.

The zip is deterministic: unchanged code gives the same CodeSha256, which is
printed so you can compare it with 'aws lambda get-function'.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("name one function: %s", strings.Join(lambdas.Functions(), ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			fn, err := packageFunction(g, args[0])
			if err != nil {
				return err
			}
			o.Function = fn
			o.Sandbox = !g.AWS && g.EndpointURL == ""
			return runPackage(cmd, ios, o)
		},
	}
	cmd.Flags().StringVar(&o.Arch, "arch", lambdas.ArchARM64, "architecture: arm64 or x86_64 (go only)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "zip file to write")
	cmd.Flags().StringVar(&o.Runtime, "runtime", lambdas.RuntimeGo, "go (provided.al2023) or nodejs (nodejs22.x)")
	return cmd
}

func runPackage(cmd *cobra.Command, ios *IOStreams, o *packageOptions) error {
	if !lambdas.IsFunction(o.Function) {
		return usageErr("unknown function %q: use one of %s", o.Function, strings.Join(lambdas.Functions(), ", "))
	}
	if _, err := lambdas.NormalizeArch(o.Arch); err != nil || o.Arch == "" {
		return usageErr("--arch %q: use arm64 or x86_64", o.Arch)
	}
	if o.Runtime != lambdas.RuntimeGo && o.Runtime != lambdas.RuntimeNodejs {
		return usageErr("--runtime %q: use go or nodejs", o.Runtime)
	}
	if o.Output == "" {
		return usageErr("-o FILE is required: where to write the zip")
	}
	z, info, err := lambdas.Zip(cmd.Context(), lambdas.ZipOptions{
		Function: o.Function, Arch: o.Arch, Runtime: o.Runtime, Version: version, Progress: ios.ErrOut, Sandbox: o.Sandbox,
	})
	if err != nil {
		if errors.Is(err, lambdas.ErrInvalidOption) {
			return &exitError{code: exitUsage, err: err}
		}
		// Not a usage mistake, nor AWS: the toolchain or the build failed.
		return &exitError{code: exitUsage, err: fmt.Errorf("package %s: %w", o.Function, err)}
	}
	if err := writeFileAtomic(o.Output, z); err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("package %s: %w", o.Function, err)}
	}
	target := info.LambdaRuntime
	if info.Arch != "" {
		target += ", " + info.Arch
	}
	fmt.Fprintf(ios.Out, "%s (%s, handler %s): %s\n", o.Function, target, info.Handler, info.Detail)
	fmt.Fprintf(ios.Out, "wrote %s: %s\n", o.Output, sizeText(int64(len(z))))
	fmt.Fprintf(ios.Out, "CodeSha256: %s\n", lambdas.CodeSha256(z))
	return nil
}

// writeFileAtomic leaves either the old file or the whole new one.
func writeFileAtomic(name string, data []byte) error {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%d bytes (%.1f MiB)", n, float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d bytes (%.1f KiB)", n, float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
