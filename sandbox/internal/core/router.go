package core

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"
)

// Accounts maps access key ids to account ids. A nil map accepts every key:
// a 12-digit key is its own account id (as LocalStack does), any other key
// maps to DefaultAccount.
type Accounts map[string]string

var twelveDigits = regexp.MustCompile(`^[0-9]{12}$`)

// Lookup resolves an access key; ok is false for a key a non-nil map lacks.
func (a Accounts) Lookup(accessKey string) (string, bool) {
	if a == nil {
		if twelveDigits.MatchString(accessKey) {
			return accessKey, true
		}
		return DefaultAccount, true
	}
	acct, ok := a[accessKey]
	return acct, ok
}

// LoadAccounts reads a CSV with the header access_key_id,account_id.
func LoadAccounts(path string) (Accounts, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd := csv.NewReader(f)
	rd.TrimLeadingSpace = true
	rows, err := rd.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 || len(rows[0]) < 2 || strings.TrimSpace(rows[0][0]) != "access_key_id" || strings.TrimSpace(rows[0][1]) != "account_id" {
		return nil, fmt.Errorf("%s: the first line must be the header access_key_id,account_id", path)
	}
	out := Accounts{}
	for i, row := range rows[1:] {
		if len(row) < 2 {
			return nil, fmt.Errorf("%s:%d: want access_key_id,account_id", path, i+2)
		}
		key, acct := strings.TrimSpace(row[0]), strings.TrimSpace(row[1])
		if key == "" || !twelveDigits.MatchString(acct) {
			return nil, fmt.Errorf("%s:%d: need an access key id and a 12-digit account id, got %q,%q", path, i+2, key, acct)
		}
		out[key] = acct
	}
	return out, nil
}

// HandlerOptions configure the router.
type HandlerOptions struct {
	Services []Service
	Accounts Accounts
	// Latency is added before every AWS call, plus a uniform random
	// Jitter, to imitate real round trips in benchmarks.
	Latency, Jitter time.Duration
	// Extra serves the sandbox-only paths under /_slab/.
	Extra http.Handler
}

// NewHandler returns the http.Handler that routes AWS requests to services.
// Body limits (LimitBodies) come first, before anything reads a body.
func NewHandler(c *Core, o HandlerOptions) http.Handler {
	byName := map[string]Service{}
	for _, s := range o.Services {
		byName[s.Name()] = s
	}
	return LimitBodies(c, http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		if strings.HasPrefix(hr.URL.Path, "/_slab/") {
			if o.Extra != nil {
				o.Extra.ServeHTTP(w, hr)
				return
			}
			http.NotFound(w, hr)
			return
		}
		if o.Latency > 0 || o.Jitter > 0 {
			d := o.Latency
			if o.Jitter > 0 {
				d += time.Duration(rand.Int64N(int64(o.Jitter)))
			}
			time.Sleep(d)
		}
		r := &Request{W: w, HTTP: hr, RequestID: NewRequestID(), Core: c}
		ak, region, service := credentialScope(hr)
		r.Service = service
		r.AccessKey = ak
		if region == "" {
			region = c.DefaultRegion
		}
		svc, known := byName[service]
		proto := guessProtocol(hr, service)
		if ak == "" {
			writeError(r, proto, ErrorStatus(403, "MissingAuthenticationToken", "Request is missing Authentication Token"))
			c.record(r)
			return
		}
		acct, ok := o.Accounts.Lookup(ak)
		if f, isFn := c.Hook("sts.session-account").(func(string) (string, bool)); isFn {
			if sacct, found := f(ak); found {
				acct, ok = sacct, true
			}
		}
		if !ok {
			if proto == "restxml" {
				writeError(r, proto, ErrorStatus(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."))
			} else {
				writeError(r, proto, ErrorStatus(403, "InvalidClientTokenId", "The security token included in the request is invalid."))
			}
			c.record(r)
			return
		}
		r.Scope = Scope{Account: acct, Region: region}
		if !known {
			writeError(r, proto, ErrorStatus(400, "UnknownService", "The sandbox does not emulate the service %q", service))
			c.record(r)
			return
		}
		// LimitBodies has bounded the body in size and in time; a body the
		// service streams is left unread, any other is read whole, up to
		// the service's document limit.
		if st, ok := svc.(Streamer); ok && st.StreamsBody(hr) {
			r.Stream = hr.Body
		} else {
			body, err := io.ReadAll(http.MaxBytesReader(w, hr.Body, documentLimit(service)))
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					writeError(r, proto, tooLarge(service, mbe.Limit))
				} else {
					writeError(r, proto, ErrorStatus(400, "IncompleteBody", "could not read the request body: %v", err))
				}
				c.record(r)
				return
			}
			r.Body = body
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					if r.Status == 0 {
						writeError(r, proto, &Error{Code: "InternalFailure", Status: 500, Receiver: true, Message: fmt.Sprintf("sandbox internal error: %v", p)})
					}
				}
			}()
			svc.Serve(r)
		}()
		c.record(r)
	}))
}

