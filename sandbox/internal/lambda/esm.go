package lambda

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// Mapping is an event source mapping. State holds the last state set by an
// API call; while now is before StateUntil it is transitional (Creating,
// Enabling, Updating, Disabling, Deleting) and afterwards it has settled to
// Enabled or Disabled, or, for Deleting, the mapping is gone. Values handed
// out by the Go API carry the settled state.
type Mapping struct {
	UUID string `json:"uuid"`
	// Seq orders mappings created in the same instant (a frozen test clock,
	// or two creates within the clock's resolution) by creation.
	Seq                            int64           `json:"seq"`
	Account                        string          `json:"account"`
	Region                         string          `json:"region"`
	FunctionArn                    string          `json:"function_arn"`
	EventSourceArn                 string          `json:"event_source_arn"`
	BatchSize                      int             `json:"batch_size"`
	MaximumBatchingWindowInSeconds int             `json:"maximum_batching_window"`
	FunctionResponseTypes          []string        `json:"function_response_types,omitempty"`
	MaximumConcurrency             int             `json:"maximum_concurrency,omitempty"`
	FilterCriteria                 json.RawMessage `json:"filter_criteria,omitempty"`
	Enabled                        bool            `json:"enabled"`
	State                          string          `json:"state"`
	StateUntil                     time.Time       `json:"state_until,omitempty"`
	StateTransitionReason          string          `json:"state_transition_reason"`
	LastModified                   time.Time       `json:"last_modified"`
	LastProcessingResult           string          `json:"last_processing_result,omitempty"`
	CreatedAt                      time.Time       `json:"created_at"`
}

// Scope is where the mapping lives.
func (m Mapping) Scope() core.Scope { return core.Scope{Account: m.Account, Region: m.Region} }

// Arn is the mapping's own ARN.
func (m Mapping) Arn() string { return m.Scope().ARN("lambda", "event-source-mapping:"+m.UUID) }

// ReportsBatchItemFailures reports whether the function returns partial
// batch failures (FunctionResponseTypes ReportBatchItemFailures).
func (m Mapping) ReportsBatchItemFailures() bool {
	for _, t := range m.FunctionResponseTypes {
		if t == "ReportBatchItemFailures" {
			return true
		}
	}
	return false
}

// at returns the mapping with its state settled at now; live is false once
// a deletion has completed.
func (m Mapping) at(now time.Time) (Mapping, bool) {
	if m.StateUntil.IsZero() || now.Before(m.StateUntil) {
		return m, true
	}
	if m.State == "Deleting" {
		return m, false
	}
	m.State = "Disabled"
	if m.Enabled {
		m.State = "Enabled"
	}
	m.StateUntil = time.Time{}
	return m, true
}

func mappingLess(a, b Mapping) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	if a.Seq != b.Seq {
		return a.Seq < b.Seq
	}
	return a.UUID < b.UUID
}

type mappingOut struct {
	UUID                           string          `json:"UUID"`
	BatchSize                      int             `json:"BatchSize"`
	MaximumBatchingWindowInSeconds int             `json:"MaximumBatchingWindowInSeconds"`
	EventSourceArn                 string          `json:"EventSourceArn"`
	FunctionArn                    string          `json:"FunctionArn"`
	LastModified                   float64         `json:"LastModified"`
	LastProcessingResult           string          `json:"LastProcessingResult,omitempty"`
	State                          string          `json:"State"`
	StateTransitionReason          string          `json:"StateTransitionReason"`
	FunctionResponseTypes          []string        `json:"FunctionResponseTypes"`
	EventSourceMappingArn          string          `json:"EventSourceMappingArn"`
	ScalingConfig                  map[string]int  `json:"ScalingConfig,omitempty"`
	FilterCriteria                 json.RawMessage `json:"FilterCriteria,omitempty"`
}

