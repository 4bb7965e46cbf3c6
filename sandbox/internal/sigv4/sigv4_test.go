package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The S3 documentation's example of a signed streaming upload
// ("Signature Calculations for the Authorization Header: Transferring
// Payload in Multiple Chunks"): 66560 bytes of 'a' in chunks of 65536, 1024
// and 0, with the seed and chunk signatures AWS publishes.
const (
	exampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	exampleSeed   = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
)

var exampleChunks = []struct {
	size int
	sig  string
}{
	{65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"},
	{1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"},
	{0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"},
}

func exampleBody(corrupt bool) []byte {
	var b bytes.Buffer
	for _, c := range exampleChunks {
		b.WriteString(strconv.FormatInt(int64(c.size), 16) + ";chunk-signature=" + c.sig + "\r\n")
		data := bytes.Repeat([]byte("a"), c.size)
		if corrupt && c.size == 1024 {
			data[7] = 'b'
		}
		b.Write(data)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

func exampleRequest(body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPut, "/examplebucket/chunkObject.txt", bytes.NewReader(body))
	r.Host = "s3.amazonaws.com"
	r.Header.Set("X-Amz-Date", "20130524T000000Z")
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	r.Header.Set("Content-Length", "66824")
	r.Header.Set("X-Amz-Content-Sha256", StreamingSigned)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"+
		"SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"+
		"Signature="+exampleSeed)
	return r
}

func TestAWSStreamingExample(t *testing.T) {
	body := exampleBody(false)
	if len(body) != 66824 {
		t.Fatalf("example body is %d bytes, AWS says 66824", len(body))
	}
	r := exampleRequest(body)
	a, perr := Parse(r)
	if perr != nil {
		t.Fatal(perr)
	}
	hash, err := a.PayloadHash(r, body)
	if err != nil || hash != StreamingSigned {
		t.Fatalf("payload hash %q %v", hash, err)
	}
	key, err := a.Verify(r, exampleSecret, hash)
	if err != nil {
		t.Fatalf("AWS's seed signature does not verify: %v", err)
	}
	if err := a.VerifyChunks(body, key, false); err != nil {
		t.Fatalf("AWS's chunk signatures do not verify: %v", err)
	}
	if err := a.VerifyChunks(exampleBody(true), key, false); err == nil || err.Kind != ChunkMismatch {
		t.Fatalf("a changed chunk: %v", err)
	}
	if _, err := a.Verify(r, "wrong", hash); err == nil || err.Kind != Mismatch {
		t.Fatalf("wrong secret: %v", err)
	}
	// Dropping the middle chunk breaks the chain.
	cut := bytes.Replace(body, append([]byte("400;chunk-signature="+exampleChunks[1].sig+"\r\n"), append(bytes.Repeat([]byte("a"), 1024), '\r', '\n')...), nil, 1)
	if err := a.VerifyChunks(cut, key, false); err == nil || err.Kind != ChunkMismatch {
		t.Fatalf("a dropped chunk: %v", err)
	}
}

// sdkSigned signs a request with the Go SDK's own signer and returns it as
// a server receives it, so that the SDK, not this package, is the spec.
func sdkSigned(t testing.TB, method, target, service string, hdr map[string]string, body []byte, at time.Time, token string) *http.Request {
	t.Helper()
	type seen struct {
		r    *http.Request
		body []byte
	}
	ch := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		ch <- seen{r.Clone(context.Background()), buf.Bytes()}
	}))
	defer srv.Close()
	req, _ := http.NewRequest(method, srv.URL+target, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if service == "s3" {
		req.Header.Set("X-Amz-Content-Sha256", hash)
	}
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
	if err := s.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test", SessionToken: token}, req, hash, service, "eu-west-1", at); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sn := <-ch
	sn.r.Body = nopBody{bytes.NewReader(sn.body)}
	return sn.r
}

type nopBody struct{ *bytes.Reader }

func (nopBody) Close() error { return nil }

func verify(r *http.Request, secret string, now time.Time) *Error {
	a, err := Parse(r)
	if err != nil {
		return err
	}
	if err := a.CheckTime(now); err != nil {
		return err
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(r.Body)
	hash, err := a.PayloadHash(r, buf.Bytes())
	if err != nil {
		return err
	}
	_, err = a.Verify(r, secret, hash)
	return err
}

func TestVerifiesWhatTheSDKSigns(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		name, method, target, service string
		hdr                           map[string]string
		body                          string
	}{
		{"json", "POST", "/", "dynamodb", map[string]string{"X-Amz-Target": "DynamoDB_20120810.PutItem", "Content-Type": "application/x-amz-json-1.0"}, `{"TableName":"t"}`},
		{"query", "POST", "/", "sqs", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "Action=SendMessage&MessageBody=a+b%2Fc"},
		{"lambda arn in path", "POST", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations", "lambda", nil, `{}`},
		{"query string", "GET", "/2015-03-31/functions/?MaxItems=5&Marker=a%20b&FunctionVersion=ALL", "lambda", nil, ""},
		{"s3 key", "PUT", "/bucket/a%20key/with%2Bplus%3Dand~tilde", "s3", map[string]string{"X-Amz-Meta-Note": "  two   spaces  "}, "object"},
		{"s3 subresource", "GET", "/bucket?list-type=2&prefix=a%2Fb&delimiter=%2F&versioning", "s3", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := sdkSigned(t, c.method, c.target, c.service, c.hdr, []byte(c.body), now, "")
			if err := verify(r, "test", now); err != nil {
				t.Fatalf("%v\n%s", err, CanonicalRequest(r, c.service, "host", "", false))
			}
			r = sdkSigned(t, c.method, c.target, c.service, c.hdr, []byte(c.body), now, "")
			if err := verify(r, "other", now); err == nil || err.Kind != Mismatch {
				t.Fatalf("wrong secret: %v", err)
			}
			if c.body != "" {
				r = sdkSigned(t, c.method, c.target, c.service, c.hdr, []byte(c.body), now, "")
				r.Body = nopBody{bytes.NewReader([]byte(c.body + " "))}
				want := Mismatch
				if c.service == "s3" {
					want = PayloadMismatch
				}
				if err := verify(r, "test", now); err == nil || err.Kind != want {
					t.Fatalf("tampered body: %v", err)
				}
			}
		})
	}
}

func TestClockSkew(t *testing.T) {
	now := time.Now()
	for _, d := range []time.Duration{-16 * time.Minute, 16 * time.Minute} {
		r := sdkSigned(t, "POST", "/", "sts", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte("Action=GetCallerIdentity"), now.Add(d), "")
		err := verify(r, "test", now)
		if err == nil || err.Kind != Skewed || !strings.HasPrefix(err.Msg, "Signature") {
			t.Fatalf("skew %v: %v", d, err)
		}
	}
	r := sdkSigned(t, "POST", "/", "sts", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte("Action=GetCallerIdentity"), now.Add(-14*time.Minute), "")
	if err := verify(r, "test", now); err != nil {
		t.Fatalf("14 minutes is within the rule: %v", err)
	}
}

func TestSessionTokenIsRead(t *testing.T) {
	r := sdkSigned(t, "POST", "/", "sts", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte("Action=GetCallerIdentity"), time.Now(), "tok")
	a, err := Parse(r)
	if err != nil || a.SessionToken != "tok" {
		t.Fatalf("%+v %v", a, err)
	}
}

func presign(t *testing.T, target, service string, at time.Time, expires time.Duration) *http.Request {
	t.Helper()
	ch := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ch <- r.Clone(context.Background()) }))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+target, nil)
	q := req.URL.Query()
	q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
	req.URL.RawQuery = q.Encode()
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
	u, _, err := s.PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, req, UnsignedPayload, service, "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := <-ch
	got.Body = nopBody{bytes.NewReader(nil)}
	return got
}

