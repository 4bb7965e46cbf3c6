package sigv4

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzCanonicalRequest: any path, query and header a client sends
// canonicalises without panicking, the same way twice, and a request
// signed with one secret verifies with it and with no other. The query's
// canonical form is independent of the order of its parameters.
func FuzzCanonicalRequest(f *testing.F) {
	f.Add("POST", "/", "", "x-amz-target", "DynamoDB_20120810.PutItem", "s3")
	f.Add("GET", "/bucket/a%20b/c+d", "list-type=2&prefix=a%2Fb&delimiter=%2F", "x-amz-meta-a", "  spaced   value ", "s3")
	f.Add("POST", "/2015-03-31/functions/arn%3Aaws%3Alambda/invocations", "Qualifier=%24LATEST", "content-type", "application/json", "lambda")
	f.Add("GET", "/%zz/%", "a=%&b&=c&&d=e+f", "x", "\t", "sqs")
	f.Fuzz(func(t *testing.T, method, path, query, hname, hvalue, service string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?# \r\n") || strings.ContainsAny(query, "# \r\n") {
			t.Skip()
		}
		hname = strings.ToLower(hname)
		if hname == "" || strings.ContainsAny(hname, ":; \r\n\t") || strings.ContainsAny(hvalue, "\r\n") || hname == "host" {
			t.Skip()
		}
		r := &http.Request{Method: method, RequestURI: path + "?" + query, URL: &url.URL{Path: path, RawQuery: query}, Host: "127.0.0.1:4566", Header: http.Header{}}
		r.Header.Set(hname, hvalue)
		signed := "host;" + hname
		if hname < "host" {
			signed = hname + ";host"
		}
		c1 := CanonicalRequest(r, service, signed, EmptySHA256, false)
		if c2 := CanonicalRequest(r, service, signed, EmptySHA256, false); c1 != c2 {
			t.Fatalf("not deterministic:\n%s\n%s", c1, c2)
		}
		parts := strings.Split(query, "&")
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
		r2 := *r
		r2.URL = &url.URL{Path: path, RawQuery: strings.Join(parts, "&")}
		if c3 := CanonicalRequest(&r2, service, signed, EmptySHA256, false); c3 != c1 {
			t.Fatalf("parameter order changed the canonical query:\n%s\n%s", c1, c3)
		}
		at := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
		a := &Request{AccessKey: "test", DateStamp: "20261208", Region: "us-east-1", Service: service, AmzDate: at.Format("20060102T150405Z"), Time: at, SignedHeaders: signed}
		a.Signature = a.sign(SigningKey("test", a.DateStamp, a.Region, a.Service), r, EmptySHA256)
		if _, err := a.Verify(r, "test", EmptySHA256); err != nil {
			t.Fatalf("own signature: %v", err)
		}
		if _, err := a.Verify(r, "tesT", EmptySHA256); err == nil {
			t.Fatal("another secret verified")
		}
	})
}

// FuzzChunks: any body is judged without panicking, and a body framed and
// signed from fuzzed chunks verifies, while changing any one byte of its
// data breaks the chain.
func FuzzChunks(f *testing.F) {
	f.Add([]byte("5;chunk-signature=00\r\nhello\r\n0;chunk-signature=00\r\n\r\n"), []byte("hello world"), uint8(5), true)
	f.Add([]byte("zz\r\n"), []byte(""), uint8(0), false)
	f.Add([]byte("ffffffffffffffff;chunk-signature="+strings.Repeat("a", 64)+"\r\n"), []byte("x"), uint8(1), false)
	f.Fuzz(func(t *testing.T, raw, payload []byte, split uint8, trailer bool) {
		key := SigningKey("test", "20261208", "us-east-1", "s3")
		a := &Request{DateStamp: "20261208", Region: "us-east-1", Service: "s3", AmzDate: "20261208T010000Z", Signature: strings.Repeat("0", 64)}
		_ = a.VerifyChunks(raw, key, trailer)

		var body bytes.Buffer
		prev := a.Signature
		n := int(split)%(len(payload)+1) + 1
		chunks := [][]byte{}
		for rest := payload; len(rest) > 0; {
			k := min(n, len(rest))
			chunks = append(chunks, rest[:k])
			rest = rest[k:]
		}
		chunks = append(chunks, nil)
		for _, c := range chunks {
			prev = ChunkSignature(key, a.AmzDate, a.Scope(), prev, c)
			body.WriteString(strconv.FormatInt(int64(len(c)), 16) + ";chunk-signature=" + prev + "\r\n")
			if len(c) > 0 {
				body.Write(c)
				body.WriteString("\r\n")
			}
		}
		if trailer {
			body.WriteString("x-amz-checksum-crc32:AAAAAA==\r\n")
			body.WriteString("x-amz-trailer-signature:" + TrailerSignature(key, a.AmzDate, a.Scope(), prev, "x-amz-checksum-crc32:AAAAAA==\n") + "\r\n")
		}
		body.WriteString("\r\n")
		good := body.Bytes()
		if err := a.VerifyChunks(good, key, trailer); err != nil {
			t.Fatalf("own chunks: %v\n%q", err, good)
		}
		if len(payload) > 0 {
			i := bytes.Index(good, []byte("\r\n")) + 2 + int(split)%len(chunks[0])
			bad := bytes.Clone(good)
			bad[i] ^= 1
			if err := a.VerifyChunks(bad, key, trailer); err == nil {
				t.Fatalf("changed byte %d verified: %q", i, bad)
			}
		}
	})
}
