package dynamodb

import (
	"hash/fnv"
	"sort"
	"strconv"
	"strings"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// maxPageBytes is how much item data one Query or Scan page reads before
// stopping with a LastEvaluatedKey, as on AWS.
const maxPageBytes = 1 << 20

// keyCondition is an analysed KeyConditionExpression.
type keyCondition struct {
	hash    Value
	rangeOp string // "" when the sort key is unconstrained
	rangeV  []Value
}

func (kc *keyCondition) matches(v Value) bool {
	if kc.rangeOp == "" {
		return true
	}
	if kc.rangeOp == "begins_with" {
		return v.T == kc.rangeV[0].T && strings.HasPrefix(v.S, kc.rangeV[0].S)
	}
	n, ok := compareScalars(v, kc.rangeV[0])
	if !ok {
		return false
	}
	switch kc.rangeOp {
	case "=":
		return n == 0
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	case ">=":
		return n >= 0
	case "BETWEEN":
		m, _ := compareScalars(v, kc.rangeV[1])
		return n >= 0 && m <= 0
	}
	return false
}

// analyseKeyCondition checks a parsed key condition against the schema:
// equality on the partition key, at most one condition on the sort key,
// joined by AND.
func analyseKeyCondition(c *cond, k keyDef) (*keyCondition, error) {
	var parts []*cond
	var walk func(c *cond) error
	walk = func(c *cond) error {
		switch c.kind {
		case cAnd:
			if err := walk(c.l); err != nil {
				return err
			}
			return walk(c.r)
		case cOr, cNot, cIn:
			return validation("Invalid operator used in KeyConditionExpression: %s", c.op)
		case cFunc:
			if c.op != "begins_with" {
				return validation("Invalid operator used in KeyConditionExpression: %s", c.op)
			}
		case cCmp:
			if c.op == "<>" {
				return validation("Invalid operator used in KeyConditionExpression: %s", c.op)
			}
		}
		parts = append(parts, c)
		return nil
	}
	if err := walk(c); err != nil {
		return nil, err
	}
	if len(parts) > 2 {
		return nil, validation("Query key condition not supported")
	}
	kc := &keyCondition{}
	haveHash, haveRange := false, false
	for _, p := range parts {
		attr := p.args[0]
		if attr.kind != oPath || len(attr.path) != 1 {
			return nil, validation("Query key condition not supported")
		}
		for _, a := range p.args[1:] {
			if a.kind != oValue {
				return nil, validation("Query key condition not supported")
			}
		}
		name := attr.path[0].name
		vals := make([]Value, 0, 2)
		for _, a := range p.args[1:] {
			vals = append(vals, a.val)
		}
		switch {
		case name == k.hash:
			if haveHash {
				return nil, validation("KeyConditionExpressions must only contain one condition per key")
			}
			if p.kind != cCmp || p.op != "=" {
				return nil, validation("Query key condition not supported")
			}
			if vals[0].T != k.hashT {
				return nil, invalid("Condition parameter type does not match schema type")
			}
			haveHash, kc.hash = true, vals[0]
		case k.rng != "" && name == k.rng:
			if haveRange {
				return nil, validation("KeyConditionExpressions must only contain one condition per key")
			}
			for _, v := range vals {
				if v.T != k.rngT {
					return nil, invalid("Condition parameter type does not match schema type")
				}
			}
			if p.op == "begins_with" && k.rngT == TypeN {
				return nil, validation("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N")
			}
			haveRange, kc.rangeOp, kc.rangeV = true, p.op, vals
		default:
			missing := k.hash
			if haveHash || hashIn(parts, k.hash) {
				missing = k.rng
			}
			if missing == "" {
				missing = name
			}
			return nil, validation("Query condition missed key schema element: %s", missing)
		}
	}
	if !haveHash {
		return nil, validation("Query condition missed key schema element: %s", k.hash)
	}
	return kc, nil
}

func hashIn(parts []*cond, hash string) bool {
	for _, p := range parts {
		if a := p.args[0]; a.kind == oPath && len(a.path) == 1 && a.path[0].name == hash {
			return true
		}
	}
	return false
}

// --- shared by Query and Scan ---

type readInput struct {
	TableName                 *string           `json:"TableName"`
	IndexName                 *string           `json:"IndexName"`
	Select                    *string           `json:"Select"`
	Limit                     *int64            `json:"Limit"`
	ConsistentRead            *bool             `json:"ConsistentRead"`
	ExclusiveStartKey         Item              `json:"ExclusiveStartKey"`
	ReturnConsumedCapacity    *string           `json:"ReturnConsumedCapacity"`
	ProjectionExpression      *string           `json:"ProjectionExpression"`
	FilterExpression          *string           `json:"FilterExpression"`
	ExpressionAttributeNames  map[string]string `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues map[string]Value  `json:"ExpressionAttributeValues"`
	// Query only
	KeyConditionExpression *string `json:"KeyConditionExpression"`
	ScanIndexForward       *bool   `json:"ScanIndexForward"`
	// Scan only
	Segment       *int64 `json:"Segment"`
	TotalSegments *int64 `json:"TotalSegments"`
	legacyParams
}

type readOutput struct {
	Items            *[]Item           `json:"Items,omitempty"`
	Count            int               `json:"Count"`
	ScannedCount     int               `json:"ScannedCount"`
	LastEvaluatedKey Item              `json:"LastEvaluatedKey,omitempty"`
	ConsumedCapacity *consumedCapacity `json:"ConsumedCapacity,omitempty"`
}

// readPlan is what Query and Scan share once the request is validated.
type readPlan struct {
	name   string
	limit  int
	count  bool
	proj   []docPath
	filter *cond
	keyC   *cond
	env    *exprEnv
}

func (s *Service) planRead(r *core.Request, in *readInput, query bool) (*readPlan, error) {
	name, err := tableName(r, in.TableName)
	if err != nil {
		return nil, err
	}
	if err := in.legacyParams.check(); err != nil {
		return nil, err
	}
	if err := checkCapacityParam(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	p := &readPlan{name: name}
	if in.Limit != nil {
		if *in.Limit < 1 {
			return nil, constraint("'"+strconv.FormatInt(*in.Limit, 10)+"'", "limit", "Member must have value greater than or equal to 1")
		}
		p.limit = int(min(*in.Limit, 1<<30))
	}
	if err := enumCheck(in.Select, "select", "SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"); err != nil {
		return nil, err
	}
	if in.Select != nil {
		switch *in.Select {
		case "COUNT":
			if in.ProjectionExpression != nil {
				return nil, validation("Cannot specify the AttributesToGet/ProjectionExpression when choosing to get COUNT")
			}
			p.count = true
		case "ALL_ATTRIBUTES":
			if in.ProjectionExpression != nil {
				return nil, validation("Cannot specify the AttributesToGet/ProjectionExpression when choosing to get ALL_ATTRIBUTES")
			}
		case "SPECIFIC_ATTRIBUTES":
			if in.ProjectionExpression == nil {
				return nil, validation("Select type SPECIFIC_ATTRIBUTES requires AttributesToGet or ProjectionExpression")
			}
		case "ALL_PROJECTED_ATTRIBUTES":
			return nil, validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
		}
	}
	exprs := []namedExpr{{"FilterExpression", in.FilterExpression}, {"ProjectionExpression", in.ProjectionExpression}}
	if query {
		exprs = append([]namedExpr{{"KeyConditionExpression", in.KeyConditionExpression}}, exprs...)
		if in.KeyConditionExpression == nil {
			return nil, validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
		}
	}
	env, err := makeEnv(in.ExpressionAttributeNames, in.ExpressionAttributeValues, exprs...)
	if err != nil {
		return nil, err
	}
	p.env = env
	if query {
		if p.keyC, err = parseCondition(kindKey, *in.KeyConditionExpression, env); err != nil {
			return nil, err
		}
	}
	if p.filter, err = parseOptionalCondition(kindFilter, in.FilterExpression, env); err != nil {
		return nil, err
	}
	if in.ProjectionExpression != nil {
		if p.proj, err = parseProjection(*in.ProjectionExpression, env); err != nil {
			return nil, err
		}
	}
	if err := env.checkUnused(); err != nil {
		return nil, err
	}
	return p, nil
}

// page walks storage keys in order from ExclusiveStartKey, applying the
// Limit to evaluated items and the filter after it, as AWS does.
func (s *Service) page(tx *core.Tx, p *readPlan, keys []string, start string, forward bool, match func(Item) bool, k keyDef, consistent *bool, capacityMode *string) readOutput {
	i := 0
	if start != "" {
		if forward {
			i = sort.SearchStrings(keys, start)
			if i < len(keys) && keys[i] == start {
				i++
			}
		} else {
			// keys are descending here
			i = sort.Search(len(keys), func(j int) bool { return keys[j] < start })
		}
	}
	items := []Item{}
	out := readOutput{}
	bytes := 0
	for ; i < len(keys); i++ {
		it, ok := s.items.Get(tx, keys[i])
		if !ok || (match != nil && !match(it)) {
			continue
		}
		out.ScannedCount++
		bytes += itemSize(it)
		if p.filter == nil || p.filter.eval(it) {
			out.Count++
			if !p.count {
				if p.proj != nil {
					items = append(items, project(it, p.proj))
				} else {
					items = append(items, it)
				}
			}
		}
		if (p.limit > 0 && out.ScannedCount == p.limit) || (bytes >= maxPageBytes && i+1 < len(keys)) {
			out.LastEvaluatedKey = keyOf(k, it)
			break
		}
	}
	if !p.count {
		out.Items = &items
	}
	out.ConsumedCapacity = consumed(capacityMode, p.name, readUnits(bytes, consistent))
	return out
}

func (s *Service) startKey(in *readInput, k keyDef, prefix string) (string, error) {
	if in.ExclusiveStartKey == nil {
		return "", nil
	}
	if err := checkKey(k, in.ExclusiveStartKey); err != nil {
		return "", validation("The provided starting key is invalid: %s", core.AsError(err).Message)
	}
	return storageKey(prefix, k, in.ExclusiveStartKey), nil
}

// --- Query ---

func (s *Service) query(r *core.Request) (any, error) {
	var in readInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.Segment != nil || in.TotalSegments != nil {
		return nil, validation("Segment and TotalSegments are Scan parameters; Query does not accept them")
	}
	p, err := s.planRead(r, &in, true)
	if err != nil {
		return nil, err
	}
	var out readOutput
	err = s.c.Store.View(func(tx *core.Tx) error {
		t, err := s.active(tx, r.Scope, p.name)
		if err != nil {
			return err
		}
		if in.IndexName != nil {
			return validation("The table does not have the specified index: %s", *in.IndexName)
		}
		k := t.keys()
		kc, err := analyseKeyCondition(p.keyC, k)
		if err != nil {
			return err
		}
		if p.filter != nil {
			used := map[string]bool{}
			p.filter.topNames(used)
			for _, name := range []string{k.hash, k.rng} {
				if name != "" && used[name] {
					return validation("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", name)
				}
			}
		}
		prefix := itemPrefix(r.Scope, p.name)
		start, err := s.startKey(&in, k, prefix)
		if err != nil {
			return err
		}
		partPrefix := prefix + keyEncoding(kc.hash) + "."
		if start != "" && !strings.HasPrefix(start, partPrefix) {
			return validation("The provided starting key is outside query boundaries based on provided conditions")
		}
		keys := s.items.Keys(tx, partPrefix)
		forward := in.ScanIndexForward == nil || *in.ScanIndexForward
		if !forward {
			for i, j := 0, len(keys)-1; i < j; i, j = i+1, j-1 {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
		var match func(Item) bool
		if k.rng != "" && kc.rangeOp != "" {
			match = func(it Item) bool { return kc.matches(it[k.rng]) }
		}
		out = s.page(tx, p, keys, start, forward, match, k, in.ConsistentRead, in.ReturnConsumedCapacity)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// --- Scan ---

func (s *Service) scan(r *core.Request) (any, error) {
	var in readInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.KeyConditionExpression != nil || in.ScanIndexForward != nil {
		return nil, validation("KeyConditionExpression and ScanIndexForward are Query parameters; Scan does not accept them")
	}
	segment, total := int64(0), int64(1)
	switch {
	case in.TotalSegments != nil && in.Segment == nil:
		return nil, validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
	case in.Segment != nil && in.TotalSegments == nil:
		return nil, validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
	case in.TotalSegments != nil:
		segment, total = *in.Segment, *in.TotalSegments
		if total < 1 || total > 1000000 {
			return nil, constraint("'"+strconv.FormatInt(total, 10)+"'", "totalSegments", "Member must have value between 1 and 1000000")
		}
		if segment < 0 {
			return nil, constraint("'"+strconv.FormatInt(segment, 10)+"'", "segment", "Member must have value greater than or equal to 0")
		}
		if segment >= total {
			return nil, validation("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d", segment, total)
		}
	}
	p, err := s.planRead(r, &in, false)
	if err != nil {
		return nil, err
	}
	var out readOutput
	err = s.c.Store.View(func(tx *core.Tx) error {
		t, err := s.active(tx, r.Scope, p.name)
		if err != nil {
			return err
		}
		if in.IndexName != nil {
			return validation("The table does not have the specified index: %s", *in.IndexName)
		}
		k := t.keys()
		prefix := itemPrefix(r.Scope, p.name)
		start, err := s.startKey(&in, k, prefix)
		if err != nil {
			return err
		}
		keys := s.items.Keys(tx, prefix)
		if total > 1 {
			// Segments split the table by partition key, as AWS's do.
			kept := keys[:0:0]
			for _, key := range keys {
				hashPart := key[len(prefix) : strings.IndexByte(key[len(prefix):], '.')+len(prefix)]
				h := fnv.New32a()
				_, _ = h.Write([]byte(hashPart))
				if int64(h.Sum32())%total == segment {
					kept = append(kept, key)
				}
			}
			keys = kept
		}
		out = s.page(tx, p, keys, start, true, nil, k, in.ConsistentRead, in.ReturnConsumedCapacity)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
