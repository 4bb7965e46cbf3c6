package cleanup

import (
	"github.com/slab-lab/slab/awserr"

	"context"
	"fmt"
	"io"
	"strings"
)

// passes is how many delete-then-rediscover rounds a run makes: the second
// catches what reappeared meanwhile (a log group re-created by a last
// invocation, a version written by a late upload).
const passes = 2

// Execute deletes the plan's resources in order, then verifies by
// rediscovery that nothing is left, and retries once what is. It returns
// what it did even when ctx is cancelled part-way (with ctx's error): a
// later run rediscovers what is left and finishes.
func (c *Cleaner) Execute(ctx context.Context, plan *Plan) (*Result, error) {
	res := &Result{Kept: plan.Kept}
	failures := map[string]error{}
	done := map[string]bool{}
	pending := plan.Resources
	problems := plan.Problems
	for pass := 1; pass <= passes && len(pending) > 0; pass++ {
		for i, r := range pending {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			c.emit(Event{Resource: r, Index: i + 1, Total: len(pending), Status: StatusStart})
			gone, err := c.Delete(ctx, r)
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			switch {
			case err != nil:
				failures[r.Key()] = err
				c.emit(Event{Resource: r, Index: i + 1, Total: len(pending), Status: StatusFailed, Detail: awserr.Brief(err), Err: err})
			case gone:
				delete(failures, r.Key())
				if !done[r.Key()] {
					res.Gone = append(res.Gone, r)
				}
				c.emit(Event{Resource: r, Index: i + 1, Total: len(pending), Status: StatusGone})
			default:
				delete(failures, r.Key())
				if !done[r.Key()] {
					res.Deleted = append(res.Deleted, r)
					done[r.Key()] = true
				}
				c.emit(Event{Resource: r, Index: i + 1, Total: len(pending), Status: StatusDeleted})
			}
		}
		c.emit(Event{Status: StatusVerify, Detail: "listing the target again to verify nothing is left"})
		fresh, err := c.Discover(ctx)
		if err != nil {
			return res, err
		}
		pending, problems = fresh.Resources, fresh.Problems
		res.Kept = fresh.Kept
	}
	res.Problems = problems
	res.Verified = true
	for _, r := range pending {
		reason := "still present after deletion (something re-created it, or AWS has not finished)"
		if err := failures[r.Key()]; err != nil {
			reason = awserr.Brief(err)
		}
		res.Leftovers = append(res.Leftovers, Leftover{Resource: r, Reason: reason, Command: c.Command(r)})
	}
	return res, nil
}

// Command is the AWS CLI command that deletes a resource by hand.
func (c *Cleaner) Command(r *Resource) string {
	aws := c.opts.CLI
	switch r.Kind {
	case KindRule:
		var ids []string
		for _, p := range r.Parts {
			if id, ok := strings.CutPrefix(p.What, "target "); ok {
				ids = append(ids, strings.Fields(id)[0])
			}
		}
		cmd := ""
		if len(ids) > 0 {
			cmd = fmt.Sprintf("%s events remove-targets --rule %s --ids %s && ", aws, r.Name, strings.Join(ids, " "))
		}
		return cmd + fmt.Sprintf("%s events delete-rule --name %s", aws, r.Name)
	case KindNotification:
		if strings.Contains(r.Detail, " stay") {
			return fmt.Sprintf("%s s3api get-bucket-notification-configuration --bucket %s > notification.json  # remove the lab's configurations from the file, then: %s s3api put-bucket-notification-configuration --bucket %s --notification-configuration file://notification.json", aws, r.Name, aws, r.Name)
		}
		return fmt.Sprintf("%s s3api put-bucket-notification-configuration --bucket %s --notification-configuration '{}'", aws, r.Name)
	case KindMapping:
		return fmt.Sprintf("%s lambda delete-event-source-mapping --uuid %s", aws, r.Name)
	case KindFunction:
		return fmt.Sprintf("%s lambda delete-function --function-name %s", aws, r.Name)
	case KindTopic:
		return fmt.Sprintf("%s sns delete-topic --topic-arn %s", aws, r.ARN)
	case KindQueue:
		return fmt.Sprintf("%s sqs delete-queue --queue-url \"$(%s sqs get-queue-url --queue-name %s --query QueueUrl --output text)\"", aws, aws, r.Name)
	case KindBucket:
		return fmt.Sprintf("# delete every version first: the loop in `slab show cleanup`, step 7; then\n%s s3api delete-bucket --bucket %s", aws, r.Name)
	case KindTable:
		return fmt.Sprintf("%s dynamodb delete-table --table-name %s && %s dynamodb wait table-not-exists --table-name %s", aws, r.Name, aws, r.Name)
	case KindLogGroup:
		return fmt.Sprintf("%s logs delete-log-group --log-group-name %s", aws, r.Name)
	case KindRole:
		var lines []string
		for _, p := range r.Parts {
			switch {
			case strings.HasPrefix(p.What, "detach managed policy "):
				arn := strings.Fields(strings.TrimPrefix(p.What, "detach managed policy "))[0]
				lines = append(lines, fmt.Sprintf("%s iam detach-role-policy --role-name %s --policy-arn %s", aws, r.Name, arn))
			case strings.HasPrefix(p.What, "delete inline policy "):
				lines = append(lines, fmt.Sprintf("%s iam delete-role-policy --role-name %s --policy-name %s", aws, r.Name, strings.TrimPrefix(p.What, "delete inline policy ")))
			case strings.HasPrefix(p.What, "remove from instance profile "):
				prof := strings.Fields(strings.TrimPrefix(p.What, "remove from instance profile "))[0]
				lines = append(lines, fmt.Sprintf("%s iam remove-role-from-instance-profile --instance-profile-name %s --role-name %s", aws, prof, r.Name))
			}
		}
		lines = append(lines, fmt.Sprintf("%s iam delete-role --role-name %s", aws, r.Name))
		return strings.Join(lines, "\n")
	}
	return ""
}

