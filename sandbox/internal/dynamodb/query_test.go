package dynamodb_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// seedRange writes partitions "a" and "b" with numeric sort keys -5..14
// (20 items each) and a string table with sort keys in byte order.
func seedRange(t *testing.T, f *fixture) {
	t.Helper()
	f.rangeTable(t, "events", types.ScalarAttributeTypeN)
	for _, pk := range []string{"a", "b"} {
		for i := -5; i < 15; i++ {
			f.put(t, "events", map[string]types.AttributeValue{"pk": s(pk), "sk": n(fmt.Sprint(i)), "even": &types.AttributeValueMemberBOOL{Value: i%2 == 0}})
		}
	}
	f.rangeTable(t, "names", types.ScalarAttributeTypeS)
	for _, sk := range []string{"log#2024-01", "log#2024-02", "log#2025-01", "meta", "Z", "a", "é"} {
		f.put(t, "names", map[string]types.AttributeValue{"pk": s("p"), "sk": s(sk)})
	}
}

func sks(items []map[string]types.AttributeValue) string {
	var out []string
	for _, it := range items {
		out = append(out, str(it["sk"]))
	}
	return strings.Join(out, ",")
}

func TestQueryKeyConditions(t *testing.T) {
	f := start(t, 0, 0)
	seedRange(t, f)
	type vals = map[string]types.AttributeValue
	cases := []struct {
		table, expr string
		values      vals
		forward     bool
		want        string
	}{
		{"events", "pk = :pk AND sk = :v", vals{":pk": s("a"), ":v": n("3")}, true, "3"},
		{"events", "pk = :pk AND sk < :v", vals{":pk": s("a"), ":v": n("-2")}, true, "-5,-4,-3"},
		{"events", "pk = :pk AND sk <= :v", vals{":pk": s("a"), ":v": n("-3")}, true, "-5,-4,-3"},
		{"events", "pk = :pk AND sk > :v", vals{":pk": s("b"), ":v": n("11")}, true, "12,13,14"},
		{"events", "pk = :pk AND sk >= :v", vals{":pk": s("b"), ":v": n("12")}, false, "14,13,12"},
		// Numeric order, not string order: 9 < 10, -1 < 0.
		{"events", "pk = :pk AND sk BETWEEN :lo AND :hi", vals{":pk": s("a"), ":lo": n("-1"), ":hi": n("10")}, true, "-1,0,1,2,3,4,5,6,7,8,9,10"},
		{"events", "#p = :pk AND #s BETWEEN :lo AND :hi", vals{":pk": s("a"), ":lo": n("8.5"), ":hi": n("10.0")}, false, "10,9"},
		{"names", "pk = :pk AND begins_with(sk, :pre)", vals{":pk": s("p"), ":pre": s("log#2024")}, true, "log#2024-01,log#2024-02"},
		// Byte order: uppercase before lowercase before multi-byte UTF-8.
		{"names", "pk = :pk", vals{":pk": s("p")}, true, "Z,a,log#2024-01,log#2024-02,log#2025-01,meta,é"},
		{"names", "pk = :pk AND sk > :v", vals{":pk": s("p"), ":v": s("log#2025")}, true, "log#2025-01,meta,é"},
		{"names", "pk = :pk", vals{":pk": s("nobody")}, true, ""},
	}
	for _, c := range cases {
		t.Run(c.expr+fmt.Sprint(c.values[":v"]), func(t *testing.T) {
			var names map[string]string
			if strings.Contains(c.expr, "#p") {
				names = map[string]string{"#p": "pk", "#s": "sk"}
			}
			out, err := f.cli.Query(ctx, &dynamodb.QueryInput{
				TableName: aws.String(c.table), KeyConditionExpression: aws.String(c.expr),
				ExpressionAttributeValues: c.values, ExpressionAttributeNames: names, ScanIndexForward: aws.Bool(c.forward),
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := sks(out.Items); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}

	errCases := []struct {
		expr   string
		values vals
		filter string
		msg    string
	}{
		{"sk = :v", vals{":v": n("1")}, "", "Query condition missed key schema element: pk"},
		{"pk = :pk OR sk = :v", vals{":pk": s("a"), ":v": n("1")}, "", "Invalid operator used in KeyConditionExpression: OR"},
		{"pk > :pk", vals{":pk": s("a")}, "", "Query key condition not supported"},
		{"pk = :pk AND sk = :v AND sk > :v", vals{":pk": s("a"), ":v": n("1")}, "", "Query key condition not supported"},
		{"pk = :pk AND pk = :pk", vals{":pk": s("a")}, "", "KeyConditionExpressions must only contain one condition per key"},
		{"pk = :pk AND attr = :v", vals{":pk": s("a"), ":v": n("1")}, "", "Query condition missed key schema element: sk"},
		{"pk = :v", vals{":v": n("1")}, "", "One or more parameter values were invalid: Condition parameter type does not match schema type"},
		{"pk = :pk AND begins_with(sk, :v)", vals{":pk": s("a"), ":v": n("1")}, "", "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"},
		{"pk = :pk", vals{":pk": s("a"), ":v": n("1")}, "sk > :v", "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"},
		{"pk = :pk AND sk = ", vals{":pk": s("a")}, "", `Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "= "`},
	}
	for _, c := range errCases {
		t.Run("error "+c.expr, func(t *testing.T) {
			in := &dynamodb.QueryInput{TableName: aws.String("events"), KeyConditionExpression: aws.String(c.expr), ExpressionAttributeValues: c.values}
			if c.filter != "" {
				in.FilterExpression = aws.String(c.filter)
			}
			_, err := f.cli.Query(ctx, in)
			wantCode(t, err, "ValidationException", c.msg)
		})
	}
	_, err := f.cli.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("events"), IndexName: aws.String("by-x"),
		KeyConditionExpression: aws.String("pk = :pk"), ExpressionAttributeValues: vals{":pk": s("a")}})
	wantCode(t, err, "ValidationException", "The table does not have the specified index: by-x")
}

func TestQueryPaginationFilterAndCount(t *testing.T) {
	f := start(t, 0, 0)
	seedRange(t, f)
	// Limit counts evaluated items; the filter applies afterwards, so pages
	// may hold fewer items than Limit (even none) while paging continues.
	p := dynamodb.NewQueryPaginator(f.cli, &dynamodb.QueryInput{
		TableName: aws.String("events"), KeyConditionExpression: aws.String("pk = :pk"), FilterExpression: aws.String("even = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("a"), ":t": &types.AttributeValueMemberBOOL{Value: true}},
		Limit:                     aws.Int32(3), ScanIndexForward: aws.Bool(false),
	})
	var got []string
	pages, scanned := 0, int32(0)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		scanned += out.ScannedCount
		if out.ScannedCount > 3 || int(out.Count) != len(out.Items) {
			t.Fatalf("page %d: count %d scanned %d items %d", pages, out.Count, out.ScannedCount, len(out.Items))
		}
		if sk := sks(out.Items); sk != "" {
			got = append(got, sk)
		}
	}
	if pages < 7 || scanned != 20 || strings.Join(got, ",") != "14,12,10,8,6,4,2,0,-2,-4" {
		t.Fatalf("pages %d scanned %d got %v", pages, scanned, got)
	}
	out, err := f.cli.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String("events"), KeyConditionExpression: aws.String("pk = :pk AND sk >= :v"), Select: types.SelectCount,
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("b"), ":v": n("10")},
	})
	if err != nil || out.Count != 5 || out.Items != nil {
		t.Fatalf("COUNT: %+v %v", out, err)
	}
	// ExclusiveStartKey must match the key schema.
	_, err = f.cli.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String("events"), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("b")},
		ExclusiveStartKey:         map[string]types.AttributeValue{"pk": s("b")},
	})
	wantCode(t, err, "ValidationException", "The provided starting key is invalid: The provided key element does not match the schema")
	_, err = f.cli.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String("events"), KeyConditionExpression: aws.String("pk = :pk"), Select: types.SelectCount, ProjectionExpression: aws.String("sk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("b")},
	})
	wantCode(t, err, "ValidationException", "Cannot specify the AttributesToGet/ProjectionExpression when choosing to get COUNT")
}

