package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/lambda"
	"github.com/slab-lab/slab/sandbox/internal/sqs"
)

// SQS event source mappings. A supervisor rereads the mappings every poll
// interval and keeps one poller goroutine per mapping whose state is
// Enabled, restarting it when the mapping's settings change and stopping it
// when the mapping is disabled or deleted. A poller long-polls the queue,
// gathers a batch (up to BatchSize, within MaximumBatchingWindowInSeconds),
// invokes the function synchronously and deletes what succeeded. On a
// function error it leaves the messages alone: they reappear after the
// visibility timeout and, after maxReceiveCount receives, SQS moves them to
// the dead-letter queue, as on AWS.

// Results recorded as LastProcessingResult.
const (
	resultOK     = "OK"
	resultFailed = "PROBLEM: Function call failed"
)

// maxSyncPayload is Invoke's request limit; a batch stops growing before it.
const maxSyncPayload = 6 << 20

type poller struct {
	sig    string
	cancel context.CancelFunc
}

func mappingSignature(m lambda.Mapping) string {
	return fmt.Sprintf("%s|%s|%d|%d|%s|%s|%d", m.FunctionArn, m.EventSourceArn, m.BatchSize,
		m.MaximumBatchingWindowInSeconds, strings.Join(m.FunctionResponseTypes, ","), m.FilterCriteria, m.MaximumConcurrency)
}

func (e *Engine) superviseMappings() {
	defer e.wg.Done()
	pollers := map[string]*poller{}
	t := time.NewTicker(e.poll)
	defer t.Stop()
	for {
		e.syncPollers(pollers)
		select {
		case <-e.ctx.Done():
			for _, p := range pollers {
				p.cancel()
			}
			return
		case <-t.C:
		}
	}
}

// syncPollers starts, restarts and stops pollers to match the mappings.
func (e *Engine) syncPollers(pollers map[string]*poller) {
	want := map[string]lambda.Mapping{}
	_ = e.c.Store.View(func(tx *core.Tx) error {
		for _, m := range e.lm.EventSourceMappings(tx) {
			if m.State == "Enabled" && arnService(m.EventSourceArn) == "sqs" {
				want[m.UUID] = m
			}
		}
		return nil
	})
	for id, p := range pollers {
		if m, ok := want[id]; !ok || mappingSignature(m) != p.sig {
			p.cancel()
			delete(pollers, id)
		}
	}
	for id, m := range want {
		if _, running := pollers[id]; running {
			continue
		}
		ctx, cancel := context.WithCancel(e.ctx)
		pollers[id] = &poller{sig: mappingSignature(m), cancel: cancel}
		e.wg.Add(1)
		go e.runPoller(ctx, m)
	}
}

