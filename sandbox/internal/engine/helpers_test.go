package engine_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	eb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	lam "github.com/aws/aws-sdk-go-v2/service/lambda"
	lamtypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	s3api "github.com/aws/aws-sdk-go-v2/service/s3"
	snsapi "github.com/aws/aws-sdk-go-v2/service/sns"
	sqsapi "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/engine"
	"github.com/slab-lab/slab/sandbox/internal/events"
	"github.com/slab-lab/slab/sandbox/internal/lambda"
	"github.com/slab-lab/slab/sandbox/internal/s3"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
	"github.com/slab-lab/slab/sandbox/internal/sns"
	"github.com/slab-lab/slab/sandbox/internal/sqs"
	"github.com/slab-lab/slab/sandbox/internal/sts"
)

var ctx = context.Background()

const (
	acct    = core.DefaultAccount
	region  = "us-east-1"
	roleArn = "arn:aws:iam::000000000000:role/lambda-integration-role"
)

// fakeInvoker stands in for the Lambda runtime: it records invocations and
// answers synchronous ones with respond.
type fakeInvoker struct {
	mu      sync.Mutex
	async   []core.InvokeInput
	sync    []core.InvokeInput
	respond func(in core.InvokeInput) (core.InvokeOutput, error)
	changed chan struct{}
}

func newFakeInvoker() *fakeInvoker { return &fakeInvoker{changed: make(chan struct{}, 1)} }

func (f *fakeInvoker) poke() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

func (f *fakeInvoker) Invoke(_ context.Context, in core.InvokeInput) (core.InvokeOutput, error) {
	f.mu.Lock()
	f.sync = append(f.sync, in)
	respond := f.respond
	n := len(f.sync)
	f.mu.Unlock()
	defer f.poke()
	if respond == nil {
		return core.InvokeOutput{RequestID: fmt.Sprintf("sync-%d", n), Payload: []byte("null")}, nil
	}
	out, err := respond(in)
	if out.RequestID == "" {
		out.RequestID = fmt.Sprintf("sync-%d", n)
	}
	return out, err
}

func (f *fakeInvoker) InvokeAsync(in core.InvokeInput) (string, error) {
	f.mu.Lock()
	f.async = append(f.async, in)
	n := len(f.async)
	f.mu.Unlock()
	f.poke()
	return fmt.Sprintf("async-%d", n), nil
}

func (f *fakeInvoker) setRespond(fn func(in core.InvokeInput) (core.InvokeOutput, error)) {
	f.mu.Lock()
	f.respond = fn
	f.mu.Unlock()
}

func (f *fakeInvoker) asyncCalls() []core.InvokeInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]core.InvokeInput(nil), f.async...)
}

func (f *fakeInvoker) syncCalls() []core.InvokeInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]core.InvokeInput(nil), f.sync...)
}

// env is a sandbox of the real services with the engine and a fake runtime.
type env struct {
	*sbtest.Env
	eng    *engine.Engine
	inv    *fakeInvoker
	lambda *lambda.Service
	sqs    *sqs.Service
	s3     *s3api.Client
	sns    *snsapi.Client
	sq     *sqsapi.Client
	lam    *lam.Client
	eb     *eb.Client
}

