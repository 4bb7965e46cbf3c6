// Package core is the shared machinery of the sandbox's service emulators:
// the state store and its journal, the request context every handler gets,
// AWS error values and the writers for each wire protocol (Query/XML,
// JSON 1.0/1.1, REST-XML, REST-JSON), the router that picks a service from the
// SigV4 credential scope, the account map, the audit log and latency injection.
//
// Services live in sibling packages and depend only on this one, so each can be
// built and tested alone (see NewTestServer).
package core

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultAccount is the account id every credential maps to without an
// accounts file, as in LocalStack and moto.
const DefaultAccount = "000000000000"

// Scope is where a resource lives. IAM and S3 bucket names are global per
// account (and per partition): use Global for them.
type Scope struct {
	Account string
	Region  string
}

// Key prefixes name with the scope, the layout every table uses.
func (s Scope) Key(name string) string { return s.Account + "/" + s.Region + "/" + name }

// Prefix is the key prefix of every resource in the scope.
func (s Scope) Prefix() string { return s.Account + "/" + s.Region + "/" }

// Global is the account-wide scope (IAM, S3 bucket names).
func (s Scope) Global() Scope { return Scope{Account: s.Account} }

// ARN builds arn:aws:<service>:<region>:<account>:<resource>.
func (s Scope) ARN(service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, s.Region, s.Account, resource)
}

// Core is what every service shares: the store, the clock, the audit log,
// and cross-service hooks that the sandbox package wires.
type Core struct {
	Store *Store
	Audit *Audit
	// Now is the sandbox clock; tests may replace it before serving.
	Now func() time.Time
	// Endpoint is the sandbox's own base URL once it listens (used in
	// queue URLs, and by Lambda to point functions back at the sandbox).
	Endpoint string
	// DefaultRegion applies when a request carries no region.
	DefaultRegion string
	// RuntimesAsOf, when set, is the day Lambda applies its runtime
	// table as of, instead of the clock (see sandbox.Options).
	RuntimesAsOf time.Time
	// Timing is how long changes take to take effect (see TimingFor);
	// the zero value applies every propagation at once.
	Timing Timing

	hooksMu sync.RWMutex
	hooks   map[string]any
}

// New returns a Core with an in-memory store.
func New() *Core {
	return &Core{Store: NewStore(), Audit: NewAudit(), Now: time.Now, DefaultRegion: "us-east-1", hooks: map[string]any{}}
}

// RuntimesDay is the moment Lambda judges runtime deprecations at.
func (c *Core) RuntimesDay() time.Time {
	if !c.RuntimesAsOf.IsZero() {
		return c.RuntimesAsOf
	}
	return c.Now()
}

// SetHook registers a cross-service capability under a name (for example
// "iam.roles" implementing an interface the consumer defines). Services look
// hooks up at call time, so wiring order does not matter.
func (c *Core) SetHook(name string, v any) {
	c.hooksMu.Lock()
	c.hooks[name] = v
	c.hooksMu.Unlock()
}

// Hook returns a registered capability, or nil.
func (c *Core) Hook(name string) any {
	c.hooksMu.RLock()
	defer c.hooksMu.RUnlock()
	return c.hooks[name]
}

// Streamer is implemented by a service some of whose requests carry bodies
// too large to hold in memory (S3 objects and parts, up to 5 GB): for
// those the router leaves the body in Request.Stream instead of reading it.
type Streamer interface {
	StreamsBody(hr *http.Request) bool
}

// Request is one AWS API call as a service sees it.
type Request struct {
	W    http.ResponseWriter
	HTTP *http.Request
	Body []byte
	// Stream is the unread body of a request its service streams (an S3
	// object or part: see Streamer), bounded in size and time by
	// LimitBodies; Body is nil then. Anything that checks a body (a
	// payload signature) wraps this reader rather than reading it.
	Stream    io.Reader
	Scope     Scope
	AccessKey string
	// Principal is who signed the request (verified).
	Principal Principal
	Service   string // credential-scope service name: iam, sts, s3, dynamodb, sqs, sns, lambda, events, logs
	// Operation is set by the service once it knows it (for the audit log),
	// e.g. "PutItem", "CreateBucket".
	Operation string
	RequestID string
	Status    int
	Core      *Core
}

// Now is the sandbox clock.
func (r *Request) Now() time.Time { return r.Core.Now() }

// Error is an AWS error response. Code is the error code the SDKs resolve
// to a typed error (e.g. "ResourceNotFoundException", "NoSuchBucket").
type Error struct {
	Code    string
	Message string
	Status  int // HTTP status; 400 when zero
	// Receiver marks a server-side fault (Type Receiver in Query errors).
	Receiver bool
	// QueryCode is the legacy Query error code SQS's JSON protocol carries
	// in the x-amzn-query-error header (e.g. AWS.SimpleQueueService.NonExistentQueue).
	QueryCode string
	// Fields are extra elements of REST-XML errors (S3's BucketName, Key, ...).
	Fields map[string]string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// HTTPStatus is the status to send, 400 by default.
func (e *Error) HTTPStatus() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// Errorf builds a 400 error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorStatus builds an error with an explicit HTTP status.
func ErrorStatus(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// NewRequestID returns an id shaped like AWS request ids.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// RandomHex returns n random bytes hex-encoded.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Service is one emulated AWS service.
type Service interface {
	// Name is the SigV4 credential-scope service name.
	Name() string
	// Serve handles one request and writes the response through the
	// protocol writers of this package.
	Serve(r *Request)
}

// SelfSigned is a service that also serves links it signed itself, outside
// SigV4: Lambda's code download links, which on AWS are S3 URLs presigned
// with Lambda's own credentials. The router sends a request whose path
// starts with SelfSignedPrefix to the service unauthenticated; the service
// checks the link's own signature.
type SelfSigned interface {
	SelfSignedPrefix() string
}

// IsReadOnly classifies an operation for the audit log by its name, the
// convention AWS APIs follow. ReceiveMessage is not read-only: it hides the
// messages it returns.
func IsReadOnly(operation string) bool {
	for _, p := range []string{"Get", "List", "Describe", "Head", "Scan", "Query", "Simulate", "Filter", "BatchGet", "Lookup"} {
		if strings.HasPrefix(operation, p) {
			return true
		}
	}
	return false
}
