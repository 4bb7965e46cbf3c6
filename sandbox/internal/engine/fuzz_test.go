package engine

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/events"
	"github.com/slab-lab/slab/sandbox/internal/sns"
)

// FuzzFilterPolicy feeds arbitrary policies, attributes and bodies to the
// filter matcher: SNS validated the policy, but the matcher must not
// trust that (policies come back from persisted state).
func FuzzFilterPolicy(f *testing.F) {
	f.Add(`{"store":["a"],"n":[{"numeric":[">",0,"<=",5]}]}`, "String", "a", `{"a":1}`)
	f.Add(`{"$or":[{"a":["1"]},{"b":[{"prefix":{"equals-ignore-case":"x"}}]}]}`, "String.Array", `["x",1,null]`, `{}`)
	f.Add(`{"a":{"b":[{"anything-but":{"wildcard":"*"}}]}}`, "Number", "NaN", `{"a":{"b":[1,"2"]}}`)
	f.Add(`{"n":[{"numeric":[">"]}],"c":[{"cidr":"bad"}],"x":[{"exists":"yes"}]}`, "Binary", "", `[`)
	f.Add(`{"$or":"x","a":{"$or":[1,2]}}`, "String", "", `{"a":{}}`)
	f.Fuzz(func(t *testing.T, policy, dataType, value, body string) {
		a := map[string]sns.MessageAttribute{"a": {DataType: dataType, StringValue: value}, "store": {DataType: dataType, StringValue: value}}
		filterMatches(policy, "MessageAttributes", a, body)
		filterMatches(policy, "MessageBody", a, body)
		fc := parseFilterCriteria([]byte(`{"Filters":[{"Pattern":` + jsonText(policy) + `}]}`))
		fc.keeps(sqsRecord{Body: body, Attributes: map[string]string{"SenderId": value}})
	})
}

// FuzzBatchItemFailures: any function response decodes to a decision.
func FuzzBatchItemFailures(f *testing.F) {
	f.Add(`{"batchItemFailures":[{"itemIdentifier":"m1"}]}`)
	f.Add(`{"batchItemFailures":[{"itemIdentifier":1}]}`)
	f.Add(`{"batchItemFailures":{}}`)
	f.Add("\x00")
	f.Fuzz(func(t *testing.T, payload string) {
		failed, ok := batchItemFailures([]byte(payload), []string{"m1", "m2"})
		if ok {
			for id := range failed {
				if id != "m1" && id != "m2" {
					t.Fatalf("failure for a message not in the batch: %q", id)
				}
			}
		}
	})
}

// FuzzTransform: any template and path leave transform and jsonPath
// without a panic.
func FuzzTransform(f *testing.F) {
	f.Add(`{"a":"<x>","b":<x>}`, "$.detail-type")
	f.Add(`"<x`, "$[0]['a'].b[")
	f.Add(`<aws.events.event>\"<x>`, "$.resources[99]")
	f.Fuzz(func(t *testing.T, tpl, path string) {
		ev := []byte(`{"detail-type":"Scheduled Event","resources":["r"],"detail":{}}`)
		transform(&events.InputTransformer{InputTemplate: tpl, InputPathsMap: map[string]string{"x": path}}, ev, events.Rule{Name: "r"})
		_, _ = targetInput(events.Target{InputPath: path}, ev, events.Rule{})
	})
}

// FuzzTriggerPath: arbitrary paths under the trigger endpoint answer with
// a status, never a panic or a hang.
func FuzzTriggerPath(f *testing.F) {
	c := core.New()
	e := New(c, []core.Service{events.New(c)}, Options{})
	mux := http.NewServeMux()
	e.Mount(mux)
	f.Add("lambda-integration-schedule/trigger", "account=000000000000")
	f.Add("arn:aws:events:us-east-1:000000000000:rule/bus/x/trigger", "region=")
	f.Add("arn:aws:sqs:::/trigger", "")
	f.Add("/trigger", "account=%zz")
	f.Fuzz(func(t *testing.T, p, q string) {
		req := httptest.NewRequest("POST", "/_slab/events/rules/x", nil)
		req.URL.Path = "/_slab/events/rules/" + p
		req.URL.RawQuery = q
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code == 0 || w.Code == http.StatusInternalServerError {
			t.Fatalf("status %d for %q", w.Code, p)
		}
	})
}
