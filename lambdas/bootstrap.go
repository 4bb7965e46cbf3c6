package lambdas

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// Exit codes of bootstrap mode when the function cannot start.
const (
	ExitInitConfig = 2 // _HANDLER names no function
	ExitInitFailed = 1 // the AWS configuration could not be loaded
)

// InitError is an error reported to the Runtime API's init/error endpoint.
type InitError struct {
	Type    string // errorType, e.g. Runtime.HandlerNotFound
	Message string
}

func (e *InitError) Error() string { return e.Type + ": " + e.Message }

// RunBootstrap runs the function named by _HANDLER against the Lambda Runtime
// API at AWS_LAMBDA_RUNTIME_API: what a provided.al2023 `bootstrap` does. It
// only returns when the function cannot start, after reporting why to the
// Runtime API; the return value is the process exit code.
func RunBootstrap() int {
	ctx := context.Background()
	handler, err := NewHandler(ctx, os.Getenv("_HANDLER"))
	if err != nil {
		ie, ok := err.(*InitError)
		if !ok {
			ie = &InitError{Type: "Runtime.InitError", Message: err.Error()}
		}
		fmt.Fprintf(os.Stderr, "%s\n", initErrorLine(ie))
		if perr := PostInitError(ctx, os.Getenv("AWS_LAMBDA_RUNTIME_API"), ie); perr != nil {
			fmt.Fprintf(os.Stderr, "bootstrap: could not report the init error to the Runtime API: %v\n", perr)
		}
		if ie.Type == "Runtime.HandlerNotFound" {
			return ExitInitConfig
		}
		return ExitInitFailed
	}
	// Start serves invocations until the process is stopped; it exits the
	// process itself if the Runtime API goes away.
	lambda.Start(handler)
	return ExitInitFailed
}

func initErrorLine(ie *InitError) []byte {
	b, _ := marshalJS(struct {
		Level   string `json:"level"`
		Error   string `json:"error"`
		Message string `json:"message"`
	}{"error", ie.Type, ie.Message}, "")
	return b
}

// NewHandler builds the named function on clients from the SDK's default
// configuration (the Lambda environment's credentials and region; the
// sandbox's endpoint through AWS_ENDPOINT_URL). The result is a handler for
// lambda.Start.
func NewHandler(ctx context.Context, name string) (any, error) {
	if !IsFunction(name) {
		msg := fmt.Sprintf("unknown handler %q: set the function's handler to one of %s", name, strings.Join(Functions(), ", "))
		if name == "" {
			msg = "_HANDLER is empty: set the function's handler to one of " + strings.Join(Functions(), ", ")
		}
		return nil, &InitError{Type: "Runtime.HandlerNotFound", Message: msg}
	}
	cfg, err := lambdaConfig()
	if err != nil {
		return nil, &InitError{Type: "Runtime.InitError", Message: "loading the AWS configuration: " + err.Error()}
	}
	db := dynamodb.NewFromConfig(cfg, serviceEndpoint[*dynamodb.Options]("DYNAMODB"))
	switch name {
	case S3Processor:
		p := NewS3Processor(s3.NewFromConfig(cfg, serviceEndpoint[*s3.Options]("S3"), pathStyleWithEndpoint(cfg)), db)
		return func(ctx context.Context, e events.S3Event) (S3Result, error) {
			r, err := p.Handle(ctx, e)
			return r, invokeError(err)
		}, nil
	case EventProcessor:
		p := NewEventProcessor(db, sns.NewFromConfig(cfg, serviceEndpoint[*sns.Options]("SNS")))
		return func(ctx context.Context, e json.RawMessage) (EventResult, error) {
			r, err := p.Handle(ctx, e)
			return r, invokeError(err)
		}, nil
	default:
		p := NewQueueProcessor(db)
		return func(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
			r, err := p.Handle(ctx, e)
			return r, invokeError(err)
		}, nil
	}
}

// lambdaConfig is the SDK configuration of a Lambda execution environment,
// read from the variables Lambda sets: the execution role's credentials
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), AWS_REGION,
// and AWS_ENDPOINT_URL (the sandbox sets it; AWS does not). The SDK's
// config.LoadDefaultConfig would find the same, but it links the whole
// credential chain (SSO, STS, IMDS, shared files) into the bootstrap, which
// adds megabytes to every zip and reads files at every cold start.
func lambdaConfig() (aws.Config, error) {
	key, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if key == "" || secret == "" {
		return aws.Config{}, fmt.Errorf("no credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set, as Lambda sets them from the execution role")
	}
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return aws.Config{}, fmt.Errorf("no region: AWS_REGION is empty")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(key, secret, os.Getenv("AWS_SESSION_TOKEN"))),
		HTTPClient:  awshttp.NewBuildableClient(),
		Retryer:     func() aws.Retryer { return retry.NewStandard() },
	}
	if ep := os.Getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg, nil
}

// serviceEndpoint applies AWS_ENDPOINT_URL_<SERVICE>, which overrides
// AWS_ENDPOINT_URL for one service as in the SDK's default configuration.
func serviceEndpoint[O interface {
	*dynamodb.Options | *s3.Options | *sns.Options
}](service string) func(O) {
	return func(o O) {
		ep := os.Getenv("AWS_ENDPOINT_URL_" + service)
		if ep == "" {
			return
		}
		switch v := any(o).(type) {
		case *dynamodb.Options:
			v.BaseEndpoint = aws.String(ep)
		case *s3.Options:
			v.BaseEndpoint = aws.String(ep)
		case *sns.Options:
			v.BaseEndpoint = aws.String(ep)
		}
	}
}

// pathStyleWithEndpoint addresses buckets in the path when an endpoint is
// configured (the sandbox, LocalStack): bucket.127.0.0.1 does not resolve.
func pathStyleWithEndpoint(cfg aws.Config) func(*s3.Options) {
	return func(o *s3.Options) {
		if cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != "" {
			o.UsePathStyle = true
		}
	}
}

// invokeError gives the invocation error the errorType the Node version's
// would have: the AWS error code or the error's name.
func invokeError(err error) error {
	if err == nil {
		return nil
	}
	return messages.InvokeResponse_Error{Message: errMessage(err), Type: errName(err)}
}

// PostInitError reports a failed initialisation to the Runtime API, in
// Lambda's error shape, as a runtime must before it exits.
func PostInitError(ctx context.Context, runtimeAPI string, ie *InitError) error {
	if runtimeAPI == "" {
		return fmt.Errorf("AWS_LAMBDA_RUNTIME_API is empty")
	}
	body, _ := json.Marshal(map[string]string{"errorMessage": ie.Message, "errorType": ie.Type})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+runtimeAPI+"/2018-06-01/runtime/init/error", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Lambda-Runtime-Function-Error-Type", ie.Type)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("init/error: HTTP %s", resp.Status)
	}
	return nil
}
