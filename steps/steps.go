// Package steps is the lab as data: the eight ordered steps, each with its
// lesson (rendered for the learner's target and names), the CLI commands
// that lesson teaches, and the slots where perform and checks plug in.
package steps

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
)

// Step is one lab step.
type Step struct {
	Number int
	ID     string
	Title  string
	// Summary is one line for lists and outlines.
	Summary string
	// Perform carries the step out through the SDK; idempotent and
	// convergent (see perform.go). Set in perform.go's init.
	Perform func(ctx context.Context, env *awsenv.Env, n lab.Names, o PerformOptions) (Outcome, error)
	// Checks verify the step with read-only calls.
	Checks []checks.Check
}

// Outcome reports what a perform did, per resource.
type Outcome struct {
	Step      string
	Resources []ResourceOutcome
	// Bucket is the bucket name this perform chose because the names had
	// none; the caller keeps it in state so every later run uses it.
	Bucket string
	// Notes are things the learner should know beyond the resources.
	Notes []string
}

// ResourceOutcome is what happened to one resource.
type ResourceOutcome struct {
	Step     string `json:"step,omitempty"`
	Resource string `json:"resource"` // e.g. "IAM role lambda-integration-role"
	Action   string `json:"action"`   // see the Action constants
	Detail   string `json:"detail,omitempty"`
	// Key and ID record the resource in state (Resources[Key] = ID): an ARN,
	// a queue URL, a bucket name, a mapping UUID.
	Key string `json:"key,omitempty"`
	ID  string `json:"id,omitempty"`
}

// All is the lab in order.
var All = []*Step{
	{Number: 1, ID: lab.StepIAMRole, Title: "Create the Lambda execution role", Summary: "IAM role that Lambda assumes, with logging and data permissions"},
	{Number: 2, ID: lab.StepDynamoDBTable, Title: "Create the DynamoDB table", Summary: "on-demand table keyed by id, where every function writes"},
	{Number: 3, ID: lab.StepS3Bucket, Title: "Create the versioned S3 bucket", Summary: "the upload bucket, created region-correctly, with versioning"},
	{Number: 4, ID: lab.StepS3Processor, Title: "Deploy the S3-to-DynamoDB function", Summary: "function, S3 invoke permission and the .json notification"},
	{Number: 5, ID: lab.StepSNSSQS, Title: "Create the SNS topic and SQS queue", Summary: "topic, queue with a dead-letter queue, subscription, queue policy"},
	{Number: 6, ID: lab.StepEventProcessor, Title: "Deploy the scheduled event-to-SNS function", Summary: "function, rate(5 minutes) rule, target and invoke permission"},
	{Number: 7, ID: lab.StepQueueProcessor, Title: "Deploy the SQS queue processor", Summary: "function and the SQS event source mapping (batch 10, partial failures)"},
	{Number: 8, ID: lab.StepEndToEnd, Title: "Test the whole chain end to end", Summary: "upload, invoke, and watch rows arrive through S3, SNS and SQS"},
}

// Find resolves a STEP argument: an id or a number 1-8.
func Find(arg string) (*Step, error) {
	arg = strings.TrimSpace(arg)
	if n, err := strconv.Atoi(arg); err == nil {
		if n >= 1 && n <= len(All) {
			return All[n-1], nil
		}
		return nil, fmt.Errorf("no step %d: steps are numbered 1-%d", n, len(All))
	}
	for _, s := range All {
		if s.ID == arg {
			return s, nil
		}
	}
	return nil, fmt.Errorf("unknown step %q: use a number 1-%d or one of %s", arg, len(All), strings.Join(lab.StepIDs, ", "))
}

// ByID returns the step with the id, or nil.
func ByID(id string) *Step {
	for _, s := range All {
		if s.ID == id {
			return s
		}
	}
	return nil
}
