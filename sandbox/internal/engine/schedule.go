package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/events"
)

// The scheduler fires enabled rules that have a schedule expression. It
// keeps a virtual clock that runs TimeScale times faster than the sandbox
// clock from the moment the engine started, and fires each rule when the
// virtual clock passes the rule's next occurrence. Occurrences missed while
// the sandbox was down are not caught up, as EventBridge does not; when the
// scale is so high that several occurrences fall between two ticks the rule
// fires once for them.

type ruleCursor struct {
	sig  string
	next time.Time // virtual time; zero when the schedule never fires again
}

func (e *Engine) runScheduler() {
	defer e.wg.Done()
	e.schedMu.Lock()
	e.realStart = e.now()
	e.schedMu.Unlock()
	cursors := map[string]*ruleCursor{}
	for {
		wait := e.scheduleTick(cursors)
		t := time.NewTimer(wait)
		select {
		case <-e.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// virtualNow maps the sandbox clock onto the scheduler's clock.
func (e *Engine) virtualNow() time.Time {
	e.schedMu.Lock()
	start := e.realStart
	e.schedMu.Unlock()
	now := e.now()
	if start.IsZero() || e.timeScale == 1 {
		return now
	}
	return start.Add(time.Duration(float64(now.Sub(start)) * e.timeScale))
}

// scheduleTick fires the rules that are due and returns how long to sleep:
// until the next occurrence or the poll interval, whichever is sooner.
func (e *Engine) scheduleTick(cursors map[string]*ruleCursor) time.Duration {
	var rules []events.Rule
	_ = e.c.Store.View(func(tx *core.Tx) error {
		rules = e.ev.Rules(tx)
		return nil
	})
	v := e.virtualNow()
	seen := map[string]bool{}
	wait := e.poll
	for _, r := range rules {
		s, ok := r.Schedule()
		if !ok || !r.Enabled() {
			continue
		}
		seen[r.Arn] = true
		sig := r.ScheduleExpression + "|" + r.ScheduledFrom.String()
		c := cursors[r.Arn]
		if c == nil || c.sig != sig {
			c = &ruleCursor{sig: sig, next: s.Next(v)}
			cursors[r.Arn] = c
		}
		if c.next.IsZero() {
			continue
		}
		if !v.Before(c.next) {
			rule := r
			e.work.submit("events/"+r.Arn, func(ctx context.Context) { e.fireRule(ctx, rule) })
			c.next = s.Next(v)
			if c.next.IsZero() {
				continue
			}
		}
		if d := time.Duration(float64(c.next.Sub(v)) / e.timeScale); d < wait {
			wait = max(d, time.Millisecond)
		}
	}
	for k := range cursors {
		if !seen[k] {
			delete(cursors, k)
		}
	}
	return wait
}

// FireResult is what firing a rule did.
type FireResult struct {
	Rule    string          `json:"rule"`
	Event   json.RawMessage `json:"event"`
	Targets []TargetResult  `json:"targets"`
}

// TargetResult is the delivery to one target of a fired rule.
type TargetResult struct {
	ID        string `json:"id"`
	Arn       string `json:"arn"`
	Delivered bool   `json:"delivered"`
	RequestID string `json:"requestId,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

type scheduledEvent struct {
	Version    string         `json:"version"`
	ID         string         `json:"id"`
	DetailType string         `json:"detail-type"`
	Source     string         `json:"source"`
	Account    string         `json:"account"`
	Time       string         `json:"time"`
	Region     string         `json:"region"`
	Resources  []string       `json:"resources"`
	Detail     map[string]any `json:"detail"`
}

// ErrRuleNotFound is returned by TriggerRule for an unknown rule.
var ErrRuleNotFound = errors.New("rule not found")

// ErrRuleDisabled is returned by TriggerRule for a DISABLED rule, which
// EventBridge never fires.
var ErrRuleDisabled = errors.New("rule is disabled")

// TriggerRule fires a rule now, as if its schedule had come round: name is
// the rule's name in scope, or its ARN.
func (e *Engine) TriggerRule(ctx context.Context, scope core.Scope, name string) (FireResult, error) {
	if e.ev == nil {
		return FireResult{}, ErrRuleNotFound
	}
	if strings.HasPrefix(name, "arn:") {
		scope = scopeOf(name, scope)
		res := arnField(name, 5)
		rest, ok := strings.CutPrefix(res, "rule/")
		if arnService(name) != "events" || !ok {
			return FireResult{}, fmt.Errorf("%w: %s is not an EventBridge rule ARN", ErrRuleNotFound, name)
		}
		if i := strings.LastIndex(rest, "/"); i >= 0 {
			if bus := rest[:i]; bus != "default" {
				return FireResult{}, fmt.Errorf("%w: event bus %s does not exist", ErrRuleNotFound, bus)
			}
			rest = rest[i+1:]
		}
		name = rest
	}
	var rule events.Rule
	var found bool
	_ = e.c.Store.View(func(tx *core.Tx) error {
		rule, found = e.ev.Rule(tx, scope, name)
		return nil
	})
	if !found {
		return FireResult{}, fmt.Errorf("%w: Rule %s does not exist on EventBus default in account %s, region %s", ErrRuleNotFound, name, scope.Account, scope.Region)
	}
	if !rule.Enabled() {
		return FireResult{Rule: rule.Arn}, fmt.Errorf("%w: %s is DISABLED, so EventBridge does not deliver its events", ErrRuleDisabled, rule.Name)
	}
	return e.fireRule(ctx, rule), nil
}

// fireRule delivers a scheduled event to each of the rule's targets. A
// Lambda target needs a function policy that lets events.amazonaws.com
// invoke it for this rule, an SQS target a queue policy that lets it send;
// without them the event is dropped, as on AWS.
func (e *Engine) fireRule(ctx context.Context, rule events.Rule) FireResult {
	ev := scheduledEvent{
		Version: "0", ID: newUUID(), DetailType: "Scheduled Event", Source: "aws.events", Account: rule.Account,
		Time: e.now().UTC().Format("2006-01-02T15:04:05Z"), Region: rule.Region, Resources: []string{rule.Arn}, Detail: map[string]any{},
	}
	raw, _ := json.Marshal(ev)
	out := FireResult{Rule: rule.Arn, Event: raw, Targets: []TargetResult{}}
	type plan struct {
		t      events.Target
		scope  core.Scope
		fn     string
		queue  string
		reason string
		grant  grant
	}
	var plans []plan
	_ = e.c.Store.View(func(tx *core.Tx) error {
		for _, t := range rule.Targets {
			p := plan{t: t, scope: scopeOf(t.Arn, rule.Scope())}
			if !rule.Invoked(t.ID, e.c.Now()) {
				p.reason = "the target was put moments ago and EventBridge does not invoke it yet"
				plans = append(plans, p)
				continue
			}
			switch arnService(t.Arn) {
			case "lambda":
				if f, g, reason, ok := e.functionFor(tx, p.scope, t.Arn, principalEvents, rule.Arn, rule.Account); ok {
					p.fn, p.grant = f.Arn, g
				} else {
					p.reason = reason
				}
			case "sqs":
				if q, g, reason, ok := e.queueFor(tx, t.Arn, principalEvents, rule.Arn, rule.Account); ok {
					p.queue, p.grant = q.Arn, g
				} else {
					p.reason = reason
				}
			default:
				p.reason = fmt.Sprintf("the sandbox does not deliver to %s targets", arnService(t.Arn))
			}
			plans = append(plans, p)
		}
		return nil
	})
	for i := range plans {
		if p := &plans[i]; p.fn != "" || p.queue != "" {
			if reason, ok := p.grant.check(); !ok {
				p.reason, p.fn, p.queue = reason, "", ""
			}
		}
	}
	for _, p := range plans {
		tr := TargetResult{ID: p.t.ID, Arn: p.t.Arn, Reason: p.reason}
		rec := Delivery{Source: "events", From: rule.Arn, To: p.t.Arn, Detail: ev.ID}
		payload, err := targetInput(p.t, raw, rule)
		if err != nil && p.reason == "" {
			tr.Reason = err.Error()
			p.reason = tr.Reason
		}
		switch {
		case p.reason != "":
			rec.Outcome, rec.Reason = Dropped, p.reason
			e.record(rec)
		case p.fn != "":
			tr.RequestID, tr.Delivered = e.invokeAsync(ctx, rec, p.scope, p.fn, payload, "events")
		case p.queue != "":
			tr.Delivered = e.enqueue(rec, p.queue, string(payload), nil, senderID(principalEvents))
		}
		if !tr.Delivered && tr.Reason == "" {
			tr.Reason = "delivery failed; see /_slab/deliveries"
		}
		out.Targets = append(out.Targets, tr)
	}
	return out
}

func newUUID() string {
	h := core.RandomHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// --- target input (Input, InputPath, InputTransformer) ---

// targetInput is what a target receives: the event, or the target's
// constant Input, the part of the event its InputPath selects, or its
// InputTransformer's template filled from the event.
func targetInput(t events.Target, event []byte, rule events.Rule) ([]byte, error) {
	switch {
	case t.Input != "":
		return []byte(t.Input), nil
	case t.InputPath != "":
		var doc any
		_ = json.Unmarshal(event, &doc)
		v, ok := jsonPath(doc, t.InputPath)
		if !ok {
			return []byte("null"), nil
		}
		return []byte(jsonText(v)), nil
	case t.InputTransformer != nil:
		return []byte(transform(t.InputTransformer, event, rule)), nil
	}
	return event, nil
}

// jsonPath reads $.a.b[0] style paths, the subset EventBridge accepts.
func jsonPath(doc any, path string) (any, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(path), "$")
	if !ok {
		return nil, false
	}
	cur := doc
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, "."):
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[rest[:end]]; !ok {
				return nil, false
			}
			rest = rest[end:]
		case strings.HasPrefix(rest, "["):
			end := strings.Index(rest, "]")
			if end < 0 {
				return nil, false
			}
			key := strings.Trim(rest[1:end], `'"`)
			if n, err := strconv.Atoi(key); err == nil {
				arr, ok := cur.([]any)
				if !ok || n < 0 || n >= len(arr) {
					return nil, false
				}
				cur = arr[n]
			} else {
				m, ok := cur.(map[string]any)
				if !ok {
					return nil, false
				}
				if cur, ok = m[key]; !ok {
					return nil, false
				}
			}
			rest = rest[end+1:]
		default:
			return nil, false
		}
	}
	return cur, true
}

// transform fills an input template: each <name> becomes the value of the
// path InputPathsMap gives it (or a reserved aws.events.* value). Inside a
// JSON string a string value goes in without its quotes; elsewhere every
// value goes in as JSON; a path that matches nothing gives null.
func transform(it *events.InputTransformer, event []byte, rule events.Rule) string {
	var doc any
	_ = json.Unmarshal(event, &doc)
	vals := map[string]any{
		"aws.events.rule-arn": rule.Arn, "aws.events.rule-name": rule.Name,
		"aws.events.event": doc, "aws.events.event.json": doc,
	}
	if m, ok := doc.(map[string]any); ok {
		vals["aws.events.event.ingestion-time"] = m["time"]
	}
	for name, path := range it.InputPathsMap {
		v, ok := jsonPath(doc, path)
		if !ok {
			v = nil
		}
		vals[name] = v
	}
	tpl := it.InputTemplate
	var b strings.Builder
	inString := false
	for i := 0; i < len(tpl); i++ {
		c := tpl[i]
		if c == '\\' && inString && i+1 < len(tpl) {
			b.WriteByte(c)
			b.WriteByte(tpl[i+1])
			i++
			continue
		}
		if c == '"' {
			inString = !inString
		}
		if c == '<' {
			if end := strings.IndexByte(tpl[i:], '>'); end > 1 {
				name := tpl[i+1 : i+end]
				if v, ok := vals[name]; ok {
					text := jsonText(v)
					if inString {
						if s, isStr := v.(string); isStr {
							text = strings.TrimSuffix(strings.TrimPrefix(jsonText(s), `"`), `"`)
						} else if v == nil {
							text = ""
						} else {
							text = strings.TrimSuffix(strings.TrimPrefix(jsonText(text), `"`), `"`)
						}
					}
					b.WriteString(text)
					i += end
					continue
				}
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}
