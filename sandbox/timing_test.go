package sandbox_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lam "github.com/aws/aws-sdk-go-v2/service/lambda"
	lamtypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/internal/extern"
	"github.com/slab-lab/slab/sandbox"
)

const lambdaTrustDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func startTimed(t *testing.T, c sandbox.Consistency, scale float64) (*sandbox.Server, aws.Config) {
	t.Helper()
	srv, err := sandbox.Start(sandbox.Options{Addr: "127.0.0.1:0", Consistency: c, TimingScale: scale})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL())}
	return srv, cfg
}

func tinyZip(t *testing.T) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("index.js")
	_, _ = w.Write([]byte("exports.handler = async () => 'ok';"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestTimingTable(t *testing.T) {
	if _, err := sandbox.ParseConsistency("eventual"); err == nil {
		t.Fatal("unknown consistency accepted")
	}
	if _, err := sandbox.New(sandbox.Options{Consistency: "eventual"}); err == nil {
		t.Fatal("sandbox started with an unknown consistency")
	}
	in := sandbox.TimingFor(sandbox.Instant, 1)
	if in.RoleAssumable != 0 || in.IAMPolicy != 0 || in.SQSAttributes != 0 || in.SNSSubscription != 0 || in.S3Notification != 0 || in.EventsTarget != 0 {
		t.Fatalf("instant propagates with a delay: %+v", in)
	}
	a := sandbox.TimingFor(sandbox.AWS, 1)
	half := sandbox.TimingFor(sandbox.AWS, 0.5)
	if a.RoleAssumable != 10*time.Second || half.RoleAssumable != 5*time.Second || half.TableCreating != a.TableCreating/2 {
		t.Fatalf("aws table or scale wrong: %+v / %+v", a, half)
	}
}

// The propagation windows through the SDK: during each the sandbox answers
// as AWS does (its own error, or the old value), after it the change holds.
func TestAWSTimingPropagation(t *testing.T) {
	const scale = 0.1 // role and policy 1 s, queue attributes 500 ms
	_, cfg := startTimed(t, sandbox.AWS, scale)
	tm := sandbox.TimingFor(sandbox.AWS, scale)
	ctx := context.Background()
	im, fn, q, sn := iam.NewFromConfig(cfg), lam.NewFromConfig(cfg), sqs.NewFromConfig(cfg), sns.NewFromConfig(cfg)

	start := time.Now()
	role, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("fresh"), AssumeRolePolicyDocument: aws.String(lambdaTrustDoc)})
	if err != nil {
		t.Fatal(err)
	}
	in := &lam.CreateFunctionInput{FunctionName: aws.String("f"), Role: role.Role.Arn, Runtime: lamtypes.RuntimeNodejs22x,
		Handler: aws.String("index.handler"), Code: &lamtypes.FunctionCode{ZipFile: tinyZip(t)}}
	created := time.Now()
	_, err = fn.CreateFunction(ctx, in)
	var ae smithy.APIError
	if time.Since(start) < tm.RoleAssumable {
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValueException" || ae.ErrorMessage() != "The role defined for the function cannot be assumed by Lambda." {
			t.Fatalf("create-function right after create-role: %v", err)
		}
	}
	time.Sleep(time.Until(created.Add(tm.RoleAssumable)))
	if _, err := fn.CreateFunction(ctx, in); err != nil {
		t.Fatalf("create-function after the role propagated: %v", err)
	}

	url, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("qq")})
	if err != nil {
		t.Fatal(err)
	}
	get := func() (string, time.Time) {
		out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url.QueueUrl,
			AttributeNames: []sqstypes.QueueAttributeName{"VisibilityTimeout", "LastModifiedTimestamp"}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Attributes["VisibilityTimeout"], time.Now()
	}
	set := time.Now()
	if _, err := q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: url.QueueUrl, Attributes: map[string]string{"VisibilityTimeout": "60"}}); err != nil {
		t.Fatal(err)
	}
	setDone := time.Now()
	if v, at := get(); at.Sub(set) < tm.SQSAttributes && v != "30" {
		t.Fatalf("VisibilityTimeout right after SetQueueAttributes = %s, want the old 30", v)
	}
	time.Sleep(time.Until(setDone.Add(tm.SQSAttributes)))
	if v, _ := get(); v != "60" {
		t.Fatalf("VisibilityTimeout after propagation = %s, want 60", v)
	}
	qa, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	queueArn := qa.Attributes["QueueArn"]

	// A policy just attached is not enforced yet: Lambda's check of the
	// mapping's execution role still sees the role without it.
	if _, err := im.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("fresh"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole")}); err != nil {
		t.Fatal(err)
	}
	attached := time.Now()
	mapping := &lam.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String(queueArn)}
	_, err = fn.CreateEventSourceMapping(ctx, mapping)
	if time.Since(attached) < tm.IAMPolicy && (!errors.As(err, &ae) || !strings.Contains(ae.ErrorMessage(), "execution role does not have permissions")) {
		t.Fatalf("create-event-source-mapping right after attaching the policy: %v", err)
	}
	time.Sleep(time.Until(attached.Add(tm.IAMPolicy)))
	if _, err := fn.CreateEventSourceMapping(ctx, mapping); err != nil {
		t.Fatalf("create-event-source-mapping after the policy propagated: %v", err)
	}

	// A new subscription receives nothing until it has propagated.
	topic, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("tt")})
	if err != nil {
		t.Fatal(err)
	}
	url2, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("subscriber"), Attributes: map[string]string{"Policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["sns.amazonaws.com","s3.amazonaws.com"]},"Action":"sqs:SendMessage","Resource":"*"}]}`}})
	if err != nil {
		t.Fatal(err)
	}
	qa2, _ := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url2.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if _, err := sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(qa2.Attributes["QueueArn"]),
		Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
		t.Fatal(err)
	}
	subscribed := time.Now()
	if _, err := sn.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("early")}); err != nil {
		t.Fatal(err)
	}
	early := time.Since(subscribed) < tm.SNSSubscription
	time.Sleep(time.Until(subscribed.Add(tm.SNSSubscription)))
	if _, err := sn.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("late")}); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !slices.Contains(bodies, "late"); {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url2.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
		}
	}
	if !slices.Contains(bodies, "late") || (early && slices.Contains(bodies, "early")) {
		t.Fatalf("deliveries to a new subscription: %q (the early message published within the window: %v)", bodies, early)
	}

	// A new bucket notification applies after its delay: an upload at once
	// follows the previous (empty) configuration.
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("timing-bucket")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("timing-bucket"),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			QueueArn: aws.String(qa2.Attributes["QueueArn"]), Events: []s3types.Event{"s3:ObjectCreated:*"}}}}}); err != nil {
		t.Fatal(err)
	}
	configured := time.Now()
	put := func(key string) {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("timing-bucket"), Key: aws.String(key), Body: strings.NewReader("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	put("early.json")
	early = time.Since(configured) < tm.S3Notification
	time.Sleep(time.Until(configured.Add(tm.S3Notification)))
	put("late.json")
	bodies = nil
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !strings.Contains(strings.Join(bodies, ""), "late.json"); {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url2.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
		}
	}
	all := strings.Join(bodies, "\n")
	if !strings.Contains(all, "late.json") || (early && strings.Contains(all, "early.json")) {
		t.Fatalf("S3 events after a new notification configuration: %s (early upload within the window: %v)", all, early)
	}
}

