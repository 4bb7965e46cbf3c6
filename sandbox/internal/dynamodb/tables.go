package dynamodb

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// KeySchemaElement is one key attribute of a table (wire and stored form).
type KeySchemaElement struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

// AttributeDefinition declares a key attribute's type (S, N or B).
type AttributeDefinition struct {
	AttributeName string `json:"AttributeName"`
	AttributeType string `json:"AttributeType"`
}

// TableRecord is a table as stored. Status is derived from the timestamps
// (see Status), never stored, so no goroutine has to flip it.
type TableRecord struct {
	Name                 string                `json:"name"`
	Arn                  string                `json:"arn"`
	ID                   string                `json:"id"`
	KeySchema            []KeySchemaElement    `json:"key_schema"`
	AttributeDefinitions []AttributeDefinition `json:"attribute_definitions"`
	BillingMode          string                `json:"billing_mode"`
	ReadCapacity         int64                 `json:"read_capacity"`
	WriteCapacity        int64                 `json:"write_capacity"`
	TableClass           string                `json:"table_class,omitempty"`
	Created              time.Time             `json:"created"`
	ActiveAt             time.Time             `json:"active_at"`
	// GoneAt is set by DeleteTable: DELETING until then, absent after.
	GoneAt *time.Time        `json:"gone_at,omitempty"`
	Tags   map[string]string `json:"tags,omitempty"`
}

// Table statuses.
const (
	StatusCreating = "CREATING"
	StatusActive   = "ACTIVE"
	StatusDeleting = "DELETING"
)

// Status is the table's status at now, "" once a deleted table is gone.
func (t *TableRecord) Status(now time.Time) string {
	switch {
	case t.GoneAt != nil && !now.Before(*t.GoneAt):
		return ""
	case t.GoneAt != nil:
		return StatusDeleting
	case now.Before(t.ActiveAt):
		return StatusCreating
	}
	return StatusActive
}

// keyDef is a table's key schema in a handier shape.
type keyDef struct {
	hash, rng   string
	hashT, rngT Type
}

func (t *TableRecord) keys() keyDef {
	types := map[string]Type{}
	for _, d := range t.AttributeDefinitions {
		switch d.AttributeType {
		case "S":
			types[d.AttributeName] = TypeS
		case "N":
			types[d.AttributeName] = TypeN
		case "B":
			types[d.AttributeName] = TypeB
		}
	}
	var k keyDef
	for _, e := range t.KeySchema {
		if e.KeyType == "HASH" {
			k.hash, k.hashT = e.AttributeName, types[e.AttributeName]
		} else {
			k.rng, k.rngT = e.AttributeName, types[e.AttributeName]
		}
	}
	return k
}

func (k keyDef) isKey(name string) bool { return name == k.hash || (k.rng != "" && name == k.rng) }

// lookup returns a table that still exists (in any status).
func (s *Service) lookup(tx *core.Tx, scope core.Scope, name string) (TableRecord, string, bool) {
	t, ok := s.tables.Get(tx, scope.Key(name))
	if !ok {
		return t, "", false
	}
	st := t.Status(s.c.Now())
	return t, st, st != ""
}

// active returns a table item operations may use. AWS answers
// ResourceNotFoundException for a table that is still CREATING, which is
// why the lab must wait for table-exists.
func (s *Service) active(tx *core.Tx, scope core.Scope, name string) (TableRecord, error) {
	t, st, ok := s.lookup(tx, scope, name)
	if !ok || st != StatusActive {
		return t, notFound()
	}
	return t, nil
}

func itemPrefix(scope core.Scope, table string) string { return scope.Key(table) + "/" }

// --- wire shapes ---

type provisionedThroughput struct {
	ReadCapacityUnits  *int64 `json:"ReadCapacityUnits"`
	WriteCapacityUnits *int64 `json:"WriteCapacityUnits"`
}

type tagWire struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

type throughputDescription struct {
	NumberOfDecreasesToday int64 `json:"NumberOfDecreasesToday"`
	ReadCapacityUnits      int64 `json:"ReadCapacityUnits"`
	WriteCapacityUnits     int64 `json:"WriteCapacityUnits"`
}