func start(t testing.TB, o engine.Options) *env {
	t.Helper()
	e := &env{inv: newFakeInvoker()}
	if o.PollInterval == 0 {
		o.PollInterval = 20 * time.Millisecond
	}
	mux := http.NewServeMux()
	e.Env = sbtest.StartWith(t, core.HandlerOptions{Extra: mux}, func(c *core.Core) []core.Service {
		e.lambda = lambda.New(c)
		e.lambda.CreateDelay, e.lambda.UpdateDelay, e.lambda.MappingDelay = 0, 0, 0
		e.sqs = sqs.New(c)
		svcs := []core.Service{sts.New(c), s3.New(c), sns.New(c), e.sqs, e.lambda, events.New(c)}
		e.eng = engine.New(c, svcs, o)
		e.eng.Mount(mux)
		return svcs
	})
	e.Core.SetHook(core.HookInvoker, e.inv)
	e.eng.Start()
	t.Cleanup(e.eng.Close)
	cfg := e.Config
	cfg.HTTPClient = raceFreeClient
	e.s3 = s3api.NewFromConfig(cfg, func(o *s3api.Options) { o.UsePathStyle = true })
	e.sns = snsapi.NewFromConfig(cfg)
	e.sq = sqsapi.NewFromConfig(cfg)
	e.lam = lam.NewFromConfig(cfg)
	e.eb = eb.NewFromConfig(cfg)
	return e
}

// raceFreeClient hides the request body's WriteTo from net/http: smithy's
// body wrapper answers a final WriteTo with io.EOF as an error, which can
// make the transport close a connection under a response being read.
var raceFreeClient = &http.Client{Transport: hideWriteTo{http.DefaultTransport}}

type hideWriteTo struct{ next http.RoundTripper }

func (h hideWriteTo) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r = r.Clone(r.Context())
		r.Body = struct{ io.ReadCloser }{r.Body}
	}
	return h.next.RoundTrip(r)
}

// drain waits until the engine has delivered everything queued.
func (e *env) drain(t testing.TB) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := e.eng.Drain(c); err != nil {
		t.Fatalf("engine did not drain: %v", err)
	}
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// function creates a function (with a stub package: the fake runtime never
// runs it) and returns its ARN.
func (e *env) function(t testing.TB, name string, timeout int32) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("bootstrap")
	_, _ = w.Write([]byte("#!/bin/sh\n"))
	_ = zw.Close()
	out, err := e.lam.CreateFunction(ctx, &lam.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: "provided.al2023", Handler: aws.String(name), Role: aws.String(roleArn),
		Code: &lamtypes.FunctionCode{ZipFile: buf.Bytes()}, Timeout: aws.Int32(timeout),
	})
	if err != nil {
		t.Fatalf("CreateFunction %s: %v", name, err)
	}
	return aws.ToString(out.FunctionArn)
}

// permit adds a resource-based policy statement letting service invoke fn
// for sourceArn.
func (e *env) permit(t testing.TB, fn, sid, service, sourceArn, sourceAccount string) {
	t.Helper()
	in := &lam.AddPermissionInput{FunctionName: aws.String(fn), StatementId: aws.String(sid), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String(service), SourceArn: aws.String(sourceArn)}
	if sourceAccount != "" {
		in.SourceAccount = aws.String(sourceAccount)
	}
	if _, err := e.lam.AddPermission(ctx, in); err != nil {
		t.Fatalf("AddPermission %s: %v", sid, err)
	}
}

