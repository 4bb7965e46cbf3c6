package checks

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	itypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/slab-lab/slab/policy"
)

// IAM's simulation evaluates a policy's conditions only against the context
// it is given; without it a learner's conditional Allow ("only from my
// account", "only for this function") evaluates to implicitDeny and would
// read as a missing permission. The simulation is therefore given the
// context the lab's calls carry: the account and region, and the calling
// function (aws:SourceArn and lambda:SourceFunctionArn). The role serves
// three functions, so when a condition names the calling function the
// simulation runs once per function and a permission counts when it is
// allowed for one of them. Keys still missing after that are reported
// (MissingContextValues) rather than read as a deny.

// simulationContext is the context common to every call of the lab.
func (r *run) simulationContext(functionArn string) []itypes.ContextEntry {
	str := func(key string, vals ...string) itypes.ContextEntry {
		return itypes.ContextEntry{ContextKeyName: aws.String(key), ContextKeyType: itypes.ContextKeyTypeEnumString, ContextKeyValues: vals}
	}
	out := []itypes.ContextEntry{
		str("aws:SourceAccount", r.env.Account),
		str("aws:PrincipalAccount", r.env.Account),
		str("aws:RequestedRegion", r.env.Region),
	}
	if functionArn != "" {
		out = append(out, str("aws:SourceArn", functionArn), str("lambda:SourceFunctionArn", functionArn))
	}
	return out
}

// simulateInContext runs the simulation with the account's context, and
// once per lab function when a decision still misses context keys.
func (r *run) simulateInContext(ctx context.Context, roleArn string, actions, resources []string) (evaluation, error) {
	ev, err := r.simulateOnce(ctx, roleArn, actions, resources, r.simulationContext(""))
	if err != nil || !missesContext(ev) {
		return ev, err
	}
	for _, fn := range []string{r.names.S3Function, r.names.EventFunction, r.names.QueueFunction} {
		per, err := r.simulateOnce(ctx, roleArn, actions, resources, r.simulationContext(r.functionArnGuess(fn)))
		if err != nil {
			return evaluation{}, err
		}
		for k, d := range per.Decisions {
			if cur, ok := ev.Decisions[k]; ok && better(d, cur) {
				ev.Decisions[k] = d
			}
		}
	}
	return ev, nil
}

func missesContext(ev evaluation) bool {
	for _, d := range ev.Decisions {
		if d.Decision != policy.Allowed && len(d.Missing) > 0 {
			return true
		}
	}
	return false
}

// better prefers an Allow, then a decision that needs no more context.
func better(d, cur decision) bool {
	if cur.Decision == policy.Allowed {
		return false
	}
	if d.Decision == policy.Allowed {
		return true
	}
	return len(d.Missing) < len(cur.Missing) && cur.Decision != policy.ExplicitDeny
}

// evaluatorContext is simulationContext for slab's own evaluator, which
// runs when the caller may not simulate.
func (r *run) evaluatorContext() map[string][]string {
	out := map[string][]string{}
	for _, e := range r.simulationContext("") {
		out[aws.ToString(e.ContextKeyName)] = e.ContextKeyValues
	}
	return out
}
