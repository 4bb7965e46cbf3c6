package sandbox_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lam "github.com/aws/aws-sdk-go-v2/service/lambda"
	lamtypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/slab-lab/slab/sandbox"
)

// authSandbox is a default sandbox (test/test) on a free port.
func authSandbox(t *testing.T) *sandbox.Server {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func keyConfig(url, key, secret, token string) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider(key, secret, token)}
}

// apiError asserts err is the AWS error code with the HTTP status.
func apiError(t *testing.T, what string, err error, code string, status int) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("%s: want %s, got %v", what, code, err)
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Fatalf("%s: want status %d, got %d", what, status, re.HTTPStatusCode())
	}
	return ae
}

func TestWrongSecret(t *testing.T) {
	srv := authSandbox(t)
	cfg := keyConfig(srv.URL(), "test", "not-test", "")
	_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	ae := apiError(t, "sts", err, "SignatureDoesNotMatch", 403)
	if !strings.Contains(ae.ErrorMessage(), `"test"`) {
		t.Errorf("the message does not say which secret the sandbox expects: %s", ae.ErrorMessage())
	}
	_, err = dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
	apiError(t, "dynamodb", err, "InvalidSignatureException", 400)
	_, err = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("wrong-secret")})
	apiError(t, "s3", err, "SignatureDoesNotMatch", 403)
	_, err = sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("wrong-secret")})
	apiError(t, "sqs", err, "SignatureDoesNotMatch", 403)
	if m := srv.MutatingSince(0); len(m) > 0 {
		t.Fatalf("refused calls changed state: %+v", m)
	}
}

func TestUnknownKeyNamesTheSandboxCredentials(t *testing.T) {
	srv := authSandbox(t)
	cfg := keyConfig(srv.URL(), "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")
	_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	ae := apiError(t, "sts", err, "InvalidClientTokenId", 403)
	if !strings.Contains(ae.ErrorMessage(), `access key id "test" with the secret access key "test"`) {
		t.Errorf("message: %s", ae.ErrorMessage())
	}
	_, err = dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
	apiError(t, "dynamodb", err, "UnrecognizedClientException", 400)
	_, err = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx, &s3.ListBucketsInput{})
	apiError(t, "s3", err, "InvalidAccessKeyId", 403)

	out, err := sts.NewFromConfig(keyConfig(srv.URL(), "test", "test", "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Arn) != "arn:aws:iam::000000000000:root" || aws.ToString(out.UserId) != "000000000000" {
		t.Fatalf("test/test: %+v %v", out, err)
	}
}

// signedRaw builds a request signed by the SDK's signer at the given time.
func signedRaw(t *testing.T, method, url, service string, hdr map[string]string, body []byte, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if service == "s3" {
		req.Header.Set("X-Amz-Content-Sha256", hash)
	}
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, req, hash, service, "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	return req
}

func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestTamperedBody(t *testing.T) {
	srv := authSandbox(t)
	body := []byte(`{"TableName":"innocent","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`)
	hdr := map[string]string{"X-Amz-Target": "DynamoDB_20120810.CreateTable", "Content-Type": "application/x-amz-json-1.0"}
	req := signedRaw(t, "POST", srv.URL()+"/", "dynamodb", hdr, body, time.Now())
	tampered := bytes.Replace(body, []byte("innocent"), []byte("attacker"), 1)
	req.Body = io.NopCloser(bytes.NewReader(tampered))
	status, out := send(t, req)
	if status != 400 || !strings.Contains(out, "InvalidSignatureException") {
		t.Fatalf("tampered body: %d %s", status, out)
	}
	tables, err := dynamodb.NewFromConfig(keyConfig(srv.URL(), "test", "test", "")).ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || len(tables.TableNames) != 0 {
		t.Fatalf("a table was created: %v %v", tables, err)
	}
	// The same for S3, whose signature covers x-amz-content-sha256.
	req = signedRaw(t, "PUT", srv.URL()+"/tampered", "s3", nil, nil, time.Now())
	if status, out := send(t, req); status != 200 {
		t.Fatalf("bucket: %d %s", status, out)
	}
	req = signedRaw(t, "PUT", srv.URL()+"/tampered/obj", "s3", nil, []byte("original"), time.Now())
	req.Body = io.NopCloser(strings.NewReader("replaced"))
	if status, out := send(t, req); status != 400 || !strings.Contains(out, "XAmzContentSHA256Mismatch") {
		t.Fatalf("tampered object: %d %s", status, out)
	}
}

