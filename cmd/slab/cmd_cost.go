package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/cost"
	"github.com/slab-lab/slab/lab"
)

type costOptions struct {
	Hours  float64
	Format string
	Live   bool
	A      cost.Assumptions
}

func newCostCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	o := &costOptions{A: cost.DefaultAssumptions()}
	cmd := &cobra.Command{
		Use:   "cost",
		Short: "Estimate what the lab costs: once, per day and per month left running",
		Long: fmt.Sprintf(`Estimate what the lab costs on AWS, from an embedded price table dated %s
(us-east-1, us-west-2, eu-west-1, eu-central-1, ap-southeast-2), for four scenarios:
doing the lab once, staying deployed for --hours, and left running for a day and a
month (the rate(5 minutes) schedule drives the whole chain 288 times a day, and the SQS
event source mapping long-polls the queue around the clock). Each shows the list price
and the likely bill after the always-free allowances.

When the target answers, it also measures what exists now (object versions and bytes
in the bucket, items in the table, log bytes stored, invocations seen in the logs) and
prices it. --live reads today's prices from the AWS Price List API (pricing:GetProducts,
on --aws only), falling back to the table with a note for anything it cannot read.

The assumptions (duration, memory, architecture, sizes, pollers) are printed and
adjustable with flags. --format json is for scripts (schema in README.md).`, cost.AsOf()),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCost(cmd.Context(), ios, g, o)
		},
	}
	f := cmd.Flags()
	f.Float64Var(&o.Hours, "hours", 1, "hours the lab stays deployed")
	f.StringVar(&o.Format, "format", "text", "output format: text or json")
	f.BoolVar(&o.Live, "live", false, "refresh prices from the AWS Price List API (--aws only)")
	f.StringVar(&o.A.Arch, "arch", o.A.Arch, "function architecture: arm64 or x86_64")
	f.IntVar(&o.A.MemoryMB, "memory", o.A.MemoryMB, "function memory in MB")
	f.Float64Var(&o.A.DurationMS, "duration-ms", o.A.DurationMS, "billed duration of one invocation, in ms")
	f.Float64Var(&o.A.PayloadKB, "payload-kb", o.A.PayloadKB, "size of a test upload and of an SNS/SQS message, in KB")
	f.Float64Var(&o.A.ItemKB, "item-kb", o.A.ItemKB, "size of a DynamoDB row, in KB")
	f.Float64Var(&o.A.LogKB, "log-kb", o.A.LogKB, "log written per invocation, in KB")
	f.IntVar(&o.A.Pollers, "pollers", o.A.Pollers, "pollers of the SQS event source mapping on an idle queue")
	f.IntVar(&o.A.Uploads, "uploads", o.A.Uploads, "test uploads when doing the lab once")
	f.IntVar(&o.A.Invokes, "invokes", o.A.Invokes, "manual invokes of the event processor when doing the lab once")
	return cmd
}

func runCost(ctx context.Context, ios *IOStreams, g *globalOptions, o *costOptions) error {
	if o.Format != "text" && o.Format != "json" {
		return usageErr("--format %q: use text or json", o.Format)
	}
	if o.Hours <= 0 || o.Hours > 24*366 {
		return usageErr("--hours %g: want more than 0 and at most a year", o.Hours)
	}
	if err := o.A.Validate(); err != nil {
		return usageErr("%v", err)
	}
	var notes []string
	// Reading the target is a bonus: without credentials or a reachable
	// endpoint, the estimate still stands on the table.
	s, err := openSession(ctx, ios, g, online, "")
	if err != nil && ctx.Err() != nil {
		return &exitError{code: exitCancelled, err: ctx.Err()}
	}
	region := g.Region
	names := lab.DefaultNames()
	if err != nil {
		notes = append(notes, fmt.Sprintf("could not read the target (%v): estimates only", err))
		if off, oerr := openSession(ctx, ios, g, offline, ""); oerr == nil {
			region, names = off.env.Region, off.names
			off.close()
		}
	} else {
		defer s.close()
		region, names = s.env.Region, s.names
	}
	if region == "" {
		region = awsenv.DefaultRegion
	}
	prices, _ := cost.Table(region)
	if o.Live {
		switch {
		case s == nil:
			notes = append(notes, fmt.Sprintf("--live: no usable AWS credentials; the table (as of %s) is used", cost.AsOf()))
		case !s.env.IsAWS():
			notes = append(notes, fmt.Sprintf("--live: the %s has no Price List API; the table (as of %s) is used", s.env.Target.Kind, cost.AsOf()))
		default:
			var live []string
			prices, live = cost.Refresh(ctx, s.env.PriceList(), prices)
			notes = append(notes, live...)
		}
	}
	r, err := buildCost(ctx, s, prices, o.A, names, o.Hours, notes)
	if err != nil {
		return &exitError{code: exitCancelled, err: err}
	}
	if o.Format == "json" {
		return cost.WriteJSON(ios.Out, r)
	}
	cost.WriteText(ios.Out, r)
	return nil
}

// buildCost prices every scenario and, with a session (nil when the target
// could not be read), measures what exists now; a failed measurement
// becomes a note. notes go before the report's own. The error is ctx's
// (`slab cost` and the tutor).
func buildCost(ctx context.Context, s *session, prices cost.Prices, a cost.Assumptions, names lab.Names, hours float64, notes []string) (cost.Report, error) {
	r := cost.Build(prices, a, names, hours)
	if s != nil {
		r.Target = s.env.Describe()
		if s.env.Target.Kind == awsenv.Sandbox {
			notes = append([]string{"The sandbox itself bills nothing: these figures are what the same lab costs on real AWS."}, notes...)
		}
		u, err := cost.Measure(ctx, newUsageReader(s.env), names, s.env.Account, prices, a)
		if err != nil {
			if ctx.Err() != nil {
				return r, ctx.Err()
			}
			notes = append(notes, fmt.Sprintf("could not measure what exists now: %v", err))
		} else {
			r.Usage = u
		}
	}
	r.Notes = append(notes, r.Notes...)
	return r, nil
}