// WritePlan prints the plan as a tree in deletion order.
func WritePlan(w io.Writer, p *Plan) {
	if p.Empty() {
		fmt.Fprintf(w, "Nothing to delete: no lab resources found in %s.\n", p.Target)
	} else {
		fmt.Fprintf(w, "Plan for %s: delete %s, in this order:\n", p.Target, plural(len(p.Resources), "resource", "resources"))
		for i, r := range p.Resources {
			fmt.Fprintf(w, "%3d. %s  [%s]\n", i+1, r.Title(), r.Why)
			if r.Detail != "" {
				fmt.Fprintf(w, "       %s\n", r.Detail)
			}
			for j, part := range r.Parts {
				branch := "├─"
				if j == len(r.Parts)-1 {
					branch = "└─"
				}
				if part.Why != "" {
					fmt.Fprintf(w, "       %s %s  [%s]\n", branch, part.What, part.Why)
				} else {
					fmt.Fprintf(w, "       %s %s\n", branch, part.What)
				}
			}
		}
	}
	if len(p.Kept) > 0 {
		fmt.Fprintf(w, "\nKept (not the lab's, or excluded):\n")
		for _, k := range p.Kept {
			fmt.Fprintf(w, "   - %s %s: %s\n", k.Kind.Label(), k.Name, k.Why)
		}
	}
	if len(p.Problems) > 0 {
		fmt.Fprintf(w, "\nCould not look everywhere (the plan may be incomplete):\n")
		for _, pr := range p.Problems {
			fmt.Fprintf(w, "   ! %s\n", pr)
		}
	}
}

// WriteResult prints what a run did and, for anything left, why and how to
// finish by hand.
func WriteResult(w io.Writer, target string, r *Result) {
	fmt.Fprintf(w, "\nDeleted %s", plural(len(r.Deleted), "resource", "resources"))
	if len(r.Gone) > 0 {
		fmt.Fprintf(w, " (%d already gone)", len(r.Gone))
	}
	fmt.Fprintf(w, " in %s.\n", target)
	if !r.Verified {
		fmt.Fprintln(w, "Not verified: the run stopped before a fresh listing could confirm what is left.")
		return
	}
	if len(r.Leftovers) == 0 && len(r.Problems) == 0 {
		fmt.Fprintln(w, "Verified: a fresh listing finds no lab resources left.")
		return
	}
	if len(r.Leftovers) > 0 {
		fmt.Fprintf(w, "\nStill present (%d):\n", len(r.Leftovers))
		for _, l := range r.Leftovers {
			fmt.Fprintf(w, "  - %s: %s\n    by hand:\n", l.Resource.Title(), l.Reason)
			for _, line := range strings.Split(l.Command, "\n") {
				fmt.Fprintf(w, "      %s\n", line)
			}
		}
		fmt.Fprintln(w, "\nRun `slab cleanup` again to retry; it resumes from what is left.")
	}
	if len(r.Problems) > 0 {
		fmt.Fprintln(w, "\nCould not verify everywhere:")
		for _, p := range r.Problems {
			fmt.Fprintf(w, "  ! %s\n", p)
		}
	}
}