func (c *Core) record(r *Request) {
	op := r.Operation
	if op == "" {
		op = "Unknown"
	}
	c.Audit.Add(AuditEntry{
		Time: c.Now(), Account: r.Scope.Account, Region: r.Scope.Region, Service: r.Service,
		Operation: op, Mutating: !IsReadOnly(op) && op != "Unknown", Status: r.Status,
	})
}

// credentialScope reads Credential=AKID/date/region/service/aws4_request from
// the Authorization header or a presigned URL.
func credentialScope(hr *http.Request) (ak, region, service string) {
	cred := ""
	if auth := hr.Header.Get("Authorization"); auth != "" {
		if i := strings.Index(auth, "Credential="); i >= 0 {
			cred = auth[i+len("Credential="):]
			if j := strings.IndexAny(cred, ", "); j >= 0 {
				cred = cred[:j]
			}
		}
	} else if q := hr.URL.Query().Get("X-Amz-Credential"); q != "" {
		cred = q
	}
	parts := strings.Split(cred, "/")
	if len(parts) >= 5 {
		return parts[0], parts[2], parts[3]
	}
	if len(parts) >= 1 {
		ak = parts[0]
	}
	return ak, "", guessService(hr)
}

// guessService names the service of an unsigned request, for its error's shape.
func guessService(hr *http.Request) string {
	t := hr.Header.Get("X-Amz-Target")
	switch {
	case strings.HasPrefix(t, "DynamoDB_"):
		return "dynamodb"
	case strings.HasPrefix(t, "AmazonSQS"):
		return "sqs"
	case strings.HasPrefix(t, "AWSEvents"):
		return "events"
	case strings.HasPrefix(t, "Logs_"):
		return "logs"
	case strings.HasPrefix(hr.URL.Path, "/2015-03-31/") || strings.HasPrefix(hr.URL.Path, "/2017-10-31/"):
		return "lambda"
	}
	return ""
}

func guessProtocol(hr *http.Request, service string) string {
	switch service {
	case "s3":
		return "restxml"
	case "lambda":
		return "restjson"
	case "dynamodb", "events", "logs":
		return "json"
	case "sqs":
		if hr.Header.Get("X-Amz-Target") != "" {
			return "json"
		}
		return "query"
	case "iam", "sts", "sns":
		return "query"
	}
	if hr.Header.Get("X-Amz-Target") != "" {
		return "json"
	}
	if strings.HasPrefix(hr.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return "query"
	}
	return "restxml"
}

func writeError(r *Request, proto string, e *Error) {
	switch proto {
	case "json":
		WriteJSONError(r, "", e)
	case "restjson":
		WriteRESTJSONError(r, e)
	case "query":
		WriteQueryError(r, "https://"+r.Service+".amazonaws.com/doc/", e)
	default:
		WriteRESTXMLError(r, e)
	}
}