func outMapping(m Mapping) mappingOut {
	o := mappingOut{
		UUID: m.UUID, BatchSize: m.BatchSize, MaximumBatchingWindowInSeconds: m.MaximumBatchingWindowInSeconds,
		EventSourceArn: m.EventSourceArn, FunctionArn: m.FunctionArn, LastModified: epochSeconds(m.LastModified),
		LastProcessingResult: m.LastProcessingResult, State: m.State, StateTransitionReason: m.StateTransitionReason,
		FunctionResponseTypes: m.FunctionResponseTypes, EventSourceMappingArn: m.Arn(), FilterCriteria: m.FilterCriteria,
	}
	if o.FunctionResponseTypes == nil {
		o.FunctionResponseTypes = []string{}
	}
	if m.MaximumConcurrency > 0 {
		o.ScalingConfig = map[string]int{"MaximumConcurrency": m.MaximumConcurrency}
	}
	return o
}

type mappingInput struct {
	EventSourceArn                 string          `json:"EventSourceArn"`
	FunctionName                   *string         `json:"FunctionName"`
	Enabled                        *bool           `json:"Enabled"`
	BatchSize                      *int            `json:"BatchSize"`
	MaximumBatchingWindowInSeconds *int            `json:"MaximumBatchingWindowInSeconds"`
	FunctionResponseTypes          *[]string       `json:"FunctionResponseTypes"`
	StartingPosition               string          `json:"StartingPosition"`
	FilterCriteria                 json.RawMessage `json:"FilterCriteria"`
	ScalingConfig                  *struct {
		MaximumConcurrency int `json:"MaximumConcurrency"`
	} `json:"ScalingConfig"`
	Tags map[string]string `json:"Tags"`
}

// applySettings validates and copies the tunable fields into m.
func applySettings(m *Mapping, in mappingInput, fifo bool) error {
	if in.BatchSize != nil {
		m.BatchSize = *in.BatchSize
	}
	if in.MaximumBatchingWindowInSeconds != nil {
		m.MaximumBatchingWindowInSeconds = *in.MaximumBatchingWindowInSeconds
	}
	if in.FunctionResponseTypes != nil {
		for _, t := range *in.FunctionResponseTypes {
			if t != "ReportBatchItemFailures" {
				return validation("1 validation error detected: Value '[%s]' at 'functionResponseTypes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]", t)
			}
		}
		m.FunctionResponseTypes = *in.FunctionResponseTypes
		if len(m.FunctionResponseTypes) == 0 {
			m.FunctionResponseTypes = nil
		}
	}
	if in.ScalingConfig != nil {
		if c := in.ScalingConfig.MaximumConcurrency; c != 0 && (c < 2 || c > 1000) {
			return validation("1 validation error detected: Value '%d' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value between 2 and 1000", c)
		}
		m.MaximumConcurrency = in.ScalingConfig.MaximumConcurrency
	}
	if len(in.FilterCriteria) > 0 && string(in.FilterCriteria) != "null" {
		m.FilterCriteria = in.FilterCriteria
	}
	switch {
	case m.BatchSize < 1 || m.BatchSize > 10000:
		return validation("1 validation error detected: Value '%d' at 'batchSize' failed to satisfy constraint: Member must have value between 1 and 10000", m.BatchSize)
	case fifo && m.BatchSize > 10:
		return invalidParam("Batch size for FIFO queues must be less than or equal to 10.")
	case m.MaximumBatchingWindowInSeconds < 0 || m.MaximumBatchingWindowInSeconds > 300:
		return validation("1 validation error detected: Value '%d' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have value between 0 and 300", m.MaximumBatchingWindowInSeconds)
	case m.BatchSize > 10 && m.MaximumBatchingWindowInSeconds < 1:
		return invalidParam("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
	}
	return nil
}

// sqsRequirements are the permissions Lambda needs on the queue, checked in
// the order AWS reports them.
var sqsRequirements = []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}

// roleDecisions carries role-policy decisions between attempts of a
// transaction: evaluating a role's policies inside it would hold up every
// other call, so an attempt that needs an undecided one copies the
// policies (IAMView.RolePolicies), rolls back with errUndecided, and is
// retried once the decision has been made outside (updateDeciding).
type roleDecisions struct {
	known map[string]bool
	need  []pendingDecision
}

