package lambda_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lam "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/runtimes"
	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/lambda"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
)

var ctx = context.Background()

const (
	acct      = "000000000000"
	roleArn   = "arn:aws:iam::000000000000:role/lambda-integration-role"
	queueArn  = "arn:aws:sqs:us-east-1:000000000000:lambda-integration-queue"
	trustDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	ec2Trust  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	lateClock = "2027-06-01T00:00:00Z"
)

// fakeIAM and fakeSQS stand in for the IAM and SQS services through the
// core hooks, so these tests do not depend on those packages.
type fakeIAM struct {
	mu      sync.Mutex
	roles   map[string]string // ARN -> trust policy
	allowed map[string]bool   // action -> allowed on any resource
}

func (f *fakeIAM) RoleByARN(_ *core.Tx, account, arn string) (core.RoleInfo, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	doc, ok := f.roles[arn]
	if !ok || !strings.Contains(arn, ":"+account+":") {
		return core.RoleInfo{}, false
	}
	return core.RoleInfo{Name: arn[strings.LastIndex(arn, "/")+1:], Arn: arn, RoleID: "AROATEST", AssumeRolePolicy: doc}, true
}

func (f *fakeIAM) RoleAllows(_ *core.Tx, _, _, action, _ string, _ map[string]string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.allowed[action]
}

func (f *fakeIAM) RolePolicies(*core.Tx, string, string) (core.RoleCheck, bool) {
	return func(action, _ string, _ map[string]string) bool { return f.RoleAllows(nil, "", "", action, "", nil) }, true
}

