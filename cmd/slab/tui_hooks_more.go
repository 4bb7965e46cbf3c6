package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/slab-lab/slab/cleanup"
	"github.com/slab-lab/slab/cost"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/tui"
)

// addCleanupHooks plugs cleanup into the tutor: the plan the learner
// confirms, then the run with each resource's progress, the verification
// and, for anything left, the command that removes it by hand. A verified
// cleanup clears the state like `slab cleanup` does, except that the
// session keeps its bucket name: the tutor's lessons were rendered with it
// (the next start picks a new one).
func addCleanupHooks(s *session, h *tui.Hooks) {
	cli := cliPrefix(s.env, &globalOptions{Profile: s.env.Target.Profile})
	var (
		mu   sync.Mutex
		last *cleanup.Plan // the plan the tutor was last shown
	)
	h.CleanupPlan = func(ctx context.Context) (tui.CleanupPlan, error) {
		plan, err := s.newCleaner(false, cli, nil).Discover(ctx)
		if err != nil {
			return tui.CleanupPlan{}, err
		}
		if plan.Empty() {
			if len(plan.Problems) > 0 {
				return tui.CleanupPlan{}, fmt.Errorf("could not look everywhere: %s", strings.Join(plan.Problems, "; "))
			}
		}
		mu.Lock()
		last = plan
		mu.Unlock()
		return tuiCleanupPlan(plan), nil
	}
	h.Cleanup = func(ctx context.Context, confirmed tui.CleanupPlan, progress func(tui.ResourceProgress)) (tui.CleanupReport, error) {
		cl := s.newCleaner(false, cli, cleanupProgress(progress))
		mu.Lock()
		plan := last
		mu.Unlock()
		if plan == nil || !samePlan(plan, confirmed) {
			// Not the plan discovered last: list again and delete only what
			// the learner confirmed (and what the verification finds after).
			fresh, err := cl.Discover(ctx)
			if err != nil {
				return tui.CleanupReport{}, err
			}
			keep := map[string]bool{}
			for _, g := range confirmed.Groups {
				for _, it := range g.Items {
					keep[it.Resource] = true
				}
			}
			var rs []*cleanup.Resource
			for _, r := range fresh.Resources {
				if keep[r.Title()] {
					rs = append(rs, r)
				}
			}
			fresh.Resources, plan = rs, fresh
		}
		res, err := cl.Execute(ctx, plan)
		rep := tuiCleanupReport(res)
		if res != nil {
			final := tui.ResourceProgress{Resource: "verification", Action: "verify", State: tui.Done, Detail: "a fresh listing finds nothing of the lab"}
			if !rep.Verified {
				final.State, final.Detail = tui.Failed, fmt.Sprintf("%d still present", len(rep.Leftovers))
			}
			if err == nil {
				progress(final)
			}
		}
		if err != nil {
			rep.Verified = false
			return rep, err
		}
		// The tutor clears its own state on a verified report: this runs
		// in the background and must not touch the state it owns.
		return rep, nil
	}
}

// samePlan reports whether the tutor's plan lists the discovered plan's
// resources, in order.
func samePlan(p *cleanup.Plan, t tui.CleanupPlan) bool {
	var titles []string
	for _, g := range t.Groups {
		for _, it := range g.Items {
			titles = append(titles, it.Resource)
		}
	}
	if len(titles) != len(p.Resources) {
		return false
	}
	for i, r := range p.Resources {
		if r.Title() != titles[i] {
			return false
		}
	}
	return true
}

