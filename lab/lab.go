// Package lab is the vocabulary of the Serverless Integration Patterns lab:
// the step ids and the learner's resource names. It is a leaf so that steps,
// checks, cleanup and cost can all speak it without importing each other
// (steps imports checks; checks needs the names).
package lab

import (
	"fmt"
	"sort"
	"strings"
)

// Step ids, in lab order. Reports, state files and graders rely on them.
const (
	StepIAMRole        = "iam-role"
	StepDynamoDBTable  = "dynamodb-table"
	StepS3Bucket       = "s3-bucket"
	StepS3Processor    = "s3-processor"
	StepSNSSQS         = "sns-sqs"
	StepEventProcessor = "event-processor"
	StepQueueProcessor = "queue-processor"
	StepEndToEnd       = "end-to-end"
)

// StepIDs lists the step ids in order.
var StepIDs = []string{StepIAMRole, StepDynamoDBTable, StepS3Bucket, StepS3Processor, StepSNSSQS, StepEventProcessor, StepQueueProcessor, StepEndToEnd}

// StepNumber is a step's number (1-8), or 0 for an unknown id.
func StepNumber(id string) int {
	for i, s := range StepIDs {
		if s == id {
			return i + 1
		}
	}
	return 0
}

// TagKey and TagValue mark every resource slab creates, for cleanup's discovery.
const (
	TagKey   = "slab:lab"
	TagValue = "serverless-integration-patterns"
	// TagStateKey carries the learner's state id.
	TagStateKey = "slab:state"
)

// InlinePolicyName is the one inline policy the lab puts on its role (the
// least-privilege lesson's slab-lab-access). Cleanup treats any other inline
// policy on an untagged role as someone else's.
const InlinePolicyName = "slab-lab-access"

// Names are the learner's resource names. Courses may rename any of them.
type Names struct {
	Role          string `json:"role"`
	Table         string `json:"table"`
	BucketPrefix  string `json:"bucket_prefix"`
	Bucket        string `json:"bucket,omitempty"` // chosen once (prefix-account-unixtime) and kept in state
	S3Function    string `json:"s3_function"`
	EventFunction string `json:"event_function"`
	QueueFunction string `json:"queue_function"`
	Topic         string `json:"topic"`
	Queue         string `json:"queue"`
	DLQ           string `json:"dlq"`
	Rule          string `json:"rule"`
}

// DefaultNames are the guide's names (the dead-letter queue is the corrected lab's addition).
func DefaultNames() Names {
	return Names{
		Role:          "lambda-integration-role",
		Table:         "lambda-integration-data",
		BucketPrefix:  "lambda-integration-",
		S3Function:    "s3-to-dynamodb-processor",
		EventFunction: "event-to-sns-processor",
		QueueFunction: "sqs-processor",
		Topic:         "lambda-integration-notifications",
		Queue:         "lambda-integration-queue",
		DLQ:           "lambda-integration-dlq",
		Rule:          "lambda-integration-schedule",
	}
}

// fields maps the override keys (config files, --name flags) to the fields.
func (n *Names) fields() map[string]*string {
	return map[string]*string{
		"role": &n.Role, "table": &n.Table, "bucket-prefix": &n.BucketPrefix, "bucket": &n.Bucket,
		"s3-function": &n.S3Function, "event-function": &n.EventFunction, "queue-function": &n.QueueFunction,
		"topic": &n.Topic, "queue": &n.Queue, "dlq": &n.DLQ, "rule": &n.Rule,
	}
}

// Keys lists the override keys, sorted.
func Keys() []string {
	var n Names
	var keys []string
	for k := range n.fields() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Apply returns n with overrides applied; an unknown key or an empty value is an error.
func (n Names) Apply(overrides map[string]string) (Names, error) {
	f := n.fields()
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.TrimSpace(overrides[k])
		p, ok := f[strings.ReplaceAll(strings.ToLower(k), "_", "-")]
		if !ok {
			return n, fmt.Errorf("unknown name %q (known: %s)", k, strings.Join(Keys(), ", "))
		}
		if v == "" {
			return n, fmt.Errorf("name %q is empty", k)
		}
		*p = v
	}
	return n, nil
}

// WithSuffix appends a per-student suffix to every name (courses that share
// one account give each student a suffix). The bucket prefix keeps its
// trailing dash so the bucket stays prefix+account+time.
func (n Names) WithSuffix(suffix string) Names {
	if suffix == "" {
		return n
	}
	for k, p := range n.fields() {
		switch k {
		case "bucket":
			continue
		case "bucket-prefix":
			*p = strings.TrimSuffix(*p, "-") + "-" + suffix + "-"
		default:
			*p += "-" + suffix
		}
	}
	return n
}

// BucketFor is the bucket name the lab uses for an account at a unix time.
func (n Names) BucketFor(account string, unix int64) string {
	return fmt.Sprintf("%s%s-%d", n.BucketPrefix, account, unix)
}

// IsLabBucket reports whether a bucket name is the lab's for this account:
// the prefix, the account id, a dash and digits.
func (n Names) IsLabBucket(bucket, account string) bool {
	rest, ok := strings.CutPrefix(bucket, n.BucketPrefix+account+"-")
	if !ok || rest == "" {
		return false
	}
	for _, r := range rest {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