// runPoller polls one mapping's queue until ctx ends, recording the
// outcome of each batch as the mapping's LastProcessingResult when it
// changes (each write is a journaled transaction).
func (e *Engine) runPoller(ctx context.Context, m lambda.Mapping) {
	defer e.wg.Done()
	filters := parseFilterCriteria(m.FilterCriteria)
	last := ""
	setResult := func(r string) {
		if r == last {
			return
		}
		last = r
		_ = e.c.Store.Update(func(tx *core.Tx) error { return e.lm.SetMappingResult(tx, m.UUID, r) })
	}
	for ctx.Err() == nil {
		if problem := e.mappingProblem(m); problem != "" {
			setResult("PROBLEM: " + problem)
			sleep(ctx, 2*time.Second)
			continue
		}
		batch, err := e.collectBatch(ctx, m)
		if err != nil {
			setResult("PROBLEM: " + err.Error())
			sleep(ctx, 2*time.Second)
			continue
		}
		if len(batch) == 0 {
			continue
		}
		if r := e.processBatch(m, filters, batch); r != "" {
			setResult(r)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// mappingProblem is why a mapping cannot poll now: its function is gone,
// no runtime can run it, or its execution role lost the right to receive.
func (e *Engine) mappingProblem(m lambda.Mapping) string {
	if e.invoker() == nil {
		return "no Lambda runtime is attached to the sandbox"
	}
	problem := ""
	var roleCheck core.RoleCheck
	haveRole := false
	var queuePolicy, account, role string
	_ = e.c.Store.View(func(tx *core.Tx) error {
		f, ok := e.lm.Function(tx, m.Scope(), m.FunctionArn)
		if !ok {
			problem = "Function not found: " + m.FunctionArn
			return nil
		}
		q, ok := e.sq.QueueByARN(tx, m.EventSourceArn)
		if !ok {
			problem = "The specified queue does not exist: " + m.EventSourceArn
			return nil
		}
		if iam, ok := e.c.Hook(core.HookIAM).(core.IAMView); ok {
			roleCheck, haveRole = iam.RolePolicies(tx, f.Scope.Account, f.Role)
			if !haveRole {
				roleCheck = func(string, string, map[string]string) bool { return false }
			}
		}
		queuePolicy, account, role = q.Policy, f.Scope.Account, f.Role
		return nil
	})
	// A queue of another account (its policy changed, or a mapping made
	// before the rule) is drained only while its policy allows the role:
	// AWS's cross-account rule, both sides. Parsed after the transaction.
	if problem == "" && account != "" {
		for _, action := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage"} {
			if !core.CrossAccountAllows(queuePolicy, account, role, action, m.EventSourceArn) {
				return fmt.Sprintf("The function execution role does not have permissions to call %s on SQS", strings.TrimPrefix(action, "sqs:"))
			}
		}
	}
	// The role's policies are evaluated after the transaction.
	if problem == "" && roleCheck != nil {
		for _, action := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage"} {
			if !roleCheck(action, m.EventSourceArn, nil) {
				return fmt.Sprintf("The function execution role does not have permissions to call %s on SQS", strings.TrimPrefix(action, "sqs:"))
			}
		}
	}
	return problem
}

var receiveAll = []string{"All"}

// collectBatch long-polls for the first messages, then keeps receiving
// until the batch is full, the batching window has passed or the payload
// would grow too large.
func (e *Engine) collectBatch(ctx context.Context, m lambda.Mapping) ([]sqs.Message, error) {
	opts := func(n int, wait time.Duration) sqs.ReceiveOptions {
		return sqs.ReceiveOptions{MaxMessages: min(n, 10), WaitTime: wait, AttributeNames: receiveAll, MessageAttributeNames: receiveAll}
	}
	batch, err := e.sq.Receive(ctx, m.EventSourceArn, opts(m.BatchSize, 20*time.Second))
	if err != nil || len(batch) == 0 {
		return nil, err
	}
	if len(batch) >= m.BatchSize || m.MaximumBatchingWindowInSeconds <= 0 {
		return batch, nil
	}
	wctx, cancel := context.WithTimeout(ctx, time.Duration(m.MaximumBatchingWindowInSeconds)*time.Second)
	defer cancel()
	for len(batch) < m.BatchSize && wctx.Err() == nil && batchSize(batch) < maxSyncPayload*3/4 {
		deadline, _ := wctx.Deadline()
		more, err := e.sq.Receive(wctx, m.EventSourceArn, opts(m.BatchSize-len(batch), time.Until(deadline)))
		if err != nil {
			break
		}
		batch = append(batch, more...)
	}
	return batch, nil
}

func batchSize(batch []sqs.Message) int {
	n := 0
	for _, msg := range batch {
		n += len(msg.Body) + 512
	}
	return n
}

// processBatch runs one batch through the function and returns the
// LastProcessingResult to record ("" to leave it).
func (e *Engine) processBatch(m lambda.Mapping, filters filterCriteria, batch []sqs.Message) string {
	region := arnRegion(m.EventSourceArn)
	var records []sqsRecord
	for _, msg := range batch {
		rec := toSQSRecord(msg, m.EventSourceArn, region)
		if !filters.keeps(rec) {
			// Lambda deletes SQS messages its filters reject.
			_ = e.sq.Delete(m.EventSourceArn, msg.ReceiptHandle)
			e.record(Delivery{Source: "sqs", From: m.EventSourceArn, To: m.FunctionArn, Outcome: Filtered, Detail: msg.MessageID,
				Reason: "the event source mapping's filter criteria reject the message, so Lambda deleted it"})
			continue
		}
		records = append(records, rec)
	}
	if len(records) == 0 {
		return ""
	}
	ids := make([]string, len(records))
	for i, r := range records {
		ids[i] = r.MessageID
	}
	rec := Delivery{Source: "sqs", From: m.EventSourceArn, To: m.FunctionArn, Detail: strings.Join(ids, ",")}
	payload, _ := json.Marshal(map[string][]sqsRecord{"Records": records})
	inv := e.invoker()
	if inv == nil {
		rec.Outcome, rec.Reason = Failed, "no Lambda runtime is attached to the sandbox"
		e.record(rec)
		return "PROBLEM: " + rec.Reason
	}
	e.auditInternal(m.Scope(), "lambda", "Invoke")
	out, err := inv.Invoke(e.ctx, core.InvokeInput{Scope: m.Scope(), Function: m.FunctionArn, Payload: payload, Source: "sqs"})
	rec.RequestID = out.RequestID
	if e.ctx.Err() != nil && (err != nil || out.FunctionError != "") {
		// The sandbox is shutting down: the batch stays on the queue and
		// the mapping keeps its last real result.
		return ""
	}
	switch {
	case err != nil:
		rec.Outcome, rec.Reason = Failed, "invoke: "+err.Error()
		e.record(rec)
		return resultFailed
	case out.FunctionError != "":
		rec.Outcome, rec.Reason = Failed, "the function returned an error; the messages stay on the queue until their visibility timeout ends"
		e.record(rec)
		return resultFailed
	}
	failed := map[string]bool{}
	if m.ReportsBatchItemFailures() {
		var ok bool
		if failed, ok = batchItemFailures(out.Payload, ids); !ok {
			rec.Outcome, rec.Reason = Failed, "the function's batchItemFailures response is invalid, so the whole batch failed"
			e.record(rec)
			return resultFailed
		}
	}
	deleted := 0
	for _, r := range records {
		if failed[r.MessageID] {
			continue
		}
		if e.sq.Delete(m.EventSourceArn, r.ReceiptHandle) == nil {
			deleted++
		}
	}
	if deleted > 0 {
		e.auditInternal(scopeOf(m.EventSourceArn, m.Scope()), "sqs", "DeleteMessageBatch")
	}
	rec.Outcome = Processed
	if len(failed) > 0 {
		names := make([]string, 0, len(failed))
		for id := range failed {
			names = append(names, id)
		}
		slices.Sort(names)
		rec.Reason = "the function reported failures for " + strings.Join(names, ",") + "; they stay on the queue"
	}
	e.record(rec)
	return resultOK
}

// batchItemFailures reads a ReportBatchItemFailures response. Lambda takes
// an empty or null response, or a missing, null or empty list, as complete
// success; a response that is not a JSON object, an entry without an
// itemIdentifier, an empty one, or one naming no message of the batch
// fails the whole batch.
func batchItemFailures(payload []byte, ids []string) (map[string]bool, bool) {
	p := bytes.TrimSpace(payload)
	if len(p) == 0 || string(p) == "null" {
		return nil, true
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(p, &obj) != nil {
		return nil, false
	}
	raw, ok := obj["batchItemFailures"]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return nil, true
	}
	var items []map[string]json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil, false
	}
	failed := map[string]bool{}
	for _, it := range items {
		v, ok := it["itemIdentifier"]
		if !ok {
			return nil, false
		}
		var id string
		if json.Unmarshal(v, &id) != nil || id == "" || !slices.Contains(ids, id) {
			return nil, false
		}
		failed[id] = true
	}
	return failed, true
}

