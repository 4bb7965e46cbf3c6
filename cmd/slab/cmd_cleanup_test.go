package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/sandbox"
	"github.com/slab-lab/slab/state"
)

// endpointSandbox serves a sandbox for `--endpoint-url` tests, with the
// environment's credentials set as a learner would for LocalStack.
func endpointSandbox(t *testing.T) (*sandbox.Server, aws.Config) {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), BaseEndpoint: aws.String(srv.URL())}
	return srv, cfg
}

const labBucket = "lambda-integration-000000000000-1764000000"

// seedLab creates a few lab resources the way the lessons' commands do,
// and a lookalike table that must survive.
func seedLab(t *testing.T, cfg aws.Config) {
	t.Helper()
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed %s: %v", what, err)
		}
	}
	n := lab.DefaultNames()
	_, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(n.Role),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	must("role", err)
	ddb := dynamodb.NewFromConfig(cfg)
	for _, tbl := range []string{n.Table, "lambda-integration-data-prod"} {
		_, err = ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(tbl), BillingMode: ddbtypes.BillingModePayPerRequest,
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}}})
		must("table", err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	_, err = s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(labBucket)})
	must("bucket", err)
	_, err = s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(labBucket), VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	must("versioning", err)
	for i := 0; i < 3; i++ {
		_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(labBucket), Key: aws.String("test-data.txt"), Body: strings.NewReader("v")})
		must("object", err)
	}
	_, err = sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(n.Queue)})
	must("queue", err)
	_, err = cloudwatchlogs.NewFromConfig(cfg).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/aws/lambda/" + n.QueueFunction)})
	must("log group", err)
}

func exists(t *testing.T, cfg aws.Config) (role, table, prod, bucket bool) {
	t.Helper()
	ctx := context.Background()
	gone := func(err error) bool {
		var ae smithy.APIError
		if err == nil {
			return false
		}
		if errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchEntity" || ae.ErrorCode() == "ResourceNotFoundException" || ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchBucket") {
			return true
		}
		t.Fatalf("read: %v", err)
		return false
	}
	_, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(lab.DefaultNames().Role)})
	role = !gone(err)
	_, err = dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(lab.DefaultNames().Table)})
	table = !gone(err)
	_, err = dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("lambda-integration-data-prod")})
	prod = !gone(err)
	_, err = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(labBucket)})
	bucket = !gone(err)
	return
}

