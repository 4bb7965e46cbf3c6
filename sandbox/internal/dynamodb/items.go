package dynamodb

import (
	"github.com/slab-lab/slab/sandbox/internal/core"
)

// --- key validation ---

func emptyKey(v Value, name string, prefix string) error {
	if (v.T == TypeS || v.T == TypeB) && v.S == "" {
		kind := "string"
		if v.T == TypeB {
			kind = "binary"
		}
		return validation("%s The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s", prefix, kind, name)
	}
	return nil
}

func keySizes(k keyDef, it Item) error {
	if len(it[k.hash].S) > 2048 {
		return invalid("Size of hashkey has exceeded the maximum size limit of2048 bytes")
	}
	if k.rng != "" && len(it[k.rng].S) > 1024 {
		return invalid("Aggregated size of all range keys has exceeded the size limit of 1024 bytes")
	}
	return nil
}

// checkItemKeys validates the key attributes of a whole item (PutItem).
func checkItemKeys(k keyDef, it Item) error {
	for _, name := range []string{k.hash, k.rng} {
		if name == "" {
			continue
		}
		want := k.hashT
		if name == k.rng {
			want = k.rngT
		}
		v, ok := it[name]
		if !ok {
			return invalid("Missing the key %s in the item", name)
		}
		if v.T != want {
			return invalid("Type mismatch for key %s expected: %s actual: %s", name, want, v.T)
		}
		if err := emptyKey(v, name, "One or more parameter values are not valid."); err != nil {
			return err
		}
	}
	return keySizes(k, it)
}

var errKeySchema = validation("The provided key element does not match the schema")

// checkKey validates a Key parameter: exactly the key attributes.
func checkKey(k keyDef, key Item) error {
	if key == nil {
		return nullConstraint("key")
	}
	want := 1
	if k.rng != "" {
		want = 2
	}
	if len(key) != want {
		return errKeySchema
	}
	for _, name := range []string{k.hash, k.rng} {
		if name == "" {
			continue
		}
		t := k.hashT
		if name == k.rng {
			t = k.rngT
		}
		v, ok := key[name]
		if !ok || v.T != t {
			return errKeySchema
		}
		if err := emptyKey(v, name, "One or more parameter values were invalid:"); err != nil {
			return err
		}
	}
	return keySizes(k, key)
}

func keyOf(k keyDef, it Item) Item {
	key := Item{k.hash: it[k.hash]}
	if k.rng != "" {
		key[k.rng] = it[k.rng]
	}
	return key
}

// storageKey is where an item lives in the store; encodings sort in
// DynamoDB's key order and never contain ".", which ends the hash part.
func storageKey(prefix string, k keyDef, key Item) string {
	s := prefix + keyEncoding(key[k.hash]) + "."
	if k.rng != "" {
		s += keyEncoding(key[k.rng])
	}
	return s
}

// --- shared request pieces ---

type writeOutput struct {
	Attributes       map[string]Value  `json:"Attributes,omitempty"`
	ConsumedCapacity *consumedCapacity `json:"ConsumedCapacity,omitempty"`
}

func checkReturnValues(rv *string, allowed ...string) (string, error) {
	if rv == nil {
		return "NONE", nil
	}
	if err := enumCheck(rv, "returnValues", "ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"); err != nil {
		return "", err
	}
	for _, a := range allowed {
		if *rv == a {
			return a, nil
		}
	}
	return "", validation("Return values set to invalid value")
}

func checkOnFailure(v *string) (bool, error) {
	if err := enumCheck(v, "returnValuesOnConditionCheckFailure", "ALL_OLD", "NONE"); err != nil {
		return false, err
	}
	return v != nil && *v == "ALL_OLD", nil
}

// parseOptionalCondition parses a ConditionExpression when present.
func parseOptionalCondition(kind string, src *string, env *exprEnv) (*cond, error) {
	if src == nil {
		return nil, nil
	}
	return parseCondition(kind, *src, env)
}

func failCondition(old Item, withItem bool) error {
	if withItem && old != nil {
		return &conditionFailed{item: old}
	}
	return &conditionFailed{}
}

