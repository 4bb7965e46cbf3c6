package checks_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/policy"
)

func apiErr(service, op, code string) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: &smithy.GenericAPIError{Code: code, Message: "refused by the test"}}
}

type deniedLambda struct{ checks.LambdaAPI }

func (deniedLambda) GetFunctionConfiguration(context.Context, *lambda.GetFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error) {
	return nil, apiErr("Lambda", "GetFunctionConfiguration", "AccessDeniedException")
}

type throttledDynamo struct{ checks.DynamoDBAPI }

func (throttledDynamo) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return nil, apiErr("DynamoDB", "DescribeTable", "ThrottlingException")
}

type deniedS3 struct{ checks.S3API }

func (deniedS3) ListBuckets(context.Context, *s3.ListBucketsInput, ...func(*s3.Options)) (*s3.ListBucketsOutput, error) {
	return nil, apiErr("S3", "ListBuckets", "AccessDenied")
}

// Errors say what slab could not tell, and never count as failures.
func TestErrorsAreClassifiedNeverFailures(t *testing.T) {
	f := newFx(t)
	b := f.FullLab(f.Names())
	cl := checks.NewClients(f.Env)
	cl.Lambda = deniedLambda{cl.Lambda}
	cl.DynamoDB = throttledDynamo{cl.DynamoDB}
	cl.S3 = deniedS3{cl.S3}
	n := b.N
	n.Bucket = "" // discovery needs s3:ListBuckets
	rep := f.run(n, checks.Options{Clients: cl})
	want := map[string]string{
		"s3-processor.function":     "AccessDenied: not allowed to call lambda:GetFunctionConfiguration — add it to the grader policy",
		"queue-processor.mapping":   "AccessDenied: not allowed to call lambda:GetFunctionConfiguration",
		"dynamodb-table.exists":     "throttled by AWS (ThrottlingException on dynamodb:DescribeTable)",
		"end-to-end.summary-rows":   "throttled",
		"s3-bucket.exists":          "AccessDenied: not allowed to call s3:ListAllMyBuckets",
		"s3-processor.notification": "AccessDenied",
	}
	for _, r := range rep.Results {
		if w, ok := want[r.CheckID]; ok {
			if r.Status != checks.Error || !strings.Contains(r.Summary, w) {
				t.Errorf("%s: want Error %q, got %s", r.CheckID, w, dump(r))
			}
		}
		if r.Status == checks.Fail {
			t.Errorf("%s failed where it could not tell: %s", r.CheckID, dump(r))
		}
	}
	if rep.Failed() || !rep.Errored() {
		t.Errorf("failed %v errored %v", rep.Failed(), rep.Errored())
	}
	// Errors count neither for nor against the score.
	var max int
	for _, r := range rep.Results {
		if r.Status != checks.Error {
			max += r.Weight
		}
	}
	if rep.Summary.MaxScore != max {
		t.Errorf("max score %d, want %d (errors excluded)", rep.Summary.MaxScore, max)
	}
	for _, s := range rep.Steps {
		if s.ID == lab.StepDynamoDBTable && s.Status != checks.Error {
			t.Errorf("step %s: %s, want error", s.ID, s.Status)
		}
	}
}

func TestUnreachableEndpointIsAnError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	env, err := awsenv.Load(context.Background(), awsenv.Target{Kind: awsenv.Sandbox, Endpoint: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	env.Config.RetryMaxAttempts = 1
	rep := checks.Run(context.Background(), env, lab.DefaultNames(), checks.Options{Steps: []string{lab.StepIAMRole, lab.StepSNSSQS}})
	for _, r := range rep.Results {
		if r.Status != checks.Error && r.Status != checks.Skip {
			t.Errorf("%s: %s", r.CheckID, dump(r))
		}
		if r.Status == checks.Error && !strings.Contains(r.Summary, "network error") {
			t.Errorf("%s: %s", r.CheckID, r.Summary)
		}
	}
}

func TestAggregate(t *testing.T) {
	r := func(s checks.Status, w int) checks.Result { return checks.Result{Status: s, Weight: w} }
	for _, c := range []struct {
		in         []checks.Result
		st         checks.Status
		score, max int
	}{
		{[]checks.Result{r(checks.Pass, 2), r(checks.Pass, 1)}, checks.Pass, 3, 3},
		{[]checks.Result{r(checks.Pass, 2), r(checks.Warn, 3)}, checks.Warn, 4, 5},
		{[]checks.Result{r(checks.Pass, 2), r(checks.Error, 3)}, checks.Error, 2, 2},
		{[]checks.Result{r(checks.Error, 2), r(checks.Fail, 3)}, checks.Fail, 0, 3},
		{[]checks.Result{r(checks.Fail, 2), r(checks.Skip, 3)}, checks.Fail, 0, 5},
		{[]checks.Result{r(checks.Pass, 2), r(checks.Skip, 3)}, checks.Skip, 2, 5},
		{nil, checks.Skip, 0, 0},
		// A skip waiting for a later step's resource is verified there.
		{[]checks.Result{r(checks.Pass, 2), {Status: checks.Skip, Weight: 3, VerifiedIn: 3}}, checks.Pass, 2, 2},
		{[]checks.Result{r(checks.Fail, 2), {Status: checks.Skip, Weight: 3, VerifiedIn: 3}}, checks.Fail, 0, 2},
		{[]checks.Result{{Status: checks.Skip, Weight: 3, VerifiedIn: 3}}, checks.Skip, 0, 0},
	} {
		st, score, max := checks.Aggregate(c.in)
		if st != c.st || score != c.score || max != c.max {
			t.Errorf("%v: %s %d/%d, want %s %d/%d", c.in, st, score, max, c.st, c.score, c.max)
		}
	}
}

func TestIAMActionNames(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"S3", "ListBuckets"}:                        "s3:ListAllMyBuckets",
		{"s3", "GetBucketNotificationConfiguration"}: "s3:GetBucketNotification",
		{"CloudWatch Logs", "FilterLogEvents"}:       "logs:FilterLogEvents",
		{"EventBridge", "DescribeRule"}:              "events:DescribeRule",
		{"events", "ListTargetsByRule"}:              "events:ListTargetsByRule",
		{"Lambda", "Invoke"}:                         "lambda:InvokeFunction",
		{"SQS", "GetQueueUrl"}:                       "sqs:GetQueueUrl",
	} {
		if got := checks.IAMAction(in[0], in[1]); got != want {
			t.Errorf("%v: %s, want %s", in, got, want)
		}
	}
}

