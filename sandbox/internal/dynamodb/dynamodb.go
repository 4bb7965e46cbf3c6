// Package dynamodb emulates the DynamoDB API (JSON 1.0, X-Amz-Target
// "DynamoDB_20120810.<Op>") for the sandbox: tables with a lazily computed
// CREATING -> ACTIVE -> DELETING life cycle, tags, items with AWS's key,
// type and 400 KB size validation, and the full expression language
// (condition, filter, key condition, projection, update) through a real
// parser, so the unmodified SDKs and AWS CLI behave as against AWS,
// errors included.
//
// Tables live in the core store table "dynamodb.tables" keyed by
// account/region/name; items in "dynamodb.items" keyed by
// account/region/table/<hash>.<range>, where the key encodings sort like
// DynamoDB's key order (see keyEncoding), so Query walks a partition in
// sort-key order and Scan pages in a stable order.
package dynamodb

import (
	"bytes"
	"encoding/json"
	"errors"
	"hash/crc32"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

const (
	targetPrefix = "DynamoDB_20120810."
	nsDynamo     = "com.amazonaws.dynamodb.v20120810"
	nsValidate   = "com.amazon.coral.validate"
	nsCoral      = "com.amazon.coral.service"
)

// Service is the DynamoDB emulator.
type Service struct {
	c      *core.Core
	tables *core.Table[TableRecord]
	items  *core.Table[Item]
	// CreateDelay is how long a new table stays CREATING; DeleteDelay how
	// long a deleted one stays DELETING. Both are read when the change is
	// made and stored as timestamps, so status is computed lazily.
	CreateDelay, DeleteDelay time.Duration
}

// New registers the service's tables.
func New(c *core.Core) *Service {
	return &Service{
		c:           c,
		tables:      core.Register[TableRecord](c.Store, "dynamodb.tables"),
		items:       core.Register[Item](c.Store, "dynamodb.items"),
		CreateDelay: 300 * time.Millisecond,
		DeleteDelay: 300 * time.Millisecond,
	}
}

// Name implements core.Service.
func (s *Service) Name() string { return "dynamodb" }

type handler func(s *Service, r *core.Request) (any, error)

var handlers = map[string]handler{
	"CreateTable":        (*Service).createTable,
	"DescribeTable":      (*Service).describeTable,
	"ListTables":         (*Service).listTables,
	"DeleteTable":        (*Service).deleteTable,
	"TagResource":        (*Service).tagResource,
	"UntagResource":      (*Service).untagResource,
	"ListTagsOfResource": (*Service).listTagsOfResource,
	"PutItem":            (*Service).putItem,
	"GetItem":            (*Service).getItem,
	"DeleteItem":         (*Service).deleteItem,
	"UpdateItem":         (*Service).updateItem,
	"Query":              (*Service).query,
	"Scan":               (*Service).scan,
	"BatchGetItem":       (*Service).batchGetItem,
	"BatchWriteItem":     (*Service).batchWriteItem,
}

// Serve implements core.Service.
func (s *Service) Serve(r *core.Request) {
	target := r.HTTP.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, targetPrefix)
	h := handlers[op]
	if !ok || h == nil {
		writeError(r, core.Errorf("UnknownOperationException", "The sandbox's DynamoDB does not support the operation %q", target))
		return
	}
	r.Operation = op
	if r.HTTP.Method != http.MethodPost {
		writeError(r, core.Errorf("SerializationException", "DynamoDB requests must be POSTed"))
		return
	}
	out, err := h(s, r)
	if err != nil {
		writeError(r, err)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeError(r, err)
		return
	}
	write(r, http.StatusOK, b)
}

// write sends a body with the CRC32 header DynamoDB clients verify.
func write(r *core.Request, status int, body []byte) {
	r.W.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	core.WriteRaw(r, status, "application/x-amz-json-1.0", body)
}

// conditionFailed is ConditionalCheckFailedException, which carries the
// item when ReturnValuesOnConditionCheckFailure is ALL_OLD.
type conditionFailed struct{ item Item }