type pendingDecision struct {
	key, action, resource string
	check                 core.RoleCheck
}

var errUndecided = errors.New("lambda: a role policy decision is pending")

func (d *roleDecisions) decide(tx *core.Tx, iam core.IAMView, f Function, action, resource string) (bool, error) {
	key := f.Account + "\x00" + f.Role + "\x00" + action + "\x00" + resource
	if v, ok := d.known[key]; ok {
		return v, nil
	}
	check, ok := iam.RolePolicies(tx, f.Account, f.Role)
	if !ok {
		check = func(string, string, map[string]string) bool { return false }
	}
	d.need = append(d.need, pendingDecision{key: key, action: action, resource: resource, check: check})
	return false, errUndecided
}

// decideQueue is decide for the queue's side of a source in another
// account: its policy text is copied in tx and parsed and evaluated
// outside, like the role's. A queue of the function's own account needs
// no decision.
func (d *roleDecisions) decideQueue(f Function, queuePolicy, action, resource string) (bool, error) {
	if parts := strings.SplitN(resource, ":", 6); len(parts) == 6 && (parts[4] == "" || parts[4] == f.Account) {
		return true, nil
	}
	key := "queue\x00" + f.Account + "\x00" + f.Role + "\x00" + action + "\x00" + resource + "\x00" + queuePolicy
	if v, ok := d.known[key]; ok {
		return v, nil
	}
	account, role := f.Account, f.Role
	d.need = append(d.need, pendingDecision{key: key, action: action, resource: resource, check: func(action, resource string, _ map[string]string) bool {
		return core.CrossAccountAllows(queuePolicy, account, role, action, resource)
	}})
	return false, errUndecided
}

// updateDeciding runs fn in Update, deciding between attempts (outside
// the transaction) the role policies it asks about.
func (s *Service) updateDeciding(fn func(tx *core.Tx, d *roleDecisions) error) error {
	d := &roleDecisions{known: map[string]bool{}}
	for {
		err := s.c.Store.Update(func(tx *core.Tx) error { return fn(tx, d) })
		if !errors.Is(err, errUndecided) {
			return err
		}
		for _, p := range d.need {
			d.known[p.key] = p.check(p.action, p.resource, nil)
		}
		d.need = nil
	}
}

// checkSource validates the event source against the function with the
// cross-service views: the queue exists, the function's execution role may
// read from it, and the queue hides messages at least as long as the
// function may run.
func (s *Service) checkSource(tx *core.Tx, sourceArn string, f Function, d *roleDecisions) error {
	parts := strings.SplitN(sourceArn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return validation("1 validation error detected: Value '%s' at 'eventSourceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)", sourceArn)
	}
	if parts[2] != "sqs" {
		return invalidParam("The sandbox emulates event source mappings for Amazon SQS queues only, not %s.", parts[2])
	}
	// Each view is optional: a sandbox without SQS or IAM skips its checks.
	sqs, haveSQS := s.c.Hook(core.HookSQS).(core.SQSView)
	var q core.QueueInfo
	if haveSQS {
		var found bool
		if q, found = sqs.QueueByARN(tx, sourceArn); !found {
			return invalidParam("Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist for this wsdl version.")
		}
	}
	if iam, ok := s.c.Hook(core.HookIAM).(core.IAMView); ok {
		for _, action := range sqsRequirements {
			allowed, err := d.decide(tx, iam, f, action, sourceArn)
			if err != nil {
				return err
			}
			if !allowed {
				return invalidParam("The provided execution role does not have permissions to call %s on SQS", strings.TrimPrefix(action, "sqs:"))
			}
		}
	}
	// Another account's queue: its policy must allow the role as well.
	if haveSQS {
		for _, action := range sqsRequirements {
			allowed, err := d.decideQueue(f, q.Policy, action, sourceArn)
			if err != nil {
				return err
			}
			if !allowed {
				return invalidParam("The provided execution role does not have permissions to call %s on SQS", strings.TrimPrefix(action, "sqs:"))
			}
		}
	}
	if haveSQS && q.VisibilityTimeout < f.Timeout {
		return invalidParam("Queue visibility timeout: %d seconds is less than Function timeout: %d seconds", q.VisibilityTimeout, f.Timeout)
	}
	return nil
}

