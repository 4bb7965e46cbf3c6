package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// InvokeHook is the name under which the function runner registers an
// InvokeFunc with Core.SetHook.
const InvokeHook = "lambda.invoke"

// Invocation types, as in X-Amz-Invocation-Type.
const (
	RequestResponse = "RequestResponse"
	Event           = "Event"
	DryRun          = "DryRun"
)

// Payload limits of Invoke.
const (
	maxSyncPayload  = 6291456
	maxAsyncPayload = 1048576
)

// InvokeRequest is one Invoke call handed to the runner. The function
// snapshot is taken when the call arrives; the runner fetches the code with
// Service.FunctionCode if its CodeSha256 is new to it.
type InvokeRequest struct {
	Function       FunctionConfig
	Payload        []byte
	InvocationType string // RequestResponse or Event (DryRun never reaches the runner)
	LogType        string // None or Tail
	ClientContext  string // base64, as sent in X-Amz-Client-Context
	RequestID      string
	// Caller is the account and region the call came from.
	Caller core.Scope
}

// InvokeResponse is the runner's answer. For Event invocations the runner
// queues the event and returns at once; StatusCode, when zero, defaults to
// 200 for RequestResponse and 202 for Event.
type InvokeResponse struct {
	StatusCode      int
	Payload         []byte
	FunctionError   string // "Unhandled" or "Handled" when the function failed
	LogResult       string // base64 of the last 4 KB of log, for LogType Tail
	ExecutedVersion string
}

// InvokeFunc executes a function. A *core.Error it returns is sent as is
// (e.g. TooManyRequestsException); any other error becomes a 500
// ServiceException.
type InvokeFunc func(ctx context.Context, req InvokeRequest) (InvokeResponse, error)

func (s *Service) invoker() InvokeFunc {
	switch h := s.c.Hook(InvokeHook).(type) {
	case InvokeFunc:
		return h
	case func(context.Context, InvokeRequest) (InvokeResponse, error):
		return h
	}
	return nil
}

func (s *Service) invoke(r *core.Request, ref string) (result, error) {
	typ := r.HTTP.Header.Get("X-Amz-Invocation-Type")
	if typ == "" {
		typ = RequestResponse
	}
	if typ != RequestResponse && typ != Event && typ != DryRun {
		return result{}, validation("1 validation error detected: Value '%s' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]", typ)
	}
	logType := r.HTTP.Header.Get("X-Amz-Log-Type")
	if logType == "" {
		logType = "None"
	}
	if logType != "None" && logType != "Tail" {
		return result{}, validation("1 validation error detected: Value '%s' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]", logType)
	}
	var f Function
	err := s.c.Store.View(func(tx *core.Tx) error {
		var err error
		f, _, err = s.lookup(tx, r, ref)
		return err
	})
	if err != nil {
		return result{}, err
	}
	limit := maxSyncPayload
	if typ == Event {
		limit = maxAsyncPayload
	}
	if len(r.Body) > limit {
		return result{}, core.ErrorStatus(http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than %d bytes for the InvokeFunction operation", limit)
	}
	if len(r.Body) > 0 && !json.Valid(r.Body) {
		var syn *json.SyntaxError
		msg := "invalid JSON"
		if err := json.Unmarshal(r.Body, new(any)); errors.As(err, &syn) {
			msg = syn.Error()
		}
		return result{}, core.Errorf("InvalidRequestContentException", "Could not parse request body into json: Could not parse payload into json: %s", msg)
	}
	if st := s.stateOf(f); st.state == "Pending" {
		return result{}, conflict("The operation cannot be performed at this time. The function is currently in the following state: Pending")
	}
	if typ == DryRun {
		return result{status: http.StatusNoContent}, nil
	}
	run := s.invoker()
	if run == nil {
		return result{}, &core.Error{Code: "ServiceException", Status: http.StatusInternalServerError, Receiver: true,
			Message: "The sandbox cannot execute functions yet: no function runner is attached to it."}
	}
	resp, err := run(r.HTTP.Context(), InvokeRequest{
		Function: s.snapshot(f), Payload: r.Body, InvocationType: typ, LogType: logType,
		ClientContext: r.HTTP.Header.Get("X-Amz-Client-Context"), RequestID: r.RequestID, Caller: r.Scope,
	})
	if err != nil {
		var ae *core.Error
		if errors.As(err, &ae) {
			return result{}, ae
		}
		return result{}, &core.Error{Code: "ServiceException", Status: http.StatusInternalServerError, Receiver: true, Message: err.Error()}
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
		if typ == Event {
			status = http.StatusAccepted
		}
	}
	h := r.W.Header()
	version := resp.ExecutedVersion
	if version == "" {
		version = latest
	}
	if typ == RequestResponse {
		h.Set("X-Amz-Executed-Version", version)
		if resp.FunctionError != "" {
			h.Set("X-Amz-Function-Error", resp.FunctionError)
		}
		if logType == "Tail" && resp.LogResult != "" {
			h.Set("X-Amz-Log-Result", resp.LogResult)
		}
	}
	payload := resp.Payload
	if typ == Event {
		payload = nil
	}
	core.WriteRaw(r, status, "application/json", payload)
	return result{}, nil
}
