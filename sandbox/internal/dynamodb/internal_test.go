package dynamodb

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
)

func TestNumberCanonicalForm(t *testing.T) {
	cases := map[string]string{
		"0": "0", "-0": "0", "000.000": "0", "+5": "5", "5.": "5", ".5": "0.5", "0100.50": "100.5",
		"1e2": "100", "1.5E-3": "0.0015", "-12.3400e1": "-123.4", "9.9999999999999999999999999999999999999E+125": "9" + strings.Repeat("9", 37) + strings.Repeat("0", 88),
		"1E-130": "0." + strings.Repeat("0", 129) + "1", "0.000e999999999": "0",
	}
	for in, want := range cases {
		d, err := parseNumber(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := d.String(); got != want {
			t.Errorf("%s: got %s want %s", in, got, want)
		}
	}
	for in, msg := range map[string]string{
		"": "cannot be converted", "abc": "cannot be converted", "1e": "cannot be converted", "1.2.3": "cannot be converted", " 1": "cannot be converted",
		"1e+-2": "cannot be converted", "--1": "cannot be converted", "1e126": "Number overflow", "1E-131": "Number underflow",
		"1" + strings.Repeat("0", 37) + "1": "38 significant digits", "1e9999999999999": "Number overflow",
	} {
		if _, err := parseNumber(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: want %q, got %v", in, msg, err)
		}
	}
}

func TestNumberArithmetic(t *testing.T) {
	cases := []struct{ a, b, sum, diff string }{
		{"1", "2", "3", "-1"},
		{"0.1", "0.2", "0.3", "-0.1"},
		{"12345678901234567890123456789012345678", "1", "12345678901234567890123456789012345679", "12345678901234567890123456789012345677"},
		{"-5", "5", "0", "-10"},
		{"1e10", "1e-10", "10000000000.0000000001", "9999999999.9999999999"},
		{"0", "-7.25", "-7.25", "7.25"},
	}
	for _, c := range cases {
		a, _ := parseNumber(c.a)
		b, _ := parseNumber(c.b)
		sum, err := a.add(b, false)
		if err != nil || sum.String() != c.sum {
			t.Errorf("%s+%s = %s %v, want %s", c.a, c.b, sum, err, c.sum)
		}
		diff, err := a.add(b, true)
		if err != nil || diff.String() != c.diff {
			t.Errorf("%s-%s = %s %v, want %s", c.a, c.b, diff, err, c.diff)
		}
	}
	big, _ := parseNumber("9.9999999999999999999999999999999999999E+125")
	if _, err := big.add(big, false); err == nil {
		t.Fatal("overflow not reported")
	}
}

// TestKeyEncodingOrder: byte-wise order of encodings is numeric order,
// which is what makes Query return sort keys in order.
func TestKeyEncodingOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var nums []decimal
	for _, s := range []string{"0", "-0.001", "0.001", "1", "-1", "10", "9", "-10", "-9", "0.12", "0.123", "-0.12", "-0.123", "1e125", "-1e125", "1e-129", "-1e-129"} {
		d, _ := parseNumber(s)
		nums = append(nums, d)
	}
	for i := 0; i < 2000; i++ {
		s := fmt.Sprintf("%d.%de%d", r.IntN(2000)-1000, r.IntN(1000), r.IntN(40)-20)
		d, err := parseNumber(s)
		if err != nil {
			t.Fatal(s, err)
		}
		nums = append(nums, d)
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i].cmp(nums[j]) < 0 })
	for i := 1; i < len(nums); i++ {
		a, b := nums[i-1], nums[i]
		ea, eb := a.keyEncoding(), b.keyEncoding()
		switch c := a.cmp(b); {
		case c == 0 && ea != eb, c < 0 && ea >= eb:
			t.Fatalf("%s (%s) vs %s (%s)", a, ea, b, eb)
		}
		if strings.Contains(ea, ".") {
			t.Fatalf("encoding %q contains the hash separator", ea)
		}
	}
}

