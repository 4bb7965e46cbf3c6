package dynamodb_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

func TestCreateTableLifecycleWithWaiters(t *testing.T) {
	f := start(t, 300*time.Millisecond, 300*time.Millisecond)
	out, err := f.cli.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("lambda-integration-data"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		Tags:                 []types.Tag{{Key: aws.String("lab"), Value: aws.String("serverless")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := out.TableDescription
	if d.TableStatus != types.TableStatusCreating {
		t.Fatalf("status %s, want CREATING", d.TableStatus)
	}
	if got := aws.ToString(d.TableArn); got != "arn:aws:dynamodb:us-east-1:000000000000:table/lambda-integration-data" {
		t.Fatalf("arn %s", got)
	}
	if d.TableId == nil || d.CreationDateTime == nil || time.Since(*d.CreationDateTime) > time.Minute {
		t.Fatalf("id/creation: %v %v", d.TableId, d.CreationDateTime)
	}
	if d.BillingModeSummary == nil || d.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Fatalf("billing summary %+v", d.BillingModeSummary)
	}

	// Item operations on a CREATING table fail as on AWS: the reason the
	// lab must wait.
	_, err = f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("lambda-integration-data"), Item: map[string]types.AttributeValue{"id": s("a")}})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("put while CREATING: %v", err)
	}
	// Deleting a CREATING table is refused.
	_, err = f.cli.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("lambda-integration-data")})
	var inUse *types.ResourceInUseException
	if !errors.As(err, &inUse) {
		t.Fatalf("delete while CREATING: %v", err)
	}

	w := dynamodb.NewTableExistsWaiter(f.cli, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 100*time.Millisecond
	})
	desc, err := w.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("lambda-integration-data")}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Table.TableStatus != types.TableStatusActive || aws.ToInt64(desc.Table.ItemCount) != 0 {
		t.Fatalf("after wait: %s %d", desc.Table.TableStatus, aws.ToInt64(desc.Table.ItemCount))
	}
	f.put(t, "lambda-integration-data", map[string]types.AttributeValue{"id": s("a"), "v": n("1")})
	desc, _ = f.cli.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("lambda-integration-data")})
	if aws.ToInt64(desc.Table.ItemCount) != 1 || aws.ToInt64(desc.Table.TableSizeBytes) != 6 {
		t.Fatalf("count %d size %d", aws.ToInt64(desc.Table.ItemCount), aws.ToInt64(desc.Table.TableSizeBytes))
	}

	del, err := f.cli.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("lambda-integration-data")})
	if err != nil {
		t.Fatal(err)
	}
	if del.TableDescription.TableStatus != types.TableStatusDeleting {
		t.Fatalf("delete status %s", del.TableDescription.TableStatus)
	}
	// describe-table || echo deleted passes too early on AWS: still DELETING.
	desc, err = f.cli.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("lambda-integration-data")})
	if err != nil || desc.Table.TableStatus != types.TableStatusDeleting {
		t.Fatalf("describe while deleting: %v %v", desc, err)
	}
	_, err = f.cli.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("lambda-integration-data")})
	if !errors.As(err, &inUse) {
		t.Fatalf("delete while DELETING: %v", err)
	}
	// CreateTable of a DELETING table's name is refused.
	_, err = f.cli.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("lambda-integration-data"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if !errors.As(err, &inUse) {
		t.Fatalf("create while DELETING: %v", err)
	}
	nw := dynamodb.NewTableNotExistsWaiter(f.cli, func(o *dynamodb.TableNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 100*time.Millisecond
	})
	if err := nw.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("lambda-integration-data")}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	_, err = f.cli.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("lambda-integration-data")})
	if !errors.As(err, &rnf) {
		t.Fatalf("describe after delete: %v", err)
	}
	wantCode(t, err, "ResourceNotFoundException", "Requested resource not found: Table: lambda-integration-data not found")

	// Recreated tables start empty.
	f.hashTable(t, "lambda-integration-data")
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("lambda-integration-data")}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	sc, err := f.cli.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("lambda-integration-data")})
	if err != nil || sc.Count != 0 {
		t.Fatalf("scan recreated: %v %v", sc, err)
	}
}

