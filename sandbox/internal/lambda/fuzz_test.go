package lambda_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/lambda"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
)

// FuzzRequest sends arbitrary methods, paths and bodies through the router:
// every answer must be a REST-JSON response, errors carrying their code in
// X-Amzn-Errortype and a JSON body with a Message, and no 500 except the
// documented ServiceException of Invoke without a runner.
func FuzzRequest(f *testing.F) {
	c := core.New()
	c.Now = func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }
	svc := lambda.New(c)
	svc.CreateDelay = 0
	h := core.NewHandler(c, core.HandlerOptions{Services: []core.Service{svc}})
	zipB64 := "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==" // an empty, valid zip archive
	seed := func(method int, path, body string) { f.Add(uint8(method), path, []byte(body)) }
	seed(1, "/2015-03-31/functions", `{"FunctionName":"f","Runtime":"nodejs22.x","Role":"arn:aws:iam::000000000000:role/r","Handler":"index.handler","Code":{"ZipFile":"`+zipB64+`"}}`)
	seed(1, "/2015-03-31/functions", `{"FunctionName":"g","Runtime":"nodejs22.x","Role":"arn:aws:iam::000000000000:role/r","Handler":"h","Code":{"ZipFile":"!!!"}}`)
	seed(0, "/2015-03-31/functions/", ``)
	seed(0, "/2015-03-31/functions/?MaxItems=0&Marker=%%", ``)
	seed(0, "/2015-03-31/functions/f?Qualifier=$LATEST", ``)
	seed(0, "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/configuration", ``)
	seed(2, "/2015-03-31/functions/f/configuration", `{"Timeout":"3","Environment":{"Variables":{"1bad":"x"}}}`)
	seed(2, "/2015-03-31/functions/f/code", `{"ZipFile":"`+zipB64+`","Architectures":["arm64","x86_64"]}`)
	seed(1, "/2015-03-31/functions/f/policy", `{"StatementId":"s","Action":"lambda:InvokeFunction","Principal":"s3.amazonaws.com","SourceArn":"arn:aws:s3:::b"}`)
	seed(3, "/2015-03-31/functions/f/policy/s?RevisionId=x", ``)
	seed(1, "/2015-03-31/functions/f/invocations", `{"a":`)
	seed(1, "/2015-03-31/functions/f/invocations", `{}`)
	seed(1, "/2015-03-31/event-source-mappings/", `{"FunctionName":"f","EventSourceArn":"arn:aws:sqs:us-east-1:000000000000:q","BatchSize":20}`)
	seed(0, "/2015-03-31/event-source-mappings/?FunctionName=f&MaxItems=1", ``)
	seed(2, "/2015-03-31/event-source-mappings/00000000-0000-0000-0000-000000000000", `{"Enabled":false}`)
	seed(3, "/2015-03-31/event-source-mappings/x", ``)
	seed(1, "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af", `{"Tags":{"aws:x":"1"}}`)
	seed(3, "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af?tagKeys=a", ``)
	seed(0, "/_code/000000000000.us-east-1.f?X-Amz-Expires=9999999999&X-Amz-Signature=00", ``)
	seed(3, "/2015-03-31/functions/f", ``)
	seed(0, "/2015-03-31/functions/%zz", ``)
	seed(4, "/nothing/here", `[]`)
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch}
	f.Fuzz(func(t *testing.T, method uint8, path string, body []byte) {
		u, err := url.ParseRequestURI(path)
		if err != nil {
			t.Skip()
		}
		req := httptest.NewRequest(methods[int(method)%len(methods)], "/", bytes.NewReader(body))
		req.URL = u
		req.Header.Set("Content-Type", "application/json")
		sbtest.Sign(t, req, body, "lambda", core.DefaultAccessKey, core.DefaultSecretKey)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		code := rec.Header().Get("X-Amzn-Errortype")
		if rec.Code >= 500 && code != "ServiceException" {
			t.Fatalf("%s %s %q: status %d %s", req.Method, path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var doc struct{ Type, Message string }
			if code == "" || json.Unmarshal(rec.Body.Bytes(), &doc) != nil || doc.Message == "" {
				t.Fatalf("%s %s: malformed error %d %q %s", req.Method, path, rec.Code, code, rec.Body)
			}
			return
		}
		if rec.Body.Len() > 0 && rec.Header().Get("Content-Type") == "application/json" && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: invalid JSON response %s", req.Method, path, rec.Body)
		}
	})
}
