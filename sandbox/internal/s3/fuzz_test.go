package s3_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/slab-lab/slab/sandbox/internal/core"
	s3svc "github.com/slab-lab/slab/sandbox/internal/s3"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
)

func serve(t testing.TB, h http.Handler, method, host, path, query string, hdr http.Header, body []byte) *httptest.ResponseRecorder {
	req := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: query}, Host: host, Header: hdr,
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	sbtest.Sign(t, req, body, "s3", core.DefaultAccessKey, core.DefaultSecretKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// xmlBodyOps are the calls whose body is an XML document.
var xmlBodyOps = []struct{ method, path, query string }{
	{"PUT", "/fuzz", "versioning"}, {"PUT", "/fuzz", "tagging"}, {"PUT", "/fuzz", "notification"}, {"POST", "/fuzz", "delete"},
	{"PUT", "/fuzz", ""}, {"PUT", "/fuzz/obj", "tagging"}, {"POST", "/fuzz/obj", "uploadId=x"},
}

// FuzzRequest: arbitrary methods, paths, queries, headers and bodies never
// crash a handler (the router turns a panic into a 500 InternalFailure, so
// no 5xx but 501 may come back), and a body that is not an XML document is
// MalformedXML for every call that takes one.
func FuzzRequest(f *testing.F) {
	c := core.New()
	f.Cleanup(func() { _ = c.Store.Close() }) // the body files' temporary directory
	h := core.NewHandler(c, core.HandlerOptions{Services: []core.Service{s3svc.New(c)}})
	if rec := serve(f, h, "PUT", "localhost", "/fuzz", "", nil, nil); rec.Code != 200 {
		f.Fatalf("create bucket: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(f, h, "PUT", "localhost", "/fuzz/obj", "", nil, []byte("0123456789")); rec.Code != 200 {
		f.Fatalf("put object: %d %s", rec.Code, rec.Body)
	}
	for _, s := range []struct {
		method           uint8
		path, query      string
		body             []byte
		chunked, vhost   bool
		rangeHdr, copied string
	}{
		{0, "fuzz/obj", "", nil, false, false, "bytes=2-4", ""},
		{1, "fuzz/new", "", []byte("data"), false, false, "", ""},
		{1, "fuzz", "versioning", []byte("<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"), false, false, "", ""},
		{1, "fuzz", "notification", []byte("<NotificationConfiguration><CloudFunctionConfiguration><CloudFunction>arn:aws:lambda:us-east-1:1:function:f</CloudFunction><Event>s3:ObjectCreated:*</Event></CloudFunctionConfiguration></NotificationConfiguration>"), false, false, "", ""},
		{3, "fuzz", "delete", []byte("<Delete><Object><Key>obj</Key></Object></Delete>"), false, false, "", ""},
		{0, "fuzz", "list-type=2&max-keys=1&continuation-token=%%%", nil, false, false, "", ""},
		{0, "fuzz", "versions&key-marker=a&version-id-marker=null", nil, false, false, "", ""},
		{1, "fuzz/copy", "", nil, false, false, "", "/fuzz/obj?versionId=%zz"},
		{1, "fuzz/obj", "partNumber=0&uploadId=x", []byte("x"), true, false, "", ""},
		{3, "fuzz/obj", "uploads", nil, false, true, "", ""},
		{3, "fuzz/obj", "uploadId=nope", []byte("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>"), false, false, "", ""},
		{2, "fuzz/obj", "versionId=", nil, false, false, "bytes=-0", ""},
		{4, "", "", nil, false, false, "", ""},
		{5, "fuzz", "tagging", []byte("<Tagging><TagSet><Tag><Key></Key></Tag>"), true, false, "", ""},
		{1, "fuzz/chunky", "", []byte("ffffffffffffffff;chunk-signature=0\r\n"), true, false, "", ""},
		{0, "fuzz/obj", "", nil, false, false, "bytes=9999999999999999999-", ""},
	} {
		f.Add(s.method, s.path, s.query, s.body, s.chunked, s.vhost, s.rangeHdr, s.copied)
	}
	methods := []string{"GET", "PUT", "HEAD", "POST", "DELETE", "PATCH", "OPTIONS"}
	f.Fuzz(func(t *testing.T, method uint8, path, query string, body []byte, chunked, vhost bool, rangeHdr, copied string) {
		if len(body) > 1<<16 {
			body = body[:1<<16]
		}
		hdr := http.Header{}
		if chunked {
			hdr.Set("Content-Encoding", "aws-chunked")
			hdr.Set("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
		}
		if rangeHdr != "" {
			hdr.Set("Range", rangeHdr)
		}
		if copied != "" {
			hdr.Set("x-amz-copy-source", copied)
		}
		sum := md5.Sum(body)
		hdr.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
		host := "localhost"
		if vhost {
			host = "fuzz.localhost:4566"
		}
		m := methods[int(method)%len(methods)]
		rec := serve(t, h, m, host, "/"+path, query, hdr, body)
		if rec.Code >= 500 && rec.Code != 501 {
			t.Fatalf("%s /%s?%s: %d %s", m, path, query, rec.Code, rec.Body)
		}

		// The same body as each XML document the API takes.
		if chunked {
			return
		}
		var root struct{ XMLName xml.Name }
		malformed := xml.Unmarshal(body, &root) != nil
		for _, op := range xmlBodyOps {
			if op.query == "" && len(bytes.TrimSpace(body)) == 0 {
				continue // CreateBucket without a configuration
			}
			hdr := http.Header{}
			hdr.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
			rec := serve(t, h, op.method, "localhost", op.path, op.query, hdr, body)
			if rec.Code >= 500 && rec.Code != 501 {
				t.Fatalf("%s ?%s: %d %s", op.method, op.query, rec.Code, rec.Body)
			}
			// Earlier inputs share the handler and may have deleted the
			// bucket; S3 looks the bucket up before it parses the body.
			if malformed && !strings.Contains(rec.Body.String(), "<Code>MalformedXML</Code>") && !strings.Contains(rec.Body.String(), "<Code>NoSuchBucket</Code>") {
				t.Fatalf("%s ?%s with %q: want MalformedXML, got %d %s", op.method, op.query, body, rec.Code, rec.Body)
			}
		}
	})
}
