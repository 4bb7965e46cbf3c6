// Package sigv4 verifies AWS Signature Version 4 as the services do: the
// Authorization header and presigned query forms, the canonical request
// (S3's single-encoded path, every other service's double-encoded one), the
// 15-minute clock-skew rule and X-Amz-Expires, S3's payload modes, and the
// chain of chunk signatures of STREAMING-AWS4-HMAC-SHA256-PAYLOAD bodies.
//
// It knows nothing of accounts or services' error shapes: failures are
// *Error values with a Kind that the router turns into each service's own
// error code and HTTP status. Standard library only.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind classifies a verification failure; each service words it its own way.
type Kind int

const (
	// Missing: no Authorization header and no presigned query.
	Missing Kind = iota + 1
	// Incomplete: an Authorization header or presigned query lacking a
	// part (Credential, SignedHeaders, Signature, X-Amz-Date, ...), or a
	// credential scope that is not date/region/service/aws4_request.
	Incomplete
	// Mismatch: the signature is not the one the secret key gives.
	Mismatch
	// Skewed: the request's date is more than 15 minutes from the clock.
	Skewed
	// Expired: a presigned URL used after X-Amz-Date + X-Amz-Expires.
	Expired
	// PayloadMismatch: S3's x-amz-content-sha256 is not the body's hash.
	PayloadMismatch
	// ChunkMismatch: a chunk signature of a streaming upload is wrong.
	ChunkMismatch
	// BadChunk: the aws-chunked framing itself is malformed.
	BadChunk
)

// Error is a verification failure.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func fail(k Kind, msg string) *Error { return &Error{Kind: k, Msg: msg} }

// Algorithm is the only signing algorithm the services accept.
const Algorithm = "AWS4-HMAC-SHA256"

// Payload hash values S3 accepts in x-amz-content-sha256 besides a hex hash.
const (
	UnsignedPayload          = "UNSIGNED-PAYLOAD"
	StreamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// EmptySHA256 is the hex SHA-256 of no bytes.
const EmptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// MaxSkew is how far a signed request's date may be from the server's clock.
const MaxSkew = 15 * time.Minute

// maxExpires is the longest X-Amz-Expires the services accept (7 days).
const maxExpires = 604800

// Request is the signature-bearing part of a request, as parsed.
type Request struct {
	AccessKey string
	// DateStamp (yyyymmdd), Region and Service are the credential scope.
	DateStamp, Region, Service string
	AmzDate                    string // yyyymmddThhmmssZ, as signed
	Time                       time.Time
	SignedHeaders              string // ;-separated, lower case, as sent
	Signature                  string
	SessionToken               string
	Presigned                  bool
	Expires                    time.Duration // presigned only
}

// Scope is the credential scope string date/region/service/aws4_request.
func (a *Request) Scope() string {
	return a.DateStamp + "/" + a.Region + "/" + a.Service + "/aws4_request"
}

// HasCredentials says whether the request tries to authenticate at all,
// either way: a header naming the algorithm or a query credential.
func HasCredentials(hr *http.Request) bool {
	return hr.Header.Get("Authorization") != "" || hasQueryParam(hr.URL.RawQuery, "X-Amz-Credential")
}

func hasQueryParam(raw, name string) bool {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, _, _ := strings.Cut(kv, "=")
		if k == name {
			return true
		}
	}
	return false
}

// Parse reads the Authorization header or, without one, the presigned
// query parameters. A request with neither fails with Kind Missing; one
// whose credential is readable but incomplete still returns the Request
// with what was read (AccessKey, Service), so the caller can word the
// error as that service would.
func Parse(hr *http.Request) (*Request, *Error) {
	if h := hr.Header.Get("Authorization"); h != "" {
		return parseHeader(hr, h)
	}
	if hasQueryParam(hr.URL.RawQuery, "X-Amz-Credential") || hasQueryParam(hr.URL.RawQuery, "X-Amz-Signature") {
		return parseQuery(hr)
	}
	return nil, fail(Missing, "Request is missing Authentication Token")
}

