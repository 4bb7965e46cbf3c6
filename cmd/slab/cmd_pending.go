package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// notYet answers for a command whose feature has not landed: plainly, with
// exit 2, never pretending to have done something.
func notYet(feature string, issue int) error {
	return &exitError{code: exitUsage, err: fmt.Errorf("%s is not available in this build yet (it lands with issue #%d); `slab show STEP` has the commands to do it by hand", feature, issue)}
}

func newDoCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	var all, dryRun, yes, withDeps, leastPriv bool
	var runtimeFlag string
	cmd := &cobra.Command{
		Use:   "do STEP... | --all",
		Short: "Perform steps for you through the AWS SDK (safe to repeat)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if !all && len(args) == 0 {
				return usageErr("name the steps to do (ids or numbers 1-8), or --all")
			}
			return notYet("slab do", 6)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&all, "all", false, "do every step in order")
	f.BoolVar(&dryRun, "dry-run", false, "print the plan, change nothing")
	f.BoolVar(&yes, "yes", false, "do not ask for confirmation on AWS")
	f.BoolVar(&withDeps, "with-deps", false, "also do missing prerequisite steps")
	f.BoolVar(&leastPriv, "least-privilege", false, "give the role a scoped inline policy instead of the guide's FullAccess policies")
	f.StringVar(&runtimeFlag, "runtime", "go", "function runtime: go (provided.al2023) or nodejs (nodejs22.x)")
	return cmd
}

func newCheckCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	var probe bool
	var format string
	cmd := &cobra.Command{
		Use:   "check [STEP...]",
		Short: "Verify your resources with read-only calls (--probe adds end-to-end probes)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("slab check", 7)
		},
	}
	cmd.Flags().BoolVar(&probe, "probe", false, "also run the end-to-end probes (they write test data and remove it)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json, junit or markdown")
	return cmd
}

func newCleanupCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	var dryRun, yes, keepLogs bool
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Delete every lab resource, and nothing else",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("slab cleanup", 8)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan, change nothing")
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&keepLogs, "keep-logs", false, "keep the functions' log groups")
	return cmd
}

func newCostCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	var hours float64
	var format string
	cmd := &cobra.Command{
		Use:   "cost",
		Short: "Estimate what the lab costs: once, per day and per month left running",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("slab cost", 8)
		},
	}
	cmd.Flags().Float64Var(&hours, "hours", 1, "hours the lab stays deployed")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func newGradeCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	var roster, format, out string
	var concurrency int
	cmd := &cobra.Command{
		Use:   "grade --roster FILE",
		Short: "Grade many student accounts with read-only checks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if roster == "" {
				return usageErr("--roster FILE is required")
			}
			return notYet("slab grade", 10)
		},
	}
	cmd.Flags().StringVar(&roster, "roster", "", "CSV roster: student plus profile, or account_id+role_name, or access keys")
	cmd.Flags().IntVar(&concurrency, "concurrency", 8, "students graded at once")
	cmd.Flags().StringVar(&format, "format", "csv", "report format: csv, json, junit or markdown")
	cmd.Flags().StringVar(&out, "out", "", "write the report to this file")
	return cmd
}

func newGraderPolicyCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "grader-policy",
		Short: "Print the read-only IAM policy that graders need",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("slab grader-policy", 7)
		},
	}
}

func newPackageCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	var arch, out, rt string
	cmd := &cobra.Command{
		Use:   "package FUNCTION -o FILE",
		Short: "Write a function's deployment zip (s3-processor, event-processor, queue-processor)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("slab package", 5)
		},
	}
	cmd.Flags().StringVar(&arch, "arch", "arm64", "architecture: arm64 or x86_64")
	cmd.Flags().StringVarP(&out, "output", "o", "", "zip file to write")
	cmd.Flags().StringVar(&rt, "runtime", "go", "go (provided.al2023) or nodejs (nodejs22.x)")
	return cmd
}