type billingModeSummary struct {
	BillingMode                       string  `json:"BillingMode"`
	LastUpdateToPayPerRequestDateTime float64 `json:"LastUpdateToPayPerRequestDateTime"`
}

type tableClassSummary struct {
	TableClass string `json:"TableClass"`
}

type tableDescription struct {
	AttributeDefinitions      []AttributeDefinition `json:"AttributeDefinitions"`
	KeySchema                 []KeySchemaElement    `json:"KeySchema"`
	TableName                 string                `json:"TableName"`
	TableStatus               string                `json:"TableStatus"`
	CreationDateTime          float64               `json:"CreationDateTime"`
	ProvisionedThroughput     throughputDescription `json:"ProvisionedThroughput"`
	TableSizeBytes            int64                 `json:"TableSizeBytes"`
	ItemCount                 int64                 `json:"ItemCount"`
	TableArn                  string                `json:"TableArn"`
	TableID                   string                `json:"TableId"`
	BillingModeSummary        *billingModeSummary   `json:"BillingModeSummary,omitempty"`
	TableClassSummary         *tableClassSummary    `json:"TableClassSummary,omitempty"`
	DeletionProtectionEnabled bool                  `json:"DeletionProtectionEnabled"`
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// describe builds a TableDescription. Item count and size are live (AWS
// refreshes them every six hours; a learner checking their work wants now).
func (s *Service) describe(tx *core.Tx, scope core.Scope, t TableRecord, status string) tableDescription {
	d := tableDescription{
		AttributeDefinitions: t.AttributeDefinitions,
		KeySchema:            t.KeySchema,
		TableName:            t.Name,
		TableStatus:          status,
		CreationDateTime:     epoch(t.Created),
		ProvisionedThroughput: throughputDescription{
			ReadCapacityUnits:  t.ReadCapacity,
			WriteCapacityUnits: t.WriteCapacity,
		},
		TableArn: t.Arn,
		TableID:  t.ID,
	}
	if t.BillingMode == "PAY_PER_REQUEST" {
		d.BillingModeSummary = &billingModeSummary{BillingMode: t.BillingMode, LastUpdateToPayPerRequestDateTime: epoch(t.Created)}
	}
	if t.TableClass != "" {
		d.TableClassSummary = &tableClassSummary{TableClass: t.TableClass}
	}
	if status == StatusActive || status == StatusDeleting {
		s.items.Scan(tx, itemPrefix(scope, t.Name), func(_ string, it Item) bool {
			d.ItemCount++
			d.TableSizeBytes += int64(itemSize(it))
			return true
		})
	}
	return d
}

// --- CreateTable ---

type createTableInput struct {
	TableName              *string                `json:"TableName"`
	AttributeDefinitions   []AttributeDefinition  `json:"AttributeDefinitions"`
	KeySchema              []KeySchemaElement     `json:"KeySchema"`
	BillingMode            *string                `json:"BillingMode"`
	ProvisionedThroughput  *provisionedThroughput `json:"ProvisionedThroughput"`
	Tags                   []tagWire              `json:"Tags"`
	TableClass             *string                `json:"TableClass"`
	GlobalSecondaryIndexes []any                  `json:"GlobalSecondaryIndexes"`
	LocalSecondaryIndexes  []any                  `json:"LocalSecondaryIndexes"`
	StreamSpecification    *struct {
		StreamEnabled *bool `json:"StreamEnabled"`
	} `json:"StreamSpecification"`
	DeletionProtectionEnabled *bool `json:"DeletionProtectionEnabled"`
}

func (s *Service) createTable(r *core.Request) (any, error) {
	var in createTableInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.TableName == nil {
		return nil, nullConstraint("tableName")
	}
	name := *in.TableName
	if err := checkTableName(name, "tableName"); err != nil {
		return nil, err
	}
	if err := validateSchema(in.KeySchema, in.AttributeDefinitions); err != nil {
		return nil, err
	}
	mode := "PROVISIONED"
	if in.BillingMode != nil {
		if err := enumCheck(in.BillingMode, "billingMode", "PROVISIONED", "PAY_PER_REQUEST"); err != nil {
			return nil, err
		}
		mode = *in.BillingMode
	}
	var rcu, wcu int64
	pt := in.ProvisionedThroughput
	switch mode {
	case "PROVISIONED":
		if pt == nil || pt.ReadCapacityUnits == nil || pt.WriteCapacityUnits == nil {
			if pt == nil {
				return nil, validation("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
			}
			field := "readCapacityUnits"
			if pt.ReadCapacityUnits != nil {
				field = "writeCapacityUnits"
			}
			return nil, nullConstraint("provisionedThroughput." + field)
		}
		for _, f := range []struct {
			name string
			v    int64
		}{{"readCapacityUnits", *pt.ReadCapacityUnits}, {"writeCapacityUnits", *pt.WriteCapacityUnits}} {
			if f.v < 1 {
				return nil, constraint("'"+strconv.FormatInt(f.v, 10)+"'", "provisionedThroughput."+f.name, "Member must have value greater than or equal to 1")
			}
		}
		rcu, wcu = *pt.ReadCapacityUnits, *pt.WriteCapacityUnits
	case "PAY_PER_REQUEST":
		if pt != nil && (pt.ReadCapacityUnits != nil || pt.WriteCapacityUnits != nil) {
			return nil, validation("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
	}
	if err := enumCheck(in.TableClass, "tableClass", "STANDARD", "STANDARD_INFREQUENT_ACCESS"); err != nil {
		return nil, err
	}
	switch {
	case len(in.GlobalSecondaryIndexes) > 0 || len(in.LocalSecondaryIndexes) > 0:
		return nil, validation("The sandbox does not support secondary indexes; create the table without GlobalSecondaryIndexes and LocalSecondaryIndexes")
	case in.StreamSpecification != nil && in.StreamSpecification.StreamEnabled != nil && *in.StreamSpecification.StreamEnabled:
		return nil, validation("The sandbox does not support DynamoDB Streams; create the table without StreamSpecification")
	case in.DeletionProtectionEnabled != nil && *in.DeletionProtectionEnabled:
		return nil, validation("The sandbox does not support deletion protection (it has no UpdateTable to turn it off again)")
	}
	tags, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	now := s.c.Now()
	t := TableRecord{
		Name:                 name,
		Arn:                  r.Scope.ARN("dynamodb", "table/"+name),
		ID:                   uuid(),
		KeySchema:            in.KeySchema,
		AttributeDefinitions: in.AttributeDefinitions,
		BillingMode:          mode,
		ReadCapacity:         rcu,
		WriteCapacity:        wcu,
		Created:              now,
		ActiveAt:             now.Add(s.CreateDelay),
		Tags:                 tags,
	}
	if in.TableClass != nil {
		t.TableClass = *in.TableClass
	}
	var desc tableDescription
	err = s.c.Store.Update(func(tx *core.Tx) error {
		if _, _, exists := s.lookup(tx, r.Scope, name); exists {
			return core.Errorf("ResourceInUseException", "Table already exists: %s", name)
		}
		s.tables.Put(tx, r.Scope.Key(name), t)
		desc = s.describe(tx, r.Scope, t, t.Status(now))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": desc}, nil
}

func uuid() string {
	h := core.RandomHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + h[16:20] + "-" + h[20:32]
}

func validateSchema(ks []KeySchemaElement, defs []AttributeDefinition) error {
	if ks == nil {
		return nullConstraint("keySchema")
	}
	if defs == nil {
		return nullConstraint("attributeDefinitions")
	}
	if len(ks) == 0 {
		return constraint("'[]'", "keySchema", "Member must have length greater than or equal to 1")
	}
	if len(ks) > 2 {
		return constraint("'"+describeKeySchema(ks)+"'", "keySchema", "Member must have length less than or equal to 2")
	}
	for i, e := range ks {
		if err := enumCheck(&e.KeyType, "keySchema."+strconv.Itoa(i+1)+".member.keyType", "HASH", "RANGE"); err != nil {
			return err
		}
		if e.AttributeName == "" {
			return constraint("''", "keySchema."+strconv.Itoa(i+1)+".member.attributeName", "Member must have length greater than or equal to 1")
		}
	}
	for i, d := range defs {
		if err := enumCheck(&d.AttributeType, "attributeDefinitions."+strconv.Itoa(i+1)+".member.attributeType", "B", "N", "S"); err != nil {
			return err
		}
	}
	if ks[0].KeyType != "HASH" {
		return validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
	}
	if len(ks) == 2 {
		if ks[1].KeyType != "RANGE" {
			return validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
		}
		if ks[0].AttributeName == ks[1].AttributeName {
			return validation("Both the Hash Key and the Range Key element in the KeySchema have the same name")
		}
	}
	defined := map[string]bool{}
	var defNames []string
	for _, d := range defs {
		if defined[d.AttributeName] {
			return validation("Cannot have two attributes with the same name")
		}
		defined[d.AttributeName] = true
		defNames = append(defNames, d.AttributeName)
	}
	var keyNames []string
	missing := false
	for _, e := range ks {
		keyNames = append(keyNames, e.AttributeName)
		if !defined[e.AttributeName] {
			missing = true
		}
	}
	if missing {
		return validation("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]", strings.Join(keyNames, ", "), strings.Join(defNames, ", "))
	}
	if len(defs) != len(ks) {
		return validation("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	return nil
}

func describeKeySchema(ks []KeySchemaElement) string {
	parts := make([]string, len(ks))
	for i, e := range ks {
		parts[i] = "KeySchemaElement(attributeName=" + e.AttributeName + ", keyType=" + e.KeyType + ")"
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func tagMap(tags []tagWire) (map[string]string, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for i, t := range tags {
		field := "tags." + strconv.Itoa(i+1) + ".member"
		if t.Key == nil {
			return nil, nullConstraint(field + ".key")
		}
		if t.Value == nil {
			return nil, nullConstraint(field + ".value")
		}
		if len(*t.Key) < 1 || len(*t.Key) > 128 {
			return nil, constraint("'"+*t.Key+"'", field+".key", "Member must have length between 1 and 128")
		}
		if len(*t.Value) > 256 {
			return nil, constraint("'"+*t.Value+"'", field+".value", "Member must have length less than or equal to 256")
		}
		if strings.HasPrefix(strings.ToLower(*t.Key), "aws:") {
			return nil, validation("One or more parameter values were invalid: Tag keys starting with 'aws:' are reserved for system use")
		}
		m[*t.Key] = *t.Value
	}
	return m, nil
}

// --- DescribeTable, ListTables, DeleteTable ---

type tableNameInput struct {
	TableName *string `json:"TableName"`
}

func (s *Service) describeTable(r *core.Request) (any, error) {
	var in tableNameInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	name, err := tableName(r, in.TableName)
	if err != nil {
		return nil, err
	}
	var desc tableDescription
	err = s.c.Store.View(func(tx *core.Tx) error {
		t, st, ok := s.lookup(tx, r.Scope, name)
		if !ok {
			return tableNotFound(name)
		}
		desc = s.describe(tx, r.Scope, t, st)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"Table": desc}, nil
}

type listTablesInput struct {
	ExclusiveStartTableName *string `json:"ExclusiveStartTableName"`
	Limit                   *int64  `json:"Limit"`
}

type listTablesOutput struct {
	TableNames             []string `json:"TableNames"`
	LastEvaluatedTableName string   `json:"LastEvaluatedTableName,omitempty"`
}

func (s *Service) listTables(r *core.Request) (any, error) {
	var in listTablesInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	limit := int64(100)
	if in.Limit != nil {
		if *in.Limit < 1 {
			return nil, constraint("'"+strconv.FormatInt(*in.Limit, 10)+"'", "limit", "Member must have value greater than or equal to 1")
		}
		if *in.Limit > 100 {
			return nil, constraint("'"+strconv.FormatInt(*in.Limit, 10)+"'", "limit", "Member must have value less than or equal to 100")
		}
		limit = *in.Limit
	}
	if in.ExclusiveStartTableName != nil {
		if err := checkTableName(*in.ExclusiveStartTableName, "exclusiveStartTableName"); err != nil {
			return nil, err
		}
	}
	out := listTablesOutput{TableNames: []string{}}
	now := s.c.Now()
	_ = s.c.Store.View(func(tx *core.Tx) error {
		prefix := r.Scope.Prefix()
		s.tables.Scan(tx, prefix, func(key string, t TableRecord) bool {
			if t.Status(now) == "" {
				return true
			}
			if in.ExclusiveStartTableName != nil && t.Name <= *in.ExclusiveStartTableName {
				return true
			}
			if int64(len(out.TableNames)) == limit {
				out.LastEvaluatedTableName = out.TableNames[len(out.TableNames)-1]
				return false
			}
			out.TableNames = append(out.TableNames, t.Name)
			return true
		})
		return nil
	})
	return out, nil
}

func (s *Service) deleteTable(r *core.Request) (any, error) {
	var in tableNameInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	name, err := tableName(r, in.TableName)
	if err != nil {
		return nil, err
	}
	var desc tableDescription
	err = s.c.Store.Update(func(tx *core.Tx) error {
		t, st, ok := s.lookup(tx, r.Scope, name)
		switch {
		case !ok:
			return tableNotFound(name)
		case st == StatusCreating:
			return core.Errorf("ResourceInUseException", "Attempt to change a resource which is still in use: Table is being created: %s", name)
		case st == StatusDeleting:
			return core.Errorf("ResourceInUseException", "Attempt to change a resource which is still in use: Table is being deleted: %s", name)
		}
		desc = s.describe(tx, r.Scope, t, StatusDeleting)
		gone := s.c.Now().Add(s.DeleteDelay)
		t.GoneAt = &gone
		s.tables.Put(tx, r.Scope.Key(name), t)
		for _, k := range s.items.Keys(tx, itemPrefix(r.Scope, name)) {
			s.items.Delete(tx, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": desc}, nil
}

// --- tags ---

type tagResourceInput struct {
	ResourceArn *string   `json:"ResourceArn"`
	Tags        []tagWire `json:"Tags"`
	TagKeys     []string  `json:"TagKeys"`
	NextToken   *string   `json:"NextToken"`
}

// tagged runs fn on the table an ARN names, inside a transaction.
func (s *Service) tagged(r *core.Request, arn *string, write bool, fn func(tx *core.Tx, t *TableRecord) error) error {
	if arn == nil {
		return nullConstraint("resourceArn")
	}
	scope, name, ok := parseTableArn(*arn)
	if !ok {
		return validation("Invalid TableArn: Invalid ResourceArn provided as input %s", *arn)
	}
	notFound := core.Errorf("ResourceNotFoundException", "Requested resource not found: ResourceArn: %s not found", *arn)
	run := s.c.Store.View
	if write {
		run = s.c.Store.Update
	}
	return run(func(tx *core.Tx) error {
		if scope != r.Scope {
			return notFound
		}
		t, _, ok := s.lookup(tx, scope, name)
		if !ok {
			return notFound
		}
		if err := fn(tx, &t); err != nil {
			return err
		}
		if write {
			s.tables.Put(tx, scope.Key(name), t)
		}
		return nil
	})
}

func (s *Service) tagResource(r *core.Request) (any, error) {
	var in tagResourceInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, nullConstraint("tags")
	}
	add, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	return struct{}{}, s.tagged(r, in.ResourceArn, true, func(_ *core.Tx, t *TableRecord) error {
		merged := map[string]string{}
		for k, v := range t.Tags {
			merged[k] = v
		}
		for k, v := range add {
			merged[k] = v
		}
		if len(merged) > 50 {
			return core.Errorf("LimitExceededException", "The number of tags on the resource would exceed the limit of 50")
		}
		t.Tags = merged
		return nil
	})
}

func (s *Service) untagResource(r *core.Request) (any, error) {
	var in tagResourceInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		return nil, nullConstraint("tagKeys")
	}
	return struct{}{}, s.tagged(r, in.ResourceArn, true, func(_ *core.Tx, t *TableRecord) error {
		kept := map[string]string{}
		for k, v := range t.Tags {
			kept[k] = v
		}
		for _, k := range in.TagKeys {
			delete(kept, k)
		}
		t.Tags = kept
		return nil
	})
}

type tagOut struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func (s *Service) listTagsOfResource(r *core.Request) (any, error) {
	var in tagResourceInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	tags := []tagOut{}
	err := s.tagged(r, in.ResourceArn, false, func(_ *core.Tx, t *TableRecord) error {
		for k, v := range t.Tags {
			tags = append(tags, tagOut{Key: k, Value: v})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	return map[string]any{"Tags": tags}, nil
}
