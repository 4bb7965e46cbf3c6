// Package lambda emulates the control plane of AWS Lambda that the lab
// drives: functions from .zip packages (with the dated runtime rules of
// package runtimes, the execution-role trust check, Pending/Active states and
// in-progress updates so the SDK's waiters behave as on AWS), resource-based
// policies (AddPermission), SQS event source mappings (with the visibility
// timeout and execution-role checks AWS makes), tags, and Invoke.
//
// It speaks REST-JSON under /2015-03-31/ and /2017-03-31/tags/. Executing
// function code is not this package's job: Invoke hands the call to the
// "lambda.invoke" hook (see InvokeFunc) and answers a clear 500 without one.
// The event engine reads functions, policies and mappings through the Go
// API at the bottom of this file.
package lambda

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// Function is a function's stored record. Its code lives in the code table
// so that configuration changes do not rewrite megabytes in the journal.
type Function struct {
	Account       string            `json:"account"`
	Region        string            `json:"region"`
	Name          string            `json:"name"`
	Arn           string            `json:"arn"`
	Runtime       string            `json:"runtime"`
	Role          string            `json:"role"`
	Handler       string            `json:"handler"`
	Description   string            `json:"description,omitempty"`
	Timeout       int               `json:"timeout"`
	MemorySize    int               `json:"memory_size"`
	Environment   map[string]string `json:"environment,omitempty"`
	Architectures []string          `json:"architectures"`
	PackageType   string            `json:"package_type"`
	CodeSha256    string            `json:"code_sha256"`
	CodeSize      int64             `json:"code_size"`
	RevisionID    string            `json:"revision_id"`
	LastModified  time.Time         `json:"last_modified"`
	// ReadyAt ends the Pending state of a new function; UpdateReadyAt ends
	// an in-progress update (zero when none was made). States are computed
	// from them when read, so no goroutine has to flip them.
	ReadyAt       time.Time         `json:"ready_at"`
	UpdateReadyAt time.Time         `json:"update_ready_at,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
	Policy        []Statement       `json:"policy,omitempty"`
	Ephemeral     int               `json:"ephemeral_storage"`
	LogFormat     string            `json:"log_format"`
	LogGroup      string            `json:"log_group"`
	TracingMode   string            `json:"tracing_mode"`
}

// Code is a function's deployment package.
type Code struct {
	Zip []byte `json:"zip"`
}

// Service is the Lambda emulator.
type Service struct {
	c         *core.Core
	functions *core.Table[Function]
	code      *core.Table[Code]
	mappings  *core.Table[Mapping]

	// CreateDelay is how long a new function stays Pending; UpdateDelay how
	// long an update stays InProgress; MappingDelay how long an event
	// source mapping stays Creating, Enabling, Updating, Disabling or
	// Deleting. Short by default, long enough that a script that does not
	// wait meets the same ResourceConflictException it would on AWS.
	CreateDelay, UpdateDelay, MappingDelay time.Duration

	// codeKey signs Code.Location download URLs.
	codeKey []byte
}

// New registers the service's tables.
func New(c *core.Core) *Service {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &Service{
		c:            c,
		functions:    core.Register[Function](c.Store, "lambda.functions"),
		code:         core.Register[Code](c.Store, "lambda.code"),
		mappings:     core.Register[Mapping](c.Store, "lambda.mappings"),
		CreateDelay:  time.Second,
		UpdateDelay:  time.Second,
		MappingDelay: time.Second,
		codeKey:      key,
	}
}

// Name implements core.Service.
func (s *Service) Name() string { return "lambda" }

// result is what an operation answers: a status and a JSON body (nil for
// none).
type result struct {
	status int
	body   any
}

// Serve implements core.Service.
func (s *Service) Serve(r *core.Request) {
	segs, err := pathSegments(r.HTTP.URL.EscapedPath())
	if err != nil {
		core.WriteRESTJSONError(r, err)
		return
	}
	h := s.route(r, segs)
	if h == nil {
		core.WriteRESTJSONError(r, core.ErrorStatus(http.StatusNotFound, "UnknownOperationException", "Unknown operation %s %s", r.HTTP.Method, r.HTTP.URL.Path))
		return
	}
	res, err := h()
	if err != nil {
		core.WriteRESTJSONError(r, err)
		return
	}
	if res.status == 0 {
		// The handler wrote its own response (Invoke, code download).
		return
	}
	core.WriteRESTJSON(r, res.status, res.body)
}

// route picks the operation from method and path, setting r.Operation.
func (s *Service) route(r *core.Request, segs []string) func() (result, error) {
	m := r.HTTP.Method
	op := func(name string, fn func() (result, error)) func() (result, error) {
		r.Operation = name
		return fn
	}
	n := len(segs)
	switch {
	case n >= 2 && segs[0] == "2015-03-31" && segs[1] == "functions":
		switch {
		case n == 2 && m == http.MethodPost:
			return op("CreateFunction", func() (result, error) { return s.createFunction(r) })
		case n == 2 && m == http.MethodGet:
			return op("ListFunctions", func() (result, error) { return s.listFunctions(r) })
		case n == 3 && m == http.MethodGet:
			return op("GetFunction", func() (result, error) { return s.getFunction(r, segs[2]) })
		case n == 3 && m == http.MethodDelete:
			return op("DeleteFunction", func() (result, error) { return s.deleteFunction(r, segs[2]) })
		case n == 4 && segs[3] == "configuration" && m == http.MethodGet:
			return op("GetFunctionConfiguration", func() (result, error) { return s.getFunctionConfiguration(r, segs[2]) })
		case n == 4 && segs[3] == "configuration" && m == http.MethodPut:
			return op("UpdateFunctionConfiguration", func() (result, error) { return s.updateFunctionConfiguration(r, segs[2]) })
		case n == 4 && segs[3] == "code" && m == http.MethodPut:
			return op("UpdateFunctionCode", func() (result, error) { return s.updateFunctionCode(r, segs[2]) })
		case n == 4 && segs[3] == "policy" && m == http.MethodPost:
			return op("AddPermission", func() (result, error) { return s.addPermission(r, segs[2]) })
		case n == 4 && segs[3] == "policy" && m == http.MethodGet:
			return op("GetPolicy", func() (result, error) { return s.getPolicy(r, segs[2]) })
		case n == 5 && segs[3] == "policy" && m == http.MethodDelete:
			return op("RemovePermission", func() (result, error) { return s.removePermission(r, segs[2], segs[4]) })
		case n == 4 && segs[3] == "invocations" && m == http.MethodPost:
			return op("Invoke", func() (result, error) { return s.invoke(r, segs[2]) })
		}
	case n >= 2 && segs[0] == "2015-03-31" && segs[1] == "event-source-mappings":
		switch {
		case n == 2 && m == http.MethodPost:
			return op("CreateEventSourceMapping", func() (result, error) { return s.createMapping(r) })
		case n == 2 && m == http.MethodGet:
			return op("ListEventSourceMappings", func() (result, error) { return s.listMappings(r) })
		case n == 3 && m == http.MethodGet:
			return op("GetEventSourceMapping", func() (result, error) { return s.getMapping(r, segs[2]) })
		case n == 3 && m == http.MethodPut:
			return op("UpdateEventSourceMapping", func() (result, error) { return s.updateMapping(r, segs[2]) })
		case n == 3 && m == http.MethodDelete:
			return op("DeleteEventSourceMapping", func() (result, error) { return s.deleteMapping(r, segs[2]) })
		}
	case n == 3 && segs[0] == "2017-03-31" && segs[1] == "tags":
		switch m {
		case http.MethodGet:
			return op("ListTags", func() (result, error) { return s.listTags(r, segs[2]) })
		case http.MethodPost:
			return op("TagResource", func() (result, error) { return s.tagResource(r, segs[2]) })
		case http.MethodDelete:
			return op("UntagResource", func() (result, error) { return s.untagResource(r, segs[2]) })
		}
	case n == 2 && segs[0] == codePath && m == http.MethodGet:
		return op("GetFunctionCodePackage", func() (result, error) { return s.downloadCode(r, segs[1]) })
	}
	return nil
}

// pathSegments splits an escaped path and unescapes each segment, so that
// an ARN sent as a label (with %3A for ':') arrives whole. A trailing slash,
// which the AWS CLI sends for ListFunctions and the mapping collection, is
// dropped.
func pathSegments(escaped string) ([]string, error) {
	parts := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	if len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, core.Errorf("ValidationException", "The request path is not validly escaped: %v", err)
		}
		parts[i] = u
	}
	return parts, nil
}

// --- errors ---

func invalidParam(format string, args ...any) *core.Error {
	return core.Errorf("InvalidParameterValueException", format, args...)
}

func validation(format string, args ...any) *core.Error {
	return core.Errorf("ValidationException", format, args...)
}

func notFound(format string, args ...any) *core.Error {
	return core.ErrorStatus(http.StatusNotFound, "ResourceNotFoundException", format, args...)
}

func conflict(format string, args ...any) *core.Error {
	return core.ErrorStatus(http.StatusConflict, "ResourceConflictException", format, args...)
}

func functionNotFound(arn string) *core.Error { return notFound("Function not found: %s", arn) }

// --- time formats ---

// lambdaTime is Lambda's LastModified format, e.g. 2026-11-27T12:00:00.000+0000.
func lambdaTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

// epochSeconds is the REST-JSON default timestamp encoding (mappings' LastModified).
func epochSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func encodeMarker(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decodeMarker(m string) (string, error) {
	if m == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil || len(b) == 0 {
		return "", invalidParam("Invalid marker: %s", m)
	}
	return string(b), nil
}

// --- Go API for the event engine and the Lambda runtime ---

// FunctionConfig is a snapshot of a function as the engine needs it, with
// its state computed at the sandbox clock.
type FunctionConfig struct {
	Scope            core.Scope
	Name             string
	Arn              string
	Runtime          string
	Handler          string
	Role             string
	Description      string
	Timeout          int // seconds
	MemorySize       int // MB
	Environment      map[string]string
	Architectures    []string
	CodeSha256       string
	CodeSize         int64
	RevisionID       string
	LastModified     time.Time
	State            string // Pending or Active
	LastUpdateStatus string // "", InProgress or Successful
	LogGroup         string
	LogFormat        string
}

func (s *Service) snapshot(f Function) FunctionConfig {
	st := s.stateOf(f)
	env := make(map[string]string, len(f.Environment))
	for k, v := range f.Environment {
		env[k] = v
	}
	return FunctionConfig{
		Scope: core.Scope{Account: f.Account, Region: f.Region}, Name: f.Name, Arn: f.Arn, Runtime: f.Runtime,
		Handler: f.Handler, Role: f.Role, Description: f.Description, Timeout: f.Timeout, MemorySize: f.MemorySize,
		Environment: env, Architectures: append([]string(nil), f.Architectures...), CodeSha256: f.CodeSha256,
		CodeSize: f.CodeSize, RevisionID: f.RevisionID, LastModified: f.LastModified, State: st.state,
		LastUpdateStatus: st.lastUpdate, LogGroup: f.LogGroup, LogFormat: f.LogFormat,
	}
}

// Function finds a function of scope by name, partial ARN or ARN.
func (s *Service) Function(tx *core.Tx, sc core.Scope, nameOrArn string) (FunctionConfig, bool) {
	ref, err := parseFunctionRef(sc, nameOrArn)
	if err != nil || (ref.qualifier != "" && ref.qualifier != latest) {
		return FunctionConfig{}, false
	}
	f, ok := s.functions.Get(tx, ref.scope.Key(ref.name))
	if !ok {
		return FunctionConfig{}, false
	}
	return s.snapshot(f), true
}

// FunctionCode returns a function's .zip package.
func (s *Service) FunctionCode(tx *core.Tx, sc core.Scope, nameOrArn string) ([]byte, bool) {
	ref, err := parseFunctionRef(sc, nameOrArn)
	if err != nil {
		return nil, false
	}
	c, ok := s.code.Get(tx, ref.scope.Key(ref.name))
	return c.Zip, ok
}

// Policy returns the resource-based policy document of the function a full
// ARN names, as GetPolicy renders it; ok is false when it has none.
func (s *Service) Policy(tx *core.Tx, functionArn string) (string, bool) {
	sc, name, ok := scopeOfARN(functionArn)
	if !ok {
		return "", false
	}
	f, found := s.functions.Get(tx, sc.Key(name))
	if !found || len(f.Policy) == 0 {
		return "", false
	}
	return renderPolicy(f.Policy), true
}

// Functions returns every function of every account and region.
func (s *Service) Functions(tx *core.Tx) []FunctionConfig {
	var out []FunctionConfig
	s.functions.Scan(tx, "", func(_ string, f Function) bool {
		out = append(out, s.snapshot(f))
		return true
	})
	return out
}

// EventSourceMappings returns the mappings whose Enabled flag is set, with
// their state at the sandbox clock; a poller delivers for those whose State
// is "Enabled" (the others are still Creating, Enabling or Updating).
func (s *Service) EventSourceMappings(tx *core.Tx) []Mapping {
	var out []Mapping
	for _, m := range s.AllEventSourceMappings(tx) {
		if m.Enabled {
			out = append(out, m)
		}
	}
	return out
}

// AllEventSourceMappings returns every mapping that still exists, enabled
// or not, with its computed state.
func (s *Service) AllEventSourceMappings(tx *core.Tx) []Mapping {
	now := s.c.Now()
	var out []Mapping
	s.mappings.Scan(tx, "", func(_ string, m Mapping) bool {
		if v, live := m.at(now); live {
			out = append(out, v)
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return mappingLess(out[i], out[j]) })
	return out
}

// SetMappingResult records the outcome of the poller's last batch as
// LastProcessingResult ("OK", or "PROBLEM: ..." as AWS words it).
func (s *Service) SetMappingResult(tx *core.Tx, uuid, result string) error {
	m, ok := s.mappings.Get(tx, uuid)
	if !ok {
		return notFound("The resource you requested does not exist.")
	}
	m.LastProcessingResult = result
	s.mappings.Put(tx, uuid, m)
	return nil
}

// DisableMapping turns a mapping off on the service's own initiative (for
// example when its queue or function disappeared), as AWS does with
// StateTransitionReason naming why.
func (s *Service) DisableMapping(tx *core.Tx, uuid, reason string) error {
	m, ok := s.mappings.Get(tx, uuid)
	if !ok {
		return notFound("The resource you requested does not exist.")
	}
	m.Enabled = false
	m.State, m.StateUntil = "Disabled", time.Time{}
	m.StateTransitionReason = reason
	m.LastModified = s.c.Now()
	s.mappings.Put(tx, uuid, m)
	return nil
}
