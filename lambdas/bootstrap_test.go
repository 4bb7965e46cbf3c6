package lambdas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// slab is built once per test run, static like a release build, so it can
// also serve as its own linux/amd64 bootstrap.
var (
	slabOnce sync.Once
	slabBin  string
	slabErr  error
)

func slabBinary(t *testing.T) string {
	t.Helper()
	slabOnce.Do(func() {
		dir, err := os.MkdirTemp("", "slab-lambdas-test-")
		if err != nil {
			slabErr = err
			return
		}
		slabBin = filepath.Join(dir, "slab")
		cmd := exec.Command("go", "build", "-trimpath", "-o", slabBin, "../cmd/slab")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
		if out, err := cmd.CombinedOutput(); err != nil {
			slabErr = fmt.Errorf("go build ../cmd/slab: %v\n%s", err, out)
		}
	})
	if slabErr != nil {
		t.Fatal(slabErr)
	}
	return slabBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if slabBin != "" {
		os.RemoveAll(filepath.Dir(slabBin))
	}
	os.Exit(code)
}

// fakeRuntime is the Lambda Runtime API as a function's process sees it.
type fakeRuntime struct {
	srv     *httptest.Server
	pending chan invocationReq
	results chan runtimeResult
}

type invocationReq struct {
	id      string
	payload string
}

type runtimeResult struct {
	kind      string // response, error, init-error
	requestID string
	errorType string // Lambda-Runtime-Function-Error-Type
	body      []byte
}

func newFakeRuntime(t *testing.T) *fakeRuntime {
	f := &fakeRuntime{pending: make(chan invocationReq, 4), results: make(chan runtimeResult, 8)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case inv := <-f.pending:
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:test")
			h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
			h.Set("Content-Type", "application/json")
			io.WriteString(w, inv.payload)
		case <-r.Context().Done():
		}
	})
	record := func(kind string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			f.results <- runtimeResult{kind: kind, requestID: r.PathValue("id"), errorType: r.Header.Get("Lambda-Runtime-Function-Error-Type"), body: b}
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, `{"status":"OK"}`)
		}
	}
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", record("response"))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", record("error"))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", record("init-error"))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRuntime) addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

// bootstrapProcess is slab started the way Lambda starts a bootstrap.
type bootstrapProcess struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
}

