// Package events emulates the rules side of Amazon EventBridge on the
// default event bus: scheduled and pattern rules, their targets and tags.
// It speaks JSON 1.1 (X-Amz-Target "AWSEvents.<Operation>").
//
// The sandbox's scheduler reads the rules through Rules and fires scheduled
// ones with Schedule.Next; this package stores and validates, it does not
// deliver events.
package events

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

const (
	targetPrefix   = "AWSEvents."
	defaultBus     = "default"
	maxTargets     = 5
	maxTargetsCall = 10
)

// Rule is an EventBridge rule with its targets.
type Rule struct {
	Account            string            `json:"account"`
	Region             string            `json:"region"`
	Name               string            `json:"name"`
	Arn                string            `json:"arn"`
	EventBusName       string            `json:"event_bus_name"`
	ScheduleExpression string            `json:"schedule_expression,omitempty"`
	EventPattern       string            `json:"event_pattern,omitempty"`
	State              string            `json:"state"`
	Description        string            `json:"description,omitempty"`
	RoleArn            string            `json:"role_arn,omitempty"`
	Tags               map[string]string `json:"tags,omitempty"`
	Targets            []Target          `json:"targets,omitempty"`
	// TargetsFrom maps a target id to when PutTargets' change takes
	// effect: "new or updated targets might not be immediately invoked"
	// (EventBridge API Reference, PutTargets); see core.Timing.EventsTarget.
	TargetsFrom map[string]time.Time `json:"targets_from,omitempty"`
	CreatedAt   time.Time            `json:"created_at"`
	// ScheduledFrom is when the schedule last (re)started: creation, a new
	// schedule expression, or enabling. Rate schedules count from it.
	ScheduledFrom time.Time `json:"scheduled_from"`
}

// Target is where a rule sends matching or scheduled events. The field
// names are the API's, so a target round-trips unchanged.
type Target struct {
	ID               string            `json:"Id"`
	Arn              string            `json:"Arn"`
	RoleArn          string            `json:"RoleArn,omitempty"`
	Input            string            `json:"Input,omitempty"`
	InputPath        string            `json:"InputPath,omitempty"`
	InputTransformer *InputTransformer `json:"InputTransformer,omitempty"`
	RetryPolicy      *RetryPolicy      `json:"RetryPolicy,omitempty"`
	DeadLetterConfig *DeadLetterConfig `json:"DeadLetterConfig,omitempty"`
	SqsParameters    *SqsParameters    `json:"SqsParameters,omitempty"`
}

// InputTransformer rewrites the event before delivery.
type InputTransformer struct {
	InputPathsMap map[string]string `json:"InputPathsMap,omitempty"`
	InputTemplate string            `json:"InputTemplate"`
}

// RetryPolicy bounds redelivery to a target.
type RetryPolicy struct {
	MaximumRetryAttempts     *int `json:"MaximumRetryAttempts,omitempty"`
	MaximumEventAgeInSeconds *int `json:"MaximumEventAgeInSeconds,omitempty"`
}

// DeadLetterConfig names the queue that receives undeliverable events.
type DeadLetterConfig struct {
	Arn string `json:"Arn,omitempty"`
}

// SqsParameters carry the FIFO message group of an SQS target.
type SqsParameters struct {
	MessageGroupID string `json:"MessageGroupId,omitempty"`
}

// Schedule parses the rule's schedule expression, anchored where its rate
// counting starts. ok is false for a rule without a schedule.
func (r Rule) Schedule() (s Schedule, ok bool) {
	if r.ScheduleExpression == "" {
		return Schedule{}, false
	}
	s, err := ParseSchedule(r.ScheduleExpression)
	if err != nil {
		return Schedule{}, false
	}
	s.Anchor = r.ScheduledFrom
	return s, true
}

// Enabled reports whether the rule delivers events.
func (r Rule) Enabled() bool { return r.State != "DISABLED" }

// Scope is where the rule lives.
func (r Rule) Scope() core.Scope { return core.Scope{Account: r.Account, Region: r.Region} }

// Service is the EventBridge emulator.
type Service struct {
	c     *core.Core
	rules *core.Table[Rule]
	ops   map[string]func(*core.Request) (any, error)
}