// --- the SQS event ---

type sqsRecord struct {
	MessageID              string                   `json:"messageId"`
	ReceiptHandle          string                   `json:"receiptHandle"`
	Body                   string                   `json:"body"`
	Attributes             map[string]string        `json:"attributes"`
	MessageAttributes      map[string]sqsRecordAttr `json:"messageAttributes"`
	MD5OfMessageAttributes string                   `json:"md5OfMessageAttributes,omitempty"`
	MD5OfBody              string                   `json:"md5OfBody"`
	EventSource            string                   `json:"eventSource"`
	EventSourceARN         string                   `json:"eventSourceARN"`
	AwsRegion              string                   `json:"awsRegion"`
}

type sqsRecordAttr struct {
	StringValue      *string  `json:"stringValue,omitempty"`
	BinaryValue      []byte   `json:"binaryValue,omitempty"`
	StringListValues []string `json:"stringListValues"`
	BinaryListValues [][]byte `json:"binaryListValues"`
	DataType         string   `json:"dataType"`
}

// lambdaAttributes are the system attributes Lambda puts in a record.
var lambdaAttributes = []string{
	"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp",
	"AWSTraceHeader", "SequenceNumber", "MessageGroupId", "MessageDeduplicationId", "DeadLetterQueueSourceArn",
}

func toSQSRecord(msg sqs.Message, queueArn, region string) sqsRecord {
	r := sqsRecord{
		MessageID: msg.MessageID, ReceiptHandle: msg.ReceiptHandle, Body: msg.Body, MD5OfBody: msg.MD5OfBody,
		Attributes: map[string]string{}, MessageAttributes: map[string]sqsRecordAttr{},
		MD5OfMessageAttributes: msg.MD5OfMessageAttributes,
		EventSource:            "aws:sqs", EventSourceARN: queueArn, AwsRegion: region,
	}
	for _, name := range lambdaAttributes {
		if v, ok := msg.Attributes[name]; ok {
			r.Attributes[name] = v
		}
	}
	for name, a := range msg.MessageAttributes {
		ra := sqsRecordAttr{DataType: a.DataType, BinaryValue: a.BinaryValue,
			StringListValues: a.StringListValues, BinaryListValues: a.BinaryListValues}
		if ra.StringListValues == nil {
			ra.StringListValues = []string{}
		}
		if ra.BinaryListValues == nil {
			ra.BinaryListValues = [][]byte{}
		}
		if !strings.HasPrefix(a.DataType, "Binary") {
			s := a.StringValue
			ra.StringValue = &s
		}
		r.MessageAttributes[name] = ra
	}
	return r
}