func TestCreateTableValidation(t *testing.T) {
	f := start(t, 0, 0)
	f.hashTable(t, "exists")
	attr := func(name string, typ types.ScalarAttributeType) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: typ}
	}
	key := func(name string, kt types.KeyType) types.KeySchemaElement {
		return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: kt}
	}
	pt := &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
	cases := []struct {
		name string
		in   dynamodb.CreateTableInput
		code string
		msg  string
	}{
		{"undefined key attribute", dynamodb.CreateTableInput{
			AttributeDefinitions: []types.AttributeDefinition{attr("other", "S")},
			KeySchema:            []types.KeySchemaElement{key("id", types.KeyTypeHash)},
			BillingMode:          types.BillingModePayPerRequest,
		}, "ValidationException", "Some index key attributes are not defined in AttributeDefinitions. Keys: [id], AttributeDefinitions: [other]"},
		{"extra attribute definition", dynamodb.CreateTableInput{
			AttributeDefinitions: []types.AttributeDefinition{attr("id", "S"), attr("extra", "N")},
			KeySchema:            []types.KeySchemaElement{key("id", types.KeyTypeHash)},
			BillingMode:          types.BillingModePayPerRequest,
		}, "ValidationException", "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"},
		{"provisioned without throughput", dynamodb.CreateTableInput{
			AttributeDefinitions: []types.AttributeDefinition{attr("id", "S")},
			KeySchema:            []types.KeySchemaElement{key("id", types.KeyTypeHash)},
		}, "ValidationException", "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"},
		{"on-demand with throughput", dynamodb.CreateTableInput{
			AttributeDefinitions:  []types.AttributeDefinition{attr("id", "S")},
			KeySchema:             []types.KeySchemaElement{key("id", types.KeyTypeHash)},
			BillingMode:           types.BillingModePayPerRequest,
			ProvisionedThroughput: pt,
		}, "ValidationException", "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"},
		{"bad attribute type", dynamodb.CreateTableInput{
			AttributeDefinitions: []types.AttributeDefinition{attr("id", "X")},
			KeySchema:            []types.KeySchemaElement{key("id", types.KeyTypeHash)},
			BillingMode:          types.BillingModePayPerRequest,
		}, "ValidationException", "Member must satisfy enum value set: [B, N, S]"},
		{"range first", dynamodb.CreateTableInput{
			AttributeDefinitions: []types.AttributeDefinition{attr("id", "S")},
			KeySchema:            []types.KeySchemaElement{key("id", types.KeyTypeRange)},
			BillingMode:          types.BillingModePayPerRequest,
		}, "ValidationException", "The first KeySchemaElement is not a HASH key type"},
		{"secondary indexes", dynamodb.CreateTableInput{
			AttributeDefinitions: []types.AttributeDefinition{attr("id", "S")},
			KeySchema:            []types.KeySchemaElement{key("id", types.KeyTypeHash)},
			BillingMode:          types.BillingModePayPerRequest,
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("g"),
				KeySchema: []types.KeySchemaElement{key("id", types.KeyTypeHash)}, Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
		}, "ValidationException", "does not support secondary indexes"},
		{"exists", dynamodb.CreateTableInput{
			TableName:            aws.String("exists"),
			AttributeDefinitions: []types.AttributeDefinition{attr("id", "S")},
			KeySchema:            []types.KeySchemaElement{key("id", types.KeyTypeHash)},
			BillingMode:          types.BillingModePayPerRequest,
		}, "ResourceInUseException", "Table already exists: exists"},
		{"short name", dynamodb.CreateTableInput{
			TableName:            aws.String("ab"),
			AttributeDefinitions: []types.AttributeDefinition{attr("id", "S")},
			KeySchema:            []types.KeySchemaElement{key("id", types.KeyTypeHash)},
			BillingMode:          types.BillingModePayPerRequest,
		}, "ValidationException", "Member must have length greater than or equal to 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			if in.TableName == nil {
				in.TableName = aws.String("t-" + c.name[:3])
			}
			_, err := f.cli.CreateTable(ctx, &in)
			wantCode(t, err, c.code, c.msg)
		})
	}
	var inUse *types.ResourceInUseException
	_, err := f.cli.CreateTable(ctx, &cases[7].in)
	if !errors.As(err, &inUse) {
		t.Fatalf("typed ResourceInUseException: %v", err)
	}

	// A provisioned table reports its throughput and no billing summary.
	out, err := f.cli.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:             aws.String("provisioned"),
		AttributeDefinitions:  []types.AttributeDefinition{attr("id", "N")},
		KeySchema:             []types.KeySchemaElement{key("id", types.KeyTypeHash)},
		ProvisionedThroughput: pt,
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.TableDescription.BillingModeSummary != nil || aws.ToInt64(out.TableDescription.ProvisionedThroughput.ReadCapacityUnits) != 5 {
		t.Fatalf("provisioned: %+v %+v", out.TableDescription.BillingModeSummary, out.TableDescription.ProvisionedThroughput)
	}
}