// tuiCleanupPlan groups the plan by kind, in deletion order.
func tuiCleanupPlan(p *cleanup.Plan) tui.CleanupPlan {
	var out tui.CleanupPlan
	for _, r := range p.Resources {
		title := r.Kind.Label() + "s"
		if n := len(out.Groups); n == 0 || out.Groups[n-1].Title != title {
			out.Groups = append(out.Groups, tui.CleanupGroup{Title: title})
		}
		detail := []string{r.Why}
		if r.Detail != "" {
			detail = append(detail, r.Detail)
		}
		for _, part := range r.Parts {
			detail = append(detail, part.What)
		}
		g := &out.Groups[len(out.Groups)-1]
		g.Items = append(g.Items, tui.CleanupItem{Resource: r.Title(), Detail: strings.Join(detail, "; ")})
	}
	for _, k := range p.Kept {
		out.Notes = append(out.Notes, fmt.Sprintf("kept: %s %s (%s)", k.Kind.Label(), k.Name, k.Why))
	}
	for _, pr := range p.Problems {
		out.Notes = append(out.Notes, "could not look everywhere (the plan may be incomplete): "+pr)
	}
	return out
}

// cleanupProgress turns cleanup's events into the tutor's progress, one
// line per resource (the verification is a line of its own).
func cleanupProgress(progress func(tui.ResourceProgress)) func(cleanup.Event) {
	return func(e cleanup.Event) {
		if e.Status == cleanup.StatusVerify {
			progress(tui.ResourceProgress{Resource: "verification", Action: "verify", State: tui.Started, Detail: e.Detail})
			return
		}
		if e.Resource == nil {
			return
		}
		p := tui.ResourceProgress{Resource: e.Resource.Title(), Action: "delete", State: tui.Started, Detail: e.Detail}
		switch e.Status {
		case cleanup.StatusStart:
			p.Detail = fmt.Sprintf("%d/%d", e.Index, e.Total)
		case cleanup.StatusWait:
			p.Action = "wait"
		case cleanup.StatusRetry:
			p.Action = "retry"
		case cleanup.StatusDeleted:
			p.State, p.Detail = tui.Done, "deleted"
		case cleanup.StatusGone:
			p.State, p.Detail = tui.Skipped, "already gone"
		case cleanup.StatusFailed:
			p.State = tui.Failed
		}
		progress(p)
	}
}

// tuiCleanupReport is what a run did; listings that failed during the
// verification are leftovers without a command.
func tuiCleanupReport(res *cleanup.Result) tui.CleanupReport {
	var rep tui.CleanupReport
	if res == nil {
		return rep
	}
	for _, r := range res.Deleted {
		rep.Deleted = append(rep.Deleted, r.Title())
	}
	for _, l := range res.Leftovers {
		rep.Leftovers = append(rep.Leftovers, tui.Leftover{Resource: l.Resource.Title(), Reason: l.Reason, Command: l.Command})
	}
	for _, p := range res.Problems {
		rep.Leftovers = append(rep.Leftovers, tui.Leftover{Resource: "could not verify", Reason: p})
	}
	rep.Verified = res.Clean()
	return rep
}

// addCostHooks plugs the cost estimate into the tutor: the header's running
// figure and the per-resource panel, from the same report as `slab cost`
// with the default assumptions.
func addCostHooks(s *session, h *tui.Hooks) {
	h.Cost = func(ctx context.Context) (tui.CostReport, error) {
		prices, _ := cost.Table(s.env.Region)
		r, err := buildCost(ctx, s, prices, cost.DefaultAssumptions(), s.names, 1, nil)
		if err != nil {
			return tui.CostReport{}, err
		}
		return tuiCost(r, s.names), nil
	}
}

