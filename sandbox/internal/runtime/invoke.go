package runtime

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/lambda"
	"github.com/slab-lab/slab/sandbox/internal/logs"
)

// tailBytes is how much log LogType Tail returns.
const tailBytes = 4096

// result is a finished invocation.
type result struct {
	requestID     string
	payload       []byte
	functionError string // "" or "Unhandled"
	log           []string
}

// tail is the end of the invocation's log, as LogType Tail returns it.
func (res result) tail() string {
	var b strings.Builder
	for _, l := range res.log {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	s := b.String()
	if len(s) > tailBytes {
		s = s[len(s)-tailBytes:]
	}
	return s
}

// HandleInvoke serves the Lambda API's Invoke (registered as
// lambda.InvokeHook): RequestResponse runs the function and answers its
// result; Event queues it with Lambda's retries and answers 202.
func (r *Runtime) HandleInvoke(ctx context.Context, req lambda.InvokeRequest) (lambda.InvokeResponse, error) {
	clientContext := ""
	if req.ClientContext != "" {
		b, err := base64.StdEncoding.DecodeString(req.ClientContext)
		if err != nil || !json.Valid(b) {
			return lambda.InvokeResponse{}, core.Errorf("InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object.")
		}
		clientContext = string(b)
	}
	if req.InvocationType == lambda.Event {
		if err := r.queue(req.Function.Scope, req.Function.Name, req.Payload, req.RequestID); err != nil {
			return lambda.InvokeResponse{}, err
		}
		return lambda.InvokeResponse{StatusCode: 202, ExecutedVersion: "$LATEST"}, nil
	}
	res, err := r.execute(ctx, req.Function, req.Payload, req.RequestID, clientContext)
	if err != nil {
		return lambda.InvokeResponse{}, err
	}
	resp := lambda.InvokeResponse{Payload: res.payload, FunctionError: res.functionError, ExecutedVersion: "$LATEST"}
	if req.LogType == "Tail" {
		resp.LogResult = base64.StdEncoding.EncodeToString([]byte(res.tail()))
	}
	return resp, nil
}

// Invoke implements core.Invoker: a synchronous invocation for an event
// source. A Pending function is waited for, as Lambda's pollers do.
func (r *Runtime) Invoke(ctx context.Context, in core.InvokeInput) (core.InvokeOutput, error) {
	cfg, err := r.waitActive(ctx, in.Scope, in.Function)
	if err != nil {
		return core.InvokeOutput{}, err
	}
	res, err := r.execute(ctx, cfg, in.Payload, core.NewRequestID(), "")
	if err != nil {
		return core.InvokeOutput{}, err
	}
	return core.InvokeOutput{RequestID: res.requestID, Payload: res.payload, FunctionError: res.functionError, LogTail: res.tail()}, nil
}

// InvokeAsync implements core.Invoker: an Event invocation, queued with
// Lambda's retry policy. It fails at once only when the function does not
// exist.
func (r *Runtime) InvokeAsync(in core.InvokeInput) (string, error) {
	cfg, ok := r.lookup(in.Scope, in.Function)
	if !ok {
		return "", functionNotFound(in.Scope, in.Function)
	}
	id := core.NewRequestID()
	if err := r.queue(cfg.Scope, cfg.Name, in.Payload, id); err != nil {
		return "", err
	}
	return id, nil
}

// begin counts an operation Close must wait for; false once closed.
func (r *Runtime) begin() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	return true
}

// queue runs an Event invocation in the background: on a function error
// (a failure, a timeout, a crash) it is retried after AsyncRetryDelay and
// again after twice that, with the same request id, then dropped, as
// Lambda does without a destination or dead-letter queue.
func (r *Runtime) queue(sc core.Scope, name string, payload []byte, id string) error {
	if !r.begin() {
		return errClosed
	}
	payload = bytes.Clone(payload)
	go func() {
		defer r.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-r.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		for attempt := 0; attempt < 3; attempt++ {
			if attempt > 0 {
				select {
				case <-time.After(r.o.AsyncRetryDelay * time.Duration(attempt)):
				case <-r.stop:
					return
				}
			}
			cfg, err := r.waitActive(ctx, sc, name)
			if err != nil {
				return // deleted, or the sandbox is closing
			}
			res, err := r.execute(ctx, cfg, payload, id, "")
			if err != nil {
				var ce *core.Error
				if errors.As(err, &ce) && ce.Code == "ResourceNotFoundException" || ctx.Err() != nil {
					return
				}
				continue
			}
			if res.functionError == "" {
				return
			}
		}
	}()
	return nil
}