func parseHeader(hr *http.Request, h string) (*Request, *Error) {
	a := &Request{}
	alg, rest, _ := strings.Cut(h, " ")
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			cred, haveCred = v, true
		case "SignedHeaders":
			signed, haveSigned = v, true
		case "Signature":
			sig, haveSig = v, true
		}
	}
	if haveCred {
		scopeErr := a.setCredential(cred)
		if alg != Algorithm {
			return a, fail(Incomplete, "Unsupported AWS 'algorithm': '"+alg+"'")
		}
		if scopeErr != nil {
			return a, scopeErr
		}
	} else if alg != Algorithm {
		return a, fail(Incomplete, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization="+alg)
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "'Credential'")
	}
	if !haveSigned {
		missing = append(missing, "'SignedHeaders'")
	}
	if !haveSig {
		missing = append(missing, "'Signature'")
	}
	if len(missing) > 0 {
		return a, fail(Incomplete, "Authorization header requires "+strings.Join(missing, ", ")+" parameter. Authorization="+h)
	}
	a.SignedHeaders, a.Signature = signed, sig
	a.SessionToken = hr.Header.Get("X-Amz-Security-Token")
	date := hr.Header.Get("X-Amz-Date")
	if date == "" {
		if d := hr.Header.Get("Date"); d != "" {
			t, err := http.ParseTime(d)
			if err != nil {
				return a, fail(Incomplete, "Date must be in ISO-8601 'basic format'. Got '"+d+"'. See http://en.wikipedia.org/wiki/ISO_8601")
			}
			a.Time, a.AmzDate = t.UTC(), t.UTC().Format("20060102T150405Z")
			if !strings.Contains(";"+signed+";", ";date;") {
				return a, fail(Incomplete, "Signature must cover the Date header")
			}
			return a, nil
		}
		return a, fail(Incomplete, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization="+h)
	}
	if err := a.setDate(date); err != nil {
		return a, err
	}
	return a, nil
}