func startBootstrap(t *testing.T, rt *fakeRuntime, handler string, env ...string) *bootstrapProcess {
	t.Helper()
	bin := slabBinary(t)
	home := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_LAMBDA_RUNTIME_API=" + rt.addr(),
		"_HANDLER=" + handler,
		"AWS_LAMBDA_FUNCTION_NAME=test",
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
	}, env...)
	p := &bootstrapProcess{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (f *fakeRuntime) wait(t *testing.T, p *bootstrapProcess) runtimeResult {
	t.Helper()
	select {
	case r := <-f.results:
		return r
	case err := <-p.done:
		p.done <- err
		select {
		case r := <-f.results:
			return r
		default:
		}
		t.Fatalf("bootstrap exited (%v) without posting a result; stderr:\n%s", err, p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("no result from the bootstrap in 60s; stderr:\n%s", p.stderr)
	}
	return runtimeResult{}
}

func TestBootstrapUnknownHandlerReportsAnInitError(t *testing.T) {
	for _, handler := range []string{"index.handler", ""} {
		t.Run("handler="+handler, func(t *testing.T) {
			rt := newFakeRuntime(t)
			p := startBootstrap(t, rt, handler)
			r := rt.wait(t, p)
			if r.kind != "init-error" || r.errorType != "Runtime.HandlerNotFound" {
				t.Fatalf("got %s (%s) %s", r.kind, r.errorType, r.body)
			}
			var body struct{ ErrorMessage, ErrorType string }
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatalf("init error body %s: %v", r.body, err)
			}
			if body.ErrorType != "Runtime.HandlerNotFound" || !strings.Contains(body.ErrorMessage, "s3-processor, event-processor") && !strings.Contains(body.ErrorMessage, "event-processor, queue-processor, s3-processor") {
				t.Errorf("body %+v", body)
			}
			select {
			case err := <-p.done:
				p.done <- err
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != ExitInitConfig {
					t.Errorf("exit %v, want %d", err, ExitInitConfig)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the bootstrap did not exit after its init error")
			}
		})
	}
}

func TestBootstrapQueueProcessorAnswersAPartialBatch(t *testing.T) {
	rt := newFakeRuntime(t)
	rt.pending <- invocationReq{id: "req-q-1", payload: `{"Records":[{"messageId":"m1","body":"not json","eventSource":"aws:sqs"}]}`}
	p := startBootstrap(t, rt, QueueProcessor)
	r := rt.wait(t, p)
	if r.kind != "response" || r.requestID != "req-q-1" || string(r.body) != `{"batchItemFailures":[{"itemIdentifier":"m1"}]}` {
		t.Fatalf("got %s %s %s\n%s", r.kind, r.requestID, r.body, p.stderr)
	}
	// The error line names the request, as in CloudWatch Logs.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.stderr.String(), `"requestId":"req-q-1"`) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(p.stderr.String(), `{"level":"error","requestId":"req-q-1","messageId":"m1","error":"PoisonMessageError","message":"body is not JSON"}`) {
		t.Errorf("stderr:\n%s", p.stderr)
	}
}

func TestBootstrapEventProcessorWithoutTopicReportsTheError(t *testing.T) {
	rt := newFakeRuntime(t)
	rt.pending <- invocationReq{id: "req-e-1", payload: `{"source":"aws.events"}`}
	p := startBootstrap(t, rt, EventProcessor, "SNS_TOPIC_ARN=")
	r := rt.wait(t, p)
	var body struct{ ErrorMessage, ErrorType string }
	_ = json.Unmarshal(r.body, &body)
	if r.kind != "error" || body.ErrorType != "Error" || !strings.Contains(body.ErrorMessage, "SNS_TOPIC_ARN is empty") {
		t.Fatalf("got %s %s", r.kind, r.body)
	}
}

func TestBootstrapEventProcessorAgainstSandbox(t *testing.T) {
	sb := startSandbox(t)
	sb.createTable(t, DefaultTable)
	topic := must[*sns.CreateTopicOutput](t, "sns CreateTopic")(sb.sns.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String("lambda-integration-notifications")}))
	rt := newFakeRuntime(t)
	rt.pending <- invocationReq{id: "req-e-2", payload: `{"source":"aws.events","detail-type":"Scheduled Event"}`}
	p := startBootstrap(t, rt, EventProcessor, "SNS_TOPIC_ARN="+aws.ToString(topic.TopicArn), "AWS_ENDPOINT_URL="+sb.url)
	r := rt.wait(t, p)
	var res EventResult
	if err := json.Unmarshal(r.body, &res); err != nil || r.kind != "response" || res.StatusCode != 200 || res.MessageID == "" {
		t.Fatalf("got %s %s (%v)\n%s", r.kind, r.body, err, p.stderr)
	}
}

func TestBootstrapS3ProcessorAgainstSandbox(t *testing.T) {
	sb := startSandbox(t)
	sb.createTable(t, "from-env")
	sb.createBucket(t, "boot-bucket", true)
	out := sb.putObject(t, "boot-bucket", "x y.json", "application/json", []byte(`{"k":"v"}`))
	rt := newFakeRuntime(t)
	payload := fmt.Sprintf(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"boot-bucket"},"object":{"key":"x+y.json","size":9,"versionId":%q,"sequencer":"01"}}}]}`,
		aws.ToString(out.VersionId))
	rt.pending <- invocationReq{id: "req-s3-1", payload: payload}
	p := startBootstrap(t, rt, S3Processor, "TABLE_NAME=from-env", "AWS_ENDPOINT_URL="+sb.url)
	r := rt.wait(t, p)
	if r.kind != "response" || string(r.body) != `{"statusCode":200,"body":"Successfully processed 1 records"}` {
		t.Fatalf("got %s %s\n%s", r.kind, r.body, p.stderr)
	}
	if _, ok := sb.scanAll(t, "from-env")["boot-bucket/x y.json#"+aws.ToString(out.VersionId)]; !ok {
		t.Errorf("item not written")
	}
}