func TestSkewedClock(t *testing.T) {
	srv := authSandbox(t)
	old := time.Now().Add(-20 * time.Minute)
	req := signedRaw(t, "POST", srv.URL()+"/", "sqs", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte("Action=CreateQueue&QueueName=skewed"), old)
	status, out := send(t, req)
	if status != 403 || !strings.Contains(out, "SignatureDoesNotMatch") || !strings.Contains(out, "Signature expired") {
		t.Fatalf("sqs: %d %s", status, out)
	}
	req = signedRaw(t, "PUT", srv.URL()+"/skewed", "s3", nil, nil, time.Now().Add(20*time.Minute))
	if status, out := send(t, req); status != 403 || !strings.Contains(out, "<Code>RequestTimeTooSkewed</Code>") {
		t.Fatalf("s3: %d %s", status, out)
	}
	req = signedRaw(t, "POST", srv.URL()+"/", "dynamodb", map[string]string{"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"}, []byte(`{}`), old)
	if status, out := send(t, req); status != 400 || !strings.Contains(out, "InvalidSignatureException") || !strings.Contains(out, "Signature expired") {
		t.Fatalf("dynamodb: %d %s", status, out)
	}
	if m := srv.MutatingSince(0); len(m) > 0 {
		t.Fatalf("refused calls changed state: %+v", m)
	}
}

func TestExpiredPresignedURL(t *testing.T) {
	srv := authSandbox(t)
	cli := s3.NewFromConfig(keyConfig(srv.URL(), "test", "test", ""), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("presigned")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("presigned"), Key: aws.String("k.json"), Body: strings.NewReader(`{"ok":1}`)}); err != nil {
		t.Fatal(err)
	}
	pc := s3.NewPresignClient(cli)
	fresh, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("presigned"), Key: aws.String("k.json")}, s3.WithPresignExpires(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(fresh.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != `{"ok":1}` {
		t.Fatalf("fresh presigned URL: %d %s", resp.StatusCode, b)
	}
	for _, at := range []time.Time{time.Now().Add(-10 * time.Minute), time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)} {
		old, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("presigned"), Key: aws.String("k.json")},
			s3.WithPresignExpires(5*time.Minute), func(o *s3.PresignOptions) { o.Presigner = datedPresigner{v4.NewSigner(), at} })
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(old.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || !strings.Contains(string(b), "<Code>AccessDenied</Code>") || !strings.Contains(string(b), "Request has expired") {
			t.Fatalf("presigned URL dated %s: %d %s", at, resp.StatusCode, b)
		}
	}
}