// tuiCost turns a cost report into the panel: per resource, list prices
// for doing the lab once, a day and a month left running. When the target
// answered, what is stored now (measured) is priced into per day and per
// month in place of the assumed test uploads; the likely bill after the
// always-free allowances and what was measured are notes.
func tuiCost(r cost.Report, n lab.Names) tui.CostReport {
	out := tui.CostReport{PricesAsOf: r.Prices.AsOf}
	if out.PricesAsOf == "" {
		out.PricesAsOf = cost.AsOf()
	}
	u := r.Usage
	idx := map[string]int{}
	line := func(resource string) *tui.CostLine {
		i, ok := idx[resource]
		if !ok {
			i = len(out.Lines)
			idx[resource] = i
			out.Lines = append(out.Lines, tui.CostLine{Item: resource, Step: stepOf(resource, n)})
		}
		return &out.Lines[i]
	}
	for _, e := range r.Estimates {
		for _, l := range e.Lines {
			if u != nil && u.Bucket != "" && l.Item == cost.S3Storage {
				continue // measured below
			}
			switch e.Scenario {
			case "once":
				line(l.Resource).Once += l.ListUSD
			case "day":
				line(l.Resource).PerDay += l.ListUSD
			case "month":
				line(l.Resource).PerMonth += l.ListUSD
			}
		}
	}
	var measured []string
	if u != nil {
		for _, l := range u.Lines {
			if l.What != "stored now, per month" {
				continue
			}
			res := l.Resource
			if strings.HasPrefix(res, "log group ") {
				res = "log groups /aws/lambda/*"
			}
			c := line(res)
			c.PerMonth += l.ListUSD
			c.PerDay += l.ListUSD * 24 / cost.HoursPerMonth
		}
		invocations := 0
		for _, lg := range u.LogGroups {
			invocations += lg.Invocations
		}
		measured = append(measured, fmt.Sprintf("Measured now: %d object versions (%d bytes) in the bucket, %d rows in the table, %d invocations in the logs (%s so far, list); what is stored is priced into per day and per month.",
			u.Versions, u.BucketBytes, u.Items, invocations, cost.USD(u.InvocationUSD)))
	}
	for _, l := range out.Lines {
		out.Total.Once += l.Once
		out.Total.PerDay += l.PerDay
		out.Total.PerMonth += l.PerMonth
	}
	// The report's notes end with the table's and the allowances' (long;
	// `slab cost` prints them): the panel keeps the target's and region's.
	notes := r.Notes
	if k := len(notes) - len(cost.TableNotes()) - len(cost.FreeNotes()); k >= 0 {
		notes = notes[:k]
	}
	out.Notes = append(out.Notes, notes...)
	out.Notes = append(out.Notes, measured...)
	if u != nil {
		out.Notes = append(out.Notes, u.Notes...)
	}
	once, day, month := r.Find("once"), r.Find("day"), r.Find("month")
	if once != nil && day != nil && month != nil {
		out.Notes = append(out.Notes, fmt.Sprintf("Likely bill after the always-free allowances (nothing else using them): %s once, %s a day, %s a month.", cost.USD(once.BillUSD), cost.USD(day.BillUSD), cost.USD(month.BillUSD)))
	}
	a := r.Assumptions
	out.Notes = append(out.Notes, fmt.Sprintf("Assumes %s functions with %d MB billed %g ms an invocation, %g KB messages and %g KB rows, %g KB of logs an invocation (never expiring), the schedule every five minutes and %d SQS pollers; `slab cost` shows every line and takes other assumptions.",
		a.Arch, a.MemoryMB, a.DurationMS, a.PayloadKB, a.ItemKB, a.LogKB, a.Pollers))
	return out
}

// stepOf is the step that creates a resource of the estimate ("" for the
// log groups, which the functions create).
func stepOf(resource string, n lab.Names) string {
	switch {
	case strings.HasPrefix(resource, "Lambda function "):
		switch strings.TrimPrefix(resource, "Lambda function ") {
		case n.S3Function:
			return lab.StepS3Processor
		case n.EventFunction:
			return lab.StepEventProcessor
		case n.QueueFunction:
			return lab.StepQueueProcessor
		}
	case strings.HasPrefix(resource, "DynamoDB table "):
		return lab.StepDynamoDBTable
	case strings.HasPrefix(resource, "S3 bucket "):
		return lab.StepS3Bucket
	case strings.HasPrefix(resource, "SNS topic "), strings.HasPrefix(resource, "SQS queue "):
		return lab.StepSNSSQS
	case strings.HasPrefix(resource, "EventBridge rule "):
		return lab.StepEventProcessor
	case strings.HasPrefix(resource, "IAM role "):
		return lab.StepIAMRole
	}
	return ""
}
