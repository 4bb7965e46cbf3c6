package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slab-lab/slab/awscli"
	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/cleanup"
)

type cleanupOptions struct {
	DryRun   bool
	Yes      bool
	KeepLogs bool
}

func newCleanupCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	o := &cleanupOptions{}
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Delete every lab resource, and nothing else",
		Long: `Find the lab's resources in the target and delete them in dependency order: the rule's
targets and the rule, the bucket notification, the event source mapping, the functions,
the subscription and topic, the queue and dead-letter queue, every object version and
delete marker and then the bucket, the table, the log groups, and the role last.

A resource is the lab's only by its exact name (your names, or the guide's), the bucket
prefix followed by this account's id, or the slab:lab tag; lookalikes such as
lambda-integration-data-prod are listed as kept, with the reason, and never touched.
The plan says why each resource belongs to the lab. --dry-run prints it and changes
nothing. On --aws you confirm by typing the account id (--yes skips); elsewhere, y/N.
Without a terminal, --yes is required.

It is safe to run again: what is gone is skipped, an interrupted run resumes from what
is left, and a final listing verifies that nothing remains (anything that does is listed
with the reason and the AWS CLI command to finish by hand).

Exit status: 0 nothing left, 1 something could not be deleted, 2 usage (or no
confirmation possible), 3 target unreachable, 130 cancelled or not confirmed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCleanup(cmd.Context(), ios, g, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.DryRun, "dry-run", false, "print the plan (read-only calls), change nothing")
	f.BoolVar(&o.Yes, "yes", false, "do not ask for confirmation")
	f.BoolVar(&o.KeepLogs, "keep-logs", false, "keep the functions' log groups")
	return cmd
}

func runCleanup(ctx context.Context, ios *IOStreams, g *globalOptions, o *cleanupOptions) error {
	s, err := openSession(ctx, ios, g, online, "")
	if err != nil {
		return err
	}
	defer s.close()
	w := ios.Out
	fmt.Fprintf(w, "target: %s\n", s.env.Describe())
	cl := s.newCleaner(o.KeepLogs, cliPrefix(s.env, g), progressPrinter(w))
	fmt.Fprintln(w, "looking for the lab's resources (read-only)...")
	plan, err := cl.Discover(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return &exitError{code: exitCancelled, err: ctx.Err()}
		}
		return err
	}
	cleanup.WritePlan(w, plan)
	if o.DryRun {
		fmt.Fprintln(w, "\ndry run: nothing was changed")
		return nil
	}
	if plan.Empty() {
		if len(plan.Problems) > 0 {
			return &exitError{code: exitChecksFail, err: errors.New("could not look everywhere; see above"), silent: true}
		}
		// A verified empty target: nothing the state remembers exists.
		return s.forgetResources()
	}
	if !o.Yes {
		if err := confirmCleanup(ios, s.env, len(plan.Resources)); err != nil {
			return err
		}
	}
	res, err := cl.Execute(ctx, plan)
	if res != nil {
		cleanup.WriteResult(w, s.env.Describe(), res)
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(w, "\ninterrupted: run `slab cleanup` again; it finds what is left and finishes")
			return &exitError{code: exitCancelled, err: err, silent: true}
		}
		return err
	}
	if !res.Clean() {
		return &exitError{code: exitChecksFail, err: fmt.Errorf("%d lab resources are still present", len(res.Leftovers)), silent: true}
	}
	return s.forgetResources()
}

// newCleaner is the cleaner for the session's target, names and state id
// (`slab cleanup` and the tutor).
func (s *session) newCleaner(keepLogs bool, cli string, progress func(cleanup.Event)) *cleanup.Cleaner {
	return cleanup.New(s.env, s.names, s.st.ID, cleanup.Options{KeepLogs: keepLogs, CLI: cli, Progress: progress})
}

// forgetResources clears the state's resources, step statuses and bucket
// name after a verified cleanup.
func (s *session) forgetResources() error {
	if s.stateFile == nil {
		return nil
	}
	s.names.Bucket = ""
	return s.forgetState()
}

// forgetState clears what the state file remembers about the target's
// resources (cleanup.ForgetResources) and saves it; the session's names
// are left alone.
func (s *session) forgetState() error {
	if s.stateFile == nil {
		return nil
	}
	cleanup.ForgetResources(s.st)
	if err := s.stateFile.Save(s.st); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// confirmCleanup asks before deleting: on AWS the learner types the account
// id, so a wrong profile cannot be cleaned by a reflexive "y".
func confirmCleanup(ios *IOStreams, env *awsenv.Env, n int) error {
	w := ios.Out
	if !ios.IsStdinTTY() {
		return usageErr("refusing to delete %d resources in %s without confirmation: no terminal to ask on; pass --yes (review the plan with --dry-run)", n, env.Describe())
	}
	in := bufio.NewReader(ios.In)
	if env.IsAWS() {
		fmt.Fprintf(w, "\nThis deletes %d resources in AWS account %s (%s). Type the account id to confirm: ", n, env.Account, env.Region)
		line, err := in.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if strings.TrimSpace(line) != env.Account {
			fmt.Fprintln(w, "not confirmed (the account id did not match): nothing was deleted")
			return &exitError{code: exitCancelled, err: errors.New("not confirmed"), silent: true}
		}
		return nil
	}
	fmt.Fprintf(w, "\nDelete these %d resources in %s? [y/N] ", n, env.Describe())
	line, err := in.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		fmt.Fprintln(w, "not confirmed: nothing was deleted")
		return &exitError{code: exitCancelled, err: errors.New("not confirmed"), silent: true}
	}
	return nil
}

// cliPrefix is the AWS CLI invocation for by-hand commands on this target.
func cliPrefix(env *awsenv.Env, g *globalOptions) string {
	c := awscli.CLI{Profile: g.Profile, Region: env.Region}
	if env.Target.Kind != awsenv.AWS {
		c.Endpoint = env.Target.Endpoint
	}
	return c.Prefix()
}

// progressPrinter prints cleanup's progress events as plain lines.
func progressPrinter(w io.Writer) func(cleanup.Event) {
	return func(e cleanup.Event) {
		switch e.Status {
		case cleanup.StatusStart:
			fmt.Fprintf(w, "[%d/%d] %s\n", e.Index, e.Total, e.Resource.Title())
		case cleanup.StatusStep, cleanup.StatusWait, cleanup.StatusRetry:
			fmt.Fprintf(w, "      %s\n", e.Detail)
		case cleanup.StatusDeleted:
			fmt.Fprintln(w, "      deleted")
		case cleanup.StatusGone:
			fmt.Fprintln(w, "      already gone")
		case cleanup.StatusFailed:
			fmt.Fprintf(w, "      FAILED: %s\n", e.Detail)
		case cleanup.StatusVerify:
			fmt.Fprintf(w, "\n%s...\n", e.Detail)
		}
	}
}