// The grader policy covers every action every regular check calls: each
// check runs alone against the sandbox (on a complete lab, on an empty
// account, and with SimulatePrincipalPolicy denied), its calls are read from
// the audit log and mapped to IAM actions, and each must be among the
// check's declared Actions and in the generated policy.
func TestGraderPolicyCoversEveryCall(t *testing.T) {
	f := newFx(t)
	if f.Srv == nil {
		t.Skip("the audit log is the in-process sandbox's")
	}
	b := f.FullLab(f.Names())
	empty := f.Names()
	empty.Bucket = ""
	empty.BucketPrefix = "empty-" + unique() + "-"
	doc := checks.GraderPolicy(b.N, "aws")
	allowed := map[string]bool{}
	for _, st := range doc.Statement {
		if st.Effect != "Allow" {
			t.Errorf("statement %s is %s", st.Sid, st.Effect)
		}
		for _, a := range st.Action {
			allowed[a] = true
			if !readOnly(a) {
				t.Errorf("grader policy grants %s, which is not read-only", a)
			}
		}
	}
	noSim := checks.NewClients(f.Env)
	noSim.IAM = noSimulate{noSim.IAM}
	called := map[string]bool{}
	for _, c := range checks.Select(checks.Options{}) {
		declared := map[string]bool{}
		for _, a := range c.Actions {
			declared[a] = true
		}
		for _, setup := range []struct {
			n  lab.Names
			cl *checks.Clients
		}{{b.N, nil}, {empty, nil}, {b.N, noSim}} {
			mark := f.Srv.AuditMark()
			f.run(setup.n, checks.Options{IDs: []string{c.ID}, Clients: setup.cl})
			for _, e := range f.Srv.AuditSince(mark) {
				if e.Internal {
					continue
				}
				a := checks.IAMAction(e.Service, e.Operation)
				called[a] = true
				if !declared[a] {
					t.Errorf("%s calls %s, which it does not declare", c.ID, a)
				}
				if !allowed[a] {
					t.Errorf("%s calls %s, which the grader policy does not grant", c.ID, a)
				}
				if e.Mutating {
					t.Errorf("%s made a mutating call: %s", c.ID, a)
				}
			}
		}
	}
	var unused []string
	for a := range allowed {
		if !called[a] {
			unused = append(unused, a)
		}
	}
	sort.Strings(unused)
	// Only the fallback's reads of customer-managed policies may stay
	// unexercised in the sandbox; anything else is a grant nobody needs.
	for _, a := range unused {
		t.Errorf("the grader policy grants %s, which no check called", a)
	}
	// The policy is valid IAM.
	raw, _ := jsonMarshal(doc)
	p, err := policy.Parse(raw)
	if err != nil {
		t.Fatalf("grader policy does not parse: %v", err)
	}
	if err := p.ValidateIdentity(); err != nil {
		t.Errorf("grader policy is not a valid identity policy: %v", err)
	}
}

