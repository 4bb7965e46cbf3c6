package core

import (
	"context"
	"time"

	"github.com/slab-lab/slab/policy"
)

// Cross-service capabilities. A service that offers one registers it with
// Core.SetHook under the name below; a consumer type-asserts Core.Hook(name)
// and, when it is absent (a test sandbox without that service), skips the
// cross-service validation rather than failing.

// HookIAM is the name of the IAMView hook.
const HookIAM = "iam"

// RoleInfo is what other services need to know of an IAM role.
type RoleInfo struct {
	Name             string
	Arn              string
	RoleID           string
	AssumeRolePolicy string // the trust policy document, JSON
	// AssumableAt is when Lambda may assume the role: a new role or trust
	// policy propagates first (zero: it may now).
	AssumableAt time.Time
}

// IAMView is implemented by the IAM service.
type IAMView interface {
	// RoleByARN finds a role of the given account by its ARN.
	RoleByARN(tx *Tx, account, arn string) (RoleInfo, bool)
	// RoleAllows evaluates the role's identity policies (attached managed
	// and inline): true when action on resource is allowed and not denied.
	// ctx holds condition keys (aws:SourceArn, ...).
	RoleAllows(tx *Tx, account, roleArn, action, resource string, ctx map[string]string) bool
	// RolePolicies copies the role's identity policies in tx and returns
	// their evaluation, to run after tx ends (evaluating inside a
	// transaction holds up every other call); ok is false when the role
	// does not exist.
	RolePolicies(tx *Tx, account, roleArn string) (check RoleCheck, ok bool)
}

// RoleCheck evaluates identity policies read in a transaction: true when
// action on resource is allowed and not denied. ctx holds condition keys.
type RoleCheck func(action, resource string, ctx map[string]string) bool

// RoleDecider is implemented by the IAM service beside IAMView, under the
// same hook: a role's identity policies (attached and inline), read in a
// transaction and evaluated after it, so that no evaluation holds the
// store. found is false for no such role.
type RoleDecider interface {
	RoleDocuments(tx *Tx, account, roleArn string) (docs func() []*policy.Document, found bool)
}

// HookSQS is the name of the SQSView hook.
const HookSQS = "sqs"

// QueueInfo is what other services need to know of an SQS queue.
type QueueInfo struct {
	Name              string
	URL               string
	Arn               string
	VisibilityTimeout int    // seconds
	Policy            string // queue policy document, JSON, "" when none
	RedrivePolicy     string
}

// SQSView is implemented by the SQS service.
type SQSView interface {
	QueueByARN(tx *Tx, arn string) (QueueInfo, bool)
}

// HookInvoker is the name of the Invoker hook, offered by the Lambda
// runtime (sandbox/internal/runtime) to the event engine.
const HookInvoker = "lambda.invoker"

// InvokeInput is one invocation requested by an event source.
type InvokeInput struct {
	Scope    Scope
	Function string // name or ARN (unqualified or $LATEST)
	Payload  []byte
	// Source names the caller for logs and the audit log: "s3", "sns",
	// "sqs", "events", "api".
	Source string
}

// InvokeOutput is a finished invocation.
type InvokeOutput struct {
	RequestID string
	Payload   []byte
	// FunctionError is "" on success, "Unhandled" when the function failed
	// (its error document is in Payload), as in Lambda's Invoke API.
	FunctionError string
	// LogTail is the end of the invocation's log (at most 4 KB).
	LogTail string
}

// Invoker runs Lambda functions.
type Invoker interface {
	// Invoke runs the function synchronously (RequestResponse).
	Invoke(ctx context.Context, in InvokeInput) (InvokeOutput, error)
	// InvokeAsync queues an Event invocation with Lambda's asynchronous
	// retry policy (two retries with backoff after a function error) and
	// returns at once with the request id.
	InvokeAsync(in InvokeInput) (string, error)
}