// TestQueryStringCredentialOnlyAsPresigned: an access key in
// ?X-Amz-Credential= without the rest of a presigned request is refused,
// and the request creates nothing.
func TestQueryStringCredentialOnlyAsPresigned(t *testing.T) {
	srv := authSandbox(t)
	u := srv.URL() + "/?X-Amz-Credential=test%2F20260101%2Fus-east-1%2Fiam%2Faws4_request"
	req, _ := http.NewRequest("POST", u, strings.NewReader("Action=CreateRole&RoleName=pwned&AssumeRolePolicyDocument=%7B%7D&Version=2010-05-08"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, out := send(t, req)
	if status != 400 || !strings.Contains(out, "IncompleteSignature") {
		t.Fatalf("credential-only query: %d %s", status, out)
	}
	req, _ = http.NewRequest("POST", srv.URL()+"/", strings.NewReader("Action=CreateRole&RoleName=pwned"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if status, out := send(t, req); status != 403 || !strings.Contains(out, "MissingAuthenticationToken") {
		t.Fatalf("anonymous: %d %s", status, out)
	}
	if m := srv.MutatingSince(0); len(m) > 0 {
		t.Fatalf("refused calls changed state: %+v", m)
	}
}

func TestMissingSessionToken(t *testing.T) {
	srv := authSandbox(t)
	root := keyConfig(srv.URL(), "test", "test", "")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := iam.NewFromConfig(root).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("auditor"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/auditor"), RoleSessionName: aws.String("audit")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if !strings.HasPrefix(aws.ToString(c.AccessKeyId), "ASIA") {
		t.Fatalf("temporary key %s", aws.ToString(c.AccessKeyId))
	}
	without := keyConfig(srv.URL(), aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), "")
	_, err = sts.NewFromConfig(without).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	apiError(t, "without the session token", err, "InvalidClientTokenId", 403)
	wrong := keyConfig(srv.URL(), aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), "forged")
	_, err = sts.NewFromConfig(wrong).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	apiError(t, "with another session token", err, "InvalidClientTokenId", 403)
	_, err = dynamodb.NewFromConfig(without).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "x"}}})
	apiError(t, "dynamodb without the token", err, "UnrecognizedClientException", 400)

	with := keyConfig(srv.URL(), aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	id, err := sts.NewFromConfig(with).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:sts::000000000000:assumed-role/auditor/audit" ||
		!strings.HasPrefix(aws.ToString(id.UserId), "AROA") || !strings.HasSuffix(aws.ToString(id.UserId), ":audit") {
		t.Fatalf("assumed identity: %+v %v", id, err)
	}
	role, err := iam.NewFromConfig(root).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("auditor")})
	if err != nil || aws.ToString(id.UserId) != aws.ToString(role.Role.RoleId)+":audit" {
		t.Fatalf("UserId %s is not the role id %v and the session: %v", aws.ToString(id.UserId), role, err)
	}
}

// datedPresigner presigns as if at a given time.
type datedPresigner struct {
	s  *v4.Signer
	at time.Time
}

func (d datedPresigner) PresignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, hash, service, region string, _ time.Time, o ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return d.s.PresignHTTP(ctx, c, r, hash, service, region, d.at, o...)
}

