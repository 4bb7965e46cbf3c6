package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slab-lab/slab/lambdas"
)

type packageOptions struct {
	Function string
	Output   string
	Arch     string
	Runtime  string
}

func newPackageCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	o := &packageOptions{}
	cmd := &cobra.Command{
		Use:   "package FUNCTION -o FILE",
		Short: "Write a function's deployment zip (s3-processor, event-processor, queue-processor)",
		Long: `Write a function's deployment zip, the file create-function's --zip-file takes.

For --runtime go (provided.al2023, handler = the function's name) the zip holds a
static linux bootstrap: the one embedded in a release build, the running slab
when it is a linux executable of that architecture, or a cross-compile of slab's
source with the local Go toolchain (cached). For --runtime nodejs (nodejs22.x,
handler index.handler) it holds the function's index.mjs.

The zip is deterministic: unchanged code gives the same CodeSha256, which is
printed so you can compare it with 'aws lambda get-function'.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("name one function: %s", strings.Join(lambdas.Functions(), ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Function = args[0]
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
		Function: o.Function, Arch: o.Arch, Runtime: o.Runtime, Version: version, Progress: ios.ErrOut,
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
