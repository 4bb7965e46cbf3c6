package checks

import (
	"context"
	"sort"
	"strings"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/lab"
)

// wrap adapts a check body to Check.Run, fetching the run's shared state.
func wrap(f func(ctx context.Context, r *run) Result) func(context.Context, *awsenv.Env, lab.Names) Result {
	return func(ctx context.Context, env *awsenv.Env, n lab.Names) Result {
		return f(ctx, runFrom(ctx, env, n))
	}
}

var registry = build()

func build() []Check {
	groups := []struct {
		step   string
		checks []Check
	}{
		{lab.StepIAMRole, iamChecks()},
		{lab.StepDynamoDBTable, dynamoChecks()},
		{lab.StepS3Bucket, s3Checks()},
		{lab.StepS3Processor, s3ProcessorChecks()},
		{lab.StepSNSSQS, snsSQSChecks()},
		{lab.StepEventProcessor, eventProcessorChecks()},
		{lab.StepQueueProcessor, queueProcessorChecks()},
		{lab.StepEndToEnd, endToEndChecks()},
	}
	var all []Check
	for _, g := range groups {
		for _, c := range g.checks {
			c.Step = g.step
			c.Actions = uniq(c.Actions)
			all = append(all, c)
		}
	}
	return all
}

// All returns every check, probes included, in lab order.
func All() []Check {
	return append([]Check(nil), registry...)
}

// ForStep returns a step's checks (probes included; Check.Probe tells them apart).
func ForStep(stepID string) []Check {
	var out []Check
	for _, c := range registry {
		if c.Step == stepID {
			out = append(out, c)
		}
	}
	return out
}

// ByID finds a check.
func ByID(id string) (Check, bool) {
	for _, c := range registry {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// ReadOnlyActions lists, sorted, the IAM actions of every check but the
// probes: what a grader's identity needs.
func ReadOnlyActions() []string {
	var out []string
	for _, c := range registry {
		if !c.Probe {
			out = append(out, c.Actions...)
		}
	}
	out = uniq(out)
	sort.Strings(out)
	return out
}

// ---- the grader policy

// PolicyStatement is one statement of a generated policy.
type PolicyStatement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

// PolicyDocument is a generated identity policy.
type PolicyDocument struct {
	Version   string            `json:"Version"`
	Statement []PolicyStatement `json:"Statement"`
}

// resourcesFor scopes an action to the lab's resources, in any region and
// account (one policy serves a whole course), or "*" where the action has
// no resource-level permissions.
func resourcesFor(action string, n lab.Names, partition string) []string {
	p := "arn:" + partition + ":"
	fnArns := func() []string {
		return []string{
			p + "lambda:*:*:function:" + n.S3Function,
			p + "lambda:*:*:function:" + n.EventFunction,
			p + "lambda:*:*:function:" + n.QueueFunction,
		}
	}
	switch action {
	case "iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:SimulatePrincipalPolicy":
		return []string{p + "iam::*:role/" + n.Role}
	case "iam:GetPolicy", "iam:GetPolicyVersion":
		// The role's attached policies: AWS managed or the account's own.
		return []string{p + "iam::*:policy/*"}
	case "dynamodb:DescribeTable", "dynamodb:Scan":
		return []string{p + "dynamodb:*:*:table/" + n.Table}
	case "s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:GetBucketNotification":
		return []string{p + "s3:::" + n.BucketPrefix + "*"}
	case "lambda:GetFunctionConfiguration", "lambda:GetPolicy":
		return fnArns()
	case "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic":
		return []string{p + "sns:*:*:" + n.Topic}
	case "sqs:GetQueueUrl", "sqs:GetQueueAttributes":
		return []string{p + "sqs:*:*:" + n.Queue}
	case "events:DescribeRule", "events:ListTargetsByRule":
		return []string{p + "events:*:*:rule/" + n.Rule}
	case "logs:FilterLogEvents":
		// CloudWatch Logs names a log group both with and without the
		// ":*" suffix (DescribeLogGroups reports the former).
		var out []string
		for _, fn := range []string{n.S3Function, n.EventFunction, n.QueueFunction} {
			g := p + "logs:*:*:log-group:/aws/lambda/" + fn
			out = append(out, g, g+":*")
		}
		return out
	}
	// s3:ListAllMyBuckets, lambda:ListEventSourceMappings,
	// sns:GetSubscriptionAttributes, logs:DescribeLogGroups.
	return []string{"*"}
}

// GraderPolicy is the least-privilege, read-only identity policy that lets
// every regular check (not the probes) run: the actions the checks declare,
// each scoped to the lab's resources where IAM allows it.
func GraderPolicy(n lab.Names, partition string) PolicyDocument {
	if partition == "" {
		partition = "aws"
	}
	// A roster's name_suffix appends "-<suffix>" to every lab name but the
	// bucket's (whose prefix already ends in a wildcard): each scoped
	// resource is granted both as named and as "<name>-*", so one policy
	// grades every student of a course, suffixed or not.
	suffixed := n.WithSuffix("*")
	suffixed.BucketPrefix = n.BucketPrefix
	byScope := map[string][]string{}
	var scopes []string
	for _, a := range ReadOnlyActions() {
		res := uniq(append(resourcesFor(a, n, partition), resourcesFor(a, suffixed, partition)...))
		k := strings.Join(res, "\n")
		if _, ok := byScope[k]; !ok {
			scopes = append(scopes, k)
		}
		byScope[k] = append(byScope[k], a)
	}
	doc := PolicyDocument{Version: "2012-10-17"}
	for _, k := range scopes {
		acts := byScope[k]
		doc.Statement = append(doc.Statement, PolicyStatement{
			Sid: sidFor(acts, k), Effect: "Allow", Action: acts, Resource: strings.Split(k, "\n"),
		})
	}
	return doc
}

// sidFor names a statement after its service (and scope).
func sidFor(actions []string, scope string) string {
	svc := strings.SplitN(actions[0], ":", 2)[0]
	names := map[string]string{"iam": "IAM", "dynamodb": "DynamoDB", "s3": "S3", "lambda": "Lambda", "sns": "SNS", "sqs": "SQS", "events": "EventBridge", "logs": "Logs"}
	name := "Read" + names[svc]
	if name == "Read" {
		name = "Read" + svc
	}
	if scope == "*" {
		return "ReadWithoutResourceLevelPermissions"
	}
	switch {
	case strings.Contains(scope, ":policy/"):
		return name + "Policies"
	case strings.Contains(scope, ":role/"):
		return name + "Role"
	}
	return name
}