// The guide's sequence with the unmodified AWS CLI: create the role, then
// the function at once. Under AWS's timing Lambda answers with AWS's
// error; after the documented delay the same command succeeds.
func TestGuideCreateRoleThenFunctionWithCLI(t *testing.T) {
	cli := extern.AWSCLIv2(t)
	if testing.Short() {
		t.Skip("slow: waits out IAM's documented propagation delay")
	}
	srv, _ := startTimed(t, sandbox.AWS, 1)
	delay := sandbox.TimingFor(sandbox.AWS, 1).RoleAssumable
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "function.zip"), tinyZip(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "trust.json"), []byte(lambdaTrustDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		cmd := exec.Command(cli, append([]string{"--endpoint-url", srv.URL(), "--output", "text"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
			"AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	roleArn, err := run("iam", "create-role", "--role-name", "lambda-integration-role",
		"--assume-role-policy-document", "file://trust.json", "--query", "Role.Arn")
	created := time.Now()
	if err != nil {
		t.Fatalf("create-role: %v\n%s", err, roleArn)
	}
	createFn := []string{"lambda", "create-function", "--function-name", "s3-to-dynamodb-processor", "--runtime", "nodejs22.x",
		"--role", roleArn, "--handler", "index.handler", "--zip-file", "fileb://function.zip", "--query", "FunctionName"}
	out, err := run(createFn...)
	if time.Since(created) >= delay {
		t.Skipf("the machine took %s between two CLI runs, longer than the %s window", time.Since(created), delay)
	}
	const want = "An error occurred (InvalidParameterValueException) when calling the CreateFunction operation: The role defined for the function cannot be assumed by Lambda."
	if err == nil || !strings.Contains(out, want) {
		t.Fatalf("create-function right after create-role: %v\n%s\nwant %q", err, out, want)
	}
	time.Sleep(time.Until(created.Add(delay)))
	if out, err := run(createFn...); err != nil || out != "s3-to-dynamodb-processor" {
		t.Fatalf("create-function after %s: %v\n%s", delay, err, out)
	}
}

// TestRoleSessionSeesPolicyChangesAfterPropagation: the authorization of a
// role session (a function's calls, an AssumeRole caller) enforces the
// policies in force, not the ones the IAM API already shows: a policy just
// attached is refused with AccessDenied until it has propagated, as on AWS.
func TestRoleSessionSeesPolicyChangesAfterPropagation(t *testing.T) {
	const scale = 0.1 // IAM policy 1 s
	srv, root := startTimed(t, sandbox.AWS, scale)
	tm := sandbox.TimingFor(sandbox.AWS, scale)
	im := iam.NewFromConfig(root)
	_, send := workerSession(t, srv.URL(), root)
	if _, err := im.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("worker"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSQSFullAccess")}); err != nil {
		t.Fatal(err)
	}
	attached := time.Now()
	err := send()
	if time.Since(attached) < tm.IAMPolicy {
		apiError(t, "sqs right after attaching the policy", err, "AccessDenied", 403)
	}
	time.Sleep(time.Until(attached.Add(tm.IAMPolicy)))
	if err := send(); err != nil {
		t.Fatalf("sqs after the policy propagated: %v", err)
	}
}