func TestScanPaginationAndSegments(t *testing.T) {
	f := start(t, 0, 0)
	f.hashTable(t, "lambda-integration-data")
	for i := 0; i < 50; i++ {
		id := fmt.Sprintf("bucket-file-%02d.json", i)
		if i%5 == 0 {
			id = fmt.Sprintf("summary-%02d", i)
		}
		f.put(t, "lambda-integration-data", map[string]types.AttributeValue{"id": s(id), "i": n(fmt.Sprint(i))})
	}
	// The lab's "latest items" scan: Limit 10 returns ten items, in no
	// particular order, with a key to continue.
	first, err := f.cli.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("lambda-integration-data"), Limit: aws.Int32(10)})
	if err != nil || len(first.Items) != 10 || first.LastEvaluatedKey == nil {
		t.Fatalf("limit 10: %v %v", first, err)
	}
	seen := map[string]bool{}
	pages := 0
	p := dynamodb.NewScanPaginator(f.cli, &dynamodb.ScanInput{TableName: aws.String("lambda-integration-data"), Limit: aws.Int32(7)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range out.Items {
			id := str(it["id"])
			if seen[id] {
				t.Fatalf("%s returned twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != 50 || pages != 8 {
		t.Fatalf("saw %d items in %d pages", len(seen), pages)
	}
	// The lab's summary check with paging and a filter.
	p = dynamodb.NewScanPaginator(f.cli, &dynamodb.ScanInput{
		TableName: aws.String("lambda-integration-data"), Limit: aws.Int32(4),
		FilterExpression:          aws.String("begins_with(id, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":prefix": s("summary-")},
	})
	summaries, pages := 0, 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		summaries += int(out.Count)
	}
	if summaries != 10 || pages < 4 {
		t.Fatalf("summaries %d pages %d", summaries, pages)
	}
	count, err := f.cli.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("lambda-integration-data"), Select: types.SelectCount,
		FilterExpression: aws.String("i >= :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": n("40")}})
	if err != nil || count.Count != 10 || count.ScannedCount != 50 || count.Items != nil {
		t.Fatalf("count %+v %v", count, err)
	}
	// Parallel scan: segments partition the table.
	total := 0
	for seg := int32(0); seg < 3; seg++ {
		out, err := f.cli.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("lambda-integration-data"), Segment: aws.Int32(seg), TotalSegments: aws.Int32(3)})
		if err != nil {
			t.Fatal(err)
		}
		total += len(out.Items)
		for _, it := range out.Items {
			delete(seen, str(it["id"]))
		}
	}
	if total != 50 || len(seen) != 0 {
		t.Fatalf("segments saw %d, missed %v", total, seen)
	}
	_, err = f.cli.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("lambda-integration-data"), Segment: aws.Int32(3), TotalSegments: aws.Int32(3)})
	wantCode(t, err, "ValidationException", "Segment: 3 is not less than TotalSegments: 3")
	_, err = f.cli.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("lambda-integration-data"), TotalSegments: aws.Int32(3)})
	wantCode(t, err, "ValidationException", "The Segment parameter is required")
	_, err = f.cli.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("lambda-integration-data"),
		ScanFilter: map[string]types.Condition{"id": {ComparisonOperator: types.ComparisonOperatorNotNull}}})
	wantCode(t, err, "ValidationException", "The sandbox does not support the legacy parameter ScanFilter; use FilterExpression instead")
}

func TestScanStopsAtOneMegabyte(t *testing.T) {
	f := start(t, 0, 0)
	f.hashTable(t, "large")
	blob := strings.Repeat("x", 300*1024)
	for i := 0; i < 8; i++ {
		f.put(t, "large", map[string]types.AttributeValue{"id": s(fmt.Sprint(i)), "blob": s(blob)})
	}
	out, err := f.cli.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("large")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 4 || out.LastEvaluatedKey == nil {
		t.Fatalf("first page held %d items (LastEvaluatedKey %v)", len(out.Items), out.LastEvaluatedKey)
	}
}
