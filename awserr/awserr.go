// Package awserr classifies the errors of AWS calls once, for checks,
// perform and cleanup alike: what is "not found", what is "access denied",
// what is throttling, and what is an answer slab could not read at all.
//
// The rule that matters most: a resource is missing only when the service
// said so with its error code. A 404 whose body is not an AWS error (an
// HTML page from a proxy or another emulator) is not "missing", it is an
// error that names the HTTP status and the first bytes of the body, so a
// check never reports FAIL "no mapping" for mappings it simply could not
// read, and perform never creates a second one.
package awserr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Code is the AWS error code of err, "" when err carries none. An
// unreadable answer has none, whatever code the SDK made up for it.
func Code(err error) string {
	if IsUnreadable(err) {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Message is the AWS error message of err, "" when err carries none.
func Message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// Status is the HTTP status of the response that failed, 0 when there was
// no response (network error, cancellation).
func Status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	var ue *UnreadableError
	if errors.As(err, &ue) {
		return ue.Status
	}
	return 0
}

// Is reports whether err carries one of the AWS error codes.
func Is(err error, codes ...string) bool {
	c := Code(err)
	if c == "" {
		return false
	}
	for _, want := range codes {
		if c == want {
			return true
		}
	}
	return false
}

// notFoundCodes are the codes with which the lab's services say a resource
// does not exist. S3's HEAD operations answer a bodiless 404, which the SDK
// reads as the code "NotFound" (the status text), so S3 needs no exception
// for status-only answers.
var notFoundCodes = map[string]bool{
	"NoSuchEntity":              true, // IAM
	"ResourceNotFoundException": true, // DynamoDB, Lambda, Logs, EventBridge
	"NoSuchBucket":              true, // S3
	"NoSuchKey":                 true, // S3
	"NotFound":                  true, // SNS, S3 HEAD
	"NotFoundException":         true, // SNS (JSON protocol)
	"QueueDoesNotExist":         true, // SQS (JSON protocol)
	"AWS.SimpleQueueService.NonExistentQueue": true, // SQS (query protocol)
}

// IsNotFound reports whether the service said the resource does not exist.
// A status without a code (or with the SDK's "UnknownError") never counts:
// that answer was not the service's.
func IsNotFound(err error) bool {
	return notFoundCodes[Code(err)]
}

var accessDeniedCodes = map[string]bool{
	"AccessDenied":                true,
	"AccessDeniedException":       true,
	"AuthorizationError":          true, // SNS
	"AuthorizationErrorException": true, // SNS (JSON protocol)
	"UnauthorizedOperation":       true,
	"Forbidden":                   true, // S3 HEAD
	"AllAccessDisabled":           true,
	"KMS.AccessDeniedException":   true,
}

// IsAccessDenied reports an authorization refusal.
func IsAccessDenied(err error) bool {
	return accessDeniedCodes[Code(err)]
}

var throttleCodes = map[string]bool{
	"Throttling":                             true,
	"ThrottlingException":                    true,
	"ThrottledException":                     true,
	"TooManyRequestsException":               true,
	"RequestLimitExceeded":                   true,
	"RequestThrottled":                       true,
	"RequestThrottledException":              true,
	"SlowDown":                               true,
	"ProvisionedThroughputExceededException": true,
	"LimitExceededException":                 true,
}

// IsThrottled reports throttling the SDK's own retries gave up on.
func IsThrottled(err error) bool { return throttleCodes[Code(err)] }

var credentialCodes = map[string]bool{
	"ExpiredToken":                true,
	"ExpiredTokenException":       true,
	"InvalidClientTokenId":        true,
	"UnrecognizedClientException": true,
	"SignatureDoesNotMatch":       true,
	"InvalidAccessKeyId":          true,
	"InvalidSignatureException":   true,
	"MissingAuthenticationToken":  true,
}

// IsCredentials reports credentials the service refused.
func IsCredentials(err error) bool { return credentialCodes[Code(err)] }

// transientCodes are worth retrying after a pause: a change still in
// progress, or throttling.
var transientCodes = map[string]bool{
	"ResourceConflictException": true, "ResourceInUseException": true, "DeleteConflict": true,
	"ConcurrentModificationException": true, "ConcurrentModification": true, "OperationAborted": true,
	"PriorRequestNotComplete": true, "ServiceUnavailable": true, "InternalError": true,
	"InternalFailure": true, "ServiceException": true,
}

// IsTransient reports an error worth retrying after a pause.
func IsTransient(err error) bool { return transientCodes[Code(err)] || IsThrottled(err) }

// UnreadableError is an answer that was not an AWS error response: the
// status and the first bytes of the body are all slab can say about it.
type UnreadableError struct {
	Status int
	Body   string // the first bytes, printable, one line
	Err    error  // what the SDK made of it
}

func (e *UnreadableError) Error() string {
	body := e.Body
	if body == "" {
		body = "(empty body)"
	}
	return fmt.Sprintf("HTTP %d %s, not an AWS error response: %s", e.Status, http.StatusText(e.Status), body)
}

func (e *UnreadableError) Unwrap() error { return e.Err }

// IsUnreadable reports an answer that was not an AWS error response.
func IsUnreadable(err error) bool {
	var ue *UnreadableError
	return errors.As(err, &ue)
}

// Brief is err in one line: "AccessDenied: User ... is not authorized", or
// for an unreadable answer its status and first bytes.
func Brief(err error) string {
	var ue *UnreadableError
	if errors.As(err, &ue) {
		return ue.Error()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if msg := ae.ErrorMessage(); msg != "" && msg != ae.ErrorCode() {
			return ae.ErrorCode() + ": " + msg
		}
		return ae.ErrorCode()
	}
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

// Capture is an APIOption (aws.Config.APIOptions) that keeps the first
// bytes of every error response's body and, when the SDK could not read
// an AWS error out of it, returns an UnreadableError instead of a JSON or
// XML syntax error or an "UnknownError".
func Capture(stack *middleware.Stack) error {
	if err := stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("slabKeepErrorBody", keepBody), middleware.After); err != nil {
		return err
	}
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("slabUnreadableError", unreadable), middleware.Before)
}

