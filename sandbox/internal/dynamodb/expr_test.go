package dynamodb_test

import (
	"errors"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// exprItems is the data set the expression cases filter.
func exprItems() []map[string]types.AttributeValue {
	return []map[string]types.AttributeValue{
		{
			"id": s("summary-001"), "type": s("summary"), "n": n("5"), "name": s("alpha"),
			"tags": &types.AttributeValueMemberSS{Value: []string{"red", "blue"}},
			"nums": &types.AttributeValueMemberNS{Value: []string{"1", "2"}},
			"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"b": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"c": s("deep")}}}},
			}}}},
			"l":    &types.AttributeValueMemberL{Value: []types.AttributeValue{s("x"), n("2"), &types.AttributeValueMemberBOOL{Value: true}}},
			"flag": &types.AttributeValueMemberBOOL{Value: true}, "nul": &types.AttributeValueMemberNULL{Value: true},
			"bin": &types.AttributeValueMemberB{Value: []byte{1, 2}}, "price": n("10.50"),
		},
		{
			"id": s("summary-002"), "type": s("summary"), "n": n("15"), "name": s("beta"),
			"tags": &types.AttributeValueMemberSS{Value: []string{"green"}},
			"l":    &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
			"m":    &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}}},
			// 21 significant digits: float64 cannot tell it from the bound below.
			"price": n("9.99999999999999999999"),
		},
		{"id": s("bucket-file.json-1"), "type": s("file"), "n": n("-3"), "name": s("gamma"), "content": s("hello world"), "price": n("100")},
		{"id": s("bucket-file.json-2"), "type": s("file"), "n": n("0"), "name": s("alphabet"), "price": n("1e2")},
	}
}

var exprNames = map[string]string{"#t": "type", "#name": "name", "#ts": "timestamp"}

