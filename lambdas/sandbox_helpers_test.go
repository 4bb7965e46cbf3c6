package lambdas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/sandbox"
)

// sbx is a sandbox served over HTTP for one test, with SDK clients on it:
// the handlers under test talk to it exactly as they talk to AWS.
type sbx struct {
	srv *sandbox.Server
	url string
	cfg aws.Config
	s3  *s3.Client
	ddb *dynamodb.Client
	sns *sns.Client
	sqs *sqs.Client
}

func startSandbox(t *testing.T) *sbx {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL()),
	}
	return &sbx{
		srv: srv, url: srv.URL(), cfg: cfg,
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		ddb: dynamodb.NewFromConfig(cfg),
		sns: sns.NewFromConfig(cfg),
		sqs: sqs.NewFromConfig(cfg),
	}
}

// must fails the test with a hint when the sandbox does not serve a service
// yet, rather than with a bare connection or routing error.
func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v (does sandbox.New serve this service yet? see buildServices in sandbox/sandbox.go)", what, err)
		}
		return v
	}
}

func (s *sbx) createTable(t *testing.T, name string) {
	t.Helper()
	must[*dynamodb.CreateTableOutput](t, "dynamodb CreateTable")(s.ddb.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}))
	w := dynamodb.NewTableExistsWaiter(s.ddb, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := w.Wait(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatalf("table %s not active: %v", name, err)
	}
}

func (s *sbx) createBucket(t *testing.T, name string, versioned bool) {
	t.Helper()
	ctx := context.Background()
	must[*s3.CreateBucketOutput](t, "s3 CreateBucket")(s.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}))
	if versioned {
		must[*s3.PutBucketVersioningOutput](t, "s3 PutBucketVersioning")(s.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  aws.String(name),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
		}))
	}
}

func (s *sbx) putObject(t *testing.T, bucket, key, contentType string, body []byte) *s3.PutObjectOutput {
	t.Helper()
	return must[*s3.PutObjectOutput](t, "s3 PutObject")(s.s3.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), ContentType: aws.String(contentType), Body: bytes.NewReader(body),
	}))
}

// scanAll returns the table's items by id.
func (s *sbx) scanAll(t *testing.T, table string) map[string]map[string]types.AttributeValue {
	t.Helper()
	items := map[string]map[string]types.AttributeValue{}
	p := dynamodb.NewScanPaginator(s.ddb, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		out := must[*dynamodb.ScanOutput](t, "dynamodb Scan")(p.NextPage(context.Background()))
		for _, it := range out.Items {
			id, _ := it["id"].(*types.AttributeValueMemberS)
			if id == nil {
				t.Fatalf("item without a string id: %v", it)
			}
			items[id.Value] = it
		}
	}
	return items
}

// testLogs captures a handler's output.
type testLogs struct {
	mu       sync.Mutex
	out, err bytes.Buffer
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (l *testLogs) logger() Logger {
	return Logger{Out: lockedWriter{&l.mu, &l.out}, Err: lockedWriter{&l.mu, &l.err}}
}

// errorLines parses the JSON error lines.
func (l *testLogs) errorLines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var lines []map[string]any
	for _, ln := range strings.Split(strings.TrimSpace(l.err.String()), "\n") {
		if ln == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(ln), &m); err != nil {
			t.Fatalf("error log line is not one JSON object: %q", ln)
		}
		lines = append(lines, m)
	}
	return lines
}

// invocation is the context Lambda gives a handler.
func invocation(requestID string) context.Context {
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: requestID})
}

func attrS(t *testing.T, item map[string]types.AttributeValue, name string) string {
	t.Helper()
	v, ok := item[name].(*types.AttributeValueMemberS)
	if !ok {
		t.Fatalf("attribute %s = %#v, want a string", name, item[name])
	}
	return v.Value
}

func attrM(t *testing.T, item map[string]types.AttributeValue, name string) map[string]types.AttributeValue {
	t.Helper()
	v, ok := item[name].(*types.AttributeValueMemberM)
	if !ok {
		t.Fatalf("attribute %s = %#v, want a map", name, item[name])
	}
	return v.Value
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isoMillis matches new Date().toISOString().
func isISOMillis(s string) bool {
	_, err := time.Parse("2006-01-02T15:04:05.000Z", s)
	return err == nil && len(s) == len("2006-01-02T15:04:05.000Z")
}