func TestListTablesPagination(t *testing.T) {
	f := start(t, 0, 0)
	for i := 0; i < 7; i++ {
		f.hashTable(t, fmt.Sprintf("table-%02d", i))
	}
	// Another region's tables are not listed.
	other := dynamodb.NewFromConfig(f.env.For("AKIDSANDBOXTEST", "eu-west-1"))
	if _, err := other.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("elsewhere"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	p := dynamodb.NewListTablesPaginator(f.cli, &dynamodb.ListTablesInput{Limit: aws.Int32(3)})
	var names []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		names = append(names, out.TableNames...)
	}
	if pages != 3 || len(names) != 7 || names[0] != "table-00" || names[6] != "table-06" {
		t.Fatalf("pages %d names %v", pages, names)
	}
	out, err := f.cli.ListTables(ctx, &dynamodb.ListTablesInput{ExclusiveStartTableName: aws.String("table-04")})
	if err != nil || len(out.TableNames) != 2 || out.LastEvaluatedTableName != nil {
		t.Fatalf("from table-04: %v %v", out, err)
	}
	_, err = f.cli.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(0)})
	wantCode(t, err, "ValidationException", "Member must have value greater than or equal to 1")
}

func TestDescribeAndDeleteMissingTable(t *testing.T) {
	f := start(t, 0, 0)
	var rnf *types.ResourceNotFoundException
	_, err := f.cli.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("nope")})
	if !errors.As(err, &rnf) {
		t.Fatalf("describe: %v", err)
	}
	_, err = f.cli.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("nope")})
	if !errors.As(err, &rnf) {
		t.Fatalf("delete: %v", err)
	}
	wantCode(t, err, "ResourceNotFoundException", "Table: nope not found")
	// The table's ARN works as a TableName.
	f.hashTable(t, "by-arn")
	out, err := f.cli.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/by-arn")})
	if err != nil || aws.ToString(out.Table.TableName) != "by-arn" {
		t.Fatalf("by arn: %v %v", out, err)
	}
}

func TestTags(t *testing.T) {
	f := start(t, 0, 0)
	f.hashTable(t, "tagged")
	arn := "arn:aws:dynamodb:us-east-1:000000000000:table/tagged"
	if _, err := f.cli.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{
		{Key: aws.String("b"), Value: aws.String("2")}, {Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("c"), Value: aws.String("3")},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cli.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"c"}}); err != nil {
		t.Fatal(err)
	}
	out, err := f.cli.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tags) != 2 || aws.ToString(out.Tags[0].Key) != "a" || aws.ToString(out.Tags[1].Value) != "2" {
		t.Fatalf("tags %+v", out.Tags)
	}
	var rnf *types.ResourceNotFoundException
	_, err = f.cli.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/nope")})
	if !errors.As(err, &rnf) {
		t.Fatalf("missing table: %v", err)
	}
	_, err = f.cli.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String("not-an-arn"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantCode(t, err, "ValidationException", "Invalid TableArn")
	_, err = f.cli.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}})
	wantCode(t, err, "ValidationException", "reserved for system use")
}

// TestAuditClassifiesReads checks that read operations are recorded as
// read-only, which graders rely on.
func TestAuditClassifiesReads(t *testing.T) {
	f := start(t, 0, 0)
	f.hashTable(t, "audited")
	mark := f.env.Core.Audit.Mark()
	if _, err := f.cli.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("audited")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cli.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("audited")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cli.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		"audited": {Keys: []map[string]types.AttributeValue{{"id": s("x")}}}}}); err != nil {
		t.Fatal(err)
	}
	entries := f.env.Core.Audit.Since(mark)
	if len(entries) != 3 || len(core.Mutating(entries)) != 0 || entries[1].Operation != "Scan" {
		t.Fatalf("audit %+v", entries)
	}
}
