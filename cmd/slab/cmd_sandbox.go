package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/slab-lab/slab/internal/nodesdk"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/slab-lab/slab/awscli"
	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/sandbox"
	"github.com/slab-lab/slab/steps"
)

type sandboxOptions struct {
	Addr     string
	DataDir  string
	Accounts string
	// AllowHosts are extra host names the sandbox answers to.
	AllowHosts []string
	Latency    time.Duration
	Jitter     time.Duration
	Memory     bool
	Repair     bool
	// TimeScale compresses EventBridge schedule time.
	TimeScale float64
	// Consistency and TimingScale choose the propagation delays.
	Consistency string
	TimingScale float64
}

func newSandboxCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	o := &sandboxOptions{}
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve the embedded AWS sandbox in the foreground, for the AWS CLI and SDKs",
		Long: `Serve the embedded AWS sandbox (IAM, STS, S3, DynamoDB, Lambda, SNS, SQS, EventBridge,
CloudWatch Logs) on 127.0.0.1 until Ctrl-C. Point the AWS CLI at it with the printed
export line, or with --endpoint-url on each command.

Every request must be SigV4-signed with the sandbox's credentials: test / test
(account 000000000000), or with --accounts the keys of that file. Requests from web
pages (a non-loopback Origin, Sec-Fetch-Site: cross-site) and Host names other than
loopback ones and --allow-host are refused. The sandbox-only endpoints under /_slab/
need the admin token it writes to <data dir>/admin-token (mode 0600).

A shared sandbox (--accounts, one per class) runs every student's Lambda code on
its host: run it inside a container or VM of its own, never on a machine that
holds anything else.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSandbox(cmd, ios, g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Addr, "addr", sandbox.DefaultAddr, "address to listen on (keep it on 127.0.0.1)")
	f.StringVar(&o.DataDir, "data-dir", "", "persist state here (default: the user data dir, or <state-dir>/sandbox)")
	f.BoolVar(&o.Memory, "memory", false, "keep state in memory only (lost on exit)")
	f.BoolVar(&o.Repair, "repair", false, "repair a damaged data directory (keeping a copy of the original), say what was dropped, and exit")
	f.StringVar(&o.Accounts, "accounts", "", "CSV access_key_id,secret_access_key,account_id[,user]: the only keys accepted (default: test/test)")
	f.StringSliceVar(&o.AllowHosts, "allow-host", nil, "also answer to this host name (a shared sandbox's DNS name); repeatable")
	f.DurationVar(&o.Latency, "latency", 0, "add this delay to every call (imitate real AWS round trips)")
	f.DurationVar(&o.Jitter, "jitter", 0, "add a random delay up to this much to every call")
	f.Float64Var(&o.TimeScale, "time-scale", 1, "run EventBridge schedules this many times faster (60: rate(5 minutes) fires every 5 s)")
	f.StringVar(&o.Consistency, "consistency", "", "aws: changes take effect after AWS's delays (docs/timing.md); instant: at once (default aws, or "+envConsistency+", or the --config file's sandbox.consistency)")
	f.Float64Var(&o.TimingScale, "timing-scale", 0, "multiply every --consistency aws delay by this (0.1: ten times faster; default 1)")
	return cmd
}

func runSandbox(cmd *cobra.Command, ios *IOStreams, g *globalOptions, o *sandboxOptions) error {
	if g.AWS || g.EndpointURL != "" {
		return usageErr("slab sandbox serves the sandbox; it takes no --aws or --endpoint-url")
	}
	if o.Latency < 0 || o.Jitter < 0 {
		return usageErr("--latency and --jitter must not be negative")
	}
	if o.TimeScale <= 0 {
		return usageErr("--time-scale must be positive (1 is real time)")
	}
	dataDir := o.DataDir
	if o.Memory {
		if dataDir != "" {
			return usageErr("--memory and --data-dir exclude each other")
		}
	} else if dataDir == "" {
		d, err := g.sandboxDataDir()
		if err != nil {
			return err
		}
		dataDir = d
	}
	if o.Repair {
		if dataDir == "" {
			return usageErr("--repair needs a data directory, not --memory")
		}
		return repairSandbox(ios, dataDir)
	}
	region := g.Region
	if region == "" {
		region = awsenv.DefaultRegion
	}
	if o.TimingScale < 0 {
		return usageErr("--timing-scale must be positive (1 is AWS's own delays)")
	}
	consistency, scale, err := g.sandboxTiming(o.Consistency, o.TimingScale)
	if err != nil {
		return err
	}
	// The first Node.js function finds (or installs, saying so here) the
	// AWS SDK v3 that Lambda's Node.js runtime includes.
	nodeSDK := &nodesdk.Once{O: nodesdk.FromEnv(ios.ErrOut)}
	srv, err := sandbox.Start(sandbox.Options{Addr: o.Addr, DataDir: dataDir, AccountsFile: o.Accounts, AllowHosts: o.AllowHosts, Latency: o.Latency, Jitter: o.Jitter, Region: region, TimeScale: o.TimeScale, SelfExe: selfExe(),
		NodeModulesFunc: func() (string, error) { return nodeSDK.Get(context.Background()) }, Consistency: consistency, TimingScale: scale})
	if err != nil {
		var ce *sandbox.CorruptStateError
		if errors.As(err, &ce) {
			return usageErr("%v\nThe sandbox will not start on damaged state. `slab sandbox --repair` (with the same --data-dir) keeps a copy of it, drops exactly the damaged records and says which.", err)
		}
		return usageErr("%v", err)
	}
	for _, n := range srv.Notices() {
		fmt.Fprintln(ios.ErrOut, n)
	}
	account := awsenv.SandboxAccount
	if o.Accounts != "" {
		account = "per access key, from " + o.Accounts
	}
	storage := "memory only"
	if dataDir != "" {
		storage = dataDir
	}
	fmt.Fprintf(ios.Out, "slab sandbox serving %s\n", srv.URL())
	fmt.Fprintf(ios.Out, "  account  %s\n  region   %s\n  state    %s\n  timing   %s\n", account, region, storage, describeTiming(consistency, scale))
	if o.Latency > 0 || o.Jitter > 0 {
		fmt.Fprintf(ios.Out, "  latency  %s + up to %s jitter\n", o.Latency, o.Jitter)
	}
	if o.TimeScale != 1 {
		fmt.Fprintf(ios.Out, "  schedules run %gx faster than real time\n", o.TimeScale)
	}
	fmt.Fprintf(ios.Out, "\nIn another terminal:\n  %s\n  aws --endpoint-url %s sts get-caller-identity\n", steps.SandboxExport(srv.URL(), region), srv.URL())
	token := "$(cat " + shellQuote(filepath.Join(dataDir, sandbox.AdminTokenFile)) + ")"
	if dataDir == "" {
		token = srv.AdminToken()
	}
	fmt.Fprintf(ios.Out, "\nSandbox-only endpoints (/_slab/audit, /_slab/deliveries, /_slab/events/rules/NAME/trigger) need the admin token:\n  curl -H \"Authorization: Bearer %s\" %s/_slab/audit\n", token, srv.URL())
	if o.Accounts != "" {
		fmt.Fprintf(ios.Out, "\nThis shared sandbox runs students' function code on this host: keep it in a container or VM of its own.\n")
	}
	fmt.Fprintf(ios.Out, "\nCtrl-C stops the sandbox (state is flushed).\n")
	// Whether the export's AWS_ENDPOINT_URL reaches the sandbox depends on
	// the learner's CLI (2.13+); say which applies, once it has answered.
	v, ok := awscli.Detect(cmd.Context())
	fmt.Fprintf(ios.Out, "Note: the export line sets the test credentials and the region; %s.\n", awscli.ExportNote(v, ok))
	<-cmd.Context().Done()
	fmt.Fprintln(ios.ErrOut, "slab sandbox: stopping, flushing state")
	if err := srv.Close(); err != nil {
		return fmt.Errorf("flush sandbox state: %w", err)
	}
	return nil
}

func repairSandbox(ios *IOStreams, dataDir string) error {
	rep, err := sandbox.Repair(dataDir)
	if err != nil {
		return usageErr("repair %s: %v", dataDir, err)
	}
	fmt.Fprintf(ios.Out, "slab sandbox --repair: %s\n  original kept in %s\n", dataDir, rep.Backup)
	if rep.NoSnapshot {
		fmt.Fprintln(ios.Out, "  the snapshot was missing: the state was rebuilt from the journal alone (whatever was only in the snapshot is gone)")
	}
	fmt.Fprintf(ios.Out, "  %d journal records kept\n", rep.Kept)
	if len(rep.Dropped) == 0 {
		fmt.Fprintln(ios.Out, "  nothing dropped")
	}
	for _, d := range rep.Dropped {
		fmt.Fprintf(ios.Out, "  dropped %s\n", d)
	}
	return nil
}