// --- what PutItem, DeleteItem and UpdateItem share ---

// writeParams are the parameters of every single-item write.
type writeParams struct {
	ConditionExpression                 *string           `json:"ConditionExpression"`
	ExpressionAttributeNames            map[string]string `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues           map[string]Value  `json:"ExpressionAttributeValues"`
	ReturnValues                        *string           `json:"ReturnValues"`
	ReturnValuesOnConditionCheckFailure *string           `json:"ReturnValuesOnConditionCheckFailure"`
	ReturnConsumedCapacity              *string           `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics         *string           `json:"ReturnItemCollectionMetrics"`
	legacyParams
}

// check validates the parameters in DynamoDB's order, and gathers the
// placeholders of the condition and of exprs (UpdateItem's update).
func (p *writeParams) check(returnValues []string, exprs ...namedExpr) (rv string, onFail bool, env *exprEnv, err error) {
	if err = p.legacyParams.check(); err != nil {
		return
	}
	if rv, err = checkReturnValues(p.ReturnValues, returnValues...); err != nil {
		return
	}
	if onFail, err = checkOnFailure(p.ReturnValuesOnConditionCheckFailure); err != nil {
		return
	}
	if err = checkCapacityParam(p.ReturnConsumedCapacity); err != nil {
		return
	}
	if err = enumCheck(p.ReturnItemCollectionMetrics, "returnItemCollectionMetrics", "SIZE", "NONE"); err != nil {
		return
	}
	env, err = makeEnv(p.ExpressionAttributeNames, p.ExpressionAttributeValues, append(exprs, namedExpr{"ConditionExpression", p.ConditionExpression})...)
	return
}

// condition parses the ConditionExpression, then requires every
// placeholder to have been used.
func (p *writeParams) condition(env *exprEnv) (*cond, error) {
	c, err := parseOptionalCondition(kindCondition, p.ConditionExpression, env)
	if err != nil {
		return nil, err
	}
	return c, env.checkUnused()
}

// current reads the item a write replaces (nil when there is none) and
// applies the write's condition to it.
func (s *Service) current(tx *core.Tx, sk string, c *cond, onFail bool) (Item, error) {
	old, exists := s.items.Get(tx, sk)
	if !exists {
		old = nil
	}
	if c != nil && !c.eval(orEmpty(old)) {
		return nil, failCondition(old, onFail)
	}
	return old, nil
}

// --- PutItem ---

type putItemInput struct {
	TableName *string `json:"TableName"`
	Item      Item    `json:"Item"`
	writeParams
}