// presignedPOST is what a web page's script can build with the well-known
// test/test keys: a complete presigned POST (no Authorization header, so
// no CORS preflight) with a body a form or a text/plain fetch can send.
func presignedPOST(t *testing.T, url, service, contentType, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	q := req.URL.Query()
	q.Set("X-Amz-Expires", "300")
	req.URL.RawQuery = q.Encode()
	sum := sha256.Sum256([]byte(body))
	u, _, err := v4.NewSigner().PresignHTTP(ctx, aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	out, _ := http.NewRequest("POST", u, strings.NewReader(body))
	out.Header.Set("Content-Type", contentType)
	return out
}

// browser adds what a browser adds to a cross-site request.
func browser(req *http.Request) *http.Request {
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	return req
}

// TestCrossSitePOSTRefusedWithNothingCreated replays the three requests
// that, before the sandbox checked signatures and browsers, let any web
// page create a role, create a provided.al2023 function whose bootstrap is
// a shell script, and invoke it.
func TestCrossSitePOSTRefusedWithNothingCreated(t *testing.T) {
	srv := authSandbox(t)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	createRole := "Action=CreateRole&Version=2010-05-08&RoleName=pwned&AssumeRolePolicyDocument=" + strings.ReplaceAll(strings.ReplaceAll(trust, "{", "%7B"), "}", "%7D")
	createFn := `{"FunctionName":"pwned","Runtime":"provided.al2023","Role":"arn:aws:iam::000000000000:role/pwned","Handler":"x","Code":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}`
	for _, c := range []struct {
		name string
		req  *http.Request
	}{
		{"form POST creating a role", browser(presignedPOST(t, srv.URL()+"/", "iam", "application/x-www-form-urlencoded", createRole))},
		{"text/plain POST creating a function", browser(presignedPOST(t, srv.URL()+"/2015-03-31/functions", "lambda", "text/plain", createFn))},
		{"text/plain POST invoking it", browser(presignedPOST(t, srv.URL()+"/2015-03-31/functions/pwned/invocations", "lambda", "text/plain", `{}`))},
		{"credential only in the query", browser(func() *http.Request {
			r, _ := http.NewRequest("POST", srv.URL()+"/?X-Amz-Credential=test%2F20260101%2Fus-east-1%2Fiam%2Faws4_request", strings.NewReader(createRole))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}())},
		{"no Origin, only Sec-Fetch-Site", func() *http.Request {
			r := presignedPOST(t, srv.URL()+"/", "iam", "application/x-www-form-urlencoded", createRole)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			return r
		}()},
		{"text/plain without browser headers", presignedPOST(t, srv.URL()+"/2015-03-31/functions", "lambda", "text/plain", createFn)},
	} {
		status, out := send(t, c.req)
		if status != 403 && status != 415 {
			t.Errorf("%s: %d %s", c.name, status, out)
		}
	}
	if m := srv.MutatingSince(0); len(m) > 0 {
		t.Fatalf("cross-site requests changed state: %+v", m)
	}
	// The control: the same presigned request from a program (no Origin)
	// is a legitimate presigned call and succeeds, so the refusals above
	// came from the browser checks.
	if status, out := send(t, presignedPOST(t, srv.URL()+"/", "iam", "application/x-www-form-urlencoded", createRole)); status != 200 {
		t.Fatalf("presigned CreateRole from a program: %d %s", status, out)
	}
}

func TestLoopbackOriginAccepted(t *testing.T) {
	srv := authSandbox(t)
	req := signedRaw(t, "POST", srv.URL()+"/", "sts", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://localhost:3000"}, []byte("Action=GetCallerIdentity&Version=2011-06-15"), time.Now())
	if status, out := send(t, req); status != 200 {
		t.Fatalf("loopback origin: %d %s", status, out)
	}
}

// TestDNSRebindingHostRefused: a page whose own name resolves to 127.0.0.1
// reaches the sandbox with its name in Host; only loopback names and
// configured hosts are served.
func TestDNSRebindingHostRefused(t *testing.T) {
	srv := authSandbox(t)
	req := signedRaw(t, "POST", srv.URL()+"/", "iam", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte("Action=CreateRole&RoleName=rebound&AssumeRolePolicyDocument=%7B%7D"), time.Now())
	req.Host = "rebind.evil.example"
	if status, out := send(t, req); status != 403 || !strings.Contains(out, "DNS rebinding") {
		t.Fatalf("rebound host: %d %s", status, out)
	}
	req, _ = http.NewRequest("GET", srv.URL()+"/_slab/health", nil)
	req.Host = "rebind.evil.example"
	if status, _ := send(t, req); status != 403 {
		t.Fatalf("rebound /_slab/health: %d", status)
	}
	if m := srv.MutatingSince(0); len(m) > 0 {
		t.Fatalf("changed state: %+v", m)
	}

	shared, err := sandbox.New(sandbox.Options{AllowHosts: []string{"sandbox.course.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := shared.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	req = signedRaw(t, "POST", shared.URL()+"/", "sts", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte("Action=GetCallerIdentity&Version=2011-06-15"), time.Now())
	req.Host = "sandbox.course.example:4566"
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, req, sha256hex("Action=GetCallerIdentity&Version=2011-06-15"), "sts", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if status, out := send(t, req); status != 200 {
		t.Fatalf("configured host: %d %s", status, out)
	}
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestContentTypeRequired(t *testing.T) {
	srv := authSandbox(t)
	for _, c := range []struct {
		service, target, ct, body string
	}{
		{"dynamodb", "DynamoDB_20120810.CreateTable", "text/plain", `{"TableName":"t"}`},
		{"dynamodb", "DynamoDB_20120810.CreateTable", "application/x-www-form-urlencoded", `{"TableName":"t"}`},
		{"sqs", "", "text/plain", "Action=CreateQueue&QueueName=q"},
		{"iam", "", "multipart/form-data; boundary=x", "Action=CreateRole&RoleName=r"},
	} {
		hdr := map[string]string{"Content-Type": c.ct}
		if c.target != "" {
			hdr["X-Amz-Target"] = c.target
		}
		status, out := send(t, signedRaw(t, "POST", srv.URL()+"/", c.service, hdr, []byte(c.body), time.Now()))
		if status != 415 || !strings.Contains(out, "UnsupportedMediaType") {
			t.Errorf("%s with %s: %d %s", c.service, c.ct, status, out)
		}
	}
	if m := srv.MutatingSince(0); len(m) > 0 {
		t.Fatalf("changed state: %+v", m)
	}
}

func TestSlabEndpointsWithoutTokenRefused(t *testing.T) {
	dir := t.TempDir()
	srv, err := sandbox.New(sandbox.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	fi, err := os.Stat(filepath.Join(dir, sandbox.AdminTokenFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin token file: %v %v", fi, err)
	}
	token, err := sandbox.ReadAdminToken(dir)
	if err != nil || token != srv.AdminToken() || len(token) < 32 {
		t.Fatalf("token %q %v", token, err)
	}
	for _, c := range []struct {
		method, path, auth string
		want               int
	}{
		{"GET", "/_slab/audit", "", 401},
		{"GET", "/_slab/audit", "Bearer wrong", 401},
		{"POST", "/_slab/events/rules/x/trigger", "", 401},
		{"GET", "/_slab/deliveries", "Bearer " + token[:len(token)-1], 401},
		{"GET", "/_slab/audit", "Bearer " + token, 200},
		{"GET", "/_slab/health", "", 200},
	} {
		req, _ := http.NewRequest(c.method, srv.URL()+c.path, nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		if status, out := send(t, req); status != c.want {
			t.Errorf("%s %s (%q): %d %s", c.method, c.path, c.auth, status, out)
		}
	}
}

func TestAssumeRoleExternalId(t *testing.T) {
	srv := authSandbox(t)
	root := keyConfig(srv.URL(), "test", "test", "")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"course-2026"}}}]}`
	if _, err := iam.NewFromConfig(root).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("grader"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	cli := sts.NewFromConfig(root)
	in := func(ext *string) *sts.AssumeRoleInput {
		return &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/grader"), RoleSessionName: aws.String("g"), ExternalId: ext}
	}
	_, err := cli.AssumeRole(ctx, in(nil))
	ae := apiError(t, "without the external id", err, "AccessDenied", 403)
	if !strings.Contains(ae.ErrorMessage(), "User: arn:aws:iam::000000000000:root is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role/grader") {
		t.Errorf("message: %s", ae.ErrorMessage())
	}
	_, err = cli.AssumeRole(ctx, in(aws.String("guess")))
	apiError(t, "with another external id", err, "AccessDenied", 403)
	out, err := cli.AssumeRole(ctx, in(aws.String("course-2026")))
	if err != nil {
		t.Fatalf("with the external id: %v", err)
	}
	if !strings.HasPrefix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), "AROA") {
		t.Fatalf("assumed role id %s", aws.ToString(out.AssumedRoleUser.AssumedRoleId))
	}
}

// TestSenderIdIsThePrincipalId: SQS's SenderId names who sent (an account
// id for a root, AROA…:session for a role session), never an access key,
// which would let one student read another's key off a message.
func TestSenderIdIsThePrincipalId(t *testing.T) {
	srv := authSandbox(t)
	root := keyConfig(srv.URL(), "test", "test", "")
	q := sqs.NewFromConfig(root)
	url, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("senders")})
	if err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}`
	role, err := iam.NewFromConfig(root).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("sender"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(root).AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("sender"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSQSFullAccess")}); err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("s1")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	sess := sqs.NewFromConfig(keyConfig(srv.URL(), aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
	for _, cli := range []*sqs.Client{q, sess} {
		if _, err := cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: aws.String("m")}); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]bool{}
	for len(got) < 2 {
		msgs, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url.QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"SenderId"}, WaitTimeSeconds: 1})
		if err != nil || len(msgs.Messages) == 0 {
			t.Fatalf("receive: %v %v", msgs, err)
		}
		for _, m := range msgs.Messages {
			got[m.Attributes["SenderId"]] = true
		}
	}
	want := aws.ToString(role.Role.RoleId) + ":s1"
	if !got["000000000000"] || !got[want] {
		t.Fatalf("SenderIds %v, want 000000000000 and %s", got, want)
	}
}

// twoAccounts serves an accounts file with students A (111111111111) and B
// (222222222222).
func twoAccounts(t *testing.T) (*sandbox.Server, aws.Config, aws.Config) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "accounts.csv")
	if err := os.WriteFile(file, []byte("access_key_id,secret_access_key,account_id\nAKIASTUDENTA,secret-a,111111111111\nAKIASTUDENTB,secret-b,222222222222\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := sandbox.New(sandbox.Options{AccountsFile: file})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, keyConfig(srv.URL(), "AKIASTUDENTA", "secret-a", ""), keyConfig(srv.URL(), "AKIASTUDENTB", "secret-b", "")
}

// TestCrossAccountReadsRefused: student A, knowing B's resource names,
// URLs and ARNs (and B's access key id, but not B's secret), reads none of
// B's data.
func TestCrossAccountReadsRefused(t *testing.T) {
	_, a, b := twoAccounts(t)
	bq := sqs.NewFromConfig(b)
	url, err := bq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("private")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: aws.String("secret")}); err != nil {
		t.Fatal(err)
	}
	bs3 := s3.NewFromConfig(b, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := bs3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("b-private")}); err != nil {
		t.Fatal(err)
	}
	if _, err := bs3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b-private"), Key: aws.String("k"), Body: strings.NewReader("secret")}); err != nil {
		t.Fatal(err)
	}

	aq := sqs.NewFromConfig(a)
	if out, err := aq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url.QueueUrl}); err == nil {
		t.Fatalf("A received from B's queue: %+v", out.Messages)
	}
	as3 := s3.NewFromConfig(a, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := as3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b-private"), Key: aws.String("k")}); err == nil {
		t.Fatal("A read B's object")
	}
	// B's key id with any secret but B's is refused.
	_, err = sqs.NewFromConfig(keyConfig(aws.ToString(a.BaseEndpoint), "AKIASTUDENTB", "secret-a", "")).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url.QueueUrl})
	apiError(t, "B's key with A's secret", err, "SignatureDoesNotMatch", 403)
	msgs, err := bq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url.QueueUrl})
	if err != nil || len(msgs.Messages) != 1 {
		t.Fatalf("B's message is gone: %+v %v", msgs, err)
	}
}