// New registers the service's tables.
func New(c *core.Core) *Service {
	s := &Service{c: c, rules: core.Register[Rule](c.Store, "events.rules")}
	s.ops = map[string]func(*core.Request) (any, error){
		"PutRule":               s.putRule,
		"DescribeRule":          s.describeRule,
		"ListRules":             s.listRules,
		"EnableRule":            s.enableRule,
		"DisableRule":           s.disableRule,
		"DeleteRule":            s.deleteRule,
		"PutTargets":            s.putTargets,
		"ListTargetsByRule":     s.listTargetsByRule,
		"RemoveTargets":         s.removeTargets,
		"ListRuleNamesByTarget": s.listRuleNamesByTarget,
		"TagResource":           s.tagResource,
		"UntagResource":         s.untagResource,
		"ListTagsForResource":   s.listTagsForResource,
	}
	return s
}

// Name implements core.Service.
func (s *Service) Name() string { return "events" }

// Serve implements core.Service.
func (s *Service) Serve(r *core.Request) { core.ServeJSONTarget(r, targetPrefix, s.ops) }

// Rules returns every rule of every account and region, in key order, for
// the scheduler and the event router.
func (s *Service) Rules(tx *core.Tx) []Rule {
	var out []Rule
	s.rules.Scan(tx, "", func(_ string, r Rule) bool {
		out = append(out, r)
		return true
	})
	return out
}

// Rule returns one rule of the default bus.
func (s *Service) Rule(tx *core.Tx, sc core.Scope, name string) (Rule, bool) {
	return s.rules.Get(tx, sc.Key(name))
}

func validation(format string, args ...any) *core.Error {
	return core.Errorf("ValidationException", format, args...)
}

func ruleNotFound(name string) *core.Error {
	return core.Errorf("ResourceNotFoundException", "Rule %s does not exist on EventBus %s.", name, defaultBus)
}

var nameRE = regexp.MustCompile(`^[.\-_A-Za-z0-9]+$`)

func validateName(field, name string) error {
	if name == "" {
		return validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	if len(name) > 64 {
		return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to 64", name, field)
	}
	if !nameRE.MatchString(name) {
		return validation(`1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+`, name, field)
	}
	return nil
}

// checkBus accepts the default bus by name or ARN; the sandbox has no
// custom buses, so any other bus does not exist.
func checkBus(sc core.Scope, bus string) error {
	if bus == "" || bus == defaultBus || bus == sc.ARN("events", "event-bus/default") {
		return nil
	}
	return core.Errorf("ResourceNotFoundException", "Event bus %s does not exist.", bus)
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func validateTags(tags []tag) error {
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return validation("1 validation error detected: Value '%s' at 'tags' failed to satisfy constraint: keys must have length between 1 and 128, values at most 256", t.Key)
		}
	}
	return nil
}

// --- rules ---

type putRuleInput struct {
	Name               string `json:"Name"`
	ScheduleExpression string `json:"ScheduleExpression"`
	EventPattern       string `json:"EventPattern"`
	State              string `json:"State"`
	Description        string `json:"Description"`
	RoleArn            string `json:"RoleArn"`
	Tags               []tag  `json:"Tags"`
	EventBusName       string `json:"EventBusName"`
}