// execute runs one invocation on a warm or new environment and writes its
// log. Errors are the sandbox's (closing, ctx, vanished function); a
// failing function is a result with functionError "Unhandled".
func (r *Runtime) execute(ctx context.Context, cfg lambda.FunctionConfig, payload []byte, id, clientContext string) (result, error) {
	if !r.begin() {
		return result{}, errClosed
	}
	defer r.wg.Done()
	begun := time.Now()
	l, err := r.acquire(ctx, cfg)
	if err != nil {
		var se *startError
		if errors.As(err, &se) {
			return r.failedStart(cfg, id, se, begun), nil
		}
		return result{}, err
	}
	cfg = l.p.cfg
	e := l.e
	inv := newInvocation(id, payload, cfg.Arn, clientContext, time.Duration(cfg.Timeout)*time.Second)
	o, healthy := e.run(inv)
	mem := maxMemoryMB(e.pid)
	if o.status == "timeout" {
		e.kill()
	}
	end := time.Now()
	picked := false
	select {
	case <-inv.picked:
		picked = true
	default:
	}
	duration := end.Sub(begun)
	if picked {
		duration = end.Sub(inv.pickedAt)
	} else {
		typ := o.statusType
		status := o.status
		if status == "" {
			status = "error"
		}
		line := fmt.Sprintf("INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: %s", millis(e.initDuration()), status)
		if typ != "" {
			line += "\tError Type: " + typ
		}
		e.addLine(line)
		e.addLine("START RequestId: " + id + " Version: $LATEST")
	}
	switch {
	case o.status == "timeout":
		e.addLine(fmt.Sprintf("%s %s Task timed out after %.2f seconds", r.c.Now().UTC().Format("2006-01-02T15:04:05.000Z"), id, inv.timeout.Seconds()))
	case o.errType == "Runtime.ExitError":
		e.addLine(errorMessage(o.payload) + "\n" + o.errType)
	}
	e.addLine("END RequestId: " + id)
	initDur := time.Duration(0)
	if l.cold && picked {
		initDur = e.initDuration()
	}
	e.addLine(reportLine(id, duration, cfg.MemorySize, mem, initDur, o))
	e.logMu.Lock()
	lines := inv.log
	e.cur = nil
	e.logMu.Unlock()
	e.flush()
	r.release(l, healthy)
	res := result{requestID: id, payload: o.payload, log: lines}
	if o.errType != "" {
		res.functionError = "Unhandled"
	}
	return res, nil
}

// failedStart is the invocation of an environment that could not start:
// its error goes to a log stream of its own and to the caller.
func (r *Runtime) failedStart(cfg lambda.FunctionConfig, id string, se *startError, begun time.Time) result {
	msg := fmt.Sprintf("RequestId: %s Error: %s", id, se.Message)
	o := outcome{payload: errorDoc(se.Type, msg), errType: se.Type, status: "error", statusType: se.Type}
	lines := []string{
		fmt.Sprintf("INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: %s", millis(time.Since(begun)), se.Type),
		"START RequestId: " + id + " Version: $LATEST",
		msg + "\n" + se.Type,
		"END RequestId: " + id,
		reportLine(id, time.Since(begun), cfg.MemorySize, 0, 0, o),
	}
	now := r.c.Now()
	stream := now.UTC().Format("2006/01/02") + "/[$LATEST]" + core.RandomHex(16)
	if r.logs != nil && r.logsAllowed(cfg.Scope, cfg.Role, logGroup(cfg), stream) {
		events := make([]logs.Event, len(lines))
		for i, l := range lines {
			events[i] = logs.Event{Time: now, Message: l}
		}
		_ = r.logs.Append(cfg.Scope, logGroup(cfg), stream, events)
	}
	return result{requestID: id, payload: o.payload, functionError: "Unhandled", log: lines}
}

// reportLine is Lambda's REPORT line, trailing tab included.
func reportLine(id string, d time.Duration, memorySize, maxMem int, initDur time.Duration, o outcome) string {
	ms := millis(d)
	billed := int64(math.Ceil(ms))
	if billed < 1 {
		billed = 1
	}
	s := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t", id, ms, billed, memorySize, maxMem)
	if initDur > 0 {
		s += fmt.Sprintf("Init Duration: %.2f ms\t", millis(initDur))
	}
	if o.status != "" {
		s += "Status: " + o.status + "\t"
		if o.statusType != "" {
			s += "Error Type: " + o.statusType + "\t"
		}
	}
	return s
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func errorMessage(doc []byte) string {
	var v struct {
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(doc, &v)
	return v.ErrorMessage
}