func (s *Service) putItem(r *core.Request) (any, error) {
	var in putItemInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	name, err := tableName(r, in.TableName)
	if err != nil {
		return nil, err
	}
	if in.Item == nil {
		return nil, nullConstraint("item")
	}
	rv, onFail, env, err := in.check([]string{"NONE", "ALL_OLD"})
	if err != nil {
		return nil, err
	}
	c, err := in.condition(env)
	if err != nil {
		return nil, err
	}
	var out writeOutput
	err = s.c.Store.Update(func(tx *core.Tx) error {
		t, err := s.active(tx, r.Scope, name)
		if err != nil {
			return err
		}
		k := t.keys()
		if err := checkItemKeys(k, in.Item); err != nil {
			return err
		}
		size := itemSize(in.Item)
		if size > maxItemSize {
			return validation("Item size has exceeded the maximum allowed size")
		}
		sk := storageKey(itemPrefix(r.Scope, name), k, in.Item)
		old, err := s.current(tx, sk, c, onFail)
		if err != nil {
			return err
		}
		s.items.Put(tx, sk, in.Item)
		if rv == "ALL_OLD" {
			out.Attributes = old
		}
		out.ConsumedCapacity = consumed(in.ReturnConsumedCapacity, name, writeUnits(max(size, itemSize(old))))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func orEmpty(it Item) Item {
	if it == nil {
		return Item{}
	}
	return it
}

// --- GetItem ---

type getItemInput struct {
	TableName                *string           `json:"TableName"`
	Key                      Item              `json:"Key"`
	ProjectionExpression     *string           `json:"ProjectionExpression"`
	ExpressionAttributeNames map[string]string `json:"ExpressionAttributeNames"`
	ConsistentRead           *bool             `json:"ConsistentRead"`
	ReturnConsumedCapacity   *string           `json:"ReturnConsumedCapacity"`
	legacyParams
}

type getItemOutput struct {
	Item             *Item             `json:"Item,omitempty"`
	ConsumedCapacity *consumedCapacity `json:"ConsumedCapacity,omitempty"`
}

func (s *Service) getItem(r *core.Request) (any, error) {
	var in getItemInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	name, err := tableName(r, in.TableName)
	if err != nil {
		return nil, err
	}
	if in.Key == nil {
		return nil, nullConstraint("key")
	}
	if err := in.legacyParams.check(); err != nil {
		return nil, err
	}
	if err := checkCapacityParam(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	proj, err := parseProjectionParam(in.ProjectionExpression, in.ExpressionAttributeNames)
	if err != nil {
		return nil, err
	}
	var out getItemOutput
	err = s.c.Store.View(func(tx *core.Tx) error {
		t, err := s.active(tx, r.Scope, name)
		if err != nil {
			return err
		}
		k := t.keys()
		if err := checkKey(k, in.Key); err != nil {
			return err
		}
		it, ok := s.items.Get(tx, storageKey(itemPrefix(r.Scope, name), k, in.Key))
		size := 0
		if ok {
			size = itemSize(it)
			if proj != nil {
				it = project(it, proj)
			}
			out.Item = &it
		}
		out.ConsumedCapacity = consumed(in.ReturnConsumedCapacity, name, readUnits(size, in.ConsistentRead))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parseProjectionParam handles a ProjectionExpression with its names (the
// only placeholders a read without filters may carry).
func parseProjectionParam(src *string, names map[string]string) ([]docPath, error) {
	env, err := makeEnv(names, nil, namedExpr{"ProjectionExpression", src})
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, nil
	}
	paths, err := parseProjection(*src, env)
	if err != nil {
		return nil, err
	}
	return paths, env.checkUnused()
}

// --- DeleteItem ---

type deleteItemInput struct {
	TableName *string `json:"TableName"`
	Key       Item    `json:"Key"`
	writeParams
}

func (s *Service) deleteItem(r *core.Request) (any, error) {
	var in deleteItemInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	name, err := tableName(r, in.TableName)
	if err != nil {
		return nil, err
	}
	if in.Key == nil {
		return nil, nullConstraint("key")
	}
	rv, onFail, env, err := in.check([]string{"NONE", "ALL_OLD"})
	if err != nil {
		return nil, err
	}
	c, err := in.condition(env)
	if err != nil {
		return nil, err
	}
	var out writeOutput
	err = s.c.Store.Update(func(tx *core.Tx) error {
		t, err := s.active(tx, r.Scope, name)
		if err != nil {
			return err
		}
		k := t.keys()
		if err := checkKey(k, in.Key); err != nil {
			return err
		}
		sk := storageKey(itemPrefix(r.Scope, name), k, in.Key)
		old, err := s.current(tx, sk, c, onFail)
		if err != nil {
			return err
		}
		s.items.Delete(tx, sk)
		if rv == "ALL_OLD" {
			out.Attributes = old
		}
		out.ConsumedCapacity = consumed(in.ReturnConsumedCapacity, name, writeUnits(itemSize(old)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// --- UpdateItem ---

type updateItemInput struct {
	TableName        *string `json:"TableName"`
	Key              Item    `json:"Key"`
	UpdateExpression *string `json:"UpdateExpression"`
	writeParams
}

func (s *Service) updateItem(r *core.Request) (any, error) {
	var in updateItemInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	name, err := tableName(r, in.TableName)
	if err != nil {
		return nil, err
	}
	if in.Key == nil {
		return nil, nullConstraint("key")
	}
	rv, onFail, env, err := in.check([]string{"NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"}, namedExpr{"UpdateExpression", in.UpdateExpression})
	if err != nil {
		return nil, err
	}
	var actions []updateAction
	if in.UpdateExpression != nil {
		if actions, err = parseUpdate(*in.UpdateExpression, env); err != nil {
			return nil, err
		}
	}
	c, err := in.condition(env)
	if err != nil {
		return nil, err
	}
	var out writeOutput
	err = s.c.Store.Update(func(tx *core.Tx) error {
		t, err := s.active(tx, r.Scope, name)
		if err != nil {
			return err
		}
		k := t.keys()
		if err := checkKey(k, in.Key); err != nil {
			return err
		}
		for _, a := range actions {
			if k.isKey(a.path[0].name) {
				return invalid("Cannot update attribute %s. This attribute is part of the key", a.path[0].name)
			}
		}
		sk := storageKey(itemPrefix(r.Scope, name), k, in.Key)
		old, err := s.current(tx, sk, c, onFail)
		if err != nil {
			return err
		}
		base := old
		if base == nil {
			base = cloneItem(in.Key)
		}
		updated, err := applyUpdate(base, actions)
		if err != nil {
			return err
		}
		size := itemSize(updated)
		if size > maxItemSize {
			return validation("Item size to update has exceeded the maximum allowed size")
		}
		s.items.Put(tx, sk, updated)
		switch rv {
		case "ALL_OLD":
			out.Attributes = old
		case "ALL_NEW":
			out.Attributes = updated
		case "UPDATED_OLD", "UPDATED_NEW":
			paths := make([]docPath, len(actions))
			for i, a := range actions {
				paths[i] = a.path
			}
			src := updated
			if rv == "UPDATED_OLD" {
				src = orEmpty(old)
			}
			out.Attributes = project(src, paths)
		}
		out.ConsumedCapacity = consumed(in.ReturnConsumedCapacity, name, writeUnits(max(size, itemSize(old))))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// --- BatchGetItem ---

type keysAndAttributes struct {
	Keys                     []Item            `json:"Keys"`
	ProjectionExpression     *string           `json:"ProjectionExpression"`
	ExpressionAttributeNames map[string]string `json:"ExpressionAttributeNames"`
	ConsistentRead           *bool             `json:"ConsistentRead"`
	legacyParams
}

type batchGetInput struct {
	RequestItems           map[string]keysAndAttributes `json:"RequestItems"`
	ReturnConsumedCapacity *string                      `json:"ReturnConsumedCapacity"`
}

type batchGetOutput struct {
	Responses        map[string][]Item            `json:"Responses"`
	UnprocessedKeys  map[string]keysAndAttributes `json:"UnprocessedKeys"`
	ConsumedCapacity []*consumedCapacity          `json:"ConsumedCapacity,omitempty"`
}

func (s *Service) batchGetItem(r *core.Request) (any, error) {
	var in batchGetInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.RequestItems == nil {
		return nil, nullConstraint("requestItems")
	}
	if len(in.RequestItems) == 0 {
		return nil, constraint("'{}'", "requestItems", "Member must have length greater than or equal to 1")
	}
	if err := checkCapacityParam(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	total := 0
	projections := map[string][]docPath{}
	for name, ka := range in.RequestItems {
		if err := checkTableName(name, "requestItems"); err != nil {
			return nil, err
		}
		if err := ka.legacyParams.check(); err != nil {
			return nil, err
		}
		if len(ka.Keys) == 0 {
			return nil, constraint("'[]'", "requestItems."+name+".member.keys", "Member must have length greater than or equal to 1")
		}
		total += len(ka.Keys)
		proj, err := parseProjectionParam(ka.ProjectionExpression, ka.ExpressionAttributeNames)
		if err != nil {
			return nil, err
		}
		projections[name] = proj
	}
	if total > 100 {
		return nil, validation("Too many items requested for the BatchGetItem call")
	}
	out := batchGetOutput{Responses: map[string][]Item{}, UnprocessedKeys: map[string]keysAndAttributes{}}
	err := s.c.Store.View(func(tx *core.Tx) error {
		for name, ka := range in.RequestItems {
			t, err := s.active(tx, r.Scope, name)
			if err != nil {
				return err
			}
			k := t.keys()
			seen := map[string]bool{}
			items := []Item{}
			size := 0
			for _, key := range ka.Keys {
				if err := checkKey(k, key); err != nil {
					return err
				}
				sk := storageKey(itemPrefix(r.Scope, name), k, key)
				if seen[sk] {
					return validation("Provided list of item keys contains duplicates")
				}
				seen[sk] = true
				it, ok := s.items.Get(tx, sk)
				if !ok {
					continue
				}
				size += itemSize(it)
				if p := projections[name]; p != nil {
					it = project(it, p)
				}
				items = append(items, it)
			}
			out.Responses[name] = items
			if c := consumed(in.ReturnConsumedCapacity, name, readUnits(size, ka.ConsistentRead)); c != nil {
				out.ConsumedCapacity = append(out.ConsumedCapacity, c)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// --- BatchWriteItem ---

type writeRequest struct {
	PutRequest *struct {
		Item Item `json:"Item"`
	} `json:"PutRequest"`
	DeleteRequest *struct {
		Key Item `json:"Key"`
	} `json:"DeleteRequest"`
}

type batchWriteInput struct {
	RequestItems                map[string][]writeRequest `json:"RequestItems"`
	ReturnConsumedCapacity      *string                   `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics *string                   `json:"ReturnItemCollectionMetrics"`
}

type batchWriteOutput struct {
	UnprocessedItems map[string][]writeRequest `json:"UnprocessedItems"`
	ConsumedCapacity []*consumedCapacity       `json:"ConsumedCapacity,omitempty"`
}

// batchWriteItem validates every request before writing any, then applies
// them in one transaction, so nothing is ever left unprocessed.
func (s *Service) batchWriteItem(r *core.Request) (any, error) {
	var in batchWriteInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.RequestItems == nil {
		return nil, nullConstraint("requestItems")
	}
	if err := checkCapacityParam(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	total := 0
	for name, reqs := range in.RequestItems {
		if err := checkTableName(name, "requestItems"); err != nil {
			return nil, err
		}
		if len(reqs) == 0 {
			total = -1
			break
		}
		total += len(reqs)
	}
	if total < 1 || total > 25 {
		return nil, validation("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]")
	}
	out := batchWriteOutput{UnprocessedItems: map[string][]writeRequest{}}
	err := s.c.Store.Update(func(tx *core.Tx) error {
		type op struct {
			key  string
			item Item // nil deletes
		}
		var ops []op
		units := map[string]float64{}
		seen := map[string]bool{}
		for name, reqs := range in.RequestItems {
			t, err := s.active(tx, r.Scope, name)
			if err != nil {
				return err
			}
			k := t.keys()
			prefix := itemPrefix(r.Scope, name)
			for _, wr := range reqs {
				var o op
				switch {
				case (wr.PutRequest == nil) == (wr.DeleteRequest == nil):
					return validation("Supplied WriteRequest must contain exactly one of PutRequest or DeleteRequest")
				case wr.PutRequest != nil:
					it := wr.PutRequest.Item
					if it == nil {
						return nullConstraint("requestItems." + name + ".member.putRequest.item")
					}
					if err := checkItemKeys(k, it); err != nil {
						return err
					}
					if itemSize(it) > maxItemSize {
						return validation("Item size has exceeded the maximum allowed size")
					}
					o = op{key: storageKey(prefix, k, it), item: it}
					units[name] += writeUnits(itemSize(it))
				default:
					if err := checkKey(k, wr.DeleteRequest.Key); err != nil {
						return err
					}
					o = op{key: storageKey(prefix, k, wr.DeleteRequest.Key)}
					units[name]++
				}
				if seen[o.key] {
					return validation("Provided list of item keys contains duplicates")
				}
				seen[o.key] = true
				ops = append(ops, o)
			}
		}
		for _, o := range ops {
			if o.item == nil {
				s.items.Delete(tx, o.key)
			} else {
				s.items.Put(tx, o.key, o.item)
			}
		}
		for name, u := range units {
			if c := consumed(in.ReturnConsumedCapacity, name, u); c != nil {
				out.ConsumedCapacity = append(out.ConsumedCapacity, c)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