func (s *Service) createMapping(r *core.Request) (result, error) {
	var in mappingInput
	if err := r.DecodeJSON(&in); err != nil {
		return result{}, err
	}
	if in.FunctionName == nil || *in.FunctionName == "" {
		return result{}, validation("1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null")
	}
	if in.EventSourceArn == "" {
		return result{}, invalidParam("Unrecognized event source, must be kinesis, dynamodb stream or sqs.")
	}
	now := s.c.Now()
	m := Mapping{
		UUID: core.NewRequestID(), Account: r.Scope.Account, Region: r.Scope.Region, EventSourceArn: in.EventSourceArn,
		BatchSize: 10, Enabled: in.Enabled == nil || *in.Enabled, State: "Creating", StateUntil: now.Add(s.MappingDelay),
		StateTransitionReason: "USER_INITIATED", LastModified: now, CreatedAt: now,
	}
	if err := applySettings(&m, in, strings.HasSuffix(in.EventSourceArn, ".fifo")); err != nil {
		return result{}, err
	}
	err := s.updateDeciding(func(tx *core.Tx, d *roleDecisions) error {
		s.collectDeleted(tx)
		f, _, err := s.lookup(tx, r, *in.FunctionName)
		if err != nil {
			return err
		}
		m.FunctionArn = f.Arn
		var dup *Mapping
		s.mappings.Scan(tx, "", func(_ string, old Mapping) bool {
			m.Seq = max(m.Seq, old.Seq+1)
			if v, live := old.at(now); live && v.FunctionArn == f.Arn && v.EventSourceArn == in.EventSourceArn {
				dup = &v
				return false
			}
			return true
		})
		if dup != nil {
			return conflict(`An event source mapping with SQS arn (" %s ") and function (" %s ") already exists. Please update or delete the existing mapping with UUID %s`, in.EventSourceArn, f.Name, dup.UUID)
		}
		if err := s.checkSource(tx, in.EventSourceArn, f, d); err != nil {
			return err
		}
		s.mappings.Put(tx, m.UUID, m)
		return nil
	})
	if err != nil {
		return result{}, err
	}
	return result{http.StatusAccepted, outMapping(m)}, nil
}

// collectDeleted drops mappings whose deletion has completed.
func (s *Service) collectDeleted(tx *core.Tx) {
	now := s.c.Now()
	for _, k := range s.mappings.Keys(tx, "") {
		m, _ := s.mappings.Get(tx, k)
		if _, live := m.at(now); !live {
			s.mappings.Delete(tx, k)
		}
	}
}

// liveMapping finds a mapping of the caller's scope that still exists.
func (s *Service) liveMapping(tx *core.Tx, r *core.Request, uuid string) (Mapping, error) {
	m, ok := s.mappings.Get(tx, uuid)
	if ok && m.Scope() == r.Scope {
		if v, live := m.at(s.c.Now()); live {
			return v, nil
		}
	}
	return Mapping{}, notFound("The resource you requested does not exist.")
}

func (s *Service) getMapping(r *core.Request, uuid string) (result, error) {
	var m Mapping
	err := s.c.Store.View(func(tx *core.Tx) error {
		var err error
		m, err = s.liveMapping(tx, r, uuid)
		return err
	})
	if err != nil {
		return result{}, err
	}
	return result{http.StatusOK, outMapping(m)}, nil
}

func inTransition(m Mapping) error {
	if !m.StateUntil.IsZero() {
		return core.Errorf("ResourceInUseException", "The operation cannot be performed at this time. The event source mapping is currently in the following state: %s", m.State)
	}
	return nil
}

