package events_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/events"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
)

// FuzzRequest feeds arbitrary JSON 1.1 bodies to every operation: the
// service must answer each with a well-formed JSON response or a JSON error
// naming its type, never a 500 (the router turns panics into 500s).
func FuzzRequest(f *testing.F) {
	c := core.New()
	c.Now = func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }
	h := core.NewHandler(c, core.HandlerOptions{Services: []core.Service{events.New(c)}})
	seed := func(op, body string) { f.Add(op, []byte(body)) }
	seed("PutRule", `{"Name":"r","ScheduleExpression":"rate(5 minutes)"}`)
	seed("PutRule", `{"Name":"r","ScheduleExpression":"cron(0 0 ? * 7#5 2199)"}`)
	seed("PutRule", `{"Name":"r","ScheduleExpression":"cron(*/1 * L,LW,31W * ? *)"}`)
	seed("PutRule", `{"Name":"p","EventPattern":"{\"a\":{\"b\":[{\"prefix\":\"x\"}]}}","State":"DISABLED"}`)
	seed("PutRule", `{"Name":"p","EventPattern":"[[[[[[[[[[[[[[[[[[[[","EventBusName":"arn:aws:events:us-east-1:000000000000:event-bus/default"}`)
	seed("PutTargets", `{"Rule":"r","Targets":[{"Id":"1","Arn":"arn:aws:lambda:us-east-1:000000000000:function:f","InputTransformer":{"InputTemplate":""}}]}`)
	seed("PutTargets", `{"Rule":"r","Targets":[1,"x",null]}`)
	seed("ListTargetsByRule", `{"Rule":"r","NextToken":"MQ","Limit":1}`)
	seed("RemoveTargets", `{"Rule":"r","Ids":["1","2"]}`)
	seed("ListRuleNamesByTarget", `{"TargetArn":"arn:aws:lambda:us-east-1:000000000000:function:f","NextToken":"cg"}`)
	seed("ListRules", `{"NamePrefix":"","Limit":101}`)
	seed("TagResource", `{"ResourceARN":"arn:aws:events:us-east-1:000000000000:rule/bus/r","Tags":[{"Key":"","Value":"v"}]}`)
	seed("DeleteRule", `{"Name":"r","Force":true}`)
	seed("DescribeRule", `{"Name":"`+strings.Repeat("x", 65)+`"}`)
	seed("NoSuchOperation", `{}`)
	seed("EnableRule", "\x00\xff{")
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AWSEvents."+op)
		sbtest.Sign(t, req, body, "events", core.DefaultAccessKey, core.DefaultSecretKey)
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
