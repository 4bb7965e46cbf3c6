package checks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/awserr"
)

// servicePrefixes maps the SDK's service ids to IAM's action prefixes.
var servicePrefixes = map[string]string{
	"IAM":             "iam",
	"STS":             "sts",
	"DynamoDB":        "dynamodb",
	"S3":              "s3",
	"Lambda":          "lambda",
	"SNS":             "sns",
	"SQS":             "sqs",
	"EventBridge":     "events",
	"CloudWatch Logs": "logs",
}

// actionExceptions are the operations whose IAM action is not named after
// them (from the Service Authorization Reference).
var actionExceptions = map[string]string{
	"s3:ListBuckets":                        "s3:ListAllMyBuckets",
	"s3:GetBucketNotificationConfiguration": "s3:GetBucketNotification",
	"s3:PutBucketNotificationConfiguration": "s3:PutBucketNotification",
	"s3:HeadBucket":                         "s3:ListBucket",
	"s3:ListObjects":                        "s3:ListBucket",
	"s3:ListObjectsV2":                      "s3:ListBucket",
	"s3:ListObjectVersions":                 "s3:ListBucketVersions",
	"s3:HeadObject":                         "s3:GetObject",
	"s3:DeleteObjects":                      "s3:DeleteObject",
	"lambda:Invoke":                         "lambda:InvokeFunction",
	"lambda:GetFunctionConfiguration":       "lambda:GetFunctionConfiguration",
}

// IAMAction names the IAM action that authorizes an API operation. service
// is the SDK's service id ("CloudWatch Logs") or the signing name ("logs").
func IAMAction(service, operation string) string {
	prefix, ok := servicePrefixes[service]
	if !ok {
		prefix = strings.ToLower(service)
	}
	a := prefix + ":" + operation
	if x, ok := actionExceptions[a]; ok {
		return x
	}
	return a
}

// actionOf names the IAM action of the operation that failed with err.
func actionOf(err error) string {
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		return IAMAction(oe.ServiceID, oe.OperationName)
	}
	return ""
}

func apiCode(err error) string { return awserr.Code(err) }

// isNotFound reports whether the service said the resource does not exist
// (awserr: an unreadable 404 is an error, not a missing resource).
func isNotFound(err error) bool { return awserr.IsNotFound(err) }

func isAccessDenied(err error) bool { return awserr.IsAccessDenied(err) }

// errorResult turns a failed call into an Error result: slab could not
// tell, and says why, never pretending the learner's resource is wrong.
func errorResult(err error, what string) Result {
	summary, hint := describeError(err)
	if what != "" {
		summary = "could not check " + what + ": " + summary
	}
	r := Result{Status: Error, Summary: summary, Hint: hint}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		r.Evidence = []string{fmt.Sprintf("%s %s: %s", oe.ServiceID, oe.OperationName, rootMessage(err))}
	} else if err != nil {
		r.Evidence = []string{err.Error()}
	}
	return r
}

// describeError classifies err: access denied (naming the action to grant),
// throttling, credentials, network, cancellation, or anything else.
func describeError(err error) (summary, hint string) {
	code := apiCode(err)
	action := actionOf(err)
	var netErr net.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled before an answer came", ""
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out waiting for AWS", "the endpoint is slow or unreachable: run again; check your network or `--endpoint-url`"
	case isAccessDenied(err):
		if action == "" {
			action = "the operation"
		}
		return fmt.Sprintf("AccessDenied: not allowed to call %s — add it to the grader policy", action),
			"the identity running the checks lacks " + action + "; `slab grader-policy` prints the read-only policy that covers every check"
	case awserr.IsUnreadable(err):
		return fmt.Sprintf("%s answered %s", orOp(action), awserr.Brief(err)),
			"the endpoint did not answer as AWS does: is --endpoint-url the right service, and is it an AWS emulator?"
	case awserr.IsThrottled(err):
		return fmt.Sprintf("throttled by AWS (%s on %s) after the SDK's retries", code, orOp(action)),
			"run the checks again in a minute; graders: lower --concurrency"
	case awserr.IsCredentials(err):
		return fmt.Sprintf("the credentials were refused (%s)", code),
			"refresh your credentials (`aws sso login`, or new keys) and run again"
	case errors.As(err, &dnsErr), errors.As(err, &opErr), errors.As(err, &netErr):
		return "network error: " + rootMessage(err), "check that the endpoint is reachable (for the sandbox: is `slab sandbox` still running?)"
	case code != "":
		var ae smithy.APIError
		errors.As(err, &ae)
		return fmt.Sprintf("%s failed: %s: %s", orOp(action), code, ae.ErrorMessage()), ""
	}
	return fmt.Sprintf("%s failed: %s", orOp(action), rootMessage(err)), ""
}

func orOp(action string) string {
	if action == "" {
		return "the call"
	}
	return action
}

// rootMessage is the innermost error's text, without the SDK's wrapping
// ("operation error X: https response error StatusCode: ...").
func rootMessage(err error) string { return awserr.Brief(err) }

// isRetryable reports errors worth a brief retry on real AWS, which is
// eventually consistent: a resource created a moment ago may still read as
// missing.
func isRetryable(err error) bool {
	return isNotFound(err)
}