func (s *Service) updateMapping(r *core.Request, uuid string) (result, error) {
	var in mappingInput
	if err := r.DecodeJSON(&in); err != nil {
		return result{}, err
	}
	var m Mapping
	err := s.updateDeciding(func(tx *core.Tx, d *roleDecisions) error {
		s.collectDeleted(tx)
		var err error
		if m, err = s.liveMapping(tx, r, uuid); err != nil {
			return err
		}
		if err := inTransition(m); err != nil {
			return err
		}
		if err := applySettings(&m, in, strings.HasSuffix(m.EventSourceArn, ".fifo")); err != nil {
			return err
		}
		f, _, err := s.lookup(tx, r, m.FunctionArn)
		if in.FunctionName != nil {
			if f, _, err = s.lookup(tx, r, *in.FunctionName); err != nil {
				return err
			}
			m.FunctionArn = f.Arn
		}
		if err == nil && (in.FunctionName != nil || (in.Enabled != nil && *in.Enabled)) {
			// A new function or re-enabling meets the same checks as creation.
			if err := s.checkSource(tx, m.EventSourceArn, f, d); err != nil {
				return err
			}
		}
		now := s.c.Now()
		next := "Updating"
		if in.Enabled != nil && *in.Enabled != m.Enabled {
			m.Enabled = *in.Enabled
			next = map[bool]string{true: "Enabling", false: "Disabling"}[m.Enabled]
		}
		m.State, m.StateUntil, m.StateTransitionReason, m.LastModified = next, now.Add(s.MappingDelay), "USER_INITIATED", now
		s.mappings.Put(tx, uuid, m)
		return nil
	})
	if err != nil {
		return result{}, err
	}
	return result{http.StatusAccepted, outMapping(m)}, nil
}

func (s *Service) deleteMapping(r *core.Request, uuid string) (result, error) {
	var m Mapping
	err := s.c.Store.Update(func(tx *core.Tx) error {
		s.collectDeleted(tx)
		var err error
		if m, err = s.liveMapping(tx, r, uuid); err != nil {
			return err
		}
		if m.State == "Deleting" {
			return inTransition(m)
		}
		now := s.c.Now()
		m.State, m.StateUntil, m.StateTransitionReason, m.LastModified = "Deleting", now.Add(s.MappingDelay), "USER_INITIATED", now
		s.mappings.Put(tx, uuid, m)
		return nil
	})
	if err != nil {
		return result{}, err
	}
	return result{http.StatusAccepted, outMapping(m)}, nil
}

func (s *Service) listMappings(r *core.Request) (result, error) {
	q := r.HTTP.URL.Query()
	max := 100
	if v := q.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return result{}, validation("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000", v)
		}
		max = min(n, 100)
	}
	after, err := decodeMarker(q.Get("Marker"))
	if err != nil {
		return result{}, err
	}
	fnArn := ""
	if name := q.Get("FunctionName"); name != "" {
		fr, err := parseFunctionRef(r.Scope, name)
		if err != nil {
			return result{}, err
		}
		fr.qualifier = ""
		fnArn = fr.arn()
	}
	source := q.Get("EventSourceArn")
	out := struct {
		EventSourceMappings []mappingOut `json:"EventSourceMappings"`
		NextMarker          string       `json:"NextMarker,omitempty"`
	}{EventSourceMappings: []mappingOut{}}
	var all []Mapping
	_ = s.c.Store.View(func(tx *core.Tx) error {
		for _, m := range s.AllEventSourceMappings(tx) {
			if m.Scope() == r.Scope && (fnArn == "" || m.FunctionArn == fnArn) && (source == "" || m.EventSourceArn == source) {
				all = append(all, m)
			}
		}
		return nil
	})
	started := after == ""
	for _, m := range all {
		if !started {
			started = m.UUID == after
			continue
		}
		if len(out.EventSourceMappings) == max {
			out.NextMarker = encodeMarker(out.EventSourceMappings[max-1].UUID)
			break
		}
		out.EventSourceMappings = append(out.EventSourceMappings, outMapping(m))
	}
	return result{http.StatusOK, out}, nil
}
