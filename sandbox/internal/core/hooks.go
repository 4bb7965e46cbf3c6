package core

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
}

// IAMView is implemented by the IAM service.
type IAMView interface {
	// RoleByARN finds a role of the given account by its ARN.
	RoleByARN(tx *Tx, account, arn string) (RoleInfo, bool)
	// RoleAllows evaluates the role's identity policies (attached managed
	// and inline): true when action on resource is allowed and not denied.
	// ctx holds condition keys (aws:SourceArn, ...).
	RoleAllows(tx *Tx, account, roleArn, action, resource string, ctx map[string]string) bool
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
