package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd(ios *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print slab's version, commit, build date and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			bi, _ := debug.ReadBuildInfo()
			v, c, d := stamp(version, commit, date, bi)
			_, err := fmt.Fprintf(ios.Out, "slab %s (commit %s, built %s, %s %s/%s)\n", v, c, d, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}

// stamp is the version, commit and build date to print: goreleaser's
// -ldflags when it set them, else what the Go toolchain recorded (a `go
// build` from a checkout records vcs.revision, vcs.time and vcs.modified;
// `go install ...@v1.2.3` records the module version).
func stamp(version, commit, date string, bi *debug.BuildInfo) (string, string, string) {
	if bi == nil {
		return version, commit, date
	}
	if version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if commit == "none" && rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		commit = rev
		if modified {
			commit += " with uncommitted changes"
		}
	}
	if date == "unknown" && at != "" {
		date = at
	}
	return version, commit, date
}