func (f *fakeIAM) set(fn func(*fakeIAM)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

type fakeSQS struct {
	mu     sync.Mutex
	queues map[string]core.QueueInfo
}

func (f *fakeSQS) QueueByARN(_ *core.Tx, arn string) (core.QueueInfo, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q, ok := f.queues[arn]
	return q, ok
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	cli   *lam.Client
	svc   *lambda.Service
	core  *core.Core
	env   *sbtest.Env
	clock *clock
	iam   *fakeIAM
	sqs   *fakeSQS
}

// start serves Lambda with fake IAM and SQS views. With a nil clock the
// sandbox runs on real time (for the SDK waiters, which sleep for real).
func start(t *testing.T, clk *clock) *fixture {
	t.Helper()
	fx := &fixture{
		clock: clk,
		iam: &fakeIAM{roles: map[string]string{roleArn: trustDoc, "arn:aws:iam::000000000000:role/ec2-role": ec2Trust},
			allowed: map[string]bool{"sqs:ReceiveMessage": true, "sqs:DeleteMessage": true, "sqs:GetQueueAttributes": true}},
		sqs: &fakeSQS{queues: map[string]core.QueueInfo{queueArn: {Name: "lambda-integration-queue", Arn: queueArn, VisibilityTimeout: 30}}},
	}
	fx.env = sbtest.Start(t, func(c *core.Core) []core.Service {
		if clk != nil {
			c.Now = clk.now
		}
		c.SetHook(core.HookIAM, fx.iam)
		c.SetHook(core.HookSQS, fx.sqs)
		fx.core = c
		fx.svc = lambda.New(c)
		return []core.Service{fx.svc}
	})
	fx.cli = lam.NewFromConfig(fx.env.Config)
	return fx
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)} }

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for name, body := range files {
		f, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.Write([]byte(body))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zipWithLink is a package whose "escape" entry is a link to target, and a
// file written beneath it.
func zipWithLink(t *testing.T, target string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "escape"}
	h.SetMode(os.ModeSymlink | 0o777)
	w, _ := zw.CreateHeader(h)
	w.Write([]byte(target))
	w, _ = zw.Create("escape/pwned")
	w.Write([]byte("x"))
	w, _ = zw.Create("index.js")
	w.Write([]byte("exports.handler = async () => 1;"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func createInput(name string, zip []byte) *lam.CreateFunctionInput {
	return &lam.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: types.RuntimeNodejs22x, Role: aws.String(roleArn),
		Handler: aws.String("index.handler"), Code: &types.FunctionCode{ZipFile: zip},
	}
}

func (fx *fixture) create(t *testing.T, name string, mod ...func(*lam.CreateFunctionInput)) *lam.CreateFunctionOutput {
	t.Helper()
	in := createInput(name, zipOf(t, map[string]string{"index.js": "exports.handler = async () => 'ok';"}))
	for _, m := range mod {
		m(in)
	}
	out, err := fx.cli.CreateFunction(ctx, in)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return out
}

func wantAPI(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || (msg != "" && ae.ErrorMessage() != msg) {
		t.Fatalf("want %s %q, got %v", code, msg, err)
	}
}

var lastModifiedRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$`)

func TestCreateFunctionWaitersAndCode(t *testing.T) {
	fx := start(t, nil)
	fx.svc.CreateDelay, fx.svc.UpdateDelay = 1500*time.Millisecond, 1500*time.Millisecond
	code := zipOf(t, map[string]string{"index.js": "exports.handler = async () => 'ok';"})
	in := createInput("s3-to-dynamodb-processor", code)
	in.Timeout, in.MemorySize = aws.Int32(30), aws.Int32(256)
	in.Environment = &types.Environment{Variables: map[string]string{"TABLE_NAME": "lambda-integration-data"}}
	in.Tags = map[string]string{"lab": "slab"}
	out, err := fx.cli.CreateFunction(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(code)
	switch {
	case aws.ToString(out.FunctionArn) != "arn:aws:lambda:us-east-1:000000000000:function:s3-to-dynamodb-processor":
		t.Fatalf("arn %s", aws.ToString(out.FunctionArn))
	case out.State != types.StatePending || out.StateReasonCode != types.StateReasonCodeCreating || out.LastUpdateStatus != "":
		t.Fatalf("new function state %s %s %s", out.State, out.StateReasonCode, out.LastUpdateStatus)
	case aws.ToString(out.CodeSha256) != base64.StdEncoding.EncodeToString(sum[:]) || out.CodeSize != int64(len(code)):
		t.Fatalf("code %s %d", aws.ToString(out.CodeSha256), out.CodeSize)
	case !lastModifiedRE.MatchString(aws.ToString(out.LastModified)):
		t.Fatalf("LastModified %q", aws.ToString(out.LastModified))
	case aws.ToInt32(out.Timeout) != 30 || aws.ToInt32(out.MemorySize) != 256 || out.PackageType != types.PackageTypeZip:
		t.Fatalf("limits %d %d %s", aws.ToInt32(out.Timeout), aws.ToInt32(out.MemorySize), out.PackageType)
	case len(out.Architectures) != 1 || out.Architectures[0] != types.ArchitectureX8664 || aws.ToString(out.Version) != "$LATEST":
		t.Fatalf("architectures %v version %s", out.Architectures, aws.ToString(out.Version))
	case out.Environment.Variables["TABLE_NAME"] != "lambda-integration-data" || aws.ToString(out.RevisionId) == "":
		t.Fatalf("environment %v revision %q", out.Environment, aws.ToString(out.RevisionId))
	case aws.ToString(out.LoggingConfig.LogGroup) != "/aws/lambda/s3-to-dynamodb-processor":
		t.Fatalf("log group %s", aws.ToString(out.LoggingConfig.LogGroup))
	}

	// An update while Pending is refused, as on AWS.
	_, err = fx.cli.UpdateFunctionConfiguration(ctx, &lam.UpdateFunctionConfigurationInput{FunctionName: aws.String("s3-to-dynamodb-processor"), Timeout: aws.Int32(60)})
	var rc *types.ResourceConflictException
	if !errors.As(err, &rc) || rc.ErrorMessage() != "The operation cannot be performed at this time. The function is currently in the following state: Pending" {
		t.Fatalf("update while pending: %v", err)
	}

	got, err := lam.NewFunctionActiveV2Waiter(fx.cli).WaitForOutput(ctx, &lam.GetFunctionInput{FunctionName: aws.String("s3-to-dynamodb-processor")}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got.Configuration.State != types.StateActive || got.Configuration.LastUpdateStatus != types.LastUpdateStatusSuccessful || got.Tags["lab"] != "slab" {
		t.Fatalf("after waiter: %s %s %v", got.Configuration.State, got.Configuration.LastUpdateStatus, got.Tags)
	}

	// Code.Location serves the package.
	if aws.ToString(got.Code.RepositoryType) != "S3" {
		t.Fatalf("repository type %s", aws.ToString(got.Code.RepositoryType))
	}
	resp, err := http.Get(aws.ToString(got.Code.Location))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, code) {
		t.Fatalf("download: %d, %d bytes", resp.StatusCode, len(body))
	}
	tampered := strings.Replace(aws.ToString(got.Code.Location), "X-Amz-Signature=", "X-Amz-Signature=0", 1)
	if resp, err := http.Get(tampered); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("tampered link: %v %v", resp, err)
	}

	// An update runs InProgress, a second one conflicts, then the updated waiter.
	up, err := fx.cli.UpdateFunctionConfiguration(ctx, &lam.UpdateFunctionConfigurationInput{FunctionName: aws.String("s3-to-dynamodb-processor"), Timeout: aws.Int32(60)})
	if err != nil || up.LastUpdateStatus != types.LastUpdateStatusInProgress || aws.ToInt32(up.Timeout) != 60 {
		t.Fatalf("update: %+v %v", up, err)
	}
	_, err = fx.cli.UpdateFunctionCode(ctx, &lam.UpdateFunctionCodeInput{FunctionName: aws.String("s3-to-dynamodb-processor"), ZipFile: code})
	if !errors.As(err, &rc) || rc.ErrorMessage() != "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:000000000000:function:s3-to-dynamodb-processor" {
		t.Fatalf("second update: %v", err)
	}
	done, err := lam.NewFunctionUpdatedV2Waiter(fx.cli).WaitForOutput(ctx, &lam.GetFunctionInput{FunctionName: aws.String("s3-to-dynamodb-processor")}, 30*time.Second)
	if err != nil || done.Configuration.LastUpdateStatus != types.LastUpdateStatusSuccessful {
		t.Fatalf("updated waiter: %v %v", done, err)
	}
}

func TestCreateFunctionErrors(t *testing.T) {
	fx := start(t, newClock())
	fx.create(t, "dup")
	_, err := fx.cli.CreateFunction(ctx, createInput("dup", zipOf(t, map[string]string{"a": "b"})))
	var rc *types.ResourceConflictException
	if !errors.As(err, &rc) || rc.ErrorMessage() != "Function already exist: dup" {
		t.Fatalf("duplicate: %v", err)
	}
	var ipv *types.InvalidParameterValueException
	check := func(name string, mod func(*lam.CreateFunctionInput), want string) {
		t.Helper()
		in := createInput(name, zipOf(t, map[string]string{"index.js": "x"}))
		mod(in)
		_, err := fx.cli.CreateFunction(ctx, in)
		if !errors.As(err, &ipv) || ipv.ErrorMessage() != want {
			t.Fatalf("%s: want InvalidParameterValueException %q, got %v", name, want, err)
		}
	}
	check("badzip", func(in *lam.CreateFunctionInput) { in.Code.ZipFile = []byte("not a zip") },
		"Could not unzip uploaded file. Please check your file, then try to upload again.")
	// A link leading out of the package, absolute or relative, makes it a
	// zip Lambda will not unpack.
	for i, target := range []string{"/etc", "../../x", `C:\Windows`} {
		check(fmt.Sprintf("link%d", i), func(in *lam.CreateFunctionInput) { in.Code.ZipFile = zipWithLink(t, target) },
			"Could not unzip uploaded file. Please check your file, then try to upload again.")
	}
	check("norole", func(in *lam.CreateFunctionInput) { in.Role = aws.String("arn:aws:iam::000000000000:role/missing") },
		"The role defined for the function cannot be assumed by Lambda.")
	check("ec2role", func(in *lam.CreateFunctionInput) { in.Role = aws.String("arn:aws:iam::000000000000:role/ec2-role") },
		"The role defined for the function cannot be assumed by Lambda.")
	check("nohandler", func(in *lam.CreateFunctionInput) { in.Handler = nil },
		"Runtime and Handler are mandatory parameters for functions created with deployment packages.")
	check("reserved", func(in *lam.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"AWS_REGION": "x"}}
	}, "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION")

	for _, tc := range []struct {
		name string
		mod  func(*lam.CreateFunctionInput)
	}{
		{"timeout", func(in *lam.CreateFunctionInput) { in.Timeout = aws.Int32(901) }},
		{"timeout0", func(in *lam.CreateFunctionInput) { in.Timeout = aws.Int32(0) }},
		{"memory", func(in *lam.CreateFunctionInput) { in.MemorySize = aws.Int32(64) }},
		{"memorybig", func(in *lam.CreateFunctionInput) { in.MemorySize = aws.Int32(10241) }},
		{"runtime", func(in *lam.CreateFunctionInput) { in.Runtime = "nodejs99.x" }},
		{"archs", func(in *lam.CreateFunctionInput) {
			in.Architectures = []types.Architecture{types.ArchitectureArm64, types.ArchitectureX8664}
		}},
		{"role-format", func(in *lam.CreateFunctionInput) { in.Role = aws.String("lambda-integration-role") }},
		{"bad name!", func(*lam.CreateFunctionInput) {}},
	} {
		in := createInput(tc.name, zipOf(t, map[string]string{"index.js": "x"}))
		tc.mod(in)
		_, err := fx.cli.CreateFunction(ctx, in)
		wantAPI(t, err, "ValidationException", "")
	}

	// arm64 is accepted and reported.
	out := fx.create(t, "arm", func(in *lam.CreateFunctionInput) { in.Architectures = []types.Architecture{types.ArchitectureArm64} })
	if out.Architectures[0] != types.ArchitectureArm64 {
		t.Fatalf("arm64: %v", out.Architectures)
	}
	// Without IAM in the sandbox the role is not checked.
	fx.core.SetHook(core.HookIAM, nil)
	fx.create(t, "noiam", func(in *lam.CreateFunctionInput) { in.Role = aws.String("arn:aws:iam::000000000000:role/whatever") })
}

func TestRuntimeTableEnforced(t *testing.T) {
	clk := newClock()
	fx := start(t, clk)
	createOn := func(name string, rt types.Runtime) error {
		_, err := fx.cli.CreateFunction(ctx, &lam.CreateFunctionInput{FunctionName: aws.String(name), Runtime: rt, Role: aws.String(roleArn), Handler: aws.String("index.handler"), Code: &types.FunctionCode{ZipFile: zipOf(t, map[string]string{"a": "b"})}})
		return err
	}
	blocked := func(what string, err error, rt types.Runtime) {
		t.Helper()
		var ipv *types.InvalidParameterValueException
		if !errors.As(err, &ipv) || ipv.ErrorMessage() != runtimes.BlockedMessage(string(rt)) {
			t.Fatalf("%s: want InvalidParameterValueException %q, got %v", what, runtimes.BlockedMessage(string(rt)), err)
		}
	}
	// The lab's first trap, on 2026-11-27: the guide's runtime is refused
	// with Lambda's exact text, and so is nodejs20.x (blocked 2026-08-31).
	err := createOn("node18", types.RuntimeNodejs18x)
	blocked("nodejs18.x today", err, types.RuntimeNodejs18x)
	if !strings.Contains(err.Error(), "InvalidParameterValueException: The runtime parameter of nodejs18.x is no longer supported for creating or updating AWS Lambda functions") {
		t.Fatalf("the text lab-corrections quotes: %v", err)
	}
	blocked("nodejs20.x today", createOn("node20", types.RuntimeNodejs20x), types.RuntimeNodejs20x)
	for _, rt := range []types.Runtime{types.RuntimeNodejs22x, types.RuntimeNodejs24x, types.RuntimeProvidedal2023, types.RuntimeProvidedal2, types.RuntimePython39} {
		fx.create(t, "fn-"+strings.ReplaceAll(string(rt), ".", "-"), func(in *lam.CreateFunctionInput) { in.Runtime = rt })
	}

	// A function made in the summer, before nodejs20.x's create block, can
	// still be updated and moved to a supported runtime.
	clk.mu.Lock()
	today := clk.t
	clk.t = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	clk.mu.Unlock()
	fx.create(t, "summer20", func(in *lam.CreateFunctionInput) { in.Runtime = types.RuntimeNodejs20x })
	clk.mu.Lock()
	clk.t = today.Add(time.Minute)
	clk.mu.Unlock()
	if _, err := fx.cli.UpdateFunctionConfiguration(ctx, &lam.UpdateFunctionConfigurationInput{FunctionName: aws.String("summer20"), Timeout: aws.Int32(10)}); err != nil {
		t.Fatalf("update on a create-blocked runtime: %v", err)
	}
	clk.add(time.Minute)
	// Moving a function onto a blocked runtime is refused, whether only new
	// functions (nodejs20.x) or also updates (nodejs18.x) are blocked.
	_, err = fx.cli.UpdateFunctionConfiguration(ctx, &lam.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn-nodejs24-x"), Runtime: types.RuntimeNodejs18x})
	blocked("switch to nodejs18.x", err, types.RuntimeNodejs18x)
	_, err = fx.cli.UpdateFunctionConfiguration(ctx, &lam.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn-nodejs24-x"), Runtime: types.RuntimeNodejs20x})
	blocked("switch to nodejs20.x", err, types.RuntimeNodejs20x)
	// Naming the runtime a function is already on is no switch.
	if _, err := fx.cli.UpdateFunctionConfiguration(ctx, &lam.UpdateFunctionConfigurationInput{FunctionName: aws.String("summer20"), Runtime: types.RuntimeNodejs20x, Timeout: aws.Int32(12)}); err != nil {
		t.Fatalf("update naming its own create-blocked runtime: %v", err)
	}
	clk.add(time.Minute)
	if _, err := fx.cli.UpdateFunctionConfiguration(ctx, &lam.UpdateFunctionConfigurationInput{FunctionName: aws.String("summer20"), Runtime: types.RuntimeNodejs24x}); err != nil {
		t.Fatalf("upgrade off a blocked runtime: %v", err)
	}
	clk.add(time.Minute)

	// nodejs22.x's turn: create blocked from 2027-06-01, update from 2027-07-01.
	late, _ := time.Parse(time.RFC3339, lateClock)
	clk.mu.Lock()
	clk.t = late
	clk.mu.Unlock()
	blocked("nodejs22.x after 2027-06-01", createOn("node22b", types.RuntimeNodejs22x), types.RuntimeNodejs22x)
	if _, err := fx.cli.UpdateFunctionConfiguration(ctx, &lam.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn-nodejs22-x"), Timeout: aws.Int32(10)}); err != nil {
		t.Fatalf("update before the update block: %v", err)
	}
	clk.add(40 * 24 * time.Hour)
	_, err = fx.cli.UpdateFunctionConfiguration(ctx, &lam.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn-nodejs22-x"), Timeout: aws.Int32(11)})
	blocked("update after the update block", err, types.RuntimeNodejs22x)
}

func TestGetAndNotFound(t *testing.T) {
	clk := newClock()
	fx := start(t, clk)
	fx.create(t, "fn")
	clk.add(time.Hour)
	for _, ref := range []string{"fn", "arn:aws:lambda:us-east-1:000000000000:function:fn", "000000000000:function:fn", "fn:$LATEST"} {
		c, err := fx.cli.GetFunctionConfiguration(ctx, &lam.GetFunctionConfigurationInput{FunctionName: aws.String(ref)})
		if err != nil || aws.ToString(c.FunctionName) != "fn" || c.State != types.StateActive {
			t.Fatalf("%s: %v %v", ref, c, err)
		}
	}
	_, err := fx.cli.GetFunction(ctx, &lam.GetFunctionInput{FunctionName: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope" {
		t.Fatalf("missing: %v", err)
	}
	_, err = fx.cli.GetFunction(ctx, &lam.GetFunctionInput{FunctionName: aws.String("fn"), Qualifier: aws.String("1")})
	if !errors.As(err, &nf) || nf.ErrorMessage() != "Function not found: arn:aws:lambda:us-east-1:000000000000:function:fn:1" {
		t.Fatalf("version 1: %v", err)
	}
	_, err = fx.cli.GetFunctionConfiguration(ctx, &lam.GetFunctionConfigurationInput{FunctionName: aws.String("arn:aws:lambda:eu-west-1:000000000000:function:fn")})
	if !errors.As(err, &nf) {
		t.Fatalf("other region: %v", err)
	}
	_, err = fx.cli.GetFunction(ctx, &lam.GetFunctionInput{FunctionName: aws.String("bad/name")})
	wantAPI(t, err, "ValidationException", "")
	// Another region is another namespace.
	other := lam.NewFromConfig(fx.env.For("AKIDSANDBOXTEST", "eu-west-1"))
	if _, err := other.GetFunction(ctx, &lam.GetFunctionInput{FunctionName: aws.String("fn")}); !errors.As(err, &nf) {
		t.Fatalf("eu-west-1: %v", err)
	}
}

func TestUpdateFunctionCode(t *testing.T) {
	clk := newClock()
	fx := start(t, clk)
	first := fx.create(t, "fn")
	clk.add(2 * time.Second)
	code := zipOf(t, map[string]string{"index.js": "exports.handler = async () => 'v2';"})
	up, err := fx.cli.UpdateFunctionCode(ctx, &lam.UpdateFunctionCodeInput{FunctionName: aws.String("fn"), ZipFile: code})
	if err != nil || aws.ToString(up.CodeSha256) == aws.ToString(first.CodeSha256) || aws.ToString(up.RevisionId) == aws.ToString(first.RevisionId) {
		t.Fatalf("code update: %+v %v", up, err)
	}
	clk.add(2 * time.Second)
	same, err := fx.cli.UpdateFunctionCode(ctx, &lam.UpdateFunctionCodeInput{FunctionName: aws.String("fn"), ZipFile: code})
	if err != nil || aws.ToString(same.CodeSha256) != aws.ToString(up.CodeSha256) || aws.ToString(same.RevisionId) == aws.ToString(up.RevisionId) {
		t.Fatalf("identical code: %+v %v", same, err)
	}
	clk.add(2 * time.Second)
	_, err = fx.cli.UpdateFunctionCode(ctx, &lam.UpdateFunctionCodeInput{FunctionName: aws.String("fn"), ZipFile: code, RevisionId: aws.String("stale")})
	var pf *types.PreconditionFailedException
	if !errors.As(err, &pf) {
		t.Fatalf("stale revision: %v", err)
	}
	_, err = fx.cli.UpdateFunctionCode(ctx, &lam.UpdateFunctionCodeInput{FunctionName: aws.String("fn"), ZipFile: []byte("PK?")})
	var ipv *types.InvalidParameterValueException
	if !errors.As(err, &ipv) {
		t.Fatalf("bad zip: %v", err)
	}
	dry, err := fx.cli.UpdateFunctionCode(ctx, &lam.UpdateFunctionCodeInput{FunctionName: aws.String("fn"), ZipFile: zipOf(t, map[string]string{"x": "y"}), DryRun: true})
	if err != nil || aws.ToString(dry.CodeSha256) != aws.ToString(same.CodeSha256) {
		t.Fatalf("dry run changed code: %+v %v", dry, err)
	}
	var got []byte
	_ = fx.core.Store.View(func(tx *core.Tx) error {
		got, _ = fx.svc.FunctionCode(tx, core.Scope{Account: acct, Region: "us-east-1"}, "fn")
		return nil
	})
	if !bytes.Equal(got, code) {
		t.Fatal("FunctionCode does not return the latest package")
	}
	_, err = fx.cli.UpdateFunctionCode(ctx, &lam.UpdateFunctionCodeInput{FunctionName: aws.String("nope"), ZipFile: code})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("missing function: %v", err)
	}
	// Configuration updates: environment replaced, role re-checked.
	clk.add(2 * time.Second)
	cfg, err := fx.cli.UpdateFunctionConfiguration(ctx, &lam.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn"),
		Environment: &types.Environment{Variables: map[string]string{"SNS_TOPIC_ARN": "arn:aws:sns:us-east-1:000000000000:t"}}, MemorySize: aws.Int32(512)})
	if err != nil || cfg.Environment.Variables["SNS_TOPIC_ARN"] == "" || aws.ToInt32(cfg.MemorySize) != 512 || aws.ToString(cfg.Handler) != "index.handler" {
		t.Fatalf("config update: %+v %v", cfg, err)
	}
	clk.add(2 * time.Second)
	_, err = fx.cli.UpdateFunctionConfiguration(ctx, &lam.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn"), Role: aws.String("arn:aws:iam::000000000000:role/ec2-role")})
	if !errors.As(err, &ipv) || ipv.ErrorMessage() != "The role defined for the function cannot be assumed by Lambda." {
		t.Fatalf("untrusting role: %v", err)
	}
	_, err = fx.cli.UpdateFunctionConfiguration(ctx, &lam.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn"), Timeout: aws.Int32(1000)})
	wantAPI(t, err, "ValidationException", "")
}

func TestListFunctionsPaginator(t *testing.T) {
	fx := start(t, newClock())
	for i := 0; i < 7; i++ {
		fx.create(t, fmt.Sprintf("fn-%d", i))
	}
	p := lam.NewListFunctionsPaginator(fx.cli, &lam.ListFunctionsInput{MaxItems: aws.Int32(3)})
	var names []string
	pages := 0
	for p.HasMorePages() && pages < 10 {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, f := range page.Functions {
			names = append(names, aws.ToString(f.FunctionName))
		}
	}
	if pages != 3 || fmt.Sprint(names) != "[fn-0 fn-1 fn-2 fn-3 fn-4 fn-5 fn-6]" {
		t.Fatalf("pages %d: %v", pages, names)
	}
	all, err := fx.cli.ListFunctions(ctx, &lam.ListFunctionsInput{})
	if err != nil || len(all.Functions) != 7 || all.NextMarker != nil {
		t.Fatalf("one page: %v %v", all, err)
	}
	_, err = fx.cli.ListFunctions(ctx, &lam.ListFunctionsInput{Marker: aws.String("***")})
	wantAPI(t, err, "InvalidParameterValueException", "")
}

func TestDeleteFunctionKeepsMappings(t *testing.T) {
	clk := newClock()
	fx := start(t, clk)
	fx.create(t, "sqs-processor")
	m, err := fx.cli.CreateEventSourceMapping(ctx, &lam.CreateEventSourceMappingInput{FunctionName: aws.String("sqs-processor"), EventSourceArn: aws.String(queueArn)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fx.cli.DeleteFunction(ctx, &lam.DeleteFunctionInput{FunctionName: aws.String("sqs-processor")}); err != nil {
		t.Fatal(err)
	}
	_, err = fx.cli.GetFunction(ctx, &lam.GetFunctionInput{FunctionName: aws.String("sqs-processor")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("after delete: %v", err)
	}
	_, err = fx.cli.DeleteFunction(ctx, &lam.DeleteFunctionInput{FunctionName: aws.String("sqs-processor")})
	if !errors.As(err, &nf) {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := fx.cli.GetEventSourceMapping(ctx, &lam.GetEventSourceMappingInput{UUID: m.UUID}); err != nil {
		t.Fatalf("mapping should outlive its function: %v", err)
	}
}

func TestPermissions(t *testing.T) {
	fx := start(t, newClock())
	fx.create(t, "s3-to-dynamodb-processor")
	arn := "arn:aws:lambda:us-east-1:000000000000:function:s3-to-dynamodb-processor"
	out, err := fx.cli.AddPermission(ctx, &lam.AddPermissionInput{
		FunctionName: aws.String("s3-to-dynamodb-processor"), StatementId: aws.String("s3-trigger"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String("arn:aws:s3:::lambda-integration-000000000000-1"), SourceAccount: aws.String(acct),
	})
	if err != nil {
		t.Fatal(err)
	}
	stmt := `{"Sid":"s3-trigger","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + arn +
		`","Condition":{"StringEquals":{"AWS:SourceAccount":"000000000000"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::lambda-integration-000000000000-1"}}}`
	if aws.ToString(out.Statement) != stmt {
		t.Fatalf("statement:\n%s\nwant\n%s", aws.ToString(out.Statement), stmt)
	}
	_, err = fx.cli.AddPermission(ctx, &lam.AddPermissionInput{FunctionName: aws.String("s3-to-dynamodb-processor"), StatementId: aws.String("s3-trigger"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com")})
	var rc *types.ResourceConflictException
	if !errors.As(err, &rc) || rc.ErrorMessage() != "The statement id (s3-trigger) provided already exists. Please provide a new statement id, or remove the existing statement." {
		t.Fatalf("duplicate sid: %v", err)
	}
	if _, err := fx.cli.AddPermission(ctx, &lam.AddPermissionInput{FunctionName: aws.String(arn), StatementId: aws.String("acct"), Action: aws.String("lambda:*"), Principal: aws.String("111122223333")}); err != nil {
		t.Fatal(err)
	}
	_, err = fx.cli.AddPermission(ctx, &lam.AddPermissionInput{FunctionName: aws.String("s3-to-dynamodb-processor"), StatementId: aws.String("bad"), Action: aws.String("s3:GetObject"), Principal: aws.String("s3.amazonaws.com")})
	wantAPI(t, err, "ValidationException", "")

	pol, err := fx.cli.GetPolicy(ctx, &lam.GetPolicyInput{FunctionName: aws.String("s3-to-dynamodb-processor")})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Id":"default","Statement":[` + stmt + `,{"Sid":"acct","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"lambda:*","Resource":"` + arn + `"}]}`
	if aws.ToString(pol.Policy) != want {
		t.Fatalf("policy:\n%s\nwant\n%s", aws.ToString(pol.Policy), want)
	}
	cfg, _ := fx.cli.GetFunctionConfiguration(ctx, &lam.GetFunctionConfigurationInput{FunctionName: aws.String("s3-to-dynamodb-processor")})
	if aws.ToString(pol.RevisionId) != aws.ToString(cfg.RevisionId) {
		t.Fatalf("policy revision %s, function %s", aws.ToString(pol.RevisionId), aws.ToString(cfg.RevisionId))
	}
	var goPol string
	_ = fx.core.Store.View(func(tx *core.Tx) error { goPol, _ = fx.svc.Policy(tx, arn); return nil })
	if goPol != want {
		t.Fatalf("Go API policy %s", goPol)
	}

	_, err = fx.cli.RemovePermission(ctx, &lam.RemovePermissionInput{FunctionName: aws.String("s3-to-dynamodb-processor"), StatementId: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "Statement nope is not found in resource policy." {
		t.Fatalf("remove missing sid: %v", err)
	}
	for _, sid := range []string{"s3-trigger", "acct"} {
		if _, err := fx.cli.RemovePermission(ctx, &lam.RemovePermissionInput{FunctionName: aws.String("s3-to-dynamodb-processor"), StatementId: aws.String(sid)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = fx.cli.GetPolicy(ctx, &lam.GetPolicyInput{FunctionName: aws.String("s3-to-dynamodb-processor")})
	if !errors.As(err, &nf) || nf.ErrorMessage() != "The resource you requested does not exist." {
		t.Fatalf("no policy: %v", err)
	}
	_, err = fx.cli.RemovePermission(ctx, &lam.RemovePermissionInput{FunctionName: aws.String("s3-to-dynamodb-processor"), StatementId: aws.String("s3-trigger")})
	if !errors.As(err, &nf) || nf.ErrorMessage() != "The resource you requested does not exist." {
		t.Fatalf("remove with no policy: %v", err)
	}
	_, err = fx.cli.AddPermission(ctx, &lam.AddPermissionInput{FunctionName: aws.String("nope"), StatementId: aws.String("x"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com")})
	if !errors.As(err, &nf) {
		t.Fatalf("permission on missing function: %v", err)
	}
	_, err = fx.cli.AddPermission(ctx, &lam.AddPermissionInput{FunctionName: aws.String("s3-to-dynamodb-processor"), StatementId: aws.String("rev"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com"), RevisionId: aws.String("old")})
	var pf *types.PreconditionFailedException
	if !errors.As(err, &pf) {
		t.Fatalf("stale revision: %v", err)
	}
}

func TestEventSourceMappings(t *testing.T) {
	clk := newClock()
	fx := start(t, clk)
	fx.create(t, "sqs-processor", func(in *lam.CreateFunctionInput) { in.Timeout = aws.Int32(60) })
	fx.create(t, "other")
	create := func(fn string, mod ...func(*lam.CreateEventSourceMappingInput)) (*lam.CreateEventSourceMappingOutput, error) {
		in := &lam.CreateEventSourceMappingInput{FunctionName: aws.String(fn), EventSourceArn: aws.String(queueArn)}
		for _, m := range mod {
			m(in)
		}
		return fx.cli.CreateEventSourceMapping(ctx, in)
	}
	var ipv *types.InvalidParameterValueException
	_, err := create("sqs-processor")
	if !errors.As(err, &ipv) || ipv.ErrorMessage() != "Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds" {
		t.Fatalf("visibility rule: %v", err)
	}
	fx.iam.set(func(f *fakeIAM) { f.allowed["sqs:ReceiveMessage"] = false })
	_, err = create("other")
	if !errors.As(err, &ipv) || ipv.ErrorMessage() != "The provided execution role does not have permissions to call ReceiveMessage on SQS" {
		t.Fatalf("role rule: %v", err)
	}
	fx.iam.set(func(f *fakeIAM) { f.allowed["sqs:ReceiveMessage"], f.allowed["sqs:DeleteMessage"] = true, false })
	_, err = create("other")
	if !errors.As(err, &ipv) || ipv.ErrorMessage() != "The provided execution role does not have permissions to call DeleteMessage on SQS" {
		t.Fatalf("role rule, delete: %v", err)
	}
	fx.iam.set(func(f *fakeIAM) { f.allowed["sqs:DeleteMessage"] = true })
	_, err = create("other", func(in *lam.CreateEventSourceMappingInput) { in.EventSourceArn = aws.String(queueArn + "-gone") })
	if !errors.As(err, &ipv) || !strings.Contains(ipv.ErrorMessage(), "NonExistentQueue") {
		t.Fatalf("missing queue: %v", err)
	}
	_, err = create("nope")
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("missing function: %v", err)
	}
	_, err = create("other", func(in *lam.CreateEventSourceMappingInput) { in.BatchSize = aws.Int32(100) })
	if !errors.As(err, &ipv) || ipv.ErrorMessage() != "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10" {
		t.Fatalf("batch window rule: %v", err)
	}
	_, err = create("other", func(in *lam.CreateEventSourceMappingInput) { in.BatchSize = aws.Int32(10001) })
	wantAPI(t, err, "ValidationException", "")

	// The corrected lab: raise the queue's visibility timeout to 6x.
	fx.sqs.mu.Lock()
	q := fx.sqs.queues[queueArn]
	q.VisibilityTimeout = 360
	fx.sqs.queues[queueArn] = q
	fx.sqs.mu.Unlock()
	m, err := create("sqs-processor", func(in *lam.CreateEventSourceMappingInput) {
		in.FunctionResponseTypes = []types.FunctionResponseType{types.FunctionResponseTypeReportBatchItemFailures}
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(m.State) != "Creating" || aws.ToInt32(m.BatchSize) != 10 || aws.ToString(m.FunctionArn) != "arn:aws:lambda:us-east-1:000000000000:function:sqs-processor" ||
		aws.ToString(m.StateTransitionReason) != "USER_INITIATED" || len(m.FunctionResponseTypes) != 1 || m.LastModified == nil || len(aws.ToString(m.UUID)) != 36 {
		t.Fatalf("new mapping: %+v", m)
	}
	_, err = create("sqs-processor")
	var rc *types.ResourceConflictException
	wantDup := fmt.Sprintf(`An event source mapping with SQS arn (" %s ") and function (" sqs-processor ") already exists. Please update or delete the existing mapping with UUID %s`, queueArn, aws.ToString(m.UUID))
	if !errors.As(err, &rc) || rc.ErrorMessage() != wantDup {
		t.Fatalf("duplicate mapping: %v", err)
	}
	// Another function on the same queue is a different mapping.
	m2, err := create("other", func(in *lam.CreateEventSourceMappingInput) { in.Enabled = aws.Bool(false) })
	if err != nil {
		t.Fatal(err)
	}
	var live []lambda.Mapping
	_ = fx.core.Store.View(func(tx *core.Tx) error { live = fx.svc.EventSourceMappings(tx); return nil })
	if len(live) != 1 || live[0].State != "Creating" || !live[0].ReportsBatchItemFailures() {
		t.Fatalf("Go API while creating: %+v", live)
	}

	clk.add(2 * time.Second)
	g, err := fx.cli.GetEventSourceMapping(ctx, &lam.GetEventSourceMappingInput{UUID: m.UUID})
	if err != nil || aws.ToString(g.State) != "Enabled" {
		t.Fatalf("settled: %v %v", g, err)
	}
	g2, _ := fx.cli.GetEventSourceMapping(ctx, &lam.GetEventSourceMappingInput{UUID: m2.UUID})
	if aws.ToString(g2.State) != "Disabled" {
		t.Fatalf("created disabled: %s", aws.ToString(g2.State))
	}
	_ = fx.core.Store.View(func(tx *core.Tx) error { live = fx.svc.EventSourceMappings(tx); return nil })
	if len(live) != 1 || live[0].State != "Enabled" || live[0].EventSourceArn != queueArn {
		t.Fatalf("Go API when enabled: %+v", live)
	}
	_ = fx.core.Store.Update(func(tx *core.Tx) error { return fx.svc.SetMappingResult(tx, aws.ToString(m.UUID), "OK") })
	g, _ = fx.cli.GetEventSourceMapping(ctx, &lam.GetEventSourceMappingInput{UUID: m.UUID})
	if aws.ToString(g.LastProcessingResult) != "OK" {
		t.Fatalf("processing result %q", aws.ToString(g.LastProcessingResult))
	}

	// Disable: Disabling, then Disabled; no update while in transition.
	u, err := fx.cli.UpdateEventSourceMapping(ctx, &lam.UpdateEventSourceMappingInput{UUID: m.UUID, Enabled: aws.Bool(false)})
	if err != nil || aws.ToString(u.State) != "Disabling" {
		t.Fatalf("disable: %v %v", u, err)
	}
	_, err = fx.cli.UpdateEventSourceMapping(ctx, &lam.UpdateEventSourceMappingInput{UUID: m.UUID, BatchSize: aws.Int32(5)})
	var inUse *types.ResourceInUseException
	if !errors.As(err, &inUse) {
		t.Fatalf("update in transition: %v", err)
	}
	clk.add(2 * time.Second)
	u, err = fx.cli.UpdateEventSourceMapping(ctx, &lam.UpdateEventSourceMappingInput{UUID: m.UUID, BatchSize: aws.Int32(5)})
	if err != nil || aws.ToString(u.State) != "Updating" || aws.ToInt32(u.BatchSize) != 5 {
		t.Fatalf("update: %v %v", u, err)
	}
	clk.add(2 * time.Second)
	g, _ = fx.cli.GetEventSourceMapping(ctx, &lam.GetEventSourceMappingInput{UUID: m.UUID})
	if aws.ToString(g.State) != "Disabled" {
		t.Fatalf("after update of a disabled mapping: %s", aws.ToString(g.State))
	}

	// List with filters and the paginator.
	byFn, err := fx.cli.ListEventSourceMappings(ctx, &lam.ListEventSourceMappingsInput{FunctionName: aws.String("other")})
	if err != nil || len(byFn.EventSourceMappings) != 1 || aws.ToString(byFn.EventSourceMappings[0].UUID) != aws.ToString(m2.UUID) {
		t.Fatalf("by function: %v %v", byFn, err)
	}
	bySrc, _ := fx.cli.ListEventSourceMappings(ctx, &lam.ListEventSourceMappingsInput{EventSourceArn: aws.String(queueArn)})
	if len(bySrc.EventSourceMappings) != 2 {
		t.Fatalf("by source: %d", len(bySrc.EventSourceMappings))
	}
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("extra-%d", i)
		fx.create(t, name)
		if _, err := create(name); err != nil {
			t.Fatal(err)
		}
	}
	p := lam.NewListEventSourceMappingsPaginator(fx.cli, &lam.ListEventSourceMappingsInput{MaxItems: aws.Int32(2)})
	var uuids []string
	for p.HasMorePages() && len(uuids) < 20 {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.EventSourceMappings {
			uuids = append(uuids, aws.ToString(e.UUID))
		}
	}
	if len(uuids) != 5 || uuids[0] != aws.ToString(m.UUID) || uuids[1] != aws.ToString(m2.UUID) {
		t.Fatalf("paginated mappings: %v", uuids)
	}

	// Delete: Deleting, then gone.
	d, err := fx.cli.DeleteEventSourceMapping(ctx, &lam.DeleteEventSourceMappingInput{UUID: m.UUID})
	if err != nil || aws.ToString(d.State) != "Deleting" {
		t.Fatalf("delete: %v %v", d, err)
	}
	g, err = fx.cli.GetEventSourceMapping(ctx, &lam.GetEventSourceMappingInput{UUID: m.UUID})
	if err != nil || aws.ToString(g.State) != "Deleting" {
		t.Fatalf("while deleting: %v %v", g, err)
	}
	clk.add(2 * time.Second)
	_, err = fx.cli.GetEventSourceMapping(ctx, &lam.GetEventSourceMappingInput{UUID: m.UUID})
	if !errors.As(err, &nf) || nf.ErrorMessage() != "The resource you requested does not exist." {
		t.Fatalf("after delete: %v", err)
	}
	_, err = fx.cli.DeleteEventSourceMapping(ctx, &lam.DeleteEventSourceMappingInput{UUID: m.UUID})
	if !errors.As(err, &nf) {
		t.Fatalf("delete twice: %v", err)
	}
	// The queue is free again for a new mapping of the same function.
	if _, err := create("sqs-processor"); err != nil {
		t.Fatalf("recreate after delete: %v", err)
	}
	_ = fx.core.Store.Update(func(tx *core.Tx) error {
		return fx.svc.DisableMapping(tx, aws.ToString(m2.UUID), "PROBLEM: Function not found")
	})
	g2, _ = fx.cli.GetEventSourceMapping(ctx, &lam.GetEventSourceMappingInput{UUID: m2.UUID})
	if aws.ToString(g2.State) != "Disabled" || aws.ToString(g2.StateTransitionReason) != "PROBLEM: Function not found" {
		t.Fatalf("DisableMapping: %+v", g2)
	}
}

func TestInvoke(t *testing.T) {
	clk := newClock()
	fx := start(t, clk)
	fx.create(t, "event-to-sns-processor")
	_, err := fx.cli.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("event-to-sns-processor")})
	var rc *types.ResourceConflictException
	if !errors.As(err, &rc) {
		t.Fatalf("invoke while pending: %v", err)
	}
	clk.add(2 * time.Second)
	dry, err := fx.cli.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("event-to-sns-processor"), InvocationType: types.InvocationTypeDryRun})
	if err != nil || dry.StatusCode != 204 {
		t.Fatalf("dry run: %v %v", dry, err)
	}
	_, err = fx.cli.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("nope"), InvocationType: types.InvocationTypeDryRun})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("dry run of missing function: %v", err)
	}
	_, err = fx.cli.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("event-to-sns-processor"), Payload: []byte("{}")})
	var se *types.ServiceException
	if !errors.As(err, &se) || !strings.Contains(se.ErrorMessage(), "cannot execute functions yet") {
		t.Fatalf("no runner: %v", err)
	}
	_, err = fx.cli.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("event-to-sns-processor"), Payload: []byte("{not json")})
	var bad *types.InvalidRequestContentException
	if !errors.As(err, &bad) {
		t.Fatalf("bad payload: %v", err)
	}

	var seen []lambda.InvokeRequest
	var mu sync.Mutex
	fx.core.SetHook(lambda.InvokeHook, lambda.InvokeFunc(func(_ context.Context, req lambda.InvokeRequest) (lambda.InvokeResponse, error) {
		mu.Lock()
		seen = append(seen, req)
		mu.Unlock()
		if bytes.Contains(req.Payload, []byte("fail")) {
			return lambda.InvokeResponse{Payload: []byte(`{"errorType":"Runtime.ImportModuleError","errorMessage":"Error: Cannot find module 'aws-sdk'"}`), FunctionError: "Unhandled",
				LogResult: base64.StdEncoding.EncodeToString([]byte("INIT_START ...\nERROR Cannot find module 'aws-sdk'"))}, nil
		}
		if bytes.Contains(req.Payload, []byte("throttle")) {
			return lambda.InvokeResponse{}, core.ErrorStatus(429, "TooManyRequestsException", "Rate Exceeded.")
		}
		return lambda.InvokeResponse{Payload: []byte(`{"statusCode":200}`)}, nil
	}))
	out, err := fx.cli.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("event-to-sns-processor"), Payload: []byte(`{"source":"aws.events"}`)})
	if err != nil || out.StatusCode != 200 || string(out.Payload) != `{"statusCode":200}` || aws.ToString(out.ExecutedVersion) != "$LATEST" || out.FunctionError != nil {
		t.Fatalf("invoke: %+v %v", out, err)
	}
	out, err = fx.cli.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("event-to-sns-processor"), Payload: []byte(`"fail"`), LogType: types.LogTypeTail})
	if err != nil || out.StatusCode != 200 || aws.ToString(out.FunctionError) != "Unhandled" || out.LogResult == nil {
		t.Fatalf("function error: %+v %v", out, err)
	}
	out, err = fx.cli.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("event-to-sns-processor"), Payload: []byte(`{}`), InvocationType: types.InvocationTypeEvent})
	if err != nil || out.StatusCode != 202 || len(out.Payload) != 0 {
		t.Fatalf("event: %+v %v", out, err)
	}
	// Throttling is retryable: one attempt keeps the count of runner calls exact.
	_, err = fx.cli.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("event-to-sns-processor"), Payload: []byte(`"throttle"`)}, func(o *lam.Options) { o.RetryMaxAttempts = 1 })
	var tm *types.TooManyRequestsException
	if !errors.As(err, &tm) {
		t.Fatalf("runner error passes through: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 4 || seen[0].Function.Name != "event-to-sns-processor" || seen[0].Function.State != "Active" || seen[2].InvocationType != lambda.Event ||
		seen[1].LogType != "Tail" || seen[0].Function.Runtime != "nodejs22.x" || seen[0].Caller.Account != acct {
		t.Fatalf("runner saw %+v", seen)
	}
}

func TestTags(t *testing.T) {
	fx := start(t, newClock())
	out := fx.create(t, "tagged", func(in *lam.CreateFunctionInput) { in.Tags = map[string]string{"a": "1"} })
	if _, err := fx.cli.TagResource(ctx, &lam.TagResourceInput{Resource: out.FunctionArn, Tags: map[string]string{"b": "2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.cli.UntagResource(ctx, &lam.UntagResourceInput{Resource: out.FunctionArn, TagKeys: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	lt, err := fx.cli.ListTags(ctx, &lam.ListTagsInput{Resource: out.FunctionArn})
	if err != nil || len(lt.Tags) != 1 || lt.Tags["b"] != "2" {
		t.Fatalf("tags: %v %v", lt, err)
	}
	_, err = fx.cli.ListTags(ctx, &lam.ListTagsInput{Resource: aws.String("arn:aws:lambda:us-east-1:000000000000:function:nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("tags of missing function: %v", err)
	}
	_, err = fx.cli.TagResource(ctx, &lam.TagResourceInput{Resource: aws.String("tagged"), Tags: map[string]string{"x": "y"}})
	wantAPI(t, err, "ValidationException", "")
}

// TestStateSurvivesRestart checks that every record round-trips through the
// store's journal: functions, code, policies and mappings.
func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	var c1 *core.Core
	env := sbtest.Start(t, func(c *core.Core) []core.Service {
		c.Now = clk.now
		svc := lambda.New(c)
		if err := c.Store.Open(dir); err != nil {
			t.Fatal(err)
		}
		c1 = c
		return []core.Service{svc}
	})
	cli := lam.NewFromConfig(env.Config)
	code := zipOf(t, map[string]string{"index.js": "x"})
	if _, err := cli.CreateFunction(ctx, createInput("kept", code)); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.AddPermission(ctx, &lam.AddPermissionInput{FunctionName: aws.String("kept"), StatementId: aws.String("events"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com"), SourceArn: aws.String("arn:aws:events:us-east-1:000000000000:rule/r")}); err != nil {
		t.Fatal(err)
	}
	m, err := cli.CreateEventSourceMapping(ctx, &lam.CreateEventSourceMappingInput{FunctionName: aws.String("kept"), EventSourceArn: aws.String(queueArn)})
	if err != nil {
		t.Fatal(err)
	}
	if err := c1.Store.Close(); err != nil {
		t.Fatal(err)
	}

	c2 := core.New()
	c2.Now = clk.now
	svc2 := lambda.New(c2)
	if err := c2.Store.Open(dir); err != nil {
		t.Fatal(err)
	}
	defer c2.Store.Close()
	clk.add(time.Minute)
	sc := core.Scope{Account: acct, Region: "us-east-1"}
	_ = c2.Store.View(func(tx *core.Tx) error {
		f, ok := svc2.Function(tx, sc, "kept")
		if !ok || f.State != "Active" || f.Runtime != "nodejs22.x" || f.LogGroup != "/aws/lambda/kept" {
			t.Errorf("function after restart: %+v", f)
		}
		if zipped, ok := svc2.FunctionCode(tx, sc, "kept"); !ok || !bytes.Equal(zipped, code) {
			t.Error("code after restart")
		}
		if pol, ok := svc2.Policy(tx, f.Arn); !ok || !strings.Contains(pol, `"ArnLike":{"AWS:SourceArn":"arn:aws:events:us-east-1:000000000000:rule/r"}`) {
			t.Errorf("policy after restart: %s", pol)
		}
		ms := svc2.EventSourceMappings(tx)
		if len(ms) != 1 || ms[0].UUID != aws.ToString(m.UUID) || ms[0].State != "Enabled" {
			t.Errorf("mappings after restart: %+v", ms)
		}
		return nil
	})
}

// Every runtime Lambda has retired, in every family, is still a value of
// the API's enum: Lambda answers it with the deprecation message, never
// with the enum's ValidationException. Only values outside the enum get
// that.
func TestEveryRetiredRuntimeAnswersAsLambda(t *testing.T) {
	fx := start(t, newClock())
	retired := []types.Runtime{
		types.RuntimeNodejs, types.RuntimeNodejs43, types.RuntimeNodejs43edge, types.RuntimeNodejs610, types.RuntimeNodejs810,
		types.RuntimeNodejs10x, types.RuntimeNodejs12x, types.RuntimeNodejs14x, types.RuntimeNodejs16x,
		types.RuntimePython27, types.RuntimePython36, types.RuntimePython37, types.RuntimePython38,
		types.RuntimeJava8, types.RuntimeDotnetcore10, types.RuntimeDotnetcore20, types.RuntimeDotnetcore21,
		types.RuntimeDotnetcore31, types.RuntimeDotnet6, types.RuntimeRuby25, types.RuntimeRuby27,
		types.RuntimeGo1x, types.RuntimeProvided,
	}
	for i, rt := range retired {
		_, err := fx.cli.CreateFunction(ctx, &lam.CreateFunctionInput{FunctionName: aws.String(fmt.Sprintf("old%d", i)), Runtime: rt, Role: aws.String(roleArn), Handler: aws.String("index.handler"), Code: &types.FunctionCode{ZipFile: zipOf(t, map[string]string{"a": "b"})}})
		var ipv *types.InvalidParameterValueException
		want := "The runtime parameter of " + string(rt) + " is no longer supported for creating or updating AWS Lambda functions"
		if !errors.As(err, &ipv) || !strings.HasPrefix(ipv.ErrorMessage(), want) {
			t.Errorf("%s: want InvalidParameterValueException %q, got %v", rt, want, err)
		}
	}
	for _, rt := range []types.Runtime{"nodejs99.x", "dotnet7", "python3"} {
		_, err := fx.cli.CreateFunction(ctx, &lam.CreateFunctionInput{FunctionName: aws.String("bad"), Runtime: rt, Role: aws.String(roleArn), Handler: aws.String("index.handler"), Code: &types.FunctionCode{ZipFile: zipOf(t, map[string]string{"a": "b"})}})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || !strings.Contains(err.Error(), "Value '"+string(rt)+"' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs, nodejs4.3,") {
			t.Errorf("%s: want the enum's ValidationException, got %v", rt, err)
		}
	}
}
