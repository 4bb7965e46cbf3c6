package logs_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/logs"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
)

// FuzzRequest feeds arbitrary JSON 1.1 bodies to every operation: the
// service must answer each with a well-formed JSON response or a JSON error
// naming its type, never a 500 (the router turns panics into 500s).
func FuzzRequest(f *testing.F) {
	c := core.New()
	c.Now = func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }
	h := core.NewHandler(c, core.HandlerOptions{Services: []core.Service{logs.New(c)}})
	seed := func(op, body string) { f.Add(op, []byte(body)) }
	seed("CreateLogGroup", `{"logGroupName":"/aws/lambda/f"}`)
	seed("CreateLogStream", `{"logGroupName":"/aws/lambda/f","logStreamName":"s"}`)
	seed("PutLogEvents", `{"logGroupName":"/aws/lambda/f","logStreamName":"s","logEvents":[{"timestamp":1795780800000,"message":"hi"}]}`)
	seed("PutLogEvents", `{"logGroupName":"/aws/lambda/f","logStreamName":"s","logEvents":[{"timestamp":-1,"message":"x"},{"timestamp":9223372036854775807,"message":"y"}]}`)
	seed("GetLogEvents", `{"logGroupName":"/aws/lambda/f","logStreamName":"s","nextToken":"f/99999999999999999999999999/s"}`)
	seed("GetLogEvents", `{"logGroupName":"/aws/lambda/f","logStreamName":"s","startTime":10,"endTime":5,"limit":1}`)
	seed("FilterLogEvents", `{"logGroupName":"/aws/lambda/f","filterPattern":"\"unterminated","nextToken":"e30"}`)
	seed("FilterLogEvents", `{"logGroupIdentifier":"arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:*","filterPattern":"%(%"}`)
	seed("DescribeLogStreams", `{"logGroupName":"/aws/lambda/f","orderBy":"LastEventTime","descending":true,"nextToken":"!!"}`)
	seed("DescribeLogGroups", `{"limit":0}`)
	seed("PutRetentionPolicy", `{"logGroupName":"/aws/lambda/f","retentionInDays":"7"}`)
	seed("TagResource", `{"resourceArn":"arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f","tags":{"aws:x":"1"}}`)
	seed("UntagLogGroup", `{"logGroupName":"/aws/lambda/f","tags":{"a":"b"}}`)
	seed("NoSuchOperation", `{}`)
	seed("DeleteLogGroup", `[1,2,3]`)
	seed("CreateLogGroup", "\x00\xff{")
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "Logs_20140328."+op)
		sbtest.Sign(t, req, body, "logs", core.DefaultAccessKey, core.DefaultSecretKey)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: status %d %s", op, body, rec.Code, rec.Body)
		}
		var doc map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatalf("%s %q: response is not a JSON object: %q", op, body, rec.Body)
		}
		if rec.Code >= 400 {
			if typ, _ := doc["__type"].(string); typ == "" {
				t.Fatalf("%s %q: error without __type: %s", op, body, rec.Body)
			}
		}
	})
}
