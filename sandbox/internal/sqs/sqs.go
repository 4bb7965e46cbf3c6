// Package sqs emulates Amazon SQS standard queues (and a minimal FIFO) over
// both wire protocols AWS serves: JSON 1.0 (X-Amz-Target "AmazonSQS.<Op>",
// used by current aws-sdk-go-v2, with the legacy error code echoed in the
// x-amzn-query-error header) and the Query protocol (form bodies with
// Action=..., XML responses) that AWS CLI v2.9 still speaks.
//
// Messages are rows of the shared store, one per message, so the journal
// writes only what an operation changed. Visibility, delay, retention and
// redrive are computed lazily from stored timestamps when a queue is read;
// only long polling waits, on an in-memory wake-up channel per queue and
// never while holding the store lock.
//
// Besides the HTTP API the package offers the event engine a Go API
// (Enqueue, Receive, Delete, ChangeVisibility, Wait) with the same semantics,
// and registers the core.SQSView hook.
package sqs

import (
	"strings"
	"sync"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

const xmlns = "http://queue.amazonaws.com/doc/2012-11-05/"

// Service is the SQS emulator.
type Service struct {
	c          *core.Core
	queues     *core.Table[queueRecord]
	messages   *core.Table[messageRecord]
	tombstones *core.Table[tombstone]
	dedup      *core.Table[dedupRecord]
	wake       *notifier

	// RecreateDelay is how long a deleted queue's name stays reserved
	// (QueueDeletedRecently); PurgeInterval how long after a purge another
	// is refused (PurgeQueueInProgress). AWS uses 60 s for both; tests may
	// shorten them.
	RecreateDelay time.Duration
	PurgeInterval time.Duration
	// DedupWindow is the FIFO deduplication interval (5 minutes on AWS).
	DedupWindow time.Duration

	seqMu   sync.Mutex
	lastSeq int64
}

// New registers the service's tables and its core.SQSView hook.
func New(c *core.Core) *Service {
	s := &Service{
		c:             c,
		queues:        core.Register[queueRecord](c.Store, "sqs.queues"),
		messages:      core.Register[messageRecord](c.Store, "sqs.messages"),
		tombstones:    core.Register[tombstone](c.Store, "sqs.tombstones"),
		dedup:         core.Register[dedupRecord](c.Store, "sqs.dedup"),
		wake:          newNotifier(),
		RecreateDelay: 60 * time.Second,
		PurgeInterval: 60 * time.Second,
		DedupWindow:   5 * time.Minute,
	}
	c.SetHook(core.HookSQS, s)
	return s
}

// Name implements core.Service.
func (s *Service) Name() string { return "sqs" }

// Serve implements core.Service: JSON 1.0 when the request names its
// operation in X-Amz-Target, the Query protocol otherwise.
func (s *Service) Serve(r *core.Request) {
	if target := r.HTTP.Header.Get("X-Amz-Target"); target != "" {
		s.serveJSON(r, target)
		return
	}
	s.serveQuery(r)
}

func (s *Service) serveJSON(r *core.Request, target string) {
	op, ok := strings.CutPrefix(target, "AmazonSQS.")
	h, known := handlers[op]
	if !ok || !known || op == "" {
		r.Operation = "Unknown"
		writeJSONError(r, &core.Error{Code: "UnknownOperationException", Message: "The action or operation requested is invalid. Verify that the action is typed correctly."})
		return
	}
	r.Operation = op
	out, err := h(s, r, true, nil)
	if err != nil {
		writeJSONError(r, err)
		return
	}
	core.WriteJSON(r, out)
}

func (s *Service) serveQuery(r *core.Request) {
	vals, action, ok := core.QueryAction(r, xmlns, func(a string) bool { return handlers[a] != nil })
	if !ok {
		return
	}
	out, err := handlers[action](s, r, false, form(vals))
	if err != nil {
		core.WriteQueryError(r, xmlns, withQueryCode(err))
		return
	}
	core.WriteQuery(r, xmlns, out)
}

// --- errors ---

// queryCodes maps the JSON protocol's shape names to the legacy codes the
// Query protocol (and x-amzn-query-error) carries.
var queryCodes = map[string]string{
	"QueueDoesNotExist":                 "AWS.SimpleQueueService.NonExistentQueue",
	"QueueNameExists":                   "QueueAlreadyExists",
	"QueueDeletedRecently":              "AWS.SimpleQueueService.QueueDeletedRecently",
	"PurgeQueueInProgress":              "AWS.SimpleQueueService.PurgeQueueInProgress",
	"BatchEntryIdsNotDistinct":          "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
	"BatchRequestTooLong":               "AWS.SimpleQueueService.BatchRequestTooLong",
	"EmptyBatchRequest":                 "AWS.SimpleQueueService.EmptyBatchRequest",
	"InvalidBatchEntryId":               "AWS.SimpleQueueService.InvalidBatchEntryId",
	"MessageNotInflight":                "AWS.SimpleQueueService.MessageNotInflight",
	"TooManyEntriesInBatchRequest":      "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
	"UnsupportedOperation":              "AWS.SimpleQueueService.UnsupportedOperation",
	"InvalidParameterValueException":    "InvalidParameterValue",
	"MissingRequiredParameterException": "MissingParameter",
	"AccessDeniedException":             "AccessDenied",
	"UnknownOperationException":         "InvalidAction",
}

// coralShapes are the generic errors AWS's JSON front end reports in the
// com.amazon.coral.service namespace rather than SQS's own.
var coralShapes = map[string]bool{
	"InvalidParameterValueException":    true,
	"MissingRequiredParameterException": true,
	"AccessDeniedException":             true,
	"UnknownOperationException":         true,
	"SerializationException":            true,
}

func withQueryCode(err error) *core.Error {
	e := core.AsError(err)
	if e.QueryCode == "" {
		cp := *e
		if q, ok := queryCodes[e.Code]; ok {
			cp.QueryCode = q
		} else {
			cp.QueryCode = e.Code
		}
		return &cp
	}
	return e
}

func writeJSONError(r *core.Request, err error) {
	e := withQueryCode(err)
	ns := "com.amazonaws.sqs"
	if coralShapes[e.Code] {
		ns = "com.amazon.coral.service"
	}
	core.WriteJSONError(r, ns, e)
}

func errQueueDoesNotExist() *core.Error {
	return core.Errorf("QueueDoesNotExist", "The specified queue does not exist.")
}

func errInvalidParam(format string, args ...any) *core.Error {
	return core.Errorf("InvalidParameterValueException", format, args...)
}

func errMissing(param string) *core.Error {
	return core.Errorf("MissingRequiredParameterException", "The request must contain the parameter %s.", param)
}

func errInvalidAttrValue(name string) *core.Error {
	return core.Errorf("InvalidAttributeValue", "Invalid value for the parameter %s.", name)
}

func errInvalidReceipt(h string) *core.Error {
	return core.Errorf("ReceiptHandleIsInvalid", "The input receipt handle \"%s\" is not a valid receipt handle.", h)
}

// batchCode is the code a failed batch entry carries: the legacy one, as
// AWS reports it in both protocols.
func batchCode(err error) (string, string) {
	e := withQueryCode(err)
	return e.QueryCode, e.Message
}