func TestValueJSONRoundTrip(t *testing.T) {
	in := `{"B":{"B":"AAH/"},"BS":{"BS":["AQ==","Ag=="]},"L":{"L":[{"N":"1.50"},{"NULL":true},{"M":{}}]},"b":{"BOOL":false},"s":{"S":"\u0000\"é"}}`
	var it Item
	if err := json.Unmarshal([]byte(in), &it); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(it)
	var again Item
	if err := json.Unmarshal(out, &again); err != nil {
		t.Fatal(err)
	}
	for k, v := range it {
		if !v.Equal(again[k]) {
			t.Fatalf("%s: %s != %s", k, v.describe(), again[k].describe())
		}
	}
	if !strings.Contains(string(out), `{"N":"1.5"}`) || it["B"].S != "\x00\x01\xff" {
		t.Fatalf("round trip %s", out)
	}
	var v Value
	for raw, msg := range map[string]string{
		`{}`:                     "Supplied AttributeValue is empty",
		`{"S":"a","N":"1"}`:      "more than one datatypes",
		`{"NULL":false}`:         "Null attribute value types must have the value of true",
		`{"BS":[]}`:              "Binary sets should not be empty",
		`{"SS":["a","a"]}`:       "Input collection [a, a] contains duplicates.",
		`{"M":{"x":{"N":"z"}}}`:  "cannot be converted into a number",
		`{"L":[{"FOO":"bar"}]}`:  "Supplied AttributeValue is empty",
		`{"NS":["1","1.00"]}`:    "Input collection contains duplicates",
		`{"BS":["AQ==","AQ=="]}`: "Input collection [AQ==, AQ==]of type BS contains duplicates.",
	} {
		err := json.Unmarshal([]byte(raw), &v)
		var ce *core.Error
		if !errors.As(err, &ce) || ce.Code != "ValidationException" || !strings.Contains(ce.Message, msg) {
			t.Errorf("%s: want %q, got %v", raw, msg, err)
		}
	}
}

func TestItemSizeAccounting(t *testing.T) {
	it := Item{
		"s":  Str("abc"),                         // 1 + 3
		"n":  Num("123.45"),                      // 1 + 5 digits -> 3+1 = 4
		"b":  {T: TypeBOOL, BOOL: true},          // 1 + 1
		"l":  {T: TypeL, L: []Value{Str("x")}},   // 1 + 3 + (1+1)
		"m":  {T: TypeM, M: Item{"k": Str("v")}}, // 1 + 3 + (1+1+1)
		"ss": {T: TypeSS, Set: []string{"a", "bc"}},
	}
	if got, want := itemSize(it), 4+5+2+6+7+5; got != want {
		t.Fatalf("size %d want %d", got, want)
	}
}

// FuzzExpression feeds arbitrary text to every expression parser and
// evaluates whatever parses: nothing may panic, and every rejection must be
// a ValidationException.
func FuzzExpression(f *testing.F) {
	for _, seed := range []string{
		"begins_with(id, :prefix)", "attribute_not_exists(id)", "#a = :v AND (b < :v OR NOT c.d[0] BETWEEN :v AND :v)",
		"a IN (:v, :s, :l)", "size(l) > :v", "contains(l, :s)", "SET a = a + :v, b = if_not_exists(b, :v) REMOVE c[0] ADD d :v DELETE e :ss",
		"SET l = list_append(l, :l), m.x.y = :s", "a, b.c, l[1], #a", "((a = :v))", "a-b", "", ")", "NOT NOT NOT a = :v",
		"SET #a[3] = :s", "attribute_type(a, :t)", "a <> :m", "SET a = :v - a", "l[99999999999999999999] = :v", "m.#a.#a.#a = :v",
		"\x00", "é = :v", "a[1][2][3].b = :v", "SET a=:v,", "REMOVE a, a", ":v = :v", "size(#a) <= size(l)",
	} {
		f.Add(seed)
	}
	names := map[string]string{"#a": "a", "#b": "b"}
	values := map[string]Value{
		":v": Num("1"), ":s": Str("x"), ":t": Str("N"), ":prefix": Str("sum"),
		":l":  {T: TypeL, L: []Value{Num("2"), Str("y")}},
		":m":  {T: TypeM, M: Item{"k": Str("v")}},
		":ss": {T: TypeSS, Set: []string{"x", "z"}},
	}
	sample := func() Item {
		return Item{
			"id": Str("summary-1"), "a": Num("5"), "b": Str("bee"),
			"c": {T: TypeL, L: []Value{Num("1"), {T: TypeM, M: Item{"d": Num("3")}}}},
			"d": Num("10"), "e": {T: TypeSS, Set: []string{"x", "y"}},
			"l": {T: TypeL, L: []Value{Str("x")}}, "m": {T: TypeM, M: Item{"a": {T: TypeM, M: Item{}}}},
		}
	}
	isValidation := func(t *testing.T, err error) {
		var ce *core.Error
		if !errors.As(err, &ce) || ce.Code != "ValidationException" {
			t.Fatalf("want ValidationException, got %v", err)
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, kind := range []string{kindCondition, kindFilter, kindKey} {
			c, err := parseCondition(kind, src, newEnv(names, values))
			if err != nil {
				isValidation(t, err)
				continue
			}
			c.eval(sample())
			c.eval(Item{})
			_, _ = analyseKeyCondition(c, keyDef{hash: "id", hashT: TypeS, rng: "a", rngT: TypeN})
		}
		if actions, err := parseUpdate(src, newEnv(names, values)); err != nil {
			isValidation(t, err)
		} else {
			old := sample()
			if _, err := applyUpdate(old, actions); err != nil {
				isValidation(t, err)
			}
			if !old["c"].Equal(sample()["c"]) {
				t.Fatal("applyUpdate modified the stored item")
			}
		}
		if paths, err := parseProjection(src, newEnv(names, values)); err != nil {
			isValidation(t, err)
		} else {
			project(sample(), paths)
		}
	})
}