// TestCrossAccountESMRefused: A maps its function onto B's queue. Without
// B's queue policy allowing A's role the mapping is refused (before the
// sandbox checked, it drained B's queue); with it, it is made.
func TestCrossAccountESMRefused(t *testing.T) {
	_, a, b := twoAccounts(t)
	bq := sqs.NewFromConfig(b)
	url, err := bq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	queueArn := "arn:aws:sqs:us-east-1:222222222222:orders"
	im := iam.NewFromConfig(a)
	role, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("drainer"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("drainer"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSQSFullAccess")}); err != nil {
		t.Fatal(err)
	}
	fn := lam.NewFromConfig(a)
	if _, err := fn.CreateFunction(ctx, &lam.CreateFunctionInput{FunctionName: aws.String("drain"), Runtime: lamtypes.RuntimeProvidedal2023, Handler: aws.String("x"),
		Role: role.Role.Arn, Code: &lamtypes.FunctionCode{ZipFile: zipWith(t, "bootstrap", "#!/bin/sh\n")}}); err != nil {
		t.Fatal(err)
	}
	_, err = fn.CreateEventSourceMapping(ctx, &lam.CreateEventSourceMappingInput{FunctionName: aws.String("drain"), EventSourceArn: aws.String(queueArn)})
	ae := apiError(t, "mapping onto another account's queue", err, "InvalidParameterValueException", 400)
	if !strings.Contains(ae.ErrorMessage(), "ReceiveMessage") {
		t.Errorf("message: %s", ae.ErrorMessage())
	}
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + aws.ToString(role.Role.Arn) + `"},"Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"],"Resource":"` + queueArn + `"}]}`
	if _, err := bq.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: url.QueueUrl, Attributes: map[string]string{"Policy": pol}}); err != nil {
		t.Fatal(err)
	}
	if _, err := fn.CreateEventSourceMapping(ctx, &lam.CreateEventSourceMappingInput{FunctionName: aws.String("drain"), EventSourceArn: aws.String(queueArn)}); err != nil {
		t.Fatalf("with B's queue policy allowing the role: %v", err)
	}
}

