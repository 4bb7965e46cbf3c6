package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/report"
	"github.com/slab-lab/slab/state"
	"github.com/slab-lab/slab/steps"
	"github.com/slab-lab/slab/tui"
)

type checkOptions struct {
	Steps       []string // step ids, lab order; empty = all
	Probe       bool
	Format      string
	Concurrency int
	FullEvid    bool
}

func newCheckCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check [STEP...]",
		Short: "Verify your resources with read-only calls (--probe adds end-to-end probes)",
		Long: `Verify the lab's resources with read-only API calls: every step, or the steps named
(ids or numbers 1-8). --probe adds two end-to-end probes that write test data (an
upload, an invoke) and remove it afterwards.

Exit status: 0 when nothing failed (warnings and skips do not fail), 1 when a check
failed, 3 when nothing failed but a check could not verify (access denied, throttled,
network), 2 for usage errors. --format json is a stable schema (see README).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.Steps, err = resolveSteps(args); err != nil {
				return err
			}
			return runCheck(cmd.Context(), ios, g, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Probe, "probe", false, "also run the end-to-end probes (they write test data and remove it)")
	f.StringVar(&o.Format, "format", "text", "output format: "+strings.Join(report.Formats, ", "))
	f.BoolVar(&o.FullEvid, "full-evidence", false, "keep every evidence item whole in --format json (otherwise cut at 2 KB with a note, as in every format)")
	f.IntVar(&o.Concurrency, "concurrency", 8, "checks running at once")
	return cmd
}

// resolveSteps turns STEP arguments (ids or numbers) into ids in lab order.
func resolveSteps(args []string) ([]string, error) {
	want := map[string]bool{}
	for _, a := range args {
		s, err := steps.Find(a)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		want[s.ID] = true
	}
	var ids []string
	for _, s := range steps.All {
		if want[s.ID] {
			ids = append(ids, s.ID)
		}
	}
	return ids, nil
}

func runCheck(ctx context.Context, ios *IOStreams, g *globalOptions, o *checkOptions) error {
	if !validFormat(o.Format) {
		return usageErr("--format %q: want %s", o.Format, strings.Join(report.Formats, ", "))
	}
	if o.Concurrency < 1 {
		return usageErr("--concurrency must be at least 1")
	}
	s, err := openSession(ctx, ios, g, online, "")
	if err != nil {
		return err
	}
	defer s.close()
	changed, settle := s.checkTiming()
	rep := checks.Run(ctx, s.env, s.names, checks.Options{Steps: o.Steps, Probe: o.Probe, Concurrency: o.Concurrency, ChangedAt: changed, Settle: settle})
	if err := report.Write(ios.Out, o.Format, rep, report.Options{Color: ios.ColorEnabled() && o.Format == "text", Version: version, FullEvidence: o.FullEvid}); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := s.recordChecks(rep); err != nil {
		fmt.Fprintf(ios.ErrOut, "slab: could not save the step statuses: %v\n", err)
	}
	switch {
	case rep.Failed():
		return &exitError{code: exitChecksFail, silent: true}
	case rep.Errored():
		return &exitError{code: exitUnreachable, silent: true}
	}
	return nil
}

func validFormat(f string) bool {
	for _, v := range report.Formats {
		if f == v {
			return true
		}
	}
	return false
}

// recordChecks keeps each checked step's status, score and results in the
// state file, for `slab steps` and the tutor, and remembers a bucket found
// by discovery when it was the only candidate.
func (s *session) recordChecks(rep checks.Report) error {
	if s.stateFile == nil {
		return nil
	}
	now := time.Now().UTC()
	for _, st := range rep.Steps {
		raw, err := json.Marshal(st.Results)
		if err != nil {
			return err
		}
		s.st.Steps[st.ID] = state.StepRecord{Status: st.Status.String(), Score: st.Score, MaxScore: st.MaxScore, CheckedAt: now, Results: raw}
	}
	if rep.BucketSource == "discovered" && len(rep.BucketCandidates) == 1 && s.st.Names["bucket"] != rep.Bucket {
		s.st.Names["bucket"] = rep.Bucket
	}
	return s.stateFile.Save(s.st)
}

// addCheckHooks plugs the checks and the probes into the tutor. The tutor
// records the statuses itself (its state is the one it saves).
func addCheckHooks(s *session, h *tui.Hooks) {
	h.RunChecks = func(ctx context.Context, stepID string, progress func(checks.Result)) ([]checks.Result, error) {
		changed, settle := s.checkTiming()
		rep := checks.Run(ctx, s.env, s.names, checks.Options{Steps: []string{stepID}, OnResult: progress, ChangedAt: changed, Settle: settle})
		return rep.Results, ctx.Err()
	}
	h.Probe = func(ctx context.Context, progress func(checks.Result)) ([]checks.Result, error) {
		var ids []string
		for _, c := range checks.ForStep(lab.StepEndToEnd) {
			if c.Probe {
				ids = append(ids, c.ID)
			}
		}
		rep := checks.Run(ctx, s.env, s.names, checks.Options{IDs: ids, Probe: true, OnResult: progress})
		return rep.Results, ctx.Err()
	}
}