func (e *conditionFailed) Error() string {
	return "ConditionalCheckFailedException: The conditional request failed"
}

func writeError(r *core.Request, err error) {
	var item Item
	var cf *conditionFailed
	var e *core.Error
	if errors.As(err, &cf) {
		e = core.Errorf("ConditionalCheckFailedException", "The conditional request failed")
		item = cf.item
	} else {
		e = core.AsError(err)
	}
	ns := nsDynamo
	switch e.Code {
	case "ValidationException":
		ns = nsValidate
	case "SerializationException", "UnknownOperationException", "InternalFailure", "MissingAuthenticationToken":
		ns = nsCoral
	}
	b := []byte(`{"__type":`)
	b = appendJSONString(b, ns+"#"+e.Code)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, e.Message)
	if item != nil {
		b = append(b, `,"Item":`...)
		b = appendItemJSON(b, item)
	}
	b = append(b, '}')
	write(r, e.HTTPStatus(), b)
}

// decode reads a JSON body. Attribute value validation errors keep their
// ValidationException; anything else malformed is a SerializationException.
func decode(r *core.Request, v any) error {
	body := bytes.TrimSpace(r.Body)
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var ce *core.Error
		if errors.As(err, &ce) {
			return ce
		}
		return core.Errorf("SerializationException", "Unexpected JSON in the request body: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// legacyParams are the pre-expression parameters. The sandbox does not
// implement them and says so, rather than half-supporting them: the lab and
// its tools use expressions only.
type legacyParams struct {
	AttributesToGet     json.RawMessage `json:"AttributesToGet"`
	Expected            json.RawMessage `json:"Expected"`
	ConditionalOperator json.RawMessage `json:"ConditionalOperator"`
	AttributeUpdates    json.RawMessage `json:"AttributeUpdates"`
	KeyConditions       json.RawMessage `json:"KeyConditions"`
	QueryFilter         json.RawMessage `json:"QueryFilter"`
	ScanFilter          json.RawMessage `json:"ScanFilter"`
}

func (l *legacyParams) check() error {
	for _, p := range []struct {
		name, instead string
		raw           json.RawMessage
	}{
		{"AttributesToGet", "ProjectionExpression", l.AttributesToGet},
		{"Expected", "ConditionExpression", l.Expected},
		{"ConditionalOperator", "AND/OR inside the expression", l.ConditionalOperator},
		{"AttributeUpdates", "UpdateExpression", l.AttributeUpdates},
		{"KeyConditions", "KeyConditionExpression", l.KeyConditions},
		{"QueryFilter", "FilterExpression", l.QueryFilter},
		{"ScanFilter", "FilterExpression", l.ScanFilter},
	} {
		if len(p.raw) == 0 || string(p.raw) == "null" {
			continue
		}
		return validation("The sandbox does not support the legacy parameter %s; use %s instead", p.name, p.instead)
	}
	return nil
}

func constraint(value, field, rule string) *core.Error {
	return validation("1 validation error detected: Value %s at '%s' failed to satisfy constraint: %s", value, field, rule)
}

func nullConstraint(field string) *core.Error {
	return constraint("null", field, "Member must not be null")
}

func enumCheck(v *string, field string, allowed ...string) error {
	if v == nil {
		return nil
	}
	for _, a := range allowed {
		if *v == a {
			return nil
		}
	}
	return constraint("'"+*v+"'", field, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

var tableNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// tableName validates a TableName parameter, which may also be the table's
// ARN (AWS accepts both); an ARN of another account or region resolves to
// a name that cannot exist here.
func tableName(r *core.Request, name *string) (string, error) {
	if name == nil {
		return "", nullConstraint("tableName")
	}
	n := *name
	if strings.HasPrefix(n, "arn:") {
		scope, t, ok := parseTableArn(n)
		if !ok {
			return "", validation("Invalid TableArn: Invalid ResourceArn provided as input %s", n)
		}
		if scope != r.Scope {
			return "", notFound()
		}
		return t, nil
	}
	return n, checkTableName(n, "tableName")
}

func checkTableName(n, field string) error {
	switch {
	case len(n) < 3:
		return constraint("'"+n+"'", field, "Member must have length greater than or equal to 3")
	case len(n) > 255:
		return constraint("'"+n+"'", field, "Member must have length less than or equal to 255")
	case !tableNamePattern.MatchString(n):
		return constraint("'"+n+"'", field, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
	}
	return nil
}

func parseTableArn(arn string) (core.Scope, string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "dynamodb" || parts[3] == "" || parts[4] == "" {
		return core.Scope{}, "", false
	}
	name, ok := strings.CutPrefix(parts[5], "table/")
	if !ok || checkTableName(name, "tableName") != nil {
		return core.Scope{}, "", false
	}
	return core.Scope{Account: parts[4], Region: parts[3]}, name, true
}

func notFound() *core.Error {
	return core.Errorf("ResourceNotFoundException", "Requested resource not found")
}

func tableNotFound(name string) *core.Error {
	return core.Errorf("ResourceNotFoundException", "Requested resource not found: Table: %s not found", name)
}

// namedExpr is an expression parameter of a request, for the
// ExpressionAttributeNames/Values rules that depend on which are present.
type namedExpr struct {
	name string
	src  *string
}

var placeholderName = regexp.MustCompile(`^#[A-Za-z0-9_]+$`)
var placeholderValue = regexp.MustCompile(`^:[A-Za-z0-9_]+$`)

// makeEnv applies AWS's checks on ExpressionAttributeNames/Values before
// any expression is parsed.
func makeEnv(names map[string]string, values map[string]Value, exprs ...namedExpr) (*exprEnv, error) {
	present := false
	var nulls []string
	for _, e := range exprs {
		if e.src != nil {
			present = true
		} else {
			nulls = append(nulls, e.name+" is null")
		}
	}
	if names != nil && !present {
		return nil, validation("ExpressionAttributeNames can only be specified when using expressions")
	}
	if values != nil && !present {
		return nil, validation("ExpressionAttributeValues can only be specified when using expressions: %s", strings.Join(nulls, " and "))
	}
	if names != nil && len(names) == 0 {
		return nil, validation("ExpressionAttributeNames must not be empty")
	}
	if values != nil && len(values) == 0 {
		return nil, validation("ExpressionAttributeValues must not be empty")
	}
	for k := range names {
		if !placeholderName.MatchString(k) {
			return nil, validation("ExpressionAttributeNames contains invalid key: Syntax error; key: %q", k)
		}
	}
	for k := range values {
		if !placeholderValue.MatchString(k) {
			return nil, validation("ExpressionAttributeValues contains invalid key: Syntax error; key: %q", k)
		}
	}
	return newEnv(names, values), nil
}

// --- consumed capacity ---

type capacity struct {
	CapacityUnits float64 `json:"CapacityUnits"`
}

type consumedCapacity struct {
	TableName     string    `json:"TableName"`
	CapacityUnits float64   `json:"CapacityUnits"`
	Table         *capacity `json:"Table,omitempty"`
}

func checkCapacityParam(v *string) error {
	return enumCheck(v, "returnConsumedCapacity", "INDEXES", "TOTAL", "NONE")
}

// consumed reports capacity as AWS bills it when asked (TOTAL or INDEXES).
func consumed(mode *string, table string, units float64) *consumedCapacity {
	if mode == nil || (*mode != "TOTAL" && *mode != "INDEXES") {
		return nil
	}
	c := &consumedCapacity{TableName: table, CapacityUnits: units}
	if *mode == "INDEXES" {
		c.Table = &capacity{CapacityUnits: units}
	}
	return c
}

func writeUnits(size int) float64 { return float64(max(1, (size+1023)/1024)) }

func readUnits(size int, consistent *bool) float64 {
	u := float64(max(1, (size+4095)/4096))
	if consistent == nil || !*consistent {
		u /= 2
	}
	return u
}