func (s *Service) putRule(r *core.Request) (any, error) {
	var in putRuleInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := validateName("name", in.Name); err != nil {
		return nil, err
	}
	if err := checkBus(r.Scope, in.EventBusName); err != nil {
		return nil, err
	}
	if in.ScheduleExpression == "" && in.EventPattern == "" {
		return nil, validation("Parameter(s) EventPattern or ScheduleExpression must be specified.")
	}
	if in.ScheduleExpression != "" {
		if _, err := ParseSchedule(in.ScheduleExpression); err != nil {
			return nil, validation("Parameter ScheduleExpression is not valid.")
		}
	}
	if in.EventPattern != "" {
		if err := validatePattern(in.EventPattern); err != nil {
			return nil, err
		}
	}
	state := in.State
	switch state {
	case "":
		state = "ENABLED"
	case "ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS":
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]", state)
	}
	if len(in.Description) > 512 {
		return nil, validation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 512")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	arn := r.Scope.ARN("events", "rule/"+in.Name)
	now := s.c.Now()
	err := s.c.Store.Update(func(tx *core.Tx) error {
		key := r.Scope.Key(in.Name)
		old, exists := s.rules.Get(tx, key)
		rule := Rule{
			Account: r.Scope.Account, Region: r.Scope.Region, Name: in.Name, Arn: arn, EventBusName: defaultBus,
			ScheduleExpression: in.ScheduleExpression, EventPattern: in.EventPattern, State: state,
			Description: in.Description, RoleArn: in.RoleArn, CreatedAt: now, ScheduledFrom: now,
		}
		tags := map[string]string{}
		if exists {
			// PutRule replaces the rule's definition but keeps its targets,
			// tags and, while the schedule runs on unchanged, its rhythm.
			rule.CreatedAt, rule.Targets = old.CreatedAt, old.Targets
			for k, v := range old.Tags {
				tags[k] = v
			}
			if old.ScheduleExpression == rule.ScheduleExpression && old.Enabled() && rule.Enabled() {
				rule.ScheduledFrom = old.ScheduledFrom
			}
		}
		for _, t := range in.Tags {
			tags[t.Key] = t.Value
		}
		if len(tags) > 0 {
			rule.Tags = tags
		}
		s.rules.Put(tx, key, rule)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return struct {
		RuleArn string `json:"RuleArn"`
	}{arn}, nil
}

type ruleNameInput struct {
	Name         string `json:"Name"`
	EventBusName string `json:"EventBusName"`
	Force        bool   `json:"Force"`
}

type ruleOut struct {
	Name               string `json:"Name"`
	Arn                string `json:"Arn"`
	EventPattern       string `json:"EventPattern,omitempty"`
	ScheduleExpression string `json:"ScheduleExpression,omitempty"`
	State              string `json:"State"`
	Description        string `json:"Description,omitempty"`
	RoleArn            string `json:"RoleArn,omitempty"`
	EventBusName       string `json:"EventBusName"`
	CreatedBy          string `json:"CreatedBy,omitempty"`
}

func outRule(rule Rule) ruleOut {
	return ruleOut{
		Name: rule.Name, Arn: rule.Arn, EventPattern: rule.EventPattern, ScheduleExpression: rule.ScheduleExpression,
		State: rule.State, Description: rule.Description, RoleArn: rule.RoleArn, EventBusName: rule.EventBusName,
	}
}

func (s *Service) readRule(r *core.Request, in *ruleNameInput) (Rule, error) {
	if err := r.DecodeJSON(in); err != nil {
		return Rule{}, err
	}
	if err := validateName("name", in.Name); err != nil {
		return Rule{}, err
	}
	if err := checkBus(r.Scope, in.EventBusName); err != nil {
		return Rule{}, err
	}
	var rule Rule
	var ok bool
	_ = s.c.Store.View(func(tx *core.Tx) error {
		rule, ok = s.rules.Get(tx, r.Scope.Key(in.Name))
		return nil
	})
	if !ok {
		return Rule{}, ruleNotFound(in.Name)
	}
	return rule, nil
}

func (s *Service) describeRule(r *core.Request) (any, error) {
	var in ruleNameInput
	rule, err := s.readRule(r, &in)
	if err != nil {
		return nil, err
	}
	out := outRule(rule)
	out.CreatedBy = rule.Account
	return out, nil
}

func (s *Service) enableRule(r *core.Request) (any, error) {
	return s.setState(r, "ENABLED")
}

func (s *Service) disableRule(r *core.Request) (any, error) {
	return s.setState(r, "DISABLED")
}

func (s *Service) setState(r *core.Request, state string) (any, error) {
	var in ruleNameInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := validateName("name", in.Name); err != nil {
		return nil, err
	}
	if err := checkBus(r.Scope, in.EventBusName); err != nil {
		return nil, err
	}
	return struct{}{}, s.c.Store.Update(func(tx *core.Tx) error {
		rule, ok := s.rules.Get(tx, r.Scope.Key(in.Name))
		if !ok {
			return ruleNotFound(in.Name)
		}
		if !rule.Enabled() && state == "ENABLED" {
			rule.ScheduledFrom = s.c.Now()
		}
		rule.State = state
		s.rules.Put(tx, r.Scope.Key(in.Name), rule)
		return nil
	})
}

func (s *Service) deleteRule(r *core.Request) (any, error) {
	var in ruleNameInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := validateName("name", in.Name); err != nil {
		return nil, err
	}
	if err := checkBus(r.Scope, in.EventBusName); err != nil {
		return nil, err
	}
	// Deleting a rule that is already gone succeeds, as on AWS.
	return struct{}{}, s.c.Store.Update(func(tx *core.Tx) error {
		rule, ok := s.rules.Get(tx, r.Scope.Key(in.Name))
		if !ok {
			return nil
		}
		if len(rule.Targets) > 0 {
			return validation("Rule can't be deleted since it has targets.")
		}
		s.rules.Delete(tx, r.Scope.Key(in.Name))
		return nil
	})
}

type listRulesInput struct {
	NamePrefix   string `json:"NamePrefix"`
	EventBusName string `json:"EventBusName"`
	NextToken    string `json:"NextToken"`
	Limit        *int   `json:"Limit"`
}

func pageLimit(limit *int) (int, error) {
	if limit == nil {
		return 100, nil
	}
	if *limit < 1 || *limit > 100 {
		return 0, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", *limit)
	}
	return *limit, nil
}

// Page tokens carry the last name returned, so paging is stable while
// rules come and go.
func encodeToken(last string) string { return base64.RawURLEncoding.EncodeToString([]byte(last)) }

func decodeToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) == 0 {
		return "", validation("The NextToken provided is invalid.")
	}
	return string(b), nil
}

