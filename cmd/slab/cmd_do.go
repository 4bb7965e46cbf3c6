package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/cost"
	"github.com/slab-lab/slab/lambdas"
	"github.com/slab-lab/slab/steps"
	"github.com/slab-lab/slab/tui"
)

type doOptions struct {
	Steps          []string
	All            bool
	DryRun         bool
	Yes            bool
	WithDeps       bool
	LeastPrivilege bool
	Runtime        string // "" keeps a deployed function's runtime
	Arch           string
	E2ETimeout     time.Duration
}

func newDoCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	o := &doOptions{}
	cmd := &cobra.Command{
		Use:   "do STEP... | --all",
		Short: "Perform steps for you through the AWS SDK (safe to repeat)",
		Long: `Perform lab steps for you through the AWS SDK, exactly as the corrected lessons do them.

Every action reads first and only creates what is missing or corrects what differs
(a changed timeout, a missing permission or queue policy, a disabled rule), so running
it again is safe: it reports each resource as created, updated or already correct.
--dry-run makes only read-only calls and prints the plan. On --aws it shows the plan
and asks before changing anything (--yes skips the question). Steps name their
prerequisites; --with-deps does the missing ones first. Ctrl-C stops at the next safe
point; the state file records what exists and the next run finishes the job.

Exit status: 0 done, 1 a step failed, 2 usage (or a missing prerequisite, or no
confirmation), 3 target unreachable or credentials refused, 130 cancelled (Ctrl-C, or
the confirmation declined).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Steps = args
			return runDo(cmd.Context(), ios, g, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.All, "all", false, "do every step in order")
	f.BoolVar(&o.DryRun, "dry-run", false, "print the plan (read-only calls), change nothing")
	f.BoolVar(&o.Yes, "yes", false, "do not ask for confirmation on AWS")
	f.BoolVar(&o.WithDeps, "with-deps", false, "also do missing prerequisite steps")
	f.BoolVar(&o.LeastPrivilege, "least-privilege", false, "give the role a scoped inline policy instead of the guide's FullAccess policies")
	f.StringVar(&o.Runtime, "runtime", "", "function runtime: go (provided.al2023) or nodejs (nodejs22.x); unset: go for new functions, what a deployed one runs otherwise")
	f.StringVar(&o.Arch, "arch", lambdas.ArchARM64, "function architecture: arm64 or x86_64")
	f.DurationVar(&o.E2ETimeout, "e2e-timeout", 2*time.Minute, "how long the end-to-end step waits for each row")
	_ = f.MarkHidden("e2e-timeout")
	return cmd
}

func runDo(ctx context.Context, ios *IOStreams, g *globalOptions, o *doOptions) error {
	start := time.Now()
	if o.All && len(o.Steps) > 0 {
		return usageErr("give step names or --all, not both")
	}
	if !o.All && len(o.Steps) == 0 {
		return usageErr("name the steps to do (ids or numbers 1-8), or --all")
	}
	switch o.Runtime {
	case "", lambdas.RuntimeGo, lambdas.RuntimeNodejs:
	default:
		return usageErr("--runtime %q: use go or nodejs", o.Runtime)
	}
	if o.Arch != lambdas.ArchARM64 && o.Arch != lambdas.ArchX8664 {
		return usageErr("--arch %q: use arm64 or x86_64", o.Arch)
	}
	selected := map[string]*steps.Step{}
	if o.All {
		for _, s := range steps.All {
			selected[s.ID] = s
		}
	}
	for _, a := range o.Steps {
		s, err := steps.Find(a)
		if err != nil {
			return usageErr("%v", err)
		}
		selected[s.ID] = s
	}

	s, err := openSession(ctx, ios, g, online, "")
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.ensureBucket(time.Now().Unix()); err != nil {
		return fmt.Errorf("save the bucket name: %w", err)
	}
	w := ios.Out
	fmt.Fprintf(w, "target: %s\n", s.env.Describe())
	if o.Runtime == lambdas.RuntimeNodejs && s.env.Target.Kind == awsenv.Sandbox && !o.DryRun {
		// The sandbox's Node.js functions import the SDK v3 Lambda's
		// runtime includes: find or install it now, or stop now, rather
		// than after functions that cannot start.
		if _, err := s.nodeSDK.Get(ctx); err != nil {
			return usageErr("--runtime nodejs on the sandbox: %v", err)
		}
	}

	if !o.All {
		if err := addPrerequisites(ctx, w, s, selected, o.WithDeps); err != nil {
			return err
		}
	}
	order := make([]*steps.Step, 0, len(selected))
	for _, st := range selected {
		order = append(order, st)
	}
	sort.Slice(order, func(i, j int) bool { return order[i].Number < order[j].Number })

	opts := steps.PerformOptions{
		LeastPrivilege: o.LeastPrivilege, Runtime: o.Runtime, Arch: o.Arch, StateID: s.st.ID,
		Version: version, E2ETimeout: o.E2ETimeout,
		BuildProgress:   func(line string) { fmt.Fprintln(ios.ErrOut, line) },
		SandboxPackages: s.env.Target.Kind == awsenv.Sandbox,
		Waiting: func(resource, why string) {
			fmt.Fprintf(ios.ErrOut, "  %-16s %s: %s\n", "waiting", resource, why)
		},
	}

	if !o.DryRun {
		var ids []string
		for _, st := range order {
			ids = append(ids, st.ID)
		}
		steps.PrefetchPackages(ctx, opts, ids...)
	}

	if s.env.IsAWS() && !o.DryRun && !o.Yes {
		if err := confirmOnAWS(ctx, ios, s, order, opts); err != nil {
			return err
		}
	}

	if o.DryRun {
		fmt.Fprintln(w, "dry run: read-only calls only, nothing is changed")
	}
	totals := map[string]int{}
	failed := map[string]bool{}
	var firstErr error
	for _, st := range order {
		fmt.Fprintf(w, "\nStep %d %s: %s\n", st.Number, st.ID, st.Title)
		if pre := failedPrerequisite(st.ID, failed); pre != nil {
			fmt.Fprintf(w, "  skipped: needs step %d (%s), which failed\n", pre.Number, pre.ID)
			failed[st.ID] = true
			continue
		}
		stepOpts := opts
		stepOpts.DryRun = o.DryRun
		stepOpts.Progress = func(r steps.ResourceOutcome) { printOutcome(w, r) }
		stepStart := time.Now()
		out, err := st.Perform(ctx, s.env, s.names, stepOpts)
		for _, r := range out.Resources {
			totals[r.Action]++
		}
		for _, n := range out.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
		if serr := s.recordOutcome(out, o.DryRun); serr != nil {
			fmt.Fprintf(ios.ErrOut, "slab: save state: %v\n", serr)
		}
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintf(w, "\ninterrupted during step %d (%s): what exists is recorded in the state file; run the same command again to finish\n", st.Number, st.ID)
				printSummary(w, totals, o.DryRun, time.Since(start))
				return &exitError{code: exitCancelled, err: err, silent: true}
			}
			reported := false
			for _, r := range out.Resources {
				reported = reported || r.Action == steps.ActionFailed
			}
			if reported {
				fmt.Fprintf(w, "  step %d FAILED (see above); what succeeded is kept\n", st.Number)
			} else {
				fmt.Fprintf(w, "  step %d FAILED: %v\n", st.Number, err)
			}
			failed[st.ID] = true
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if !o.DryRun {
			fmt.Fprintf(w, "  step %d done in %s\n", st.Number, roundTime(time.Since(stepStart)))
		}
	}
	fmt.Fprintln(w)
	printSummary(w, totals, o.DryRun, time.Since(start))
	if o.DryRun {
		fmt.Fprintln(w, "nothing was changed (dry run)")
	}
	if firstErr != nil {
		code := exitChecksFail
		if isUnreachable(firstErr) {
			code = exitUnreachable
		}
		var names []string
		for _, st := range order {
			if failed[st.ID] {
				names = append(names, st.ID)
			}
		}
		return &exitError{code: code, err: fmt.Errorf("failed: %s", strings.Join(names, ", "))}
	}
	return nil
}

// addPrerequisites checks, with read-only calls, the prerequisites of the
// selected steps that are not selected themselves; missing ones are added
// with --with-deps, else named as the steps to do first.
func addPrerequisites(ctx context.Context, w io.Writer, s *session, selected map[string]*steps.Step, withDeps bool) error {
	type need struct{ step, pre *steps.Step }
	known := map[string]bool{}
	var added []*steps.Step
	for changed := true; changed; {
		changed = false
		var missing []need
		var whats []string
		ids := make([]string, 0, len(selected))
		for id := range selected {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return steps.ByID(ids[i]).Number < steps.ByID(ids[j]).Number })
		for _, id := range ids {
			for _, pid := range steps.Prerequisites[id] {
				if _, ok := selected[pid]; ok {
					continue
				}
				done, ok := known[pid]
				what := ""
				if !ok {
					d, m, err := steps.Done(ctx, s.env, s.names, pid)
					if err != nil {
						return fmt.Errorf("checking the prerequisites: %w", err)
					}
					known[pid], done, what = d, d, m
				}
				if !done {
					missing = append(missing, need{selected[id], steps.ByID(pid)})
					whats = append(whats, what)
				}
			}
		}
		if len(missing) == 0 {
			break
		}
		if !withDeps {
			var first []string
			seen := map[string]bool{}
			for i, m := range missing {
				detail := ""
				if whats[i] != "" {
					detail = ": " + whats[i] + " does not exist"
				}
				fmt.Fprintf(w, "step %d (%s) needs step %d (%s) first%s\n", m.step.Number, m.step.ID, m.pre.Number, m.pre.ID, detail)
				if !seen[m.pre.ID] {
					seen[m.pre.ID] = true
					first = append(first, fmt.Sprint(m.pre.Number))
				}
			}
			return usageErr("do the missing steps first (slab do %s), or add --with-deps", strings.Join(first, " "))
		}
		for _, m := range missing {
			if _, ok := selected[m.pre.ID]; !ok {
				selected[m.pre.ID] = m.pre
				added = append(added, m.pre)
				changed = true
			}
		}
	}
	if len(added) > 0 {
		sort.Slice(added, func(i, j int) bool { return added[i].Number < added[j].Number })
		var names []string
		for _, a := range added {
			names = append(names, fmt.Sprintf("%d (%s)", a.Number, a.ID))
		}
		fmt.Fprintf(w, "--with-deps: also doing the missing prerequisite steps %s\n", strings.Join(names, ", "))
	}
	return nil
}

func failedPrerequisite(id string, failed map[string]bool) *steps.Step {
	for _, pid := range steps.Prerequisites[id] {
		if failed[pid] {
			return steps.ByID(pid)
		}
	}
	return nil
}

// confirmOnAWS shows what would change in a real account and asks.
func confirmOnAWS(ctx context.Context, ios *IOStreams, s *session, order []*steps.Step, opts steps.PerformOptions) error {
	w := ios.Out
	fmt.Fprintf(w, "account %s, region %s: planning with read-only calls...\n", s.env.Account, s.env.Region)
	var plan []steps.ResourceOutcome
	for _, st := range order {
		o := opts
		o.DryRun = true
		out, err := st.Perform(ctx, s.env, s.names, o)
		plan = append(plan, out.Resources...)
		if err != nil {
			return fmt.Errorf("planning step %s: %w", st.ID, err)
		}
	}
	var changes []steps.ResourceOutcome
	for _, r := range plan {
		if r.Action != steps.ActionCorrect {
			changes = append(changes, r)
		}
	}
	if len(changes) == 0 {
		fmt.Fprintln(w, "everything is already correct; nothing will change")
		return nil
	}
	fmt.Fprintf(w, "This will change AWS account %s in %s:\n", s.env.Account, s.env.Region)
	for _, r := range changes {
		printOutcome(w, r)
	}
	printCostEstimate(w, s, opts.Arch)
	if !ios.IsStdinTTY() {
		return usageErr("refusing to change AWS account %s without confirmation: no terminal to ask on; pass --yes (review the plan with --dry-run)", s.env.Account)
	}
	fmt.Fprintf(w, "Go ahead in account %s (%s)? Type y to confirm: ", s.env.Account, s.env.Region)
	line, err := bufio.NewReader(ios.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		fmt.Fprintln(w, "not confirmed: nothing was changed")
		return &exitError{code: exitCancelled, err: errors.New("not confirmed"), silent: true}
	}
	return nil
}

// printCostEstimate prints what the lab costs at list prices: doing it
// once, and left running (the rate(5 minutes) rule keeps the chain busy
// until `slab cleanup`).
func printCostEstimate(w io.Writer, s *session, arch string) {
	prices, ok := cost.Table(s.env.Region)
	if !ok {
		fmt.Fprintf(w, "cost estimate: no price table for %s; `slab cost` explains. The rate(5 minutes) rule keeps\ninvoking the chain until you run `slab cleanup`.\n", s.env.Region)
		return
	}
	a := cost.DefaultAssumptions()
	a.Arch = arch
	r := cost.Build(prices, a, s.names, 1)
	byScenario := map[string]cost.Estimate{}
	for _, e := range r.Estimates {
		byScenario[e.Scenario] = e
	}
	once, day, month := byScenario["once"], byScenario["day"], byScenario["month"]
	fmt.Fprintf(w, "cost estimate (list prices of %s, %s): doing the lab once %s; left running %s a day, %s a month\n",
		prices.AsOf, prices.Region, cost.USD(once.ListUSD), cost.USD(day.ListUSD), cost.USD(month.ListUSD))
	fmt.Fprintf(w, "  (likely bill after the always-free allowances: %s a month); `slab cost` has the details, `slab cleanup` stops it\n", cost.USD(month.BillUSD))
}

// recordOutcome keeps what a perform created in the state file: the bucket
// it chose and each resource's id.
func (s *session) recordOutcome(out steps.Outcome, dryRun bool) error {
	if s.stateFile == nil {
		return nil
	}
	if out.Bucket != "" && s.names.Bucket == "" {
		s.names.Bucket = out.Bucket
		s.st.Names["bucket"] = out.Bucket
	}
	if !dryRun {
		for _, r := range out.Resources {
			if r.Key != "" && r.ID != "" {
				s.st.Resources[r.Key] = r.ID
			}
		}
		if changedSomething(out) {
			s.st.ChangedAt = time.Now().UTC()
		}
	}
	return s.stateFile.Save(s.st)
}

func printOutcome(w io.Writer, r steps.ResourceOutcome) {
	line := fmt.Sprintf("  %-16s %s", r.Action, r.Resource)
	if r.Detail != "" {
		line += ": " + r.Detail
	}
	fmt.Fprintln(w, line)
}

func printSummary(w io.Writer, totals map[string]int, dryRun bool, took time.Duration) {
	var parts []string
	for _, a := range []string{steps.ActionCreated, steps.ActionUpdated, steps.ActionDone, steps.ActionCorrect,
		steps.ActionWouldCreate, steps.ActionWouldUpdate, steps.ActionWouldDo, steps.ActionFailed} {
		if n := totals[a]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, a))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing")
	}
	label := "summary"
	if dryRun {
		label = "plan"
	}
	fmt.Fprintf(w, "%s: %s (in %s)\n", label, strings.Join(parts, ", "), roundTime(took))
}

func roundTime(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

// isUnreachable tells a network failure (exit 3) from a step failure.
func isUnreachable(err error) bool {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	return errors.As(err, &opErr) || errors.As(err, &dnsErr)
}

// addPerformHooks plugs perform into the tutor: the plan for its
// confirmation (a dry run) and the perform itself, with each resource's
// outcome as progress. The tutor keeps its own state; the bucket was chosen
// before it started.
func addPerformHooks(s *session, h *tui.Hooks) {
	opts := func() steps.PerformOptions {
		return steps.PerformOptions{Arch: lambdas.ArchARM64, StateID: s.st.ID, Version: version}
	}
	h.PlanPerform = func(ctx context.Context, stepID string, c tui.PerformChoice) (tui.PerformPlan, error) {
		var plan tui.PerformPlan
		st := steps.ByID(stepID)
		if st == nil || st.Perform == nil {
			return plan, fmt.Errorf("no perform for step %q", stepID)
		}
		for _, pid := range steps.Prerequisites[stepID] {
			done, what, err := steps.Done(ctx, s.env, s.names, pid)
			if err != nil {
				return plan, err
			}
			if !done {
				p := steps.ByID(pid)
				plan.Missing = append(plan.Missing, pid)
				plan.Items = append(plan.Items, fmt.Sprintf("step %d (%s): %s does not exist", p.Number, p.ID, what))
			}
		}
		if len(plan.Missing) > 0 {
			return plan, nil
		}
		o := opts()
		o.DryRun, o.LeastPrivilege = true, c.LeastPrivilege
		out, err := st.Perform(ctx, s.env, s.names, o)
		for _, r := range out.Resources {
			if r.Action == steps.ActionCorrect {
				continue
			}
			plan.Items = append(plan.Items, planLine(r))
		}
		if len(plan.Items) == 0 && err == nil {
			plan.Items = append(plan.Items, "everything is already correct: nothing to change")
		}
		return plan, err
	}
	h.Perform = func(ctx context.Context, stepID string, c tui.PerformChoice, progress func(tui.ResourceProgress)) (steps.Outcome, error) {
		st := steps.ByID(stepID)
		if st == nil || st.Perform == nil {
			return steps.Outcome{}, fmt.Errorf("no perform for step %q", stepID)
		}
		for _, pid := range steps.Prerequisites[stepID] {
			done, what, err := steps.Done(ctx, s.env, s.names, pid)
			if err != nil {
				return steps.Outcome{}, err
			}
			if !done {
				p := steps.ByID(pid)
				return steps.Outcome{}, fmt.Errorf("do step %d (%s) first: %s does not exist", p.Number, p.ID, what)
			}
		}
		o := opts()
		o.LeastPrivilege = c.LeastPrivilege
		o.Progress = func(r steps.ResourceOutcome) {
			state := tui.Done
			if r.Action == steps.ActionFailed {
				state = tui.Failed
			}
			progress(tui.ResourceProgress{Resource: r.Resource, Action: r.Action, State: state, Detail: r.Detail})
		}
		o.Waiting = func(resource, why string) {
			progress(tui.ResourceProgress{Resource: resource, Action: "wait", State: tui.Started, Detail: why})
		}
		out, err := st.Perform(ctx, s.env, s.names, o)
		if changedSomething(out) {
			s.changedAt = time.Now()
		}
		return out, err
	}
}

// planLine names a planned change by what it really does: a managed
// policy is attached (AWS owns it; nothing is created), an inline policy is
// put on the role.
func planLine(r steps.ResourceOutcome) string {
	verb := strings.TrimPrefix(r.Action, "would ")
	what := r.Resource
	if rest, ok := strings.CutPrefix(what, "managed policy "); ok {
		policy, role, _ := strings.Cut(rest, " on role ")
		switch {
		case strings.HasPrefix(r.Detail, "detached"):
			verb, what = "detach", "AWS managed policy "+policy+" from role "+role
		case verb == "create":
			verb, what = "attach", "AWS managed policy "+policy+" to role "+role
		}
	} else if rest, ok := strings.CutPrefix(what, "inline policy "); ok && (verb == "create" || verb == "update") {
		policy, role, _ := strings.Cut(rest, " on role ")
		verb, what = "put", "inline policy "+policy+" on role "+role
	}
	line := verb + " " + what
	if r.Detail != "" {
		line += ": " + r.Detail
	}
	return line
}
