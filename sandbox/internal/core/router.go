package core

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/sigv4"
)

// HandlerOptions configure the router.
type HandlerOptions struct {
	Services []Service
	Accounts Accounts
	// Latency is added before every AWS call, plus a uniform random
	// Jitter, to imitate real round trips in benchmarks.
	Latency, Jitter time.Duration
	// Extra serves the sandbox-only paths under /_slab/.
	Extra http.Handler
	// Hosts are the host names, besides loopback addresses and localhost,
	// that requests may name in Host and Origin (a shared sandbox's name).
	Hosts []string
}

// NewHandler returns the http.Handler that routes AWS requests to services,
// after verifying their SigV4 signature against the credentials of
// o.Accounts (DefaultAccounts, test/test, when nil) and of the temporary
// sessions (HookSessions). Body limits (LimitBodies) come first, before
// anything reads a body.
func NewHandler(c *Core, o HandlerOptions) http.Handler {
	h := &handler{core: c, o: o, accounts: o.Accounts, byName: map[string]Service{}}
	if h.accounts == nil {
		h.accounts = DefaultAccounts()
	}
	h.expect = h.accounts.Expect()
	for _, s := range o.Services {
		h.byName[s.Name()] = s
		if ss, ok := s.(SelfSigned); ok {
			h.selfSigned = append(h.selfSigned, selfSigned{ss.SelfSignedPrefix(), s})
		}
	}
	return LimitBodies(c, h)
}

// credentialScope names the service of a request for its body limit: the
// service of its credential scope, else the one its shape suggests. The
// signature is verified later, once the body is bounded.
func credentialScope(hr *http.Request) (ak, region, service string) {
	if a, _ := sigv4.Parse(hr); a != nil {
		ak, region, service = a.AccessKey, a.Region, a.Service
	}
	if service == "" {
		service = guessService(hr)
	}
	return ak, region, service
}

type selfSigned struct {
	prefix string
	svc    Service
}

type handler struct {
	core       *Core
	o          HandlerOptions
	accounts   Accounts
	expect     string
	byName     map[string]Service
	selfSigned []selfSigned
}

func (h *handler) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	c, o := h.core, h.o
	if strings.HasPrefix(hr.URL.Path, "/_slab/") {
		if why := BrowserRefusal(hr, o.Hosts); why != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":` + strconv.Quote("The sandbox refused this request: "+why) + "}\n"))
			return
		}
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
	for _, ss := range h.selfSigned {
		if strings.HasPrefix(hr.URL.Path, ss.prefix) && (hr.Method == http.MethodGet || hr.Method == http.MethodHead) {
			r.Service, r.Scope = ss.svc.Name(), Scope{Region: c.DefaultRegion}
			h.serve(r, ss.svc, "restjson")
			return
		}
	}
	a, perr := sigv4.Parse(hr)
	service, region := "", ""
	if a != nil {
		r.AccessKey, service, region = a.AccessKey, a.Service, a.Region
	}
	if service == "" {
		service = guessService(hr)
	}
	r.Service = service
	if region == "" {
		region = c.DefaultRegion
	}
	proto := guessProtocol(hr, service)
	presigned := a != nil && a.Presigned
	if why := BrowserRefusal(hr, o.Hosts); why != "" {
		h.refuse(r, proto, ErrorStatus(403, accessDeniedCode(service, proto), "The sandbox refused this request: %s.", why))
		return
	}
	if perr != nil {
		h.refuse(r, proto, authError(service, proto, presigned, &authFailure{kind: perr.Kind, message: perr.Msg}, h.expect))
		return
	}
	if why := contentTypeRefusal(hr, proto); why != "" {
		code := "UnsupportedMediaType"
		if proto != "query" {
			code = "UnsupportedMediaTypeException"
		}
		h.refuse(r, proto, ErrorStatus(415, code, "%s.", why))
		return
	}
	svc, known := h.byName[service]
	// LimitBodies has bounded the body in size and in time; a body the
	// service streams (S3 objects and parts) is left unread and verified
	// as the service reads it, any other is read whole, up to the
	// service's document limit, and verified before the service runs.
	var body []byte
	var stream io.Reader
	if st, ok := svc.(Streamer); ok && st.StreamsBody(hr) {
		stream = hr.Body
		if stream == nil {
			stream = http.NoBody
		}
	} else {
		var berr *Error
		if body, berr = readBody(w, hr, service); berr != nil {
			writeError(r, proto, berr)
			c.record(r)
			return
		}
	}
	cred, verified, fail := h.authenticate(r, a, body, stream)
	if fail != nil {
		if stream != nil {
			w.Header().Set("Connection", "close")
		}
		if fail.code == "" || fail.code == failUnknownKey {
			r.Scope = Scope{Region: region}
		} else {
			r.Scope = Scope{Account: cred.Principal.Account, Region: region}
		}
		writeError(r, proto, authError(service, proto, presigned, fail, h.expect))
		c.record(r)
		return
	}
	r.Principal = cred.Principal
	r.Scope = Scope{Account: cred.Principal.Account, Region: region}
	if !known {
		writeError(r, proto, ErrorStatus(400, "UnknownService", "The sandbox does not emulate the service %q", service))
		c.record(r)
		return
	}
	r.Body, r.Stream = body, verified
	if err := h.authorize(r, proto); err != nil {
		writeError(r, proto, err)
		c.record(r)
		return
	}
	h.serve(r, svc, proto)
}

// refuse answers a request before its body is read. The connection is
// closed after the answer: net/http would otherwise wait to drain a body the
// client may never finish sending.
func (h *handler) refuse(r *Request, proto string, e *Error) {
	if r.HTTP.ContentLength != 0 {
		r.W.Header().Set("Connection", "close")
	}
	writeError(r, proto, e)
	h.core.record(r)
}

// serve runs the service, turning a panic into InternalFailure, and
// records the call.
func (h *handler) serve(r *Request, svc Service, proto string) {
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
	h.core.record(r)
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

// accessDeniedCode is the code of each protocol's AccessDenied.
func accessDeniedCode(service, proto string) string {
	if proto == "json" && service != "sqs" || proto == "restjson" {
		return "AccessDeniedException"
	}
	return "AccessDenied"
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