// FuzzRequest sends arbitrary bodies to every operation: the service must
// never panic or answer 500, and every error must be one of the modelled
// DynamoDB errors (malformed JSON being a SerializationException).
func FuzzRequest(f *testing.F) {
	ops := make([]string, 0, len(handlers))
	for op := range handlers {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	c := core.New()
	svc := New(c)
	svc.CreateDelay, svc.DeleteDelay = 0, 0
	serve := func(op, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		hr := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		hr.Header.Set("X-Amz-Target", targetPrefix+op)
		svc.Serve(&core.Request{W: rec, HTTP: hr, Body: []byte(body), Scope: core.Scope{Account: core.DefaultAccount, Region: "us-east-1"}, Core: c, RequestID: "fuzz"})
		return rec
	}
	serve("CreateTable", `{"TableName":"t1","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`)
	serve("CreateTable", `{"TableName":"t2","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST"}`)
	serve("PutItem", `{"TableName":"t1","Item":{"id":{"S":"a"},"n":{"N":"1"},"l":{"L":[{"S":"x"}]}}}`)
	serve("PutItem", `{"TableName":"t2","Item":{"pk":{"S":"p"},"sk":{"N":"1"}}}`)

	for i, seed := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"TableName":5}`, `{"TableName":"t1"`, `{"TableName":"t1","Key":{"id":{"S":"a"}}}`,
		`{"TableName":"t1","Item":{"id":{"S":"b"},"x":{"SS":[]}}}`, `{"TableName":"t1","Item":{"id":{"N":"1e999"}}}`,
		`{"TableName":"t2","KeyConditionExpression":"pk = :p AND sk BETWEEN :a AND :b","ExpressionAttributeValues":{":p":{"S":"p"},":a":{"N":"0"},":b":{"N":"5"}}}`,
		`{"TableName":"t1","FilterExpression":"begins_with(id, :x)","ExpressionAttributeValues":{":x":{"S":"a"}},"Limit":1}`,
		`{"TableName":"t1","Key":{"id":{"S":"a"}},"UpdateExpression":"SET n = n + :one ADD s :ss","ExpressionAttributeValues":{":one":{"N":"1"},":ss":{"SS":["q"]}},"ReturnValues":"UPDATED_NEW"}`,
		`{"RequestItems":{"t1":[{"PutRequest":{"Item":{"id":{"S":"z"}}}},{"DeleteRequest":{"Key":{"id":{"S":"a"}}}}]}}`,
		`{"RequestItems":{"t1":{"Keys":[{"id":{"S":"a"}}],"ProjectionExpression":"l[0]"}}}`,
		`{"ResourceArn":"arn:aws:dynamodb:us-east-1:000000000000:table/t1","Tags":[{"Key":"k","Value":"v"}]}`,
		`{"TableName":"t1","ExclusiveStartKey":{"id":{"B":"AA=="}},"Segment":0,"TotalSegments":2}`,
		`{"TableName":"t9","AttributeDefinitions":[],"KeySchema":[{"AttributeName":"id","KeyType":"RANGE"}]}`,
		`{"TableName":"t1","Item":{"id":{"S":"c"},"m":{"M":{"a":{"L":[{"M":{"b":{"NULL":true}}}]}}}},"ConditionExpression":"attribute_not_exists(id)"}`,
		`{"Limit":0}`, `{"TableName":"t1","Key":{"id":{"S":"a"}},"ProjectionExpression":"#a","ExpressionAttributeNames":{"#a":"n","#b":"x"}}`,
	} {
		f.Add(uint8(i), seed)
		f.Add(uint8(i*7+3), seed)
	}
	known := map[string]bool{"ValidationException": true, "SerializationException": true, "ResourceNotFoundException": true,
		"ResourceInUseException": true, "ConditionalCheckFailedException": true, "LimitExceededException": true}
	f.Fuzz(func(t *testing.T, opIndex uint8, body string) {
		op := ops[int(opIndex)%len(ops)]
		if op == "DeleteTable" {
			// Keep the seeded tables so later inputs reach item code.
			op = "DescribeTable"
		}
		rec := serve(op, body)
		if rec.Code == http.StatusOK {
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s: invalid JSON response %q", op, rec.Body.String())
			}
			return
		}
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			t.Fatalf("%s: status %d body %q", op, rec.Code, rec.Body.String())
		}
		code := e.Type[strings.LastIndex(e.Type, "#")+1:]
		if rec.Code != http.StatusBadRequest || !known[code] {
			t.Fatalf("%s %q: status %d %s: %s", op, body, rec.Code, e.Type, e.Message)
		}
	})
}

// TestPersistenceRoundTrip: tables and items survive a restart through the
// store's journal, which encodes items in the wire form.
func TestPersistenceRoundTrip(t *testing.T) {
	dir := t.TempDir()
	open := func() (*core.Core, *Service) {
		c := core.New()
		svc := New(c)
		svc.CreateDelay = 0
		if err := c.Store.Open(dir); err != nil {
			t.Fatal(err)
		}
		return c, svc
	}
	serve := func(c *core.Core, svc *Service, op, body string) string {
		rec := httptest.NewRecorder()
		hr := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		hr.Header.Set("X-Amz-Target", targetPrefix+op)
		svc.Serve(&core.Request{W: rec, HTTP: hr, Body: []byte(body), Scope: core.Scope{Account: core.DefaultAccount, Region: "us-east-1"}, Core: c})
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", op, rec.Code, rec.Body.String())
		}
		return rec.Body.String()
	}
	c, svc := open()
	serve(c, svc, "CreateTable", `{"TableName":"kept","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"B"},{"AttributeName":"sk","AttributeType":"N"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST","Tags":[{"Key":"k","Value":"v"}]}`)
	item := `{"pk":{"B":"AP8="},"sk":{"N":"-1.5"},"m":{"M":{"l":{"L":[{"NS":["1","2"]},{"NULL":true},{"BOOL":true}]},"s":{"S":"é\u0000"}}}}`
	serve(c, svc, "PutItem", `{"TableName":"kept","Item":`+item+`}`)
	if err := c.Store.Close(); err != nil {
		t.Fatal(err)
	}
	c2, svc2 := open()
	got := serve(c2, svc2, "GetItem", `{"TableName":"kept","Key":{"pk":{"B":"AP8="},"sk":{"N":"-1.50"}}}`)
	var out struct{ Item Item }
	var want Item
	if err := json.Unmarshal([]byte(got), &out); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(item), &want)
	if !(Value{T: TypeM, M: out.Item}).Equal(Value{T: TypeM, M: want}) {
		t.Fatalf("after restart: %s", got)
	}
	if d := serve(c2, svc2, "DescribeTable", `{"TableName":"kept"}`); !strings.Contains(d, `"TableStatus":"ACTIVE"`) || !strings.Contains(d, `"ItemCount":1`) {
		t.Fatalf("describe after restart: %s", d)
	}
	_ = c2.Store.Close()
}

// TestWireProtocol checks what the SDKs never let a test send: unknown
// targets, malformed bodies, missing members, and the response headers.
func TestWireProtocol(t *testing.T) {
	c := core.New()
	svc := New(c)
	svc.CreateDelay = 0
	srv := httptest.NewServer(core.NewHandler(c, core.HandlerOptions{Services: []core.Service{svc}}))
	defer srv.Close()
	call := func(target, body string) (int, http.Header, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		sbtest.Sign(t, req, []byte(body), "dynamodb", core.DefaultAccessKey, core.DefaultSecretKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, resp.Header, v
	}
	status, h, v := call("DynamoDB_20120810.ListTables", `{}`)
	if status != 200 || h.Get("X-Amz-Crc32") == "" || h.Get("Content-Type") != "application/x-amz-json-1.0" || h.Get("x-amzn-RequestId") == "" {
		t.Fatalf("ListTables: %d %v %v", status, h, v)
	}
	for _, c := range []struct{ target, body, typ, msg string }{
		{"DynamoDB_20120810.Nope", `{}`, "com.amazon.coral.service#UnknownOperationException", "Nope"},
		{"DynamoDB_20120810.DescribeTable", `{"TableName":`, "com.amazon.coral.service#SerializationException", ""},
		{"DynamoDB_20120810.DescribeTable", `{"TableName":7}`, "com.amazon.coral.service#SerializationException", ""},
		{"DynamoDB_20120810.DescribeTable", ``, "com.amazon.coral.validate#ValidationException", "Value null at 'tableName' failed to satisfy constraint: Member must not be null"},
		{"DynamoDB_20120810.DescribeTable", `{"TableName":"no such"}`, "com.amazon.coral.validate#ValidationException", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"DynamoDB_20120810.DescribeTable", `{"TableName":"absent"}`, "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "Requested resource not found: Table: absent not found"},
		{"DynamoDB_20120810.PutItem", `{"TableName":"absent","Item":{"id":{}}}`, "com.amazon.coral.validate#ValidationException", "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
	} {
		status, _, v := call(c.target, c.body)
		if status != 400 || v["__type"] != c.typ || !strings.Contains(fmt.Sprint(v["message"]), c.msg) {
			t.Errorf("%s %s: %d %v", c.target, c.body, status, v)
		}
	}
}
