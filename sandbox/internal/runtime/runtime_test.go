//go:build unix

package runtime_test

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/slab-lab/slab/internal/extern"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	lam "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/iam"
	"github.com/slab-lab/slab/sandbox/internal/lambda"
	"github.com/slab-lab/slab/sandbox/internal/logs"
	lrt "github.com/slab-lab/slab/sandbox/internal/runtime"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
	"github.com/slab-lab/slab/sandbox/internal/sts"
)

var ctx = context.Background()

const trustDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// --- the test function, built once per run ---

var (
	buildDir string
	fnOnce   sync.Once
	fnPath   string
	fnErr    error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "slab-runtime-test-")
	if err != nil {
		panic(err)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fnBinary builds testdata/fn for this host.
func fnBinary(t testing.TB) string {
	t.Helper()
	fnOnce.Do(func() {
		fnPath = filepath.Join(buildDir, "fn")
		if goruntime.GOOS == "windows" {
			fnPath += ".exe"
		}
		out, err := exec.Command("go", "build", "-ldflags=-s -w", "-o", fnPath, "./testdata/fn").CombinedOutput()
		if err != nil {
			fnErr = fmt.Errorf("go build ./testdata/fn: %v\n%s", err, out)
		}
	})
	if fnErr != nil {
		t.Fatal(fnErr)
	}
	return fnPath
}

type zipFile struct {
	data []byte
	mode os.FileMode
}

func makeZip(t testing.TB, files map[string]zipFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := files[n]
		// Stored, not deflated: the test bootstrap is megabytes, and
		// compressing it for every function would dominate the tests.
		h := &zip.FileHeader{Name: n, Method: zip.Store}
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	zipOnce  sync.Once
	zipBytes []byte
)

// goZip is a provided.al2023 package whose bootstrap is the test function.
func goZip(t testing.TB) []byte {
	path := fnBinary(t)
	zipOnce.Do(func() {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		zipBytes = makeZip(t, map[string]zipFile{"bootstrap": {b, 0o755}})
	})
	return zipBytes
}

// otherGoZip is goZip with another CodeSha256.
func otherGoZip(t testing.TB) []byte {
	b, err := os.ReadFile(fnBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	return makeZip(t, map[string]zipFile{"bootstrap": {b, 0o755}, "VERSION": {[]byte("2"), 0}})
}

// foreignELF is the header of a Linux executable for the other common
// architecture: a bootstrap this host cannot run.
func foreignELF() ([]byte, string) {
	h := make([]byte, 64)
	copy(h, "\x7fELF")
	h[4], h[5], h[6] = 2, 1, 1 // 64-bit, little endian, version 1
	m, arch := elf.EM_AARCH64, "arm64"
	if goruntime.GOARCH == "arm64" {
		m, arch = elf.EM_X86_64, "amd64"
	}
	binary.LittleEndian.PutUint16(h[16:], uint16(elf.ET_EXEC))
	binary.LittleEndian.PutUint16(h[18:], uint16(m))
	binary.LittleEndian.PutUint32(h[20:], 1)
	binary.LittleEndian.PutUint16(h[52:], 64)
	return h, arch
}

// --- a sandbox with the runtime ---

type sandbox struct {
	env  *sbtest.Env
	rt   *lrt.Runtime
	lam  *lam.Client
	logs *cwl.Client
	role string
}

func fastOptions() lrt.Options {
	return lrt.Options{AsyncRetryDelay: 50 * time.Millisecond, ReapInterval: 50 * time.Millisecond}
}

func start(t testing.TB, o lrt.Options) *sandbox {
	t.Helper()
	return startWith(t, o, nil)
}

// startWith serves the sandbox with an accounts map (nil: every key works).
func startWith(t testing.TB, o lrt.Options, accounts core.Accounts) *sandbox {
	t.Helper()
	var rt *lrt.Runtime
	env := sbtest.StartWith(t, core.HandlerOptions{Accounts: accounts}, func(c *core.Core) []core.Service {
		st := sts.New(c)
		im := iam.New(c)
		fn := lambda.New(c)
		fn.CreateDelay, fn.UpdateDelay = 0, 0
		lg := logs.New(c)
		rt = lrt.New(c, fn, lg, o)
		return []core.Service{st, im, fn, lg}
	})
	t.Cleanup(func() { rt.Close() })
	s := &sandbox{env: env, rt: rt, lam: lam.NewFromConfig(env.Config), logs: cwl.NewFromConfig(env.Config)}
	out, err := iamsdk.NewFromConfig(env.Config).CreateRole(ctx, &iamsdk.CreateRoleInput{
		RoleName: aws.String("fn-role"), AssumeRolePolicyDocument: aws.String(trustDoc),
	})
	if err != nil {
		t.Fatal(err)
	}
	// As on AWS, a function's output reaches CloudWatch Logs only when its
	// role may write there.
	if _, err := iamsdk.NewFromConfig(env.Config).AttachRolePolicy(ctx, &iamsdk.AttachRolePolicyInput{
		RoleName: aws.String("fn-role"), PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
	}); err != nil {
		t.Fatal(err)
	}
	s.role = *out.Role.Arn
	return s
}

type fnSpec struct {
	name, runtime, handler string
	zip                    []byte
	timeout                int32
	env                    map[string]string
}

func (s *sandbox) create(t testing.TB, f fnSpec) *lam.CreateFunctionOutput {
	t.Helper()
	if f.runtime == "" {
		f.runtime = "provided.al2023"
	}
	in := &lam.CreateFunctionInput{
		FunctionName: aws.String(f.name), Runtime: types.Runtime(f.runtime), Handler: aws.String(f.handler),
		Role: aws.String(s.role), Code: &types.FunctionCode{ZipFile: f.zip}, MemorySize: aws.Int32(256),
	}
	if f.timeout > 0 {
		in.Timeout = aws.Int32(f.timeout)
	}
	if f.env != nil {
		in.Environment = &types.Environment{Variables: f.env}
	}
	out, err := s.lam.CreateFunction(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (s *sandbox) invoke(t testing.TB, name string, payload string) *lam.InvokeOutput {
	t.Helper()
	out, err := s.lam.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String(name), Payload: []byte(payload), LogType: types.LogTypeTail})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type logEvent struct {
	stream, message string
}

// logLines returns every event of the group, stream by stream in creation
// order.
func (s *sandbox) logLines(t testing.TB, group string) []logEvent {
	t.Helper()
	streams, err := s.logs.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String(group)})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(streams.LogStreams, func(i, j int) bool {
		return *streams.LogStreams[i].CreationTime < *streams.LogStreams[j].CreationTime
	})
	var out []logEvent
	for _, st := range streams.LogStreams {
		ev, err := s.logs.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: st.LogStreamName, StartFromHead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ev.Events {
			out = append(out, logEvent{*st.LogStreamName, *e.Message})
		}
	}
	return out
}

func messages(evs []logEvent) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(e.message)
		b.WriteByte('\n')
	}
	return b.String()
}