func TestExpressions(t *testing.T) {
	f := start(t, 0, 0)
	f.hashTable(t, "expr")
	for _, it := range exprItems() {
		f.put(t, "expr", it)
	}
	const (
		s1 = "summary-001"
		s2 = "summary-002"
		f1 = "bucket-file.json-1"
		f2 = "bucket-file.json-2"
	)
	type vals = map[string]types.AttributeValue
	cases := []struct {
		expr   string
		values vals
		want   []string // matching ids; nil with err set
		err    string
	}{
		// The lab's summary check.
		{"begins_with(id, :prefix)", vals{":prefix": s("summary-")}, []string{s1, s2}, ""},
		{"#t = :t", vals{":t": s("summary")}, []string{s1, s2}, ""},
		{"n > :v", vals{":v": n("5")}, []string{s2}, ""},
		{"n >= :v", vals{":v": n("5")}, []string{s1, s2}, ""},
		{"n < :v", vals{":v": n("0")}, []string{f1}, ""},
		{"n <= :v", vals{":v": n("0")}, []string{f1, f2}, ""},
		{"n <> :v", vals{":v": n("5")}, []string{s2, f1, f2}, ""},
		{"n BETWEEN :a AND :b", vals{":a": n("-3"), ":b": n("5")}, []string{s1, f1, f2}, ""},
		{"n IN (:a, :b)", vals{":a": n("15"), ":b": n("0")}, []string{s2, f2}, ""},
		{"#t = :t AND n > :v", vals{":t": s("summary"), ":v": n("10")}, []string{s2}, ""},
		{"#t = :f OR n = :v", vals{":f": s("file"), ":v": n("5")}, []string{s1, f1, f2}, ""},
		{"NOT #t = :t", vals{":t": s("summary")}, []string{f1, f2}, ""},
		{"not #t = :t", vals{":t": s("summary")}, []string{f1, f2}, ""},
		// AND binds tighter than OR.
		{"#t = :f OR #t = :t AND n > :v", vals{":f": s("file"), ":t": s("summary"), ":v": n("10")}, []string{s2, f1, f2}, ""},
		{"(#t = :f OR #t = :t) AND n > :v", vals{":f": s("file"), ":t": s("summary"), ":v": n("10")}, []string{s2}, ""},
		// NOT binds tighter than AND.
		{"NOT n > :v AND #t = :t", vals{":t": s("summary"), ":v": n("10")}, []string{s1}, ""},
		{"(n = :v)", vals{":v": n("5")}, []string{s1}, ""},
		{"(#t = :t) AND (n = :v)", vals{":t": s("summary"), ":v": n("5")}, []string{s1}, ""},
		{"attribute_exists(content)", nil, []string{f1}, ""},
		{"attribute_not_exists(content)", nil, []string{s1, s2, f2}, ""},
		{"attribute_type(tags, :ss)", vals{":ss": s("SS")}, []string{s1, s2}, ""},
		{"attribute_type(n, :s)", vals{":s": s("S")}, []string{}, ""},
		{"contains(tags, :red)", vals{":red": s("red")}, []string{s1}, ""},
		{"contains(content, :sub)", vals{":sub": s("world")}, []string{f1}, ""},
		{"contains(l, :two)", vals{":two": n("2")}, []string{s1}, ""},
		{"contains(nums, :one)", vals{":one": n("1.0")}, []string{s1}, ""},
		{"size(tags) = :two", vals{":two": n("2")}, []string{s1}, ""},
		{"size(#name) > :v", vals{":v": n("5")}, []string{f2}, ""},
		{"size(l) = :zero", vals{":zero": n("0")}, []string{s2}, ""},
		{"m.a.b[0].c = :deep", vals{":deep": s("deep")}, []string{s1}, ""},
		{"m.a.b[1].c = :deep", vals{":deep": s("deep")}, []string{}, ""},
		{"attribute_exists(m.a)", nil, []string{s1, s2}, ""},
		{"#name < :b", vals{":b": s("b")}, []string{s1, f2}, ""},
		// Numbers compare by value, not by string, and beyond float64.
		{"price = :p", vals{":p": n("100.000")}, []string{f1, f2}, ""},
		{"price > :p", vals{":p": n("9.99999999999999999999")}, []string{s1, f1, f2}, ""},
		{"price < :p", vals{":p": n("9.999999999999999999991")}, []string{s2}, ""},
		{"flag = :true", vals{":true": &types.AttributeValueMemberBOOL{Value: true}}, []string{s1}, ""},
		{"nul = :null", vals{":null": &types.AttributeValueMemberNULL{Value: true}}, []string{s1}, ""},
		{"bin = :bin", vals{":bin": &types.AttributeValueMemberB{Value: []byte{1, 2}}}, []string{s1}, ""},
		{"begins_with(bin, :b1)", vals{":b1": &types.AttributeValueMemberB{Value: []byte{1}}}, []string{s1}, ""},
		// Different types never compare equal.
		{"n = :s", vals{":s": s("5")}, []string{}, ""},
		{"#name <> :a", vals{":a": s("alpha")}, []string{s2, f1, f2}, ""},
		// <> is true when the attribute is missing.
		{"absent <> :a", vals{":a": s("alpha")}, []string{s1, s2, f1, f2}, ""},
		{"tags = :set", vals{":set": &types.AttributeValueMemberSS{Value: []string{"blue", "red"}}}, []string{s1}, ""},

		// Errors, with AWS's texts.
		{"n = :undefined", vals{":v": n("1")}, nil, "An expression attribute value used in expression is not defined; attribute value: :undefined"},
		{"n = :a", vals{":a": n("1"), ":b": n("2")}, nil, "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}"},
		{"#undefined = :v", vals{":v": n("1")}, nil, "An expression attribute name used in the document path is not defined; attribute name: #undefined"},
		{"n =", nil, nil, `Invalid FilterExpression: Syntax error; token: "<EOF>", near: "="`},
		{"a-b", nil, nil, `Invalid FilterExpression: Syntax error; token: "-", near: "a-b"`},
		{"n = :v AND", vals{":v": n("1")}, nil, `Invalid FilterExpression: Syntax error; token: "<EOF>", near: "AND"`},
		{"size(n)", nil, nil, `Invalid FilterExpression: Syntax error; token: "<EOF>", near: ")"`},
		{"()", nil, nil, `Invalid FilterExpression: Syntax error; token: ")", near: "()"`},
		{"((n = :v))", vals{":v": n("1")}, nil, "Invalid FilterExpression: The expression has redundant parentheses;"},
		{"#ts = :v OR timestamp = :v", vals{":v": n("1")}, nil, "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: timestamp"},
		{"foo(n)", nil, nil, "Invalid FilterExpression: Invalid function name; function: foo"},
		{"BEGINS_WITH(id, :p)", vals{":p": s("x")}, nil, "Invalid function name; function: BEGINS_WITH"},
		{"begins_with(id, :num)", vals{":num": n("1")}, nil, "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"},
		{"n BETWEEN :b AND :a", vals{":a": n("-3"), ":b": n("15")}, nil, "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:15}, upper bound operand: AttributeValue: {N:-3}"},
		{"attribute_exists(:v)", vals{":v": n("1")}, nil, "Operator or function requires a document path; operator or function: attribute_exists"},
		{"n < :m", vals{":m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}}, nil, "Incorrect operand type for operator or function; operator or function: <, operand type: M"},
		{"attribute_type(n, :x)", vals{":x": s("X")}, nil, "Invalid attribute type name found; type: X"},
		{"begins_with(id)", nil, nil, "Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"},
		{"n = size(:v)", vals{":v": s("x")}, nil, "Operator or function requires a document path; operator or function: size"},
		{"  ", nil, nil, "Invalid FilterExpression: The expression can not be empty;"},
	}
	placeholder := regexp.MustCompile(`#[A-Za-z0-9_]+`)
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			var names map[string]string
			for _, p := range placeholder.FindAllString(c.expr, -1) {
				if v, ok := exprNames[p]; ok {
					if names == nil {
						names = map[string]string{}
					}
					names[p] = v
				}
			}
			out, err := f.cli.Scan(ctx, &dynamodb.ScanInput{
				TableName:                 aws.String("expr"),
				FilterExpression:          aws.String(c.expr),
				ExpressionAttributeNames:  names,
				ExpressionAttributeValues: c.values,
			})
			if c.err != "" {
				wantCode(t, err, "ValidationException", c.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, it := range out.Items {
				got = append(got, str(it["id"]))
			}
			sort.Strings(got)
			want := append([]string{}, c.want...)
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("got %v, want %v", got, want)
			}
			if int(out.Count) != len(want) || out.ScannedCount != 4 {
				t.Fatalf("count %d scanned %d", out.Count, out.ScannedCount)
			}
		})
	}

	// The same language guards writes.
	conds := []struct {
		cond   string
		values vals
		ok     bool
	}{
		{"attribute_not_exists(id)", nil, false},
		{"attribute_exists(id)", nil, true},
		{"n = :v", vals{":v": n("5.0")}, true},
		{"n > :v", vals{":v": n("5")}, false},
		{"contains(tags, :c) AND size(l) = :three", vals{":c": s("blue"), ":three": n("3")}, true},
	}
	for _, c := range conds {
		t.Run("put if "+c.cond, func(t *testing.T) {
			item := exprItems()[0]
			_, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("expr"), Item: item, ConditionExpression: aws.String(c.cond), ExpressionAttributeValues: c.values})
			var ccf *types.ConditionalCheckFailedException
			if c.ok && err != nil || !c.ok && !errors.As(err, &ccf) {
				t.Fatalf("want ok=%v, got %v", c.ok, err)
			}
		})
	}
	// attribute_not_exists(id) lets the first write of a key through.
	if _, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("expr"), Item: map[string]types.AttributeValue{"id": s("new")}, ConditionExpression: aws.String("attribute_not_exists(id)")}); err != nil {
		t.Fatal(err)
	}
}