func (e *env) bucket(t testing.TB, name string) {
	t.Helper()
	if _, err := e.s3.CreateBucket(ctx, &s3api.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
}

func (e *env) put(t testing.TB, bucket, key, body string) {
	t.Helper()
	if _, err := e.s3.PutObject(ctx, &s3api.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
}

func (e *env) topic(t testing.TB, name string) string {
	t.Helper()
	out, err := e.sns.CreateTopic(ctx, &snsapi.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	return aws.ToString(out.TopicArn)
}

// queue creates a queue and returns its URL and ARN.
func (e *env) queue(t testing.TB, name string, attrs map[string]string) (string, string) {
	t.Helper()
	out, err := e.sq.CreateQueue(ctx, &sqsapi.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl), fmt.Sprintf("arn:aws:sqs:%s:%s:%s", region, acct, name)
}

func (e *env) setQueuePolicy(t testing.TB, url, doc string) {
	t.Helper()
	if _, err := e.sq.SetQueueAttributes(ctx, &sqsapi.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"Policy": doc}}); err != nil {
		t.Fatalf("SetQueueAttributes Policy: %v", err)
	}
}

// snsQueuePolicy is the guide's queue policy: SNS may send for topicArn.
func snsQueuePolicy(queueArn, topicArn string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":%q,"Condition":{"ArnEquals":{"aws:SourceArn":%q}}}]}`, queueArn, topicArn)
}

func (e *env) subscribe(t testing.TB, topicArn, protocol, endpoint string, attrs map[string]string) string {
	t.Helper()
	out, err := e.sns.Subscribe(ctx, &snsapi.SubscribeInput{TopicArn: aws.String(topicArn), Protocol: aws.String(protocol),
		Endpoint: aws.String(endpoint), Attributes: attrs, ReturnSubscriptionArn: true})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return aws.ToString(out.SubscriptionArn)
}

func (e *env) receive(t testing.TB, url string, wait int32) []sqsMessage {
	t.Helper()
	out, err := e.sq.ReceiveMessage(ctx, &sqsapi.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
		WaitTimeSeconds: wait, MessageAttributeNames: []string{"All"}, MessageSystemAttributeNames: nil})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	var msgs []sqsMessage
	for _, m := range out.Messages {
		sm := sqsMessage{ID: aws.ToString(m.MessageId), Body: aws.ToString(m.Body), Handle: aws.ToString(m.ReceiptHandle), Attrs: map[string]string{}}
		for k, v := range m.MessageAttributes {
			sm.Attrs[k] = aws.ToString(v.DataType) + "=" + aws.ToString(v.StringValue)
		}
		msgs = append(msgs, sm)
	}
	return msgs
}

type sqsMessage struct {
	ID, Body, Handle string
	Attrs            map[string]string
}

// queueDepth is ApproximateNumberOfMessages + ...NotVisible.
func (e *env) queueDepth(t testing.TB, url string) (visible, inFlight string) {
	t.Helper()
	out, err := e.sq.GetQueueAttributes(ctx, &sqsapi.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	return out.Attributes["ApproximateNumberOfMessages"], out.Attributes["ApproximateNumberOfMessagesNotVisible"]
}

func (e *env) rule(t testing.TB, name, schedule string) string {
	t.Helper()
	out, err := e.eb.PutRule(ctx, &eb.PutRuleInput{Name: aws.String(name), ScheduleExpression: aws.String(schedule)})
	if err != nil {
		t.Fatalf("PutRule: %v", err)
	}
	return aws.ToString(out.RuleArn)
}

func (e *env) target(t testing.TB, rule string, targets ...ebtypes.Target) {
	t.Helper()
	out, err := e.eb.PutTargets(ctx, &eb.PutTargetsInput{Rule: aws.String(rule), Targets: targets})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutTargets: %v %+v", err, out)
	}
}

// deliveries returns the delivery log entries matching outcome.
func (e *env) deliveries(outcome string) []engine.Delivery {
	var out []engine.Delivery
	for _, d := range e.eng.Deliveries(0) {
		if outcome == "" || d.Outcome == outcome {
			out = append(out, d)
		}
	}
	return out
}

// rawS3 sends an S3 request with a credential scope (the router reads no
// signature) and returns the status and body.
func (e *env) rawS3(t testing.TB, method, path string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sbtest.Sign(t, req, body, "s3", "AKIDTEST", sbtest.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// getJSON fetches a sandbox-only endpoint.
func (e *env) httpJSON(t testing.TB, method, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequest(method, e.URL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

func wantCode(t testing.TB, err error, code string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("want %s, got %v", code, err)
	}
	return ae
}

func decode(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("payload is not a JSON object: %v: %s", err, b)
	}
	return m
}

// path reads a nested field of decoded JSON: path(m, "Records", 0, "s3").
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch kk := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[kk]
		case int:
			a, _ := v.([]any)
			if kk >= len(a) {
				return nil
			}
			v = a[kk]
		}
	}
	return v
}
