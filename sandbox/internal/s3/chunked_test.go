package s3_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/slab-lab/slab/sandbox/internal/core"
	s3svc "github.com/slab-lab/slab/sandbox/internal/s3"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
	"github.com/slab-lab/slab/sandbox/internal/sigv4"
)

// headerLog records request headers seen by a transport.
type headerLog struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []http.Header
}

func (l *headerLog) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.seen = append(l.seen, r.Header.Clone())
	l.mu.Unlock()
	return l.next.RoundTrip(r)
}

// TestSDKStreamingTrailerOverTLS: over HTTPS the SDK streams uploads as
// aws-chunked with the CRC32 in a trailer (as the CLI does), and checks
// the checksum the sandbox returns on GetObject.
func TestSDKStreamingTrailerOverTLS(t *testing.T) {
	c := core.New()
	t.Cleanup(func() { _ = c.Store.Close() }) // the body files' temporary directory
	srv := httptest.NewTLSServer(core.NewHandler(c, core.HandlerOptions{Accounts: sbtest.AnyKey{}, Services: []core.Service{s3svc.New(c)}}))
	t.Cleanup(srv.Close)
	log := &headerLog{next: srv.Client().Transport}
	cfg := sbtest.Config(srv.URL, acctA, "us-east-1")
	cfg.HTTPClient = &http.Client{Transport: log}
	cli := s3.NewFromConfig(cfg, sdkDefaults, func(o *s3.Options) { o.UsePathStyle = true })
	mkBucket(t, cli, "tls-bucket")
	payload := bytes.Repeat([]byte("streamed "), 20000)
	out, err := cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tls-bucket"), Key: aws.String("k"), Body: bytes.NewReader(payload)})
	if err != nil {
		t.Fatal(err)
	}
	last := log.seen[len(log.seen)-1]
	if last.Get("Content-Encoding") != "aws-chunked" || last.Get("X-Amz-Trailer") != "x-amz-checksum-crc32" ||
		last.Get("X-Amz-Content-Sha256") != "STREAMING-UNSIGNED-PAYLOAD-TRAILER" {
		t.Fatalf("the SDK did not stream: %v", last)
	}
	crc := crc32.ChecksumIEEE(payload)
	want := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	if aws.ToString(out.ChecksumCRC32) != want || aws.ToString(out.ETag) != `"`+md5hex(string(payload))+`"` {
		t.Fatalf("put: %s %s", aws.ToString(out.ChecksumCRC32), aws.ToString(out.ETag))
	}
	g, err := cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tls-bucket"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(g.Body)
	g.Body.Close()
	if err != nil || !bytes.Equal(got, payload) || g.ContentEncoding != nil || aws.ToString(g.ChecksumCRC32) != want {
		t.Fatalf("get: %d bytes, encoding %v, crc %v, %v", len(got), g.ContentEncoding, g.ChecksumCRC32, err)
	}
	// A multipart part streams the same way.
	create, err := cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("tls-bucket"), Key: aws.String("mp"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	if err != nil {
		t.Fatal(err)
	}
	part, err := cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("tls-bucket"), Key: aws.String("mp"), UploadId: create.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(payload), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	if err != nil || aws.ToString(part.ChecksumCRC32) != want {
		t.Fatalf("part: %v %v", part, err)
	}
}

// chunk frames data as an aws-chunked chunk whose signature streamSigned
// fills in (sigHole is the placeholder of the right length).
func chunk(data string) string {
	return fmt.Sprintf("%x;chunk-signature=%s\r\n%s\r\n", len(data), sigHole, data)
}

const sigHole = "################################################################"

func crc32b64(s string) string {
	crc := crc32.ChecksumIEEE([]byte(s))
	return base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
}

// streamSigned sends body (chunks framed by chunk, then "0;chunk-signature="
// sigHole, then trailers with an x-amz-trailer-signature of sigHole) as a
// signed streaming upload: the request is signed with the payload mode of
// hdr, and every hole gets the signature that chains from it, as the Java
// SDK and the S3 documentation's example send it. tamper, when set, changes
// the body after signing.
func (e *env) streamSigned(t testing.TB, path string, hdr map[string]string, body string, tamper func(string) string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("PUT", e.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	req.ContentLength = int64(len(body))
	sbtest.Sign(t, req, nil, "s3", acctA, sbtest.Secret)
	auth := req.Header.Get("Authorization")
	seed := auth[strings.LastIndex(auth, "Signature=")+len("Signature="):]
	amzDate := req.Header.Get("X-Amz-Date")
	scope := amzDate[:8] + "/us-east-1/s3/aws4_request"
	key := sigv4.SigningKey(sbtest.Secret, amzDate[:8], "us-east-1", "s3")
	prev := seed
	var out strings.Builder
	rest := body
	for {
		line, after, _ := strings.Cut(rest, "\r\n")
		size, _, _ := strings.Cut(line, ";")
		n, _ := strconv.ParseInt(size, 16, 64)
		prev = sigv4.ChunkSignature(key, amzDate, scope, prev, []byte(after[:n]))
		out.WriteString(strings.Replace(line, sigHole, prev, 1) + "\r\n")
		if n == 0 {
			rest = after
			break
		}
		out.WriteString(after[:n+2])
		rest = after[n+2:]
	}
	if i := strings.Index(rest, sigHole); i >= 0 {
		var canon strings.Builder
		for _, l := range strings.Split(rest[:i], "\r\n") {
			if name, v, ok := strings.Cut(l, ":"); ok && name != "x-amz-trailer-signature" {
				canon.WriteString(strings.ToLower(name) + ":" + v + "\n")
			}
		}
		rest = strings.Replace(rest, sigHole, sigv4.TrailerSignature(key, amzDate, scope, prev, canon.String()), 1)
	}
	out.WriteString(rest)
	final := out.String()
	if tamper != nil {
		final = tamper(final)
	}
	req.Body = io.NopCloser(strings.NewReader(final))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestSignedChunkedBodies(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "chunks")
	last := "0;chunk-signature=" + sigHole + "\r\n"
	signed := map[string]string{"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "Content-Encoding": "aws-chunked",
		"x-amz-decoded-content-length": "11", "Content-Type": "text/plain"}
	body := chunk("hello") + chunk(" world") + last + "\r\n"
	resp, rb := e.streamSigned(t, "/chunks/signed.txt", signed, body, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("signed chunks: %d %s", resp.StatusCode, rb)
	}
	if get(t, c, "chunks", "signed.txt") != "hello world" {
		t.Fatal("decoded body")
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("chunks"), Key: aws.String("signed.txt")})
	if err != nil || h.ContentEncoding != nil || aws.ToString(h.ContentType) != "text/plain" || aws.ToInt64(h.ContentLength) != 11 {
		t.Fatalf("head: %+v %v", h, err)
	}
	// A chunk changed in flight breaks the chain of chunk signatures.
	resp, rb = e.streamSigned(t, "/chunks/tampered.txt", signed, body, func(b string) string { return strings.Replace(b, "world", "World", 1) })
	if resp.StatusCode != 403 || !strings.Contains(string(rb), "<Code>SignatureDoesNotMatch</Code>") {
		t.Fatalf("tampered chunk: %d %s", resp.StatusCode, rb)
	}

	trailer := map[string]string{"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked,gzip",
		"x-amz-decoded-content-length": "11", "x-amz-trailer": "x-amz-checksum-crc32", "x-amz-sdk-checksum-algorithm": "CRC32"}
	body = chunk("hello world") + last + "x-amz-checksum-crc32:" + crc32b64("hello world") + "\r\nx-amz-trailer-signature:" + sigHole + "\r\n\r\n"
	resp, rb = e.streamSigned(t, "/chunks/trailer.txt", trailer, body, nil)
	if resp.StatusCode != 200 || resp.Header.Get("x-amz-checksum-crc32") != crc32b64("hello world") {
		t.Fatalf("trailer: %d %v %s", resp.StatusCode, resp.Header, rb)
	}
	h, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("chunks"), Key: aws.String("trailer.txt")})
	if err != nil || aws.ToString(h.ContentEncoding) != "gzip" {
		t.Fatalf("content encoding kept without aws-chunked: %+v %v", h, err)
	}
	// The trailer is signed too: another checksum in it is refused.
	resp, rb = e.streamSigned(t, "/chunks/trailer2.txt", trailer, body, func(b string) string { return strings.Replace(b, crc32b64("hello world"), crc32b64("other"), 1) })
	if resp.StatusCode != 403 || !strings.Contains(string(rb), "<Code>SignatureDoesNotMatch</Code>") {
		t.Fatalf("tampered trailer: %d %s", resp.StatusCode, rb)
	}

	unsigned := map[string]string{"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked",
		"x-amz-decoded-content-length": "11", "x-amz-trailer": "x-amz-checksum-crc32", "x-amz-sdk-checksum-algorithm": "CRC32"}
	body = "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:" + crc32b64("other") + "\r\n\r\n"
	resp, rb = e.raw(t, "PUT", "/chunks/bad.txt", unsigned, []byte(body))
	if resp.StatusCode != 400 || !strings.Contains(string(rb), "<Code>BadDigest</Code>") {
		t.Fatalf("bad trailer checksum: %d %s", resp.StatusCode, rb)
	}
	resp, rb = e.raw(t, "PUT", "/chunks/short.txt", unsigned, []byte("b\r\nhello"))
	if resp.StatusCode != 400 || !strings.Contains(string(rb), "<Code>IncompleteBody</Code>") {
		t.Fatalf("truncated: %d %s", resp.StatusCode, rb)
	}
	resp, rb = e.raw(t, "PUT", "/chunks/len.txt", unsigned, []byte("5\r\nhello\r\n0\r\n\r\n"))
	if resp.StatusCode != 400 || !strings.Contains(string(rb), "<Code>IncompleteBody</Code>") {
		t.Fatalf("decoded length mismatch: %d %s", resp.StatusCode, rb)
	}
	resp, rb = e.raw(t, "PUT", "/chunks/size.txt", unsigned, []byte("zz\r\nhello\r\n"))
	if resp.StatusCode != 400 || !strings.Contains(string(rb), "<Code>InvalidRequest</Code>") {
		t.Fatalf("bad chunk size: %d %s", resp.StatusCode, rb)
	}
	for _, k := range []string{"bad.txt", "tampered.txt", "trailer2.txt"} {
		_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("chunks"), Key: aws.String(k)})
		wantStatus(t, err, 404)
	}
}