func TestProjectionExpressions(t *testing.T) {
	f := start(t, 0, 0)
	f.hashTable(t, "proj")
	f.put(t, "proj", exprItems()[0])
	get := func(expr string, names map[string]string) (map[string]types.AttributeValue, error) {
		out, err := f.cli.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("proj"), Key: map[string]types.AttributeValue{"id": s("summary-001")},
			ProjectionExpression: aws.String(expr), ExpressionAttributeNames: names})
		if err != nil {
			return nil, err
		}
		return out.Item, nil
	}
	it, err := get("l[2], l[0], m.a.b[0].c, nonexistent", nil)
	if err != nil {
		t.Fatal(err)
	}
	l := it["l"].(*types.AttributeValueMemberL).Value
	if len(it) != 2 || len(l) != 2 || str(l[0]) != "x" {
		t.Fatalf("projection %#v", it)
	}
	c := it["m"].(*types.AttributeValueMemberM).Value["a"].(*types.AttributeValueMemberM).Value["b"].(*types.AttributeValueMemberL).Value[0].(*types.AttributeValueMemberM).Value["c"]
	if str(c) != "deep" {
		t.Fatalf("nested %#v", c)
	}
	it, err = get("nonexistent", nil)
	if err != nil || it == nil || len(it) != 0 {
		t.Fatalf("empty projection of an existing item: %v %v", it, err)
	}
	_, err = get("m, m.a", nil)
	wantCode(t, err, "ValidationException", "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [m], path two: [m, a]")
	_, err = get("#t", map[string]string{"#t": "type", "#x": "unused"})
	wantCode(t, err, "ValidationException", "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}")
	_, err = get("id, :v", nil)
	wantCode(t, err, "ValidationException", `Invalid ProjectionExpression: Syntax error; token: ":v", near: ", :v"`)
}