type echoOut struct {
	Event        json.RawMessage   `json:"event"`
	Count        int               `json:"count"`
	Pid          int               `json:"pid"`
	Env          map[string]string `json:"env"`
	RequestID    string            `json:"requestId"`
	Arn          string            `json:"arn"`
	DeadlineIn   float64           `json:"deadlineIn"`
	ClientCustom string            `json:"clientCustom"`
	Handler      string            `json:"handler"`
}

func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("payload %s: %v", b, err)
	}
	return v
}

type errDoc struct {
	ErrorType    string   `json:"errorType"`
	ErrorMessage string   `json:"errorMessage"`
	Trace        []string `json:"trace"`
}

func processGone(pid int) bool {
	if goruntime.GOOS == "windows" {
		return true
	}
	if syscall.Kill(pid, 0) == syscall.ESRCH {
		return true
	}
	// A zombie runs no code; a killed child is one until it is reaped.
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X')
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// --- tests ---

func TestInvokeGoBootstrap(t *testing.T) {
	t.Setenv("AWS_PROFILE", "host-profile-must-not-leak")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAHOSTKEY")
	s := start(t, fastOptions())
	s.create(t, fnSpec{name: "echo", handler: "echo", zip: goZip(t), timeout: 7, env: map[string]string{"TABLE_NAME": "items"}})

	out := s.invoke(t, "echo", `{"hello":"world"}`)
	if out.StatusCode != 200 || out.FunctionError != nil {
		t.Fatalf("status %d, function error %v: %s", out.StatusCode, aws.ToString(out.FunctionError), out.Payload)
	}
	if aws.ToString(out.ExecutedVersion) != "$LATEST" {
		t.Errorf("ExecutedVersion = %q", aws.ToString(out.ExecutedVersion))
	}
	first := decode[echoOut](t, out.Payload)
	if string(first.Event) != `{"hello":"world"}` || first.Count != 1 {
		t.Errorf("event %s count %d", first.Event, first.Count)
	}
	reqID, _ := awsmw.GetRequestIDMetadata(out.ResultMetadata)
	if first.RequestID != reqID || first.Arn != "arn:aws:lambda:us-east-1:000000000000:function:echo" {
		t.Errorf("request id %q (API %q), arn %q", first.RequestID, reqID, first.Arn)
	}
	if first.DeadlineIn < 6 || first.DeadlineIn > 7.01 {
		t.Errorf("deadline in %.2fs, want about the 7s timeout", first.DeadlineIn)
	}
	e := first.Env
	want := map[string]string{
		"_HANDLER": "echo", "AWS_LAMBDA_FUNCTION_NAME": "echo", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
		"AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/echo", "TABLE_NAME": "items", "AWS_ENDPOINT_URL": s.env.URL,
	}
	for k, v := range want {
		if e[k] != v {
			t.Errorf("%s = %q, want %q", k, e[k], v)
		}
	}
	if !regexp.MustCompile(`^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$`).MatchString(e["AWS_LAMBDA_LOG_STREAM_NAME"]) {
		t.Errorf("log stream name %q", e["AWS_LAMBDA_LOG_STREAM_NAME"])
	}
	if !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(e["AWS_LAMBDA_RUNTIME_API"]) {
		t.Errorf("AWS_LAMBDA_RUNTIME_API = %q", e["AWS_LAMBDA_RUNTIME_API"])
	}
	if fi, err := os.Stat(filepath.Join(e["LAMBDA_TASK_ROOT"], "bootstrap")); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("LAMBDA_TASK_ROOT %q holds no executable bootstrap: %v", e["LAMBDA_TASK_ROOT"], err)
	}
	if _, leaked := e["AWS_PROFILE"]; leaked || e["AWS_ACCESS_KEY_ID"] == "AKIAHOSTKEY" || e["AWS_SESSION_TOKEN"] == "" {
		t.Errorf("host AWS variables leaked or credentials missing: AWS_PROFILE=%q AWS_ACCESS_KEY_ID=%q", e["AWS_PROFILE"], e["AWS_ACCESS_KEY_ID"])
	}

	// Warm reuse: the same process serves the second invocation.
	second := decode[echoOut](t, s.invoke(t, "echo", `{"n":2}`).Payload)
	if second.Pid != first.Pid || second.Count != 2 {
		t.Errorf("second invocation: pid %d count %d, want pid %d count 2", second.Pid, second.Count, first.Pid)
	}

	// ClientContext reaches the function (base64 JSON on the API).
	cc := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`))
	out, err := s.lam.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("echo"), ClientContext: aws.String(cc)})
	if err != nil {
		t.Fatal(err)
	}
	if got := decode[echoOut](t, out.Payload).ClientCustom; got != `{"k":"v"}` {
		t.Errorf("client context custom = %s", got)
	}
	_, err = s.lam.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("echo"), ClientContext: aws.String("not base64!")})
	var bad *types.InvalidRequestContentException
	if !errors.As(err, &bad) {
		t.Errorf("bad client context: %v, want InvalidRequestContentException", err)
	}
}

// TestFunctionCredentialsMapToItsAccount: the credentials a function gets
// sign as its account even when an accounts file lists only the users' keys.
func TestFunctionCredentialsMapToItsAccount(t *testing.T) {
	s := startWith(t, fastOptions(), sbtest.Keys(map[string]string{"AKIDSANDBOXTEST": "000000000000", "AKIDOTHER": "111122223333"}))
	other := lam.NewFromConfig(s.env.For("AKIDOTHER", "eu-west-1"))
	otherIAM := iamsdk.NewFromConfig(s.env.For("AKIDOTHER", "eu-west-1"))
	role, err := otherIAM.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustDoc)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.CreateFunction(ctx, &lam.CreateFunctionInput{
		FunctionName: aws.String("whoami"), Runtime: types.RuntimeProvidedal2023, Handler: aws.String("whoami"),
		Role: role.Role.Arn, Code: &types.FunctionCode{ZipFile: goZip(t)}, Timeout: aws.Int32(10),
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := other.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("whoami")})
	if err != nil {
		t.Fatal(err)
	}
	if out.FunctionError != nil {
		t.Fatalf("function error: %s", out.Payload)
	}
	got := decode[map[string]string](t, out.Payload)
	if got["account"] != "111122223333" || got["region"] != "eu-west-1" {
		t.Errorf("the function's SDK sees %v, want account 111122223333 in eu-west-1", got)
	}
}

func TestHandlerErrorIsUnhandled(t *testing.T) {
	s := start(t, fastOptions())
	s.create(t, fnSpec{name: "failing", handler: "fail", zip: goZip(t)})
	out := s.invoke(t, "failing", `{}`)
	if out.StatusCode != 200 || aws.ToString(out.FunctionError) != "Unhandled" {
		t.Fatalf("status %d, FunctionError %q", out.StatusCode, aws.ToString(out.FunctionError))
	}
	doc := decode[errDoc](t, out.Payload)
	if doc.ErrorType != "errorString" || doc.ErrorMessage != "boom" {
		t.Errorf("error document %s", out.Payload)
	}
	tail, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if !strings.Contains(string(tail), "about to fail") || !strings.Contains(string(tail), `"errorMessage":"boom"`) {
		t.Errorf("tail lacks the function's log:\n%s", tail)
	}
	// The environment stays warm after a handled failure.
	out2 := s.invoke(t, "failing", `{}`)
	if aws.ToString(out2.FunctionError) != "Unhandled" {
		t.Errorf("second invocation: %s", out2.Payload)
	}
	lines := s.logLines(t, "/aws/lambda/failing")
	if n := strings.Count(messages(lines), "Init Duration"); n != 1 {
		t.Errorf("%d cold starts, want 1:\n%s", n, messages(lines))
	}
}

func TestAsyncInvocationRetriedTwice(t *testing.T) {
	s := start(t, fastOptions())
	s.create(t, fnSpec{name: "async-fail", handler: "fail", zip: goZip(t)})
	s.create(t, fnSpec{name: "async-ok", handler: "noop", zip: goZip(t)})

	out, err := s.lam.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("async-fail"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"a":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != 202 || len(out.Payload) != 0 {
		t.Fatalf("Event invoke: status %d payload %q", out.StatusCode, out.Payload)
	}
	id, _ := awsmw.GetRequestIDMetadata(out.ResultMetadata)
	startLine := "START RequestId: " + id + " Version: $LATEST"
	count := func() int {
		if _, err := s.logs.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{}); err != nil {
			t.Fatal(err)
		}
		return strings.Count(messages(s.logLines(t, "/aws/lambda/async-fail")), startLine)
	}
	logGroupExists := func() bool {
		g, err := s.logs.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/async-fail")})
		return err == nil && len(g.LogGroups) == 1
	}
	waitFor(t, 10*time.Second, "the log group", logGroupExists)
	waitFor(t, 10*time.Second, "three attempts", func() bool { return count() >= 3 })
	time.Sleep(400 * time.Millisecond) // well past a fourth attempt's delay
	if n := count(); n != 3 {
		t.Errorf("%d attempts, want 3 (one try and two retries)", n)
	}

	out, err = s.lam.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("async-ok"), InvocationType: types.InvocationTypeEvent})
	if err != nil {
		t.Fatal(err)
	}
	okID, _ := awsmw.GetRequestIDMetadata(out.ResultMetadata)
	okStart := "START RequestId: " + okID
	waitFor(t, 10*time.Second, "the successful async invocation", func() bool {
		g, err := s.logs.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/async-ok")})
		return err == nil && len(g.LogGroups) == 1 && strings.Contains(messages(s.logLines(t, "/aws/lambda/async-ok")), "END RequestId: "+okID)
	})
	time.Sleep(300 * time.Millisecond)
	if n := strings.Count(messages(s.logLines(t, "/aws/lambda/async-ok")), okStart); n != 1 {
		t.Errorf("a successful Event invocation ran %d times", n)
	}
}

func TestTimeoutKillsTheEnvironment(t *testing.T) {
	s := start(t, fastOptions())
	s.create(t, fnSpec{name: "sleepy", handler: "sleep", zip: goZip(t), timeout: 1})
	began := time.Now()
	out := s.invoke(t, "sleepy", `{"sleep":5}`)
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("the 1 s timeout took %v to fire", took)
	}
	if aws.ToString(out.FunctionError) != "Unhandled" {
		t.Fatalf("FunctionError %q: %s", aws.ToString(out.FunctionError), out.Payload)
	}
	reqID, _ := awsmw.GetRequestIDMetadata(out.ResultMetadata)
	doc := decode[errDoc](t, out.Payload)
	if doc.ErrorType != "Sandbox.Timedout" || doc.ErrorMessage != "RequestId: "+reqID+" Error: Task timed out after 1.00 seconds" {
		t.Errorf("timeout document %s", out.Payload)
	}
	text := messages(s.logLines(t, "/aws/lambda/sleepy"))
	if !regexp.MustCompile(`(?m)^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z ` + reqID + ` Task timed out after 1\.00 seconds$`).MatchString(text) {
		t.Errorf("no timeout line in the log:\n%s", text)
	}
	if !strings.Contains(text, "Status: timeout") {
		t.Errorf("REPORT lacks Status: timeout:\n%s", text)
	}
	m := regexp.MustCompile(`pid=(\d+) sleeping`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("the function's pid is not in the log:\n%s", text)
	}
	pid, _ := strconv.Atoi(m[1])
	if !processGone(pid) {
		t.Errorf("the timed-out process %d is still running", pid)
	}
	// The next invocation gets a fresh environment.
	out = s.invoke(t, "sleepy", `{"sleep":0}`)
	if out.FunctionError != nil {
		t.Fatalf("after the timeout: %s", out.Payload)
	}
	if got := decode[map[string]any](t, out.Payload)["pid"]; int(got.(float64)) == pid {
		t.Errorf("the killed environment was reused")
	}
}

func TestLogsStartEndReportAndTail(t *testing.T) {
	s := start(t, fastOptions())
	s.create(t, fnSpec{name: "logged", handler: "echo", zip: goZip(t)})
	var ids []string
	var tails []string
	for i := 0; i < 2; i++ {
		out := s.invoke(t, "logged", `{}`)
		id, _ := awsmw.GetRequestIDMetadata(out.ResultMetadata)
		ids = append(ids, id)
		tail, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
		if err != nil {
			t.Fatal(err)
		}
		tails = append(tails, string(tail))
	}
	evs := s.logLines(t, "/aws/lambda/logged")
	streamRE := regexp.MustCompile(`^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$`)
	for _, e := range evs {
		if !streamRE.MatchString(e.stream) || e.stream != evs[0].stream {
			t.Fatalf("stream %q: want one stream per environment named like Lambda's", e.stream)
		}
	}
	var msgs []string
	for _, e := range evs {
		msgs = append(msgs, e.message)
	}
	report := regexp.MustCompile(`^REPORT RequestId: ([0-9a-f-]{36})\tDuration: \d+\.\d{2} ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB\t(Init Duration: \d+\.\d{2} ms\t)?$`)
	for i, id := range ids {
		at := func(s string) int {
			for j, m := range msgs {
				if m == s || (strings.HasPrefix(s, "REPORT") && strings.HasPrefix(m, s)) || (s == "echo" && strings.HasPrefix(m, "20") && strings.HasSuffix(m, fmt.Sprintf("echo line %d", i+1))) {
					return j
				}
			}
			return -1
		}
		st, echo, stdout, end, rep := at("START RequestId: "+id+" Version: $LATEST"), at("echo"), -1, at("END RequestId: "+id), at("REPORT RequestId: "+id)
		for j := st + 1; j >= 1 && j < end; j++ {
			if msgs[j] == "stdout line" {
				stdout = j
			}
		}
		if st < 0 || !(st < echo && echo < end && st < stdout && stdout < end && end < rep) {
			t.Fatalf("invocation %d: START %d, output %d/%d, END %d, REPORT %d in\n%s", i, st, echo, stdout, end, rep, strings.Join(msgs, "\n"))
		}
		m := report.FindStringSubmatch(msgs[rep])
		if m == nil || m[1] != id {
			t.Errorf("REPORT line %q", msgs[rep])
		} else if (m[2] != "") != (i == 0) {
			t.Errorf("invocation %d: Init Duration %q, want it on the cold start only", i, m[2])
		}
		if !strings.HasSuffix(tails[i], msgs[rep]+"\n") || !strings.Contains(tails[i], "START RequestId: "+id) {
			t.Errorf("tail %d:\n%s", i, tails[i])
		}
		if strings.Contains(tails[i], "START RequestId: "+ids[1-i]) {
			t.Errorf("tail %d holds the other invocation's log", i)
		}
	}

	// A long log is cut to its last 4 KB.
	s.create(t, fnSpec{name: "chatty", handler: "chatty", zip: goZip(t)})
	out := s.invoke(t, "chatty", `{}`)
	tail, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if len(tail) != 4096 || strings.Contains(string(tail), "START RequestId") || !strings.Contains(string(tail), "chatty line 199") ||
		!strings.HasPrefix(strings.SplitAfter(string(tail), "\n")[len(strings.SplitAfter(string(tail), "\n"))-2], "REPORT RequestId: ") {
		t.Errorf("tail of %d bytes:\n%s", len(tail), tail)
	}

	// A partial line printed just before the response belongs to the
	// invocation that printed it.
	s.create(t, fnSpec{name: "partial", handler: "multiline", zip: goZip(t)})
	out = s.invoke(t, "partial", `{}`)
	tail, _ = base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if !strings.Contains(string(tail), "partial line without newline\n") {
		t.Errorf("the partial line is not in the invocation's tail:\n%s", tail)
	}
}

func TestRuntimeFailures(t *testing.T) {
	s := start(t, fastOptions())
	zip := goZip(t)
	s.create(t, fnSpec{name: "crash", handler: "exit", zip: zip})
	s.create(t, fnSpec{name: "initexit", handler: "exit-at-init", zip: zip})
	s.create(t, fnSpec{name: "initerror", handler: "init-error", zip: zip})
	s.create(t, fnSpec{name: "big", handler: "big", zip: zip})

	out := s.invoke(t, "crash", `{}`)
	id, _ := awsmw.GetRequestIDMetadata(out.ResultMetadata)
	doc := decode[errDoc](t, out.Payload)
	if aws.ToString(out.FunctionError) != "Unhandled" || doc.ErrorType != "Runtime.ExitError" ||
		doc.ErrorMessage != "RequestId: "+id+" Error: Runtime exited with error: exit status 3" {
		t.Errorf("crash: %s", out.Payload)
	}
	text := messages(s.logLines(t, "/aws/lambda/crash"))
	if !strings.Contains(text, "exiting mid-invocation") || !strings.Contains(text, "Runtime exited with error: exit status 3\nRuntime.ExitError") ||
		!strings.Contains(text, "Status: error\tError Type: Runtime.ExitError") {
		t.Errorf("crash log:\n%s", text)
	}

	out = s.invoke(t, "initexit", `{}`)
	doc = decode[errDoc](t, out.Payload)
	if doc.ErrorType != "Runtime.ExitError" || !strings.HasSuffix(doc.ErrorMessage, "exit status 4") {
		t.Errorf("exit during init: %s", out.Payload)
	}
	text = messages(s.logLines(t, "/aws/lambda/initexit"))
	if !strings.Contains(text, "giving up before the first request") || !strings.Contains(text, "INIT_REPORT Init Duration:") {
		t.Errorf("exit during init log:\n%s", text)
	}

	out = s.invoke(t, "initerror", `{}`)
	doc = decode[errDoc](t, out.Payload)
	if aws.ToString(out.FunctionError) != "Unhandled" || doc.ErrorType != "Runtime.HandlerNotFound" || doc.ErrorMessage != "no such handler: init-error" {
		t.Errorf("init error: %s", out.Payload)
	}
	text = messages(s.logLines(t, "/aws/lambda/initerror"))
	if !strings.Contains(text, "Phase: init\tStatus: error\tError Type: Runtime.HandlerNotFound") {
		t.Errorf("init error log:\n%s", text)
	}

	out = s.invoke(t, "big", `{}`)
	doc = decode[errDoc](t, out.Payload)
	if doc.ErrorType != "Function.ResponseSizeTooLarge" || doc.ErrorMessage != "Response payload size exceeded maximum allowed payload size (6291556 bytes)." {
		t.Errorf("oversized response: %.300s", out.Payload)
	}

	// A bootstrap that is a script runs through its interpreter.
	if goruntime.GOOS != "windows" {
		script := "#!/bin/sh\nexec " + fnBinary(t) + "\n"
		s.create(t, fnSpec{name: "script", handler: "noop", zip: makeZip(t, map[string]zipFile{"bootstrap": {[]byte(script), 0o755}})})
		if out := s.invoke(t, "script", `{}`); out.FunctionError != nil || string(out.Payload) != `{"n":1}` {
			t.Errorf("script bootstrap: %s", out.Payload)
		}
	}

	// A bootstrap the zip does not mark executable fails as on Lambda.
	b, _ := os.ReadFile(fnBinary(t))
	s.create(t, fnSpec{name: "noexec", handler: "noop", zip: makeZip(t, map[string]zipFile{"bootstrap": {b, 0o644}})})
	out = s.invoke(t, "noexec", `{}`)
	doc = decode[errDoc](t, out.Payload)
	if doc.ErrorType != "Runtime.InvalidEntrypoint" || !strings.Contains(doc.ErrorMessage, "permission denied") {
		t.Errorf("non-executable bootstrap: %s", out.Payload)
	}
	s.create(t, fnSpec{name: "nobootstrap", handler: "noop", zip: makeZip(t, map[string]zipFile{"main.go": {[]byte("package main"), 0}})})
	out = s.invoke(t, "nobootstrap", `{}`)
	doc = decode[errDoc](t, out.Payload)
	if doc.ErrorType != "Runtime.InvalidEntrypoint" || !strings.Contains(doc.ErrorMessage, "Couldn't find valid bootstrap(s)") {
		t.Errorf("missing bootstrap: %s", out.Payload)
	}
	text = messages(s.logLines(t, "/aws/lambda/nobootstrap"))
	if !strings.Contains(text, "Couldn't find valid bootstrap(s)") || !strings.Contains(text, "END RequestId: ") {
		t.Errorf("missing bootstrap log:\n%s", text)
	}
	s.create(t, fnSpec{name: "python", runtime: "python3.12", handler: "app.handler", zip: makeZip(t, map[string]zipFile{"app.py": {[]byte("def handler(e, c): return 1\n"), 0}})})
	out = s.invoke(t, "python", `{}`)
	if doc = decode[errDoc](t, out.Payload); !strings.Contains(doc.ErrorMessage, "cannot run python3.12 functions") {
		t.Errorf("python function: %s", out.Payload)
	}
}

func TestSlabManifestRunsSelfExe(t *testing.T) {
	foreignBin, arch := foreignELF()
	manifest := []byte(`{"handler":"manifest-check","slab_version":"test","arch":"` + arch + `"}`)
	zip := makeZip(t, map[string]zipFile{"bootstrap": {foreignBin, 0o755}, "slab-manifest.json": {manifest, 0}})

	o := fastOptions()
	o.SelfExe = fnBinary(t)
	s := start(t, o)
	s.create(t, fnSpec{name: "slabfn", handler: "manifest-check", zip: zip})
	out := s.invoke(t, "slabfn", `{"x":1}`)
	if out.FunctionError != nil {
		t.Fatalf("manifest zip with SelfExe: %s", out.Payload)
	}
	got := decode[echoOut](t, out.Payload)
	if got.Handler != "manifest-check" || got.Env["_HANDLER"] != "manifest-check" || string(got.Event) != `{"x":1}` {
		t.Errorf("SelfExe ran with _HANDLER %q: %s", got.Handler, out.Payload)
	}

	// Without SelfExe the foreign bootstrap cannot run: a clear error.
	bare := start(t, fastOptions())
	bare.create(t, fnSpec{name: "slabfn", handler: "manifest-check", zip: zip})
	out = bare.invoke(t, "slabfn", `{}`)
	doc := decode[errDoc](t, out.Payload)
	if aws.ToString(out.FunctionError) != "Unhandled" || doc.ErrorType != "Runtime.InvalidEntrypoint" ||
		!strings.Contains(doc.ErrorMessage, "exec format error") || !strings.Contains(doc.ErrorMessage, "linux/"+arch) || !strings.Contains(doc.ErrorMessage, "SelfExe") {
		t.Errorf("manifest zip without SelfExe: %s", out.Payload)
	}
	text := messages(bare.logLines(t, "/aws/lambda/slabfn"))
	if !strings.Contains(text, "Runtime.InvalidEntrypoint") || !strings.Contains(text, "exec format error") {
		t.Errorf("the error is not in the log:\n%s", text)
	}

	// A foreign bootstrap without a manifest says what to build.
	bare.create(t, fnSpec{name: "foreign", handler: "x", zip: makeZip(t, map[string]zipFile{"bootstrap": {foreignBin, 0o755}})})
	out = bare.invoke(t, "foreign", `{}`)
	if doc := decode[errDoc](t, out.Payload); !strings.Contains(doc.ErrorMessage, "build it for "+goruntime.GOOS+"/"+goruntime.GOARCH) {
		t.Errorf("foreign bootstrap: %s", out.Payload)
	}
}

func TestProcessesCleanedUp(t *testing.T) {
	s := start(t, fastOptions())
	zip := goZip(t)
	s.create(t, fnSpec{name: "doomed", handler: "echo", zip: zip})
	s.create(t, fnSpec{name: "changing", handler: "echo", zip: zip})
	s.create(t, fnSpec{name: "survivor", handler: "echo", zip: zip})

	doomed := decode[echoOut](t, s.invoke(t, "doomed", `{}`).Payload).Pid
	if _, err := s.lam.DeleteFunction(ctx, &lam.DeleteFunctionInput{FunctionName: aws.String("doomed")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the deleted function's process to end", func() bool { return processGone(doomed) })

	before := decode[echoOut](t, s.invoke(t, "changing", `{}`).Payload).Pid
	if _, err := s.lam.UpdateFunctionConfiguration(ctx, &lam.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("changing"), Environment: &types.Environment{Variables: map[string]string{"VER": "2"}},
	}); err != nil {
		t.Fatal(err)
	}
	after := decode[echoOut](t, s.invoke(t, "changing", `{}`).Payload)
	if after.Pid == before || after.Env["VER"] != "2" {
		t.Errorf("after the update: pid %d (before %d), VER=%q", after.Pid, before, after.Env["VER"])
	}
	waitFor(t, 5*time.Second, "the old revision's process to end", func() bool { return processGone(before) })

	if _, err := s.lam.UpdateFunctionCode(ctx, &lam.UpdateFunctionCodeInput{FunctionName: aws.String("changing"), ZipFile: otherGoZip(t)}); err != nil {
		t.Fatal(err)
	}
	third := decode[echoOut](t, s.invoke(t, "changing", `{}`).Payload).Pid
	if third == after.Pid {
		t.Errorf("new code ran in the old environment")
	}

	survivor := decode[echoOut](t, s.invoke(t, "survivor", `{}`).Payload).Pid
	if processGone(survivor) || processGone(third) {
		t.Fatal("warm environments should be running")
	}
	base := filepath.Dir(after.Env["LAMBDA_TASK_ROOT"])
	if err := s.rt.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{survivor, third} {
		if !processGone(pid) {
			t.Errorf("process %d survived Close", pid)
		}
	}
	if _, err := os.Stat(base); !os.IsNotExist(err) {
		t.Errorf("the unzipped code %s survived Close: %v", base, err)
	}
	_, err := s.lam.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("survivor")})
	if err == nil {
		t.Error("Invoke after Close succeeded")
	}
}

func TestConcurrencyCap(t *testing.T) {
	o := fastOptions()
	o.MaxConcurrency = 2
	s := start(t, o)
	s.create(t, fnSpec{name: "slow", handler: "sleep", zip: goZip(t)})
	var mu sync.Mutex
	pids := map[int]bool{}
	var wg sync.WaitGroup
	began := time.Now()
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := s.lam.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("slow"), Payload: []byte(`{"sleep":0.4}`)})
			if err != nil || out.FunctionError != nil {
				t.Errorf("invoke: %v %s", err, out.Payload)
				return
			}
			pid := int(decode[map[string]any](t, out.Payload)["pid"].(float64))
			mu.Lock()
			pids[pid] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if took := time.Since(began); took < 800*time.Millisecond {
		t.Errorf("4 invocations of 0.4 s with 2 environments took %v", took)
	}
	if len(pids) != 2 {
		t.Errorf("%d environments, want 2 (the cap, each reused)", len(pids))
	}
}

func TestDryRun(t *testing.T) {
	s := start(t, fastOptions())
	s.create(t, fnSpec{name: "dry", handler: "fail", zip: goZip(t)})
	out, err := s.lam.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("dry"), InvocationType: types.InvocationTypeDryRun})
	if err != nil || out.StatusCode != 204 {
		t.Fatalf("DryRun: %v status %d", err, out.StatusCode)
	}
	if _, err := s.logs.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("/aws/lambda/dry")}); err == nil {
		t.Error("DryRun ran the function")
	}
	_, err = s.lam.Invoke(ctx, &lam.InvokeInput{FunctionName: aws.String("missing")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("missing function: %v", err)
	}
}

func TestCoreInvoker(t *testing.T) {
	s := start(t, fastOptions())
	s.create(t, fnSpec{name: "engine", handler: "echo", zip: goZip(t)})
	s.create(t, fnSpec{name: "engine-fail", handler: "fail", zip: goZip(t)})
	inv, ok := s.env.Core.Hook(core.HookInvoker).(core.Invoker)
	if !ok {
		t.Fatal("no core.Invoker registered")
	}
	sc := core.Scope{Account: "000000000000", Region: "us-east-1"}
	out, err := inv.Invoke(ctx, core.InvokeInput{Scope: sc, Function: "arn:aws:lambda:us-east-1:000000000000:function:engine", Payload: []byte(`{"Records":[]}`), Source: "sqs"})
	if err != nil {
		t.Fatal(err)
	}
	got := decode[echoOut](t, out.Payload)
	if out.FunctionError != "" || string(got.Event) != `{"Records":[]}` || got.RequestID != out.RequestID {
		t.Errorf("Invoke: %+v", out)
	}
	if !strings.Contains(out.LogTail, "END RequestId: "+out.RequestID) {
		t.Errorf("LogTail:\n%s", out.LogTail)
	}
	out, err = inv.Invoke(ctx, core.InvokeInput{Scope: sc, Function: "engine-fail", Payload: []byte(`{}`)})
	if err != nil || out.FunctionError != "Unhandled" {
		t.Errorf("failing function: %v %+v", err, out)
	}
	_, err = inv.Invoke(ctx, core.InvokeInput{Scope: sc, Function: "nope"})
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Code != "ResourceNotFoundException" {
		t.Errorf("missing function: %v", err)
	}
	if _, err := inv.InvokeAsync(core.InvokeInput{Scope: sc, Function: "nope"}); !errors.As(err, &ce) {
		t.Errorf("async missing function: %v", err)
	}
	id, err := inv.InvokeAsync(core.InvokeInput{Scope: sc, Function: "engine-fail", Payload: []byte(`{}`), Source: "s3"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "three async attempts", func() bool {
		return strings.Count(messages(s.logLines(t, "/aws/lambda/engine-fail")), "START RequestId: "+id) == 3
	})
}

// --- Node.js ---

func nodeAvailable(t *testing.T) {
	t.Helper()
	extern.Tool(t, "node", "Debian's nodejs")
}

func nodeZip(t testing.TB, files map[string]string) []byte {
	m := map[string]zipFile{}
	for n, c := range files {
		m[n] = zipFile{data: []byte(c)}
	}
	return makeZip(t, m)
}

func TestNodeFunctions(t *testing.T) {
	nodeAvailable(t)
	s := start(t, fastOptions())
	s.create(t, fnSpec{name: "node-ok", runtime: "nodejs22.x", handler: "index.handler", zip: nodeZip(t, map[string]string{
		"index.mjs": `let n = 0;
export const handler = async (event, context) => {
  n++;
  console.log('hello', event.name, {n});
  console.log('two\nlines');
  return { greeting: 'hi ' + event.name, requestId: context.awsRequestId, fn: context.functionName, n, pid: process.pid,
    remaining: context.getRemainingTimeInMillis(), env: process.env.AWS_EXECUTION_ENV, region: process.env.AWS_REGION };
};`,
	})})
	out := s.invoke(t, "node-ok", `{"name":"ada"}`)
	if out.FunctionError != nil {
		t.Fatalf("node function: %s", out.Payload)
	}
	id, _ := awsmw.GetRequestIDMetadata(out.ResultMetadata)
	got := decode[map[string]any](t, out.Payload)
	if got["greeting"] != "hi ada" || got["requestId"] != id || got["fn"] != "node-ok" || got["env"] != "AWS_Lambda_nodejs22.x" || got["region"] != "us-east-1" {
		t.Errorf("node result %s", out.Payload)
	}
	if r := got["remaining"].(float64); r <= 0 || r > 3000 {
		t.Errorf("getRemainingTimeInMillis = %v", r)
	}
	second := decode[map[string]any](t, s.invoke(t, "node-ok", `{"name":"bob"}`).Payload)
	if second["n"].(float64) != 2 || second["pid"] != got["pid"] {
		t.Errorf("warm node environment not reused: %v then %v", got, second)
	}
	text := messages(s.logLines(t, "/aws/lambda/node-ok"))
	if !regexp.MustCompile(`(?m)^\d{4}-\d{2}-\d{2}T[\d:.]+Z\t` + id + `\tINFO\thello ada \{ n: 1 \}$`).MatchString(text) {
		t.Errorf("console.log line missing:\n%s", text)
	}
	if !strings.Contains(text, "\tINFO\ttwo\nlines\n") {
		t.Errorf("a multi-line console.log is not one event:\n%s", text)
	}

	// A function that requires the v2 SDK, which nodejs18.x and later
	// runtimes do not ship: Runtime.ImportModuleError, as on AWS.
	s.create(t, fnSpec{name: "node-v2-cjs", runtime: "nodejs22.x", handler: "index.handler", zip: nodeZip(t, map[string]string{
		"index.js": "const AWS = require('aws-sdk');\nexports.handler = async () => new AWS.S3();\n",
	})})
	out = s.invoke(t, "node-v2-cjs", `{}`)
	doc := decode[errDoc](t, out.Payload)
	if aws.ToString(out.FunctionError) != "Unhandled" || doc.ErrorType != "Runtime.ImportModuleError" ||
		!strings.HasPrefix(doc.ErrorMessage, "Error: Cannot find module 'aws-sdk'") || len(doc.Trace) == 0 || !strings.HasPrefix(doc.Trace[0], "Runtime.ImportModuleError: Error: Cannot find module 'aws-sdk'") {
		t.Errorf("require('aws-sdk'): %s", out.Payload)
	}
	text = messages(s.logLines(t, "/aws/lambda/node-v2-cjs"))
	if !strings.Contains(text, "\tERROR\tUncaught Exception \t{\"errorType\":\"Runtime.ImportModuleError\",\"errorMessage\":\"Error: Cannot find module 'aws-sdk'") ||
		!strings.Contains(text, "Error Type: Runtime.ImportModuleError") {
		t.Errorf("ImportModuleError log:\n%s", text)
	}

	s.create(t, fnSpec{name: "node-v2-esm", runtime: "nodejs24.x", handler: "index.handler", zip: nodeZip(t, map[string]string{
		"index.mjs": "import AWS from 'aws-sdk';\nexport const handler = async () => new AWS.S3();\n",
	})})
	out = s.invoke(t, "node-v2-esm", `{}`)
	doc = decode[errDoc](t, out.Payload)
	if doc.ErrorType != "Runtime.ImportModuleError" || !strings.Contains(doc.ErrorMessage, "Cannot find package 'aws-sdk'") {
		t.Errorf("import AWS from 'aws-sdk': %s", out.Payload)
	}

	s.create(t, fnSpec{name: "node-throws", runtime: "nodejs22.x", handler: "app.main", zip: nodeZip(t, map[string]string{
		"app.js": "exports.main = async (event) => { null.x; };\n",
	})})
	out = s.invoke(t, "node-throws", `{}`)
	doc = decode[errDoc](t, out.Payload)
	if aws.ToString(out.FunctionError) != "Unhandled" || doc.ErrorType != "TypeError" || !strings.Contains(doc.ErrorMessage, "null") || len(doc.Trace) < 2 {
		t.Errorf("thrown TypeError: %s", out.Payload)
	}
	if text := messages(s.logLines(t, "/aws/lambda/node-throws")); !strings.Contains(text, "\tERROR\tInvoke Error \t{\"errorType\":\"TypeError\"") {
		t.Errorf("Invoke Error log:\n%s", text)
	}

	s.create(t, fnSpec{name: "node-callback", runtime: "nodejs22.x", handler: "index.handler", zip: nodeZip(t, map[string]string{
		"index.js": "exports.handler = function (event, context, callback) { setTimeout(() => callback(null, {got: event.v}), 10); };\n",
	})})
	if out := s.invoke(t, "node-callback", `{"v":7}`); string(out.Payload) != `{"got":7}` {
		t.Errorf("callback handler: %s", out.Payload)
	}

	s.create(t, fnSpec{name: "node-nohandler", runtime: "nodejs22.x", handler: "index.nope", zip: nodeZip(t, map[string]string{
		"index.mjs": "export const handler = async () => 1;\n",
	})})
	if doc := decode[errDoc](t, s.invoke(t, "node-nohandler", `{}`).Payload); doc.ErrorType != "Runtime.HandlerNotFound" || doc.ErrorMessage != "index.nope is undefined or not exported" {
		t.Errorf("missing export: %+v", doc)
	}
	s.create(t, fnSpec{name: "node-nofile", runtime: "nodejs22.x", handler: "main.handler", zip: nodeZip(t, map[string]string{
		"index.mjs": "export const handler = async () => 1;\n",
	})})
	if doc := decode[errDoc](t, s.invoke(t, "node-nofile", `{}`).Payload); doc.ErrorType != "Runtime.ImportModuleError" || !strings.HasPrefix(doc.ErrorMessage, "Error: Cannot find module 'main'") {
		t.Errorf("missing file: %+v", doc)
	}
	s.create(t, fnSpec{name: "node-syntax", runtime: "nodejs22.x", handler: "index.handler", zip: nodeZip(t, map[string]string{
		"index.mjs": "export const handler = async () => {;\n",
	})})
	if doc := decode[errDoc](t, s.invoke(t, "node-syntax", `{}`).Payload); doc.ErrorType != "Runtime.UserCodeSyntaxError" || !strings.HasPrefix(doc.ErrorMessage, "SyntaxError: ") {
		t.Errorf("syntax error: %+v", doc)
	}
	s.create(t, fnSpec{name: "node-slow", runtime: "nodejs22.x", handler: "index.handler", timeout: 1, zip: nodeZip(t, map[string]string{
		"index.mjs": "export const handler = () => new Promise((resolve) => setTimeout(resolve, 5000));\n",
	})})
	if doc := decode[errDoc](t, s.invoke(t, "node-slow", `{}`).Payload); doc.ErrorType != "Sandbox.Timedout" {
		t.Errorf("node timeout: %+v", doc)
	}
}

func TestNodeRuntimeModules(t *testing.T) {
	nodeAvailable(t)
	// Named anything but node_modules, as a user may give it.
	modules := filepath.Join(t.TempDir(), "sdk-v3")
	pkg := filepath.Join(modules, "@aws-sdk", "client-sts")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"package.json": `{"name":"@aws-sdk/client-sts","version":"3.0.0","main":"index.js","exports":{".":{"import":"./index.mjs","require":"./index.js"}}}`,
		"index.js":     "exports.STSClient = class STSClient { whoami() { return 'cjs-runtime-sdk'; } };\n",
		"index.mjs":    "export class STSClient { whoami() { return 'esm-runtime-sdk'; } }\n",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(pkg, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code := nodeZip(t, map[string]string{
		"esm.mjs": "import { STSClient } from '@aws-sdk/client-sts';\nexport const handler = async () => new STSClient().whoami();\n",
		"cjs.js":  "const { STSClient } = require('@aws-sdk/client-sts');\nexports.handler = async () => new STSClient().whoami();\n",
	})

	bare := start(t, fastOptions())
	bare.create(t, fnSpec{name: "esm", runtime: "nodejs22.x", handler: "esm.handler", zip: code})
	out := bare.invoke(t, "esm", `{}`)
	if doc := decode[errDoc](t, out.Payload); doc.ErrorType != "Runtime.ImportModuleError" {
		t.Errorf("without NodeModules: %s", out.Payload)
	}
	if text := messages(bare.logLines(t, "/aws/lambda/esm")); !strings.Contains(text, "NodeModules") {
		t.Errorf("no hint about the missing v3 SDK:\n%s", text)
	}

	o := fastOptions()
	o.NodeModules = modules
	s := start(t, o)
	s.create(t, fnSpec{name: "esm", runtime: "nodejs22.x", handler: "esm.handler", zip: code})
	s.create(t, fnSpec{name: "cjs", runtime: "nodejs22.x", handler: "cjs.handler", zip: code})
	if out := s.invoke(t, "esm", `{}`); string(out.Payload) != `"esm-runtime-sdk"` {
		t.Errorf("ESM import from NodeModules: %s", out.Payload)
	}
	if out := s.invoke(t, "cjs", `{}`); string(out.Payload) != `"cjs-runtime-sdk"` {
		t.Errorf("require from NodeModules: %s", out.Payload)
	}
}

func TestNodeMissing(t *testing.T) {
	o := fastOptions()
	o.NodePath = filepath.Join(t.TempDir(), "no-node-here")
	s := start(t, o)
	s.create(t, fnSpec{name: "n", runtime: "nodejs22.x", handler: "index.handler", zip: nodeZip(t, map[string]string{"index.mjs": "export const handler = async () => 1;"})})
	out := s.invoke(t, "n", `{}`)
	doc := decode[errDoc](t, out.Payload)
	if aws.ToString(out.FunctionError) != "Unhandled" || doc.ErrorType != "Runtime.InvalidEntrypoint" || !strings.Contains(doc.ErrorMessage, "cannot run nodejs22.x functions") {
		t.Errorf("without node: %s", out.Payload)
	}
	if text := messages(s.logLines(t, "/aws/lambda/n")); !strings.Contains(text, "cannot run nodejs22.x functions") {
		t.Errorf("without node, log:\n%s", text)
	}
}

// --- benchmark ---

// BenchmarkInvokeWarm measures invocations per second of a trivial Go
// function through the SDK, the Lambda API and the Runtime API, with warm
// environments.
func BenchmarkInvokeWarm(b *testing.B) {
	s := start(b, fastOptions())
	s.create(b, fnSpec{name: "noop", handler: "noop", zip: goZip(b)})
	s.invoke(b, "noop", `{}`)
	in := &lam.InvokeInput{FunctionName: aws.String("noop"), Payload: []byte(`{}`)}
	b.Run("sequential", func(b *testing.B) {
		began := time.Now()
		for i := 0; i < b.N; i++ {
			if out, err := s.lam.Invoke(ctx, in); err != nil || out.FunctionError != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "invocations/s")
	})
	b.Run("concurrent", func(b *testing.B) {
		b.SetParallelism(4)
		began := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if out, err := s.lam.Invoke(ctx, in); err != nil || out.FunctionError != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "invocations/s")
	})
}

func TestStaleDirectoriesRemoved(t *testing.T) {
	tmp := t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("no `true` to make a dead pid with")
	}
	stale := filepath.Join(tmp, "slab-lambda-stale")
	live := filepath.Join(tmp, "slab-lambda-live")
	for dir, pid := range map[string]int{stale: dead.Process.Pid, live: os.Getpid()} {
		if err := os.MkdirAll(filepath.Join(dir, "task-x"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(pid)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	o := fastOptions()
	o.TempDir = tmp
	s := start(t, o)
	s.create(t, fnSpec{name: "f", handler: "noop", zip: goZip(t)})
	s.invoke(t, "f", `{}`)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the dead runtime's directory is still there: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a live runtime's directory was removed: %v", err)
	}
}

func TestIdleEnvironmentsStop(t *testing.T) {
	o := fastOptions()
	o.IdleTimeout = 300 * time.Millisecond
	s := start(t, o)
	s.create(t, fnSpec{name: "idle", handler: "echo", zip: goZip(t)})
	pid := decode[echoOut](t, s.invoke(t, "idle", `{}`).Payload).Pid
	waitFor(t, 5*time.Second, "the idle environment to stop", func() bool { return processGone(pid) })
	if again := decode[echoOut](t, s.invoke(t, "idle", `{}`).Payload); again.Pid == pid || again.Count != 1 {
		t.Errorf("after the idle stop: pid %d count %d", again.Pid, again.Count)
	}
}

// TestRoleWithoutLogsPermissionsLeavesNoLogEvents: on AWS a function whose
// execution role may not write to CloudWatch Logs leaves no log at all;
// with logs:CreateLogStream and logs:PutLogEvents on an existing group it
// does.
func TestRoleWithoutLogsPermissionsLeavesNoLogEvents(t *testing.T) {
	s := start(t, fastOptions())
	im := iamsdk.NewFromConfig(s.env.Config)
	mute, err := im.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("mute-role"), AssumeRolePolicyDocument: aws.String(trustDoc)})
	if err != nil {
		t.Fatal(err)
	}
	s.role = aws.ToString(mute.Role.Arn)
	s.create(t, fnSpec{name: "mute", handler: "fail", zip: goZip(t)})
	if out := s.invoke(t, "mute", `{}`); out.FunctionError == nil {
		t.Fatalf("the handler was to fail: %s", out.Payload)
	}
	time.Sleep(700 * time.Millisecond) // past the runtime's log flush
	_, err = s.logs.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("/aws/lambda/mute")})
	var nf *cwltypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("a role without logs permissions left a log group: %v", err)
	}

	// The group exists and the role may write streams in it, not create it.
	if _, err := s.logs.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("/aws/lambda/mute")}); err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/mute:*"}]}`
	if _, err := im.PutRolePolicy(ctx, &iamsdk.PutRolePolicyInput{RoleName: aws.String("mute-role"), PolicyName: aws.String("logs"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	s.invoke(t, "mute", `{}`)
	var lines []logEvent
	for deadline := time.Now().Add(5 * time.Second); len(lines) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		lines = s.logLines(t, "/aws/lambda/mute")
	}
	if len(lines) == 0 {
		t.Fatal("with logs:CreateLogStream and logs:PutLogEvents the function's log is still empty")
	}
}

// TestRestrictedChild: with Restrict (a sandbox with --accounts) a function
// has its own temporary directory as TMPDIR and HOME, rlimits on CPU time,
// memory, open files and file size, and, when the sandbox is root, runs as
// nobody and cannot read the sandbox's files.
func TestRestrictedChild(t *testing.T) {
	if goruntime.GOOS != "linux" {
		t.Skip("restricted function processes need Linux")
	}
	o := fastOptions()
	o.Restrict = true
	s := start(t, o)
	secret := filepath.Join(t.TempDir(), "accounts.csv")
	if err := os.WriteFile(secret, []byte("access_key_id,secret_access_key,account_id\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.create(t, fnSpec{name: "confined", handler: "confined", zip: goZip(t)})
	out := s.invoke(t, "confined", `{"read":"`+secret+`"}`)
	if out.FunctionError != nil {
		t.Fatalf("function error: %s", out.Payload)
	}
	got := decode[struct {
		UID      int    `json:"uid"`
		TmpDir   string `json:"tmpdir"`
		Home     string `json:"home"`
		Limits   string `json:"limits"`
		Readable bool   `json:"readable"`
	}](t, out.Payload)
	if got.TmpDir == "" || got.TmpDir == os.TempDir() || got.Home != got.TmpDir || !strings.Contains(filepath.Base(got.TmpDir), "tmp-") {
		t.Errorf("TMPDIR %q, HOME %q: want a directory of the function's own", got.TmpDir, got.Home)
	}
	for _, l := range []*regexp.Regexp{
		regexp.MustCompile(`Max cpu time\s+900\s+900`),
		regexp.MustCompile(`Max open files\s+1024\s+1024`),
		regexp.MustCompile(`Max data size\s+805306368\s+805306368`), // 2 x 256 MB + 256 MB
	} {
		if !l.MatchString(got.Limits) {
			t.Errorf("limits lack %s:\n%s", l, got.Limits)
		}
	}
	if os.Geteuid() == 0 {
		if got.UID != 65534 || got.Readable {
			t.Errorf("as root: the function runs as uid %d and can read the accounts file: %v", got.UID, got.Readable)
		}
	}
	if _, err := os.Stat(got.TmpDir); err != nil {
		t.Errorf("the function's temporary directory is gone while it is warm: %v", err)
	}
}