func readOnly(action string) bool {
	op := action[strings.Index(action, ":")+1:]
	for _, p := range []string{"Get", "List", "Describe", "Scan", "Simulate", "Filter"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// flakyIAM answers NoSuchEntity for a role's first reads, as IAM does for
// a moment after CreateRole on real AWS.
type flakyIAM struct {
	checks.IAMAPI
	misses *int
}

func (f flakyIAM) GetRole(ctx context.Context, in *iam.GetRoleInput, o ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	if *f.misses > 0 {
		*f.misses--
		return nil, apiErr("IAM", "GetRole", "NoSuchEntity")
	}
	return f.IAMAPI.GetRole(ctx, in, o...)
}

func TestNotFoundIsRetriedBriefly(t *testing.T) {
	f := newFx(t)
	n := f.Names()
	f.Role(n.Role, lambdaTrust, nil, nil)
	for _, c := range []struct {
		retries int
		want    checks.Status
	}{{-1, checks.Fail}, {2, checks.Pass}} {
		misses := 2
		cl := checks.NewClients(f.Env)
		cl.IAM = flakyIAM{cl.IAM, &misses}
		got := f.one("iam-role.exists", n, checks.Options{Clients: cl, Retries: c.retries, RetryDelay: 10 * time.Millisecond})
		if got.Status != c.want {
			t.Errorf("retries %d: %s", c.retries, dump(got))
		}
	}
}

type pendingSNS struct {
	checks.SNSAPI
	queueArn string
}

func (p pendingSNS) ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, _ ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	return &sns.ListSubscriptionsByTopicOutput{Subscriptions: []snstypes.Subscription{{
		Protocol: aws.String("sqs"), Endpoint: aws.String(p.queueArn), SubscriptionArn: aws.String("PendingConfirmation"), TopicArn: in.TopicArn,
	}}}, nil
}

// A queue in another account must confirm its subscription; the sandbox
// confirms same-account ones at once, so a fake answers here.
func TestUnconfirmedSubscriptionFails(t *testing.T) {
	f := newFx(t)
	b := f.FullLab(f.Names())
	cl := checks.NewClients(f.Env)
	cl.SNS = pendingSNS{cl.SNS, b.QueueArn}
	got := f.one("sns-sqs.subscription", b.N, checks.Options{Clients: cl})
	assertResult(t, variant{check: "sns-sqs.subscription", status: checks.Fail, summary: "is not confirmed", hint: "sns-sqs-not-working"}, got)
	got = f.one("sns-sqs.raw-delivery", b.N, checks.Options{Clients: cl})
	assertResult(t, variant{check: "sns-sqs.raw-delivery", status: checks.Skip, summary: "confirmed subscription"}, got)
}

// brokenEndpoint is a server answering every request with status and
// body, and the config (no retries) to reach it. Clients take its URL as
// an option, not as cfg.BaseEndpoint: the config's sources name the
// sandbox and would override the latter.
func brokenEndpoint(t *testing.T, f *fx, status int, ctype, body string) (aws.Config, string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	cfg := f.Env.Config.Copy()
	cfg.RetryMaxAttempts = 1
	return cfg, srv.URL
}

// An endpoint whose Lambda API answers an HTML 404 has not said "no
// mapping": the checks report an Error naming the status and the body.
func TestHTMLNotFoundIsAnErrorNeverAFail(t *testing.T) {
	f := newFx(t)
	b := f.FullLab(f.Names())
	cfg, url := brokenEndpoint(t, f, http.StatusNotFound, "text/html", "<html><body><h1>404 Not Found</h1></body></html>")
	cl := checks.NewClients(f.Env)
	cl.Lambda = lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(url) })
	for _, id := range []string{"queue-processor.mapping", "s3-processor.function"} {
		r := f.one(id, b.N, checks.Options{Clients: cl})
		if r.Status != checks.Error || !strings.Contains(r.Summary, "HTTP 404") || !strings.Contains(r.Summary, "<html><body><h1>404 Not Found") {
			t.Errorf("%s: want an Error naming HTTP 404 and the body, got %s", id, dump(r))
		}
	}
}

// simulate500 sends SimulatePrincipalPolicy to a server that answers HTTP
// 500 with a plain-text body, as another emulator did.
type simulate500 struct {
	checks.IAMAPI
	broken *iam.Client
}

func (s simulate500) SimulatePrincipalPolicy(ctx context.Context, in *iam.SimulatePrincipalPolicyInput, o ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error) {
	return s.broken.SimulatePrincipalPolicy(ctx, in, o...)
}

// An HTTP 500 for SimulatePrincipalPolicy is an Error naming the status
// and the body, not an XML syntax error.
func TestSimulate500NamesTheStatus(t *testing.T) {
	f := newFx(t)
	b := f.FullLab(f.Names())
	cfg, url := brokenEndpoint(t, f, http.StatusInternalServerError, "text/plain", "Internal Server Error: simulate-principal-policy is not implemented")
	cl := checks.NewClients(f.Env)
	cl.IAM = simulate500{cl.IAM, iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(url) })}
	r := f.one("iam-role.dynamodb-write", b.N, checks.Options{Clients: cl})
	text := r.Summary + " " + strings.Join(r.Evidence, " ")
	if r.Status != checks.Error || !strings.Contains(text, "HTTP 500 Internal Server Error") || !strings.Contains(text, "simulate-principal-policy is not implemented") || strings.Contains(text, "syntax error") {
		t.Errorf("want an Error naming HTTP 500 and the body, got %s", dump(r))
	}
}