func parseQuery(hr *http.Request) (*Request, *Error) {
	q := hr.URL.Query()
	a := &Request{Presigned: true}
	var scopeErr *Error
	if c := q.Get("X-Amz-Credential"); c != "" {
		scopeErr = a.setCredential(c)
	}
	var missing []string
	for _, p := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"} {
		if q.Get(p) == "" {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return a, fail(Incomplete, "Query-string authentication requires the "+strings.Join(missing, ", ")+" parameters")
	}
	if alg := q.Get("X-Amz-Algorithm"); alg != Algorithm {
		return a, fail(Incomplete, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
	}
	if scopeErr != nil {
		return a, scopeErr
	}
	if err := a.setDate(q.Get("X-Amz-Date")); err != nil {
		return a, err
	}
	exp, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || exp < 0 {
		return a, fail(Incomplete, "X-Amz-Expires should be a number")
	}
	if exp > maxExpires {
		return a, fail(Incomplete, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	a.Expires = time.Duration(exp) * time.Second
	a.SignedHeaders = q.Get("X-Amz-SignedHeaders")
	a.Signature = q.Get("X-Amz-Signature")
	a.SessionToken = q.Get("X-Amz-Security-Token")
	return a, nil
}

// setCredential reads AKID/date/region/service/aws4_request.
func (a *Request) setCredential(cred string) *Error {
	parts := strings.Split(cred, "/")
	a.AccessKey = parts[0]
	if len(parts) != 5 || parts[4] != "aws4_request" || len(parts[1]) != 8 || parts[2] == "" || parts[3] == "" {
		if len(parts) >= 4 {
			a.Region, a.Service = parts[2], parts[3]
		}
		return fail(Incomplete, "Credential should be scoped to a valid region. Credential="+cred)
	}
	a.DateStamp, a.Region, a.Service = parts[1], parts[2], parts[3]
	return nil
}

func (a *Request) setDate(d string) *Error {
	t, err := time.Parse("20060102T150405Z", d)
	if err != nil {
		return fail(Incomplete, "Date must be in ISO-8601 'basic format'. Got '"+d+"'. See http://en.wikipedia.org/wiki/ISO_8601")
	}
	a.Time, a.AmzDate = t, d
	return nil
}

// CheckTime applies the clock rules: a header-signed request must be
// within 15 minutes of now; a presigned one must not be dated more than 15
// minutes ahead and must be used before its X-Amz-Expires runs out.
func (a *Request) CheckTime(now time.Time) *Error {
	now = now.UTC()
	if a.Presigned {
		if a.Time.After(now.Add(MaxSkew)) {
			return fail(Skewed, "Request is not valid yet")
		}
		if now.After(a.Time.Add(a.Expires)) {
			return fail(Expired, "Request has expired")
		}
		return nil
	}
	if d := now.Sub(a.Time); d > MaxSkew {
		return fail(Skewed, "Signature expired: "+a.AmzDate+" is now earlier than "+now.Add(-MaxSkew).Format("20060102T150405Z")+" ("+now.Format("20060102T150405Z")+" - 15 min.)")
	} else if d < -MaxSkew {
		return fail(Skewed, "Signature not yet current: "+a.AmzDate+" is still later than "+now.Add(MaxSkew).Format("20060102T150405Z")+" ("+now.Format("20060102T150405Z")+" + 15 min.)")
	}
	return nil
}

// SigningKey derives the key of one day, region and service.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

// keys caches signing keys: a key serves one secret for a day, region and
// service, and deriving it costs four HMACs of the five a request needs.
// sync.Map: read on every request, written once a day per credential.
var (
	keys     sync.Map // secret\x00date\x00region\x00service -> []byte
	keyCount atomic.Int64
)

// maxKeys bounds the cache (temporary credentials come and go); past it
// the cache starts over.
const maxKeys = 4096

func cachedKey(secret, date, region, service string) []byte {
	id := secret + "\x00" + date + "\x00" + region + "\x00" + service
	if k, ok := keys.Load(id); ok {
		return k.([]byte)
	}
	k := SigningKey(secret, date, region, service)
	if keyCount.Add(1) > maxKeys {
		keys.Clear()
		keyCount.Store(1)
	}
	keys.Store(id, k)
	return k
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// PayloadHash is the hash the request signed. Other services always sign the
// body's own hash (a tampered body therefore fails as a signature
// mismatch); S3 signs the x-amz-content-sha256 header, which must then
// either name a payload mode or be the body's hash. A nil body is an S3
// body still to be streamed: its hash is checked as it is read.
func (a *Request) PayloadHash(hr *http.Request, body []byte) (string, *Error) {
	if a.Service != "s3" {
		if a.Presigned && len(body) == 0 {
			return EmptySHA256, nil
		}
		return hexSHA256(body), nil
	}
	declared := hr.Header.Get("X-Amz-Content-Sha256")
	if declared == "" && a.Presigned {
		if v := hr.URL.Query().Get("X-Amz-Content-Sha256"); v != "" {
			return v, nil
		}
		return UnsignedPayload, nil
	}
	switch declared {
	case UnsignedPayload, StreamingSigned, StreamingSignedTrailer, StreamingUnsignedTrailer:
		return declared, nil
	case "":
		return "", fail(PayloadMismatch, "Missing required header for this request: x-amz-content-sha256")
	}
	if len(declared) != 64 {
		return "", fail(PayloadMismatch, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.")
	}
	if body == nil {
		// A streamed body: the caller checks it as it is read
		// (PayloadCheck).
		return declared, nil
	}
	if actual := hexSHA256(body); !strings.EqualFold(actual, declared) {
		return "", fail(PayloadMismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return declared, nil
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Verify recomputes the signature with secret and compares it. It returns
// the signing key, which a streaming upload's chunk signatures need.
func (a *Request) Verify(hr *http.Request, secret, payloadHash string) ([]byte, *Error) {
	key := cachedKey(secret, a.DateStamp, a.Region, a.Service)
	want := a.sign(key, hr, payloadHash)
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(a.Signature))) {
		return key, fail(Mismatch, "The request signature we calculated does not match the signature you provided.")
	}
	return key, nil
}

func (a *Request) sign(key []byte, hr *http.Request, payloadHash string) string {
	cr := CanonicalRequest(hr, a.Service, a.SignedHeaders, payloadHash, a.Presigned)
	sum := sha256.Sum256([]byte(cr))
	var sts strings.Builder
	sts.Grow(len(Algorithm) + len(a.AmzDate) + 48 + 64 + 3)
	sts.WriteString(Algorithm)
	sts.WriteByte('\n')
	sts.WriteString(a.AmzDate)
	sts.WriteByte('\n')
	sts.WriteString(a.DateStamp)
	sts.WriteByte('/')
	sts.WriteString(a.Region)
	sts.WriteByte('/')
	sts.WriteString(a.Service)
	sts.WriteString("/aws4_request\n")
	var hx [64]byte
	hex.Encode(hx[:], sum[:])
	sts.Write(hx[:])
	sig := hmacSHA256(key, sts.String())
	hex.Encode(hx[:], sig)
	return string(hx[:])
}

// CanonicalRequest builds the canonical request AWS signs: method, URI,
// query, the signed headers, their names and the payload hash.
func CanonicalRequest(hr *http.Request, service, signedHeaders, payloadHash string, presigned bool) string {
	var b strings.Builder
	b.Grow(512)
	b.WriteString(hr.Method)
	b.WriteByte('\n')
	path := rawPath(hr)
	if service == "s3" {
		b.WriteString(path)
	} else {
		escape(&b, path, false)
	}
	b.WriteByte('\n')
	canonicalQuery(&b, hr.URL.RawQuery, presigned)
	b.WriteByte('\n')
	for _, name := range strings.Split(signedHeaders, ";") {
		b.WriteString(name)
		b.WriteByte(':')
		headerValue(&b, hr, name)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(signedHeaders)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// rawPath is the path exactly as the client sent it: both SDK families sign
// what they send, and Go's parsed URL may re-encode it.
func rawPath(hr *http.Request) string {
	u := hr.RequestURI
	if u == "" {
		u = hr.URL.EscapedPath()
	}
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		rest := u[strings.Index(u, "//")+2:]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			u = rest[i:]
		} else {
			u = "/"
		}
	}
	if u == "" {
		return "/"
	}
	return u
}

type param struct{ k, v string }

// canonicalQuery decodes each parameter as the SDKs do (a '+' is a space)
// and re-encodes it with AWS's URI encoding, sorted by name then value.
func canonicalQuery(b *strings.Builder, raw string, presigned bool) {
	if raw == "" {
		return
	}
	var buf [16]param
	params := buf[:0]
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, v = unescape(k), unescape(v)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		params = append(params, param{k, v})
	}
	slices.SortFunc(params, func(x, y param) int {
		if c := strings.Compare(x.k, y.k); c != 0 {
			return c
		}
		return strings.Compare(x.v, y.v)
	})
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		escape(b, p.k, true)
		b.WriteByte('=')
		escape(b, p.v, true)
	}
}

// unescape decodes %XX and '+'; a malformed escape stays as it is, so that
// the signature, not a parse error, decides.
func unescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			out = append(out, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

const upperHex = "0123456789ABCDEF"

// escape writes s with AWS's URI encoding: everything but A-Z a-z 0-9 - _ . ~
// is %XX; a '/' stays unless slash is set.
func escape(b *strings.Builder, s string, slash bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !slash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
}

// headerValue writes a signed header's canonical value: its values joined
// by ',', each trimmed with inner runs of spaces collapsed. Go moves Host,
// and for requests Transfer-Encoding, out of the header map.
func headerValue(b *strings.Builder, hr *http.Request, name string) {
	switch name {
	case "host":
		b.WriteString(hr.Host)
		return
	case "content-length":
		if v := hr.Header.Values("Content-Length"); len(v) == 0 {
			if hr.ContentLength >= 0 {
				b.WriteString(strconv.FormatInt(hr.ContentLength, 10))
			}
			return
		}
	case "transfer-encoding":
		if len(hr.Header.Values("Transfer-Encoding")) == 0 {
			b.WriteString(strings.Join(hr.TransferEncoding, ","))
			return
		}
	}
	values := hr.Header[http.CanonicalHeaderKey(name)]
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		writeTrimmed(b, v)
	}
}

func writeTrimmed(b *strings.Builder, v string) {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' || c == '\t' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteByte(c)
	}
}