func zipWith(t *testing.T, name, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, ExternalAttrs: 0o755 << 16})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte(body))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// workerSession creates role worker (trusting the account) and queue
// jobs as root, assumes the role, and returns the session's config and a
// SendMessage to jobs made as that session.
func workerSession(t *testing.T, url string, root aws.Config) (aws.Config, func() error) {
	t.Helper()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := iam.NewFromConfig(root).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("worker"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	q, err := sqs.NewFromConfig(root).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/worker"), RoleSessionName: aws.String("w")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	sess := keyConfig(url, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	return sess, func() error {
		_, err := sqs.NewFromConfig(sess).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("m")})
		return err
	}
}

// TestRoleSessionIsAuthorized: a role session may do only what its role's
// identity policies allow, with each service's AccessDenied; an explicit
// deny wins over an allow; the account root is allowed everything.
func TestRoleSessionIsAuthorized(t *testing.T) {
	srv := authSandbox(t)
	root := keyConfig(srv.URL(), "test", "test", "")
	im := iam.NewFromConfig(root)
	sess, send := workerSession(t, srv.URL(), root)
	ae := apiError(t, "sqs without a policy", send(), "AccessDenied", 403)
	if want := "User: arn:aws:sts::000000000000:assumed-role/worker/w is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:000000000000:jobs because no identity-based policy allows the sqs:SendMessage action"; ae.ErrorMessage() != want {
		t.Errorf("message %q, want %q", ae.ErrorMessage(), want)
	}
	_, err := dynamodb.NewFromConfig(sess).ListTables(ctx, &dynamodb.ListTablesInput{})
	apiError(t, "dynamodb without a policy", err, "AccessDeniedException", 400)
	_, err = s3.NewFromConfig(sess, func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx, &s3.ListBucketsInput{})
	apiError(t, "s3 without a policy", err, "AccessDenied", 403)
	if _, err := sts.NewFromConfig(sess).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity needs no permission: %v", err)
	}

	if _, err := im.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("worker"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSQSFullAccess")}); err != nil {
		t.Fatal(err)
	}
	if err := send(); err != nil {
		t.Fatalf("with AmazonSQSFullAccess: %v", err)
	}
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sqs:SendMessage","Resource":"*"}]}`
	if _, err := im.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("worker"), PolicyName: aws.String("no-send"), PolicyDocument: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	ae = apiError(t, "sqs under an explicit deny", send(), "AccessDenied", 403)
	if !strings.HasSuffix(ae.ErrorMessage(), "with an explicit deny in an identity-based policy") {
		t.Errorf("message %q", ae.ErrorMessage())
	}
}
