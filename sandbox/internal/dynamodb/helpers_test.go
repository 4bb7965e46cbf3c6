package dynamodb_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/sandbox/internal/core"
	ddb "github.com/slab-lab/slab/sandbox/internal/dynamodb"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
)

var ctx = context.Background()

type fixture struct {
	env *sbtest.Env
	svc *ddb.Service
	cli *dynamodb.Client
}

// start serves DynamoDB with the given table delays (tests that are not
// about the life cycle use zero, so tables are ACTIVE at once).
func start(t testing.TB, createDelay, deleteDelay time.Duration) *fixture {
	t.Helper()
	f := &fixture{}
	f.env = sbtest.Start(t, func(c *core.Core) []core.Service {
		f.svc = ddb.New(c)
		f.svc.CreateDelay, f.svc.DeleteDelay = createDelay, deleteDelay
		return []core.Service{f.svc}
	})
	f.cli = dynamodb.NewFromConfig(f.env.Config)
	return f
}

// hashTable creates a table keyed by id (S), as the lab's table is.
func (f *fixture) hashTable(t testing.TB, name string) {
	t.Helper()
	_, err := f.cli.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rangeTable creates a table keyed by pk (S) and sk of the given type.
func (f *fixture) rangeTable(t testing.TB, name string, skType types.ScalarAttributeType) {
	t.Helper()
	_, err := f.cli.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: skType},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) put(t testing.TB, table string, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := f.cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// wantCode asserts an API error code and, when msg is not empty, that the
// message contains msg.
func wantCode(t testing.TB, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	if msg != "" && !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("want message containing %q, got %q", msg, ae.ErrorMessage())
	}
}

func str(v types.AttributeValue) string {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return x.Value
	case *types.AttributeValueMemberN:
		return x.Value
	case nil:
		return "<nil>"
	}
	return "<?>"
}