func TestPresigned(t *testing.T) {
	now := time.Now()
	if err := verify(presign(t, "/bucket/key.json", "s3", now, 5*time.Minute), "test", now); err != nil {
		t.Fatalf("fresh URL: %v", err)
	}
	if err := verify(presign(t, "/bucket/key.json", "s3", now.Add(-10*time.Minute), 5*time.Minute), "test", now); err == nil || err.Kind != Expired {
		t.Fatalf("expired URL: %v", err)
	}
	if err := verify(presign(t, "/bucket/key.json", "s3", time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), time.Hour), "test", now); err == nil || err.Kind != Expired {
		t.Fatalf("URL dated 2001: %v", err)
	}
	// Only complete presigned requests: a credential alone is not one.
	r := httptest.NewRequest("GET", "/bucket/key.json?X-Amz-Credential=test%2F20260101%2Fus-east-1%2Fs3%2Faws4_request", nil)
	if _, err := Parse(r); err == nil || err.Kind != Incomplete {
		t.Fatalf("credential without signature: %v", err)
	}
	r = httptest.NewRequest("GET", "/", nil)
	if _, err := Parse(r); err == nil || err.Kind != Missing {
		t.Fatalf("anonymous: %v", err)
	}
}

func TestIncompleteHeader(t *testing.T) {
	for _, h := range []string{
		"AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host",
		"AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
		"AWS4-HMAC-SHA256 Credential=test/us-east-1, SignedHeaders=host, Signature=00",
		"AWS4-HMAC-SHA1 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00",
		"AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00",
	} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("Authorization", h)
		if _, err := Parse(r); err == nil || err.Kind != Incomplete {
			t.Errorf("%s: %v", h, err)
		}
	}
}

// BenchmarkVerify is the cost the router adds to every request: parse,
// clock check, payload hash and signature of a DynamoDB PutItem of about
// 300 bytes, signed by the SDK.
func BenchmarkVerify(b *testing.B) {
	body := []byte(`{"TableName":"lambda-integration-data","Item":{"id":{"S":"order-12345"},"timestamp":{"S":"2026-12-08T01:00:00Z"},"source":{"S":"s3"},"bucket":{"S":"lambda-integration-bucket-123456789012"},"key":{"S":"incoming/order-12345.json"},"size":{"N":"1234"}}}`)
	now := time.Now()
	r := sdkSigned(b, "POST", "/", "dynamodb", map[string]string{"X-Amz-Target": "DynamoDB_20120810.PutItem", "Content-Type": "application/x-amz-json-1.0"}, body, now, "")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		a, err := Parse(r)
		if err != nil {
			b.Fatal(err)
		}
		if err := a.CheckTime(now); err != nil {
			b.Fatal(err)
		}
		hash, err := a.PayloadHash(r, body)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a.Verify(r, "test", hash); err != nil {
			b.Fatal(err)
		}
	}
}