func (s *Service) listRules(r *core.Request) (any, error) {
	var in listRulesInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := checkBus(r.Scope, in.EventBusName); err != nil {
		return nil, err
	}
	limit, err := pageLimit(in.Limit)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		Rules     []ruleOut `json:"Rules"`
		NextToken string    `json:"NextToken,omitempty"`
	}{Rules: []ruleOut{}}
	_ = s.c.Store.View(func(tx *core.Tx) error {
		s.rules.Scan(tx, r.Scope.Key(in.NamePrefix), func(_ string, rule Rule) bool {
			if after != "" && rule.Name <= after {
				return true
			}
			if len(out.Rules) == limit {
				out.NextToken = encodeToken(out.Rules[limit-1].Name)
				return false
			}
			out.Rules = append(out.Rules, outRule(rule))
			return true
		})
		return nil
	})
	return out, nil
}

// --- targets ---

type putTargetsInput struct {
	Rule         string            `json:"Rule"`
	EventBusName string            `json:"EventBusName"`
	Targets      []json.RawMessage `json:"Targets"`
}

type failedEntry struct {
	TargetID     string `json:"TargetId"`
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

var targetIDRE = regexp.MustCompile(`^[.\-_A-Za-z0-9]+$`)

func checkTarget(t Target) string {
	switch {
	case t.ID == "" || len(t.ID) > 64 || !targetIDRE.MatchString(t.ID):
		return "Target Id must be 1 to 64 characters of letters, digits, '.', '-' and '_'."
	case !strings.HasPrefix(t.Arn, "arn:") || len(strings.SplitN(t.Arn, ":", 6)) != 6:
		return "Parameter " + t.Arn + " is not valid. Reason: Provided Arn is not in correct format."
	case boolCount(t.Input != "", t.InputPath != "", t.InputTransformer != nil) > 1:
		return "Only one of Input, InputPath, or InputTransformer must be provided."
	case t.Input != "" && !json.Valid([]byte(t.Input)):
		return "Parameter Input is not valid. Reason: Input must be a valid JSON text."
	case t.InputTransformer != nil && t.InputTransformer.InputTemplate == "":
		return "InputTemplate must be provided with an InputTransformer."
	}
	return ""
}

func boolCount(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func (s *Service) putTargets(r *core.Request) (any, error) {
	var in putTargetsInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := validateName("rule", in.Rule); err != nil {
		return nil, err
	}
	if err := checkBus(r.Scope, in.EventBusName); err != nil {
		return nil, err
	}
	if len(in.Targets) == 0 || len(in.Targets) > maxTargetsCall {
		return nil, validation("1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length between 1 and %d", maxTargetsCall)
	}
	targets := make([]Target, len(in.Targets))
	for i, raw := range in.Targets {
		if err := json.Unmarshal(raw, &targets[i]); err != nil {
			return nil, core.Errorf("SerializationException", "Start of structure or map found where not expected: %v", err)
		}
	}
	out := struct {
		FailedEntryCount int           `json:"FailedEntryCount"`
		FailedEntries    []failedEntry `json:"FailedEntries"`
	}{FailedEntries: []failedEntry{}}
	err := s.c.Store.Update(func(tx *core.Tx) error {
		rule, ok := s.rules.Get(tx, r.Scope.Key(in.Rule))
		if !ok {
			return ruleNotFound(in.Rule)
		}
		merged := append([]Target(nil), rule.Targets...)
		for _, t := range targets {
			if msg := checkTarget(t); msg != "" {
				out.FailedEntries = append(out.FailedEntries, failedEntry{TargetID: t.ID, ErrorCode: "ValidationException", ErrorMessage: msg})
				continue
			}
			replaced := false
			for i := range merged {
				if merged[i].ID == t.ID {
					merged[i], replaced = t, true
				}
			}
			if !replaced {
				merged = append(merged, t)
			}
		}
		if len(merged) > maxTargets {
			return core.Errorf("LimitExceededException", "The requested resource exceeds the maximum number allowed.")
		}
		rule.Targets = merged
		rule.TargetsFrom = targetsFrom(rule.TargetsFrom, targets, s.c.Now(), s.c.Timing.EventsTarget)
		s.rules.Put(tx, r.Scope.Key(in.Rule), rule)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.FailedEntryCount = len(out.FailedEntries)
	return out, nil
}

type listTargetsInput struct {
	Rule         string `json:"Rule"`
	EventBusName string `json:"EventBusName"`
	NextToken    string `json:"NextToken"`
	Limit        *int   `json:"Limit"`
}

func (s *Service) listTargetsByRule(r *core.Request) (any, error) {
	var in listTargetsInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := validateName("rule", in.Rule); err != nil {
		return nil, err
	}
	if err := checkBus(r.Scope, in.EventBusName); err != nil {
		return nil, err
	}
	limit, err := pageLimit(in.Limit)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	var rule Rule
	var ok bool
	_ = s.c.Store.View(func(tx *core.Tx) error {
		rule, ok = s.rules.Get(tx, r.Scope.Key(in.Rule))
		return nil
	})
	if !ok {
		return nil, ruleNotFound(in.Rule)
	}
	out := struct {
		Targets   []Target `json:"Targets"`
		NextToken string   `json:"NextToken,omitempty"`
	}{Targets: []Target{}}
	started := after == ""
	for _, t := range rule.Targets {
		if !started {
			started = t.ID == after
			continue
		}
		if len(out.Targets) == limit {
			out.NextToken = encodeToken(out.Targets[limit-1].ID)
			break
		}
		out.Targets = append(out.Targets, t)
	}
	return out, nil
}

type removeTargetsInput struct {
	Rule         string   `json:"Rule"`
	EventBusName string   `json:"EventBusName"`
	Ids          []string `json:"Ids"`
	Force        bool     `json:"Force"`
}

func (s *Service) removeTargets(r *core.Request) (any, error) {
	var in removeTargetsInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := validateName("rule", in.Rule); err != nil {
		return nil, err
	}
	if err := checkBus(r.Scope, in.EventBusName); err != nil {
		return nil, err
	}
	if len(in.Ids) == 0 || len(in.Ids) > 100 {
		return nil, validation("1 validation error detected: Value at 'ids' failed to satisfy constraint: Member must have length between 1 and 100")
	}
	err := s.c.Store.Update(func(tx *core.Tx) error {
		rule, ok := s.rules.Get(tx, r.Scope.Key(in.Rule))
		if !ok {
			return ruleNotFound(in.Rule)
		}
		drop := map[string]bool{}
		for _, id := range in.Ids {
			drop[id] = true
		}
		var kept []Target
		for _, t := range rule.Targets {
			if !drop[t.ID] {
				kept = append(kept, t)
			}
		}
		rule.Targets = kept
		s.rules.Put(tx, r.Scope.Key(in.Rule), rule)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return struct {
		FailedEntryCount int           `json:"FailedEntryCount"`
		FailedEntries    []failedEntry `json:"FailedEntries"`
	}{FailedEntries: []failedEntry{}}, nil
}

type listByTargetInput struct {
	TargetArn    string `json:"TargetArn"`
	EventBusName string `json:"EventBusName"`
	NextToken    string `json:"NextToken"`
	Limit        *int   `json:"Limit"`
}

func (s *Service) listRuleNamesByTarget(r *core.Request) (any, error) {
	var in listByTargetInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if in.TargetArn == "" {
		return nil, validation("1 validation error detected: Value null at 'targetArn' failed to satisfy constraint: Member must not be null")
	}
	if err := checkBus(r.Scope, in.EventBusName); err != nil {
		return nil, err
	}
	limit, err := pageLimit(in.Limit)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		RuleNames []string `json:"RuleNames"`
		NextToken string   `json:"NextToken,omitempty"`
	}{RuleNames: []string{}}
	_ = s.c.Store.View(func(tx *core.Tx) error {
		s.rules.Scan(tx, r.Scope.Prefix(), func(_ string, rule Rule) bool {
			if after != "" && rule.Name <= after {
				return true
			}
			for _, t := range rule.Targets {
				if t.Arn == in.TargetArn {
					if len(out.RuleNames) == limit {
						out.NextToken = encodeToken(out.RuleNames[limit-1])
						return false
					}
					out.RuleNames = append(out.RuleNames, rule.Name)
					break
				}
			}
			return true
		})
		return nil
	})
	return out, nil
}

// --- tags ---

type tagInput struct {
	ResourceARN string   `json:"ResourceARN"`
	Tags        []tag    `json:"Tags"`
	TagKeys     []string `json:"TagKeys"`
}

// ruleOfARN finds the rule an ARN of this account and region names.
func ruleOfARN(sc core.Scope, arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "events" {
		return "", validation("Parameter %s is not valid. Reason: Provided Arn is not in correct format.", arn)
	}
	name, ok := strings.CutPrefix(parts[5], "rule/")
	if !ok {
		return "", validation("Parameter %s is not valid. Reason: the sandbox tags rules only.", arn)
	}
	if i := strings.LastIndex(name, "/"); i >= 0 {
		// rule/<bus>/<name> names a rule of a custom bus, which the
		// sandbox does not have.
		return "", core.Errorf("ResourceNotFoundException", "Rule %s does not exist on EventBus %s.", name[i+1:], name[:i])
	}
	if parts[3] != sc.Region || parts[4] != sc.Account {
		return "", ruleNotFound(name)
	}
	return name, nil
}

func (s *Service) tagResource(r *core.Request) (any, error) {
	var in tagInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	name, err := ruleOfARN(r.Scope, in.ResourceARN)
	if err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	return struct{}{}, s.editTags(r.Scope, name, func(t map[string]string) {
		for _, kv := range in.Tags {
			t[kv.Key] = kv.Value
		}
	})
}

func (s *Service) untagResource(r *core.Request) (any, error) {
	var in tagInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	name, err := ruleOfARN(r.Scope, in.ResourceARN)
	if err != nil {
		return nil, err
	}
	return struct{}{}, s.editTags(r.Scope, name, func(t map[string]string) {
		for _, k := range in.TagKeys {
			delete(t, k)
		}
	})
}

func (s *Service) editTags(sc core.Scope, name string, fn func(map[string]string)) error {
	return s.c.Store.Update(func(tx *core.Tx) error {
		rule, ok := s.rules.Get(tx, sc.Key(name))
		if !ok {
			return ruleNotFound(name)
		}
		tags := map[string]string{}
		for k, v := range rule.Tags {
			tags[k] = v
		}
		fn(tags)
		if len(tags) > 50 {
			return core.Errorf("LimitExceededException", "The requested resource exceeds the maximum number allowed.")
		}
		rule.Tags = tags
		if len(tags) == 0 {
			rule.Tags = nil
		}
		s.rules.Put(tx, sc.Key(name), rule)
		return nil
	})
}

func (s *Service) listTagsForResource(r *core.Request) (any, error) {
	var in tagInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	name, err := ruleOfARN(r.Scope, in.ResourceARN)
	if err != nil {
		return nil, err
	}
	var rule Rule
	var ok bool
	_ = s.c.Store.View(func(tx *core.Tx) error {
		rule, ok = s.rules.Get(tx, r.Scope.Key(name))
		return nil
	})
	if !ok {
		return nil, ruleNotFound(name)
	}
	out := struct {
		Tags []tag `json:"Tags"`
	}{Tags: []tag{}}
	for k, v := range rule.Tags {
		out.Tags = append(out.Tags, tag{k, v})
	}
	sort.Slice(out.Tags, func(i, j int) bool { return out.Tags[i].Key < out.Tags[j].Key })
	return out, nil
}

// targetsFrom records when the targets just put start being invoked,
// dropping entries already in effect.
func targetsFrom(old map[string]time.Time, put []Target, now time.Time, d time.Duration) map[string]time.Time {
	out := map[string]time.Time{}
	for id, at := range old {
		if now.Before(at) {
			out[id] = at
		}
	}
	if d > 0 {
		for _, t := range put {
			out[t.ID] = now.Add(d)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Invoked reports whether EventBridge invokes the target at now: a target
// just put is not invoked until its change has propagated.
func (r Rule) Invoked(targetID string, now time.Time) bool {
	return !now.Before(r.TargetsFrom[targetID])
}