// keep is how much of an error body is kept: enough to recognise an HTML
// page or a proxy's message, short enough for one line.
const keep = 160

type recordingBody struct {
	io.ReadCloser
	head []byte
}

func (r *recordingBody) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if room := keep - len(r.head); room > 0 && n > 0 {
		r.head = append(r.head, p[:min(n, room)]...)
	}
	return n, err
}

// keepBody runs innermost: it sees the raw response before the operation's
// deserializer reads its body.
func keepBody(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && err == nil && resp.StatusCode >= 300 && resp.Body != nil {
		resp.Body = &recordingBody{ReadCloser: resp.Body}
	}
	return out, md, err
}

// unreadable runs outermost: it sees the deserializer's verdict.
func unreadable(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if err == nil {
		return out, md, err
	}
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if !ok || resp.StatusCode < 300 {
		return out, md, err
	}
	var head []byte
	if rb, ok := resp.Body.(*recordingBody); ok {
		head = rb.head
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "" && ae.ErrorCode() != "UnknownError" && !fromStatus(ctx, ae.ErrorCode(), resp.StatusCode, head) {
		return out, md, err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return out, md, err
	}
	var de *smithy.DeserializationError
	errors.As(err, &de)
	if head == nil && de != nil {
		head = de.Snapshot
	}
	return out, md, &UnreadableError{Status: resp.StatusCode, Body: printable(head), Err: err}
}

// fromStatus reports a code S3's SDK made up from the HTTP status because
// the body held none ("NotFound" for any 404). That is S3's answer only for
// the bodiless HEAD operations; a GET answered that way was answered by
// something else.
func fromStatus(ctx context.Context, code string, status int, body []byte) bool {
	if code != strings.ReplaceAll(http.StatusText(status), " ", "") {
		return false
	}
	if len(body) > 0 {
		return !strings.Contains(string(body), code)
	}
	return !strings.HasPrefix(middleware.GetOperationName(ctx), "Head")
}

// printable makes body bytes safe for one terminal line.
func printable(b []byte) string {
	var sb strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(string(b), "?") {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case !unicode.IsPrint(r):
			r = '?'
		}
		if space && sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		space = false
		sb.WriteRune(r)
	}
	s := sb.String()
	if len(b) >= keep {
		s += "…"
	}
	return s
}