// TestVirtualHostedStyle addresses buckets as <bucket>.localhost:port, the
// SDK's default addressing when the endpoint is a host name.
func TestVirtualHostedStyle(t *testing.T) {
	e := start(t)
	addr := strings.TrimPrefix(e.URL, "http://")
	_, port, _ := net.SplitHostPort(addr)
	var hosts []string
	var mu sync.Mutex
	dialer := &net.Dialer{}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, addr) // every *.localhost is the sandbox
	}}
	cfg := sbtest.Config("http://localhost:"+port, acctA, "us-east-1")
	cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		hosts = append(hosts, r.URL.Host)
		mu.Unlock()
		return tr.RoundTrip(r)
	})}
	c := s3.NewFromConfig(cfg, sdkDefaults)
	mkBucket(t, c, "vhost")
	put(t, c, "vhost", "dir/key.txt", "virtual")
	if got := get(t, c, "vhost", "dir/key.txt"); got != "virtual" {
		t.Fatalf("get %q", got)
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("vhost")})
	if err != nil || len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "dir/key.txt" {
		t.Fatalf("list: %+v %v", out, err)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("vhost")}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, h := range hosts {
		if h != "vhost.localhost:"+port {
			t.Fatalf("request host %q is not virtual-hosted", h)
		}
	}
	// Path-style clients see the same bucket.
	if got := get(t, e.cli(), "vhost", "dir/key.txt"); got != "virtual" {
		t.Fatalf("path-style get %q", got)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
