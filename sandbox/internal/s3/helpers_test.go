package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/sandbox/internal/core"
	s3svc "github.com/slab-lab/slab/sandbox/internal/s3"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
)

var ctx = context.Background()

// Accounts of the tests: with no accounts file a 12-digit access key is its
// own account, and any other key is the default account.
const (
	acctA = "111111111111"
	acctB = "222222222222"
)

type env struct {
	*sbtest.Env
	svc *s3svc.Service
}

func start(t testing.TB) *env {
	t.Helper()
	var svc *s3svc.Service
	e := sbtest.Start(t, func(c *core.Core) []core.Service {
		svc = s3svc.New(c)
		return []core.Service{svc}
	})
	return &env{Env: e, svc: svc}
}

// client is an SDK client for an account (access key) and region,
// path-style, with the checksum defaults config.LoadDefaultConfig gives
// (a CRC32 on every upload, validation of returned checksums).
func (e *env) client(account, region string) *s3.Client {
	cfg := e.For(account, region)
	cfg.HTTPClient = raceFreeClient
	return s3.NewFromConfig(cfg, sdkDefaults, func(o *s3.Options) { o.UsePathStyle = true })
}

// raceFreeClient works around a race between net/http and smithy-go: the
// SDK closes a request body once the response is in, and smithy's body
// wrapper then answers the transport's final WriteTo with io.EOF as an
// error, which makes the transport close the connection under the response
// being read ("use of closed network connection"), and the SDK retry a call
// the server already served. A loopback server answers fast enough to hit
// it under load. Hiding WriteTo sends the transport through Read, whose
// io.EOF is the normal end of the body.
var raceFreeClient = &http.Client{Transport: hideWriteTo{loopback}}

// loopback keeps enough idle connections for the concurrent tests and
// benchmarks (the default keeps 2 per host).
var loopback = func() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 256, 256
	return tr
}()

type hideWriteTo struct{ next http.RoundTripper }

func (h hideWriteTo) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r = r.Clone(r.Context())
		r.Body = struct{ io.ReadCloser }{r.Body}
	}
	return h.next.RoundTrip(r)
}

func sdkDefaults(o *s3.Options) {
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
	o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenSupported
}

// cli is the us-east-1 client of account A.
func (e *env) cli() *s3.Client { return e.client(acctA, "us-east-1") }

func mkBucket(t testing.TB, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
}

func put(t testing.TB, c *s3.Client, bucket, key, body string) *s3.PutObjectOutput {
	t.Helper()
	out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	return out
}

func get(t testing.TB, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantCode asserts err is an API error with the given code.
func wantCode(t testing.TB, err error, code string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("want %s, got %v", code, err)
	}
	return ae
}

// wantStatus asserts the HTTP status of a failed SDK call.
func wantStatus(t testing.TB, err error, status int) *awshttp.ResponseError {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("want HTTP %d, got %v", status, err)
	}
	return re
}

// raw sends an unsigned-but-scoped request, as the router only reads the
// credential scope of the Authorization header.
func (e *env) raw(t testing.TB, method, path string, hdr map[string]string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	sbtest.Sign(t, req, body, "s3", acctA, sbtest.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}
