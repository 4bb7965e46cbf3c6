package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slab-lab/slab/lab"
)

// globalOptions are the flags every command shares.
type globalOptions struct {
	AWS         bool
	Profile     string
	Region      string
	EndpointURL string
	StateDir    string
	NoColor     bool
	Config      string
	Names       []string // --name key=value
	Accessible  bool     // the tutor without animation, statuses in words
}

func newRootCmd(ios *IOStreams) *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "slab",
		Short: "Learn, do and verify the AWS Serverless Integration Patterns lab",
		Long: `slab teaches the Serverless Integration Patterns lab step by step, can perform each
step for you, verifies the resources you built yourself, estimates what they cost,
and cleans up. It runs against an embedded AWS sandbox by default (free, offline);
--aws targets your real account.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if g.NoColor {
				ios.noColor = true
			}
			if g.AWS && g.EndpointURL != "" {
				return usageErr("--aws and --endpoint-url exclude each other: --aws is real AWS, --endpoint-url another AWS-compatible endpoint")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRoot(cmd, ios, g)
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: fmt.Errorf("%w\nRun '%s --help' for usage.", err, cmd.CommandPath())}
	})
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	pf := root.PersistentFlags()
	pf.BoolVar(&g.AWS, "aws", false, "target real AWS (the SDK's credential chain); costs money")
	pf.StringVar(&g.Profile, "profile", "", "AWS shared-config profile (with --aws or --endpoint-url)")
	pf.StringVar(&g.Region, "region", "", "AWS region (every target; default: the profile's, else us-east-1; the sandbox: us-east-1)")
	pf.StringVar(&g.EndpointURL, "endpoint-url", "", "target the AWS-compatible endpoint at `URL` (LocalStack, moto, a remote slab sandbox)")
	pf.StringVar(&g.StateDir, "state-dir", "", "where slab keeps progress (default: the user config dir; the sandbox's data goes in <state-dir>/sandbox)")
	pf.BoolVar(&g.NoColor, "no-color", false, "plain output without colours (also: NO_COLOR)")
	pf.StringVar(&g.Config, "config", "", "JSON file renaming resources and setting the embedded sandbox's timing: {\"names\": {\"role\": \"...\", ...}, \"sandbox\": {\"consistency\": \"aws\"}}")
	root.Flags().BoolVar(&g.Accessible, "accessible", false, "the tutor without animation, with statuses spelled out (screen readers, slow terminals)")
	pf.StringArrayVar(&g.Names, "name", nil, "rename one resource, key=value (keys: "+strings.Join(lab.Keys(), ", ")+")")

	root.AddCommand(
		newStepsCmd(ios, g),
		newShowCmd(ios, g),
		newDoCmd(ios, g),
		newCheckCmd(ios, g),
		newCleanupCmd(ios, g),
		newCostCmd(ios, g),
		newGradeCmd(ios, g),
		newGraderPolicyCmd(ios, g),
		newTargetCmd(ios, g),
		newSandboxCmd(ios, g),
		newPackageCmd(ios, g),
		newVersionCmd(ios),
	)
	root.InitDefaultCompletionCmd()
	return root
}

// stateDir resolves --state-dir or the default.
func (g *globalOptions) stateDir() (string, error) {
	if g.StateDir != "" {
		return g.StateDir, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", usageErr("no user config directory (%v): pass --state-dir", err)
	}
	return filepath.Join(d, "slab"), nil
}

// sandboxDataDir is where the sandbox persists: beside the state when
// --state-dir is given (tests and courses keep everything in one place), else
// the user's data directory.
func (g *globalOptions) sandboxDataDir() (string, error) {
	if g.StateDir != "" {
		return filepath.Join(g.StateDir, "sandbox"), nil
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "slab", "sandbox"), nil
	}
	if runtime.GOOS == "linux" {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, ".local", "share", "slab", "sandbox"), nil
		}
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", usageErr("no user data directory (%v): pass --state-dir", err)
	}
	return filepath.Join(d, "slab", "sandbox"), nil
}

// configFile is the --config file.
type configFile struct {
	Names   map[string]string `json:"names"`
	Sandbox sandboxConfig     `json:"sandbox"`
}

// readConfig reads --config (an empty configFile without one).
func (g *globalOptions) readConfig() (configFile, error) {
	var cfg configFile
	if g.Config == "" {
		return cfg, nil
	}
	b, err := os.ReadFile(g.Config)
	if err != nil {
		return cfg, usageErr("--config: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, usageErr("--config %s: %v (expected {\"names\": {\"role\": \"...\"}, \"sandbox\": {\"consistency\": \"aws\"}})", g.Config, err)
	}
	return cfg, nil
}

// nameOverrides merges --config and --name, --name winning.
func (g *globalOptions) nameOverrides() (map[string]string, error) {
	out := map[string]string{}
	cfg, err := g.readConfig()
	if err != nil {
		return nil, err
	}
	for k, v := range cfg.Names {
		out[k] = v
	}
	for _, kv := range g.Names {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, usageErr("--name %q: want key=value", kv)
		}
		out[k] = v
	}
	if _, err := lab.DefaultNames().Apply(out); err != nil {
		return nil, usageErr("%v", err)
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