func TestCleanupCLIOnAnEndpoint(t *testing.T) {
	dir := isolate(t)
	srv, cfg := endpointSandbox(t)
	seedLab(t, cfg)
	g := []string{"--state-dir", dir, "--endpoint-url", srv.URL()}

	// --dry-run prints the plan and makes no mutating call.
	mark := srv.AuditMark()
	out, errOut, code := runSlabIO(t, "", false, append(g, "cleanup", "--dry-run")...)
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"Plan for ENDPOINT", "S3 bucket " + labBucket + "  [bucket prefix + account]", "3 object versions", "DynamoDB table lambda-integration-data  [exact name", "log group /aws/lambda/sqs-processor", "Kept", "lambda-integration-data-prod", "dry run: nothing was changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if m := srv.MutatingSince(mark); len(m) > 0 {
		t.Fatalf("--dry-run made mutating calls: %+v", m)
	}

	// No terminal and no --yes: refuse with exit 2, change nothing.
	mark = srv.AuditMark()
	out, errOut, code = runSlabIO(t, "y\n", false, append(g, "cleanup")...)
	if code != exitUsage || !strings.Contains(errOut, "pass --yes") {
		t.Fatalf("no tty: exit %d\n%s%s", code, out, errOut)
	}
	if m := srv.MutatingSince(mark); len(m) > 0 {
		t.Fatalf("refused cleanup made mutating calls: %+v", m)
	}

	// A terminal and "n": nothing deleted.
	out, _, code = runSlabIO(t, "n\n", true, append(g, "cleanup")...)
	if code != exitCancelled || !strings.Contains(out, "[y/N]") || !strings.Contains(out, "nothing was deleted") {
		t.Fatalf("answered n: exit %d\n%s", code, out)
	}
	if role, table, _, bucket := exists(t, cfg); !role || !table || !bucket {
		t.Fatal("answering n deleted something")
	}

	// --yes works without a terminal.
	out, errOut, code = runSlabIO(t, "", false, append(g, "cleanup", "--yes")...)
	if code != 0 {
		t.Fatalf("--yes: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "Verified: a fresh listing finds no lab resources left") || !strings.Contains(out, "deleted 3 object versions and delete markers") {
		t.Errorf("output:\n%s", out)
	}
	role, table, prod, bucket := exists(t, cfg)
	if role || table || bucket || !prod {
		t.Fatalf("after cleanup: role %v table %v bucket %v; lookalike kept %v", role, table, bucket, prod)
	}

	// Again: nothing to do, and it says so (no confirmation needed).
	out, _, code = runSlabIO(t, "", false, append(g, "cleanup")...)
	if code != 0 || !strings.Contains(out, "Nothing to delete: no lab resources found") {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
}

// TestCleanupAfterDo removes exactly what `slab do` creates, and clears the
// state's statuses, resources and bucket name (keeping the state id).
func TestCleanupAfterDo(t *testing.T) {
	if testing.Short() {
		t.Skip("performs steps 1-7")
	}
	dir := isolateKeepCache(t)
	g := []string{"--state-dir", dir}
	out, errOut, code := runSlabIO(t, "", false, append(g, "do", "1", "2", "3", "4", "5", "6", "7")...)
	if code != 0 {
		t.Fatalf("do 1-7: exit %d\n%s%s", code, out, errOut)
	}
	before, _, err := state.ForTarget(dir, "sandbox").Load("sandbox")
	if err != nil || before.Names["bucket"] == "" {
		t.Fatalf("state %+v %v", before, err)
	}
	// Record a status as `slab check` would.
	before.Steps["iam-role"] = state.StepRecord{Status: "pass"}
	if err := state.ForTarget(dir, "sandbox").Save(before); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runSlabIO(t, "y\n", true, append(g, "cleanup")...)
	if code != 0 {
		t.Fatalf("cleanup: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("%s", out)
	for _, want := range []string{"EventBridge rule lambda-integration-schedule", "event source mapping", "SNS topic lambda-integration-notifications",
		"SQS queue lambda-integration-dlq", "S3 bucket " + before.Names["bucket"], "IAM role lambda-integration-role", "Verified"} {
		if !strings.Contains(out, want) {
			t.Errorf("cleanup output lacks %q", want)
		}
	}
	after, _, err := state.ForTarget(dir, "sandbox").Load("sandbox")
	if err != nil {
		t.Fatal(err)
	}
	if after.ID != before.ID || after.Names["bucket"] != "" || len(after.Steps) != 0 || len(after.Resources) != 0 {
		t.Fatalf("state after cleanup: %+v", after)
	}
	out, _, code = runSlabIO(t, "", false, append(g, "cleanup")...)
	if code != 0 || !strings.Contains(out, "Nothing to delete") {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
}

func TestConfirmOnAWSTypesTheAccountID(t *testing.T) {
	env := &awsenv.Env{Target: awsenv.Target{Kind: awsenv.AWS}, Account: "123456789012", Region: "eu-west-1"}
	cases := []struct {
		in   string
		tty  bool
		code int
	}{
		{"123456789012\n", true, 0},
		{"y\n", true, exitCancelled},
		{"123456789012\n", false, exitUsage},
	}
	for _, c := range cases {
		var out strings.Builder
		ios := &IOStreams{In: strings.NewReader(c.in), Out: &out, ErrOut: &out}
		ios.SetTTY(c.tty, c.tty)
		err := confirmCleanup(ios, env, 11)
		if got := exitCode(err); got != c.code {
			t.Errorf("%q tty=%v: exit %d (%v), want %d\n%s", c.in, c.tty, got, err, c.code, out.String())
		}
		if c.tty && !strings.Contains(out.String(), "Type the account id to confirm") {
			t.Errorf("prompt: %s", out.String())
		}
	}
}

func TestCostCLI(t *testing.T) {
	dir := isolate(t)
	srv, cfg := endpointSandbox(t)
	seedLab(t, cfg)
	g := []string{"--state-dir", dir, "--endpoint-url", srv.URL()}

	out, errOut, code := runSlabIO(t, "", false, append(g, "cost", "--hours", "2", "--live")...)
	if code != 0 {
		t.Fatalf("cost: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"list prices as of 2026-11", "deployed for 2 hours", "left running for a month (730 h)", "$0.3051",
		"What exists now", "bucket " + labBucket + ": 3 object versions", "--live: the endpoint has no Price List API", "2025-07-15"} {
		if !strings.Contains(out, want) {
			t.Errorf("cost lacks %q:\n%s", want, out)
		}
	}

	out, errOut, code = runSlabIO(t, "", false, append(g, "cost", "--format", "json", "--region", "eu-central-1", "--arch", "x86_64")...)
	if code != 0 {
		t.Fatalf("cost json: exit %d\n%s%s", code, out, errOut)
	}
	var r struct {
		Schema int    `json:"schema"`
		Region string `json:"region"`
		Prices struct {
			AsOf      string `json:"as_of"`
			Confirmed bool   `json:"confirmed"`
		} `json:"prices"`
		Assumptions struct {
			Arch string `json:"arch"`
		} `json:"assumptions"`
		Estimates []struct {
			Scenario string  `json:"scenario"`
			ListUSD  float64 `json:"list_usd"`
			BillUSD  float64 `json:"likely_bill_usd"`
		} `json:"estimates"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Schema != 1 || r.Region != "eu-central-1" || r.Prices.AsOf != "2026-11" || r.Prices.Confirmed || r.Assumptions.Arch != "x86_64" || len(r.Estimates) != 4 || r.Estimates[3].Scenario != "month" {
		t.Fatalf("%+v", r)
	}
}
