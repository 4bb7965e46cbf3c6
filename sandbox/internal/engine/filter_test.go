package engine

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/events"
	"github.com/slab-lab/slab/sandbox/internal/sns"
)

type eventsInputTransformer = events.InputTransformer

var eventsRule = events.Rule{Name: "r", Arn: "arn:aws:events:us-east-1:000000000000:rule/r"}

func attrs(kv ...string) map[string]sns.MessageAttribute {
	m := map[string]sns.MessageAttribute{}
	for i := 0; i+2 < len(kv); i += 3 {
		m[kv[i]] = sns.MessageAttribute{DataType: kv[i+1], StringValue: kv[i+2]}
	}
	return m
}

func TestFilterPolicyAttributes(t *testing.T) {
	cases := []struct {
		policy string
		attrs  map[string]sns.MessageAttribute
		want   bool
	}{
		{`{"store":["a","b"]}`, attrs("store", "String", "b"), true},
		{`{"store":["a","b"]}`, attrs("store", "String", "c"), false},
		{`{"store":["a"]}`, attrs(), false},
		{`{"store":["a"],"n":[5]}`, attrs("store", "String", "a", "n", "Number", "5.0"), true},
		{`{"store":["a"],"n":[5]}`, attrs("store", "String", "a", "n", "String", "5"), false},
		{`{"n":["5"]}`, attrs("n", "Number", "5"), false},
		{`{"n":[{"numeric":[">",0,"<=",10]}]}`, attrs("n", "Number", "10"), true},
		{`{"n":[{"numeric":[">",0,"<=",10]}]}`, attrs("n", "Number", "10.5"), false},
		{`{"n":[{"numeric":["=",3]}]}`, attrs("n", "Number", "3"), true},
		{`{"s":[{"prefix":"ord-"}]}`, attrs("s", "String", "ord-1"), true},
		{`{"s":[{"prefix":"ord-"}]}`, attrs("s", "String", "ORD-1"), false},
		{`{"s":[{"prefix":{"equals-ignore-case":"ord-"}}]}`, attrs("s", "String", "ORD-1"), true},
		{`{"s":[{"suffix":".json"}]}`, attrs("s", "String", "a.json"), true},
		{`{"s":[{"equals-ignore-case":"HELLO"}]}`, attrs("s", "String", "hello"), true},
		{`{"s":[{"anything-but":["x","y"]}]}`, attrs("s", "String", "z"), true},
		{`{"s":[{"anything-but":["x","y"]}]}`, attrs("s", "String", "x"), false},
		{`{"s":[{"anything-but":"x"}]}`, attrs(), false},
		{`{"s":[{"anything-but":{"prefix":"int-"}}]}`, attrs("s", "String", "int-1"), false},
		{`{"s":[{"anything-but":{"prefix":"int-"}}]}`, attrs("s", "String", "ext-1"), true},
		{`{"n":[{"anything-but":[100]}]}`, attrs("n", "Number", "100"), false},
		{`{"s":[{"exists":true}]}`, attrs("s", "String", "x"), true},
		{`{"s":[{"exists":true}]}`, attrs(), false},
		{`{"s":[{"exists":false}]}`, attrs(), true},
		{`{"s":[{"exists":false}]}`, attrs("s", "String", "x"), false},
		{`{"s":[{"wildcard":"a*c"}]}`, attrs("s", "String", "abbbc"), true},
		{`{"s":[{"wildcard":"a*c"}]}`, attrs("s", "String", "abbbd"), false},
		{`{"ip":[{"cidr":"10.0.0.0/24"}]}`, attrs("ip", "String", "10.0.0.7"), true},
		{`{"ip":[{"cidr":"10.0.0.0/24"}]}`, attrs("ip", "String", "10.0.1.7"), false},
		{`{"tags":["red"]}`, attrs("tags", "String.Array", `["blue","red"]`), true},
		{`{"tags":[7]}`, attrs("tags", "String.Array", `["blue",7]`), true},
		{`{"tags":["green"]}`, attrs("tags", "String.Array", `["blue","red"]`), false},
		{`{"b":[{"exists":true}]}`, map[string]sns.MessageAttribute{"b": {DataType: "Binary", BinaryValue: []byte{1}}}, true},
		{`{"b":["AQ=="]}`, map[string]sns.MessageAttribute{"b": {DataType: "Binary", BinaryValue: []byte{1}}}, false},
		{`{"$or":[{"a":["1"]},{"b":["2"]}]}`, attrs("b", "String", "2"), true},
		{`{"$or":[{"a":["1"]},{"b":["2"]}]}`, attrs("b", "String", "3"), false},
		{`not json`, attrs(), false},
	}
	for _, c := range cases {
		if got := filterMatches(c.policy, "MessageAttributes", c.attrs, "body"); got != c.want {
			t.Errorf("%s on %v = %v, want %v", c.policy, c.attrs, got, c.want)
		}
	}
}

func TestFilterPolicyBody(t *testing.T) {
	cases := []struct {
		policy, body string
		want         bool
	}{
		{`{"order":{"status":["shipped"]}}`, `{"order":{"status":"shipped"}}`, true},
		{`{"order":{"status":["shipped"]}}`, `{"order":{"status":"pending"}}`, false},
		{`{"order":{"status":["shipped"]}}`, `{"order":"shipped"}`, false},
		{`{"order":{"status":[{"exists":false}]}}`, `{}`, true},
		{`{"items":["b"]}`, `{"items":["a","b"]}`, true},
		{`{"ok":[true]}`, `{"ok":true}`, true},
		{`{"ok":[true]}`, `{"ok":"true"}`, false},
		{`{"v":[null]}`, `{"v":null}`, true},
		{`{"n":[{"numeric":[">=",1.5]}]}`, `{"n":2}`, true},
		{`{"n":[1]}`, `not json`, false},
		{`{"n":[1]}`, `[1]`, false},
	}
	for _, c := range cases {
		if got := filterMatches(c.policy, "MessageBody", nil, c.body); got != c.want {
			t.Errorf("%s on %s = %v, want %v", c.policy, c.body, got, c.want)
		}
	}
}

func TestBatchItemFailures(t *testing.T) {
	ids := []string{"m1", "m2"}
	cases := []struct {
		payload string
		failed  []string
		ok      bool
	}{
		{``, nil, true},
		{`null`, nil, true},
		{`{}`, nil, true},
		{`{"batchItemFailures":null}`, nil, true},
		{`{"batchItemFailures":[]}`, nil, true},
		{`{"statusCode":200,"body":"done"}`, nil, true},
		{`{"batchItemFailures":[{"itemIdentifier":"m2"}]}`, []string{"m2"}, true},
		{`{"batchItemFailures":[{"itemIdentifier":"m1"},{"itemIdentifier":"m2"}]}`, []string{"m1", "m2"}, true},
		{`{"batchItemFailures":[{"itemIdentifier":""}]}`, nil, false},
		{`{"batchItemFailures":[{"itemIdentifier":null}]}`, nil, false},
		{`{"batchItemFailures":[{"id":"m1"}]}`, nil, false},
		{`{"batchItemFailures":[{"itemIdentifier":"m9"}]}`, nil, false},
		{`{"batchItemFailures":"m1"}`, nil, false},
		{`{"batchItemFailures":[`, nil, false},
		{`"ok"`, nil, false},
	}
	for _, c := range cases {
		failed, ok := batchItemFailures([]byte(c.payload), ids)
		if ok != c.ok || len(failed) != len(c.failed) {
			t.Errorf("%s: failed %v ok %v, want %v %v", c.payload, failed, ok, c.failed, c.ok)
			continue
		}
		for _, id := range c.failed {
			if !failed[id] {
				t.Errorf("%s: %s not failed", c.payload, id)
			}
		}
	}
}

func TestEventKey(t *testing.T) {
	cases := map[string]string{
		"test-data.json":       "test-data.json",
		"in/a b.json":          "in/a+b.json",
		"a+b=c&d.json":         "a%2Bb%3Dc%26d.json",
		"café/(1)~x*y_z.json":  "caf%C3%A9/%281%29%7Ex*y_z.json",
		"date=2025-12-31/x.pb": "date%3D2025-12-31/x.pb",
	}
	for in, want := range cases {
		if got := eventKey(in); got != want {
			t.Errorf("eventKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEnvelopeIsJSON(t *testing.T) {
	p := sns.Published{TopicArn: "arn:aws:sns:us-east-1:000000000000:t", MessageID: "id", Message: "line\n\"quoted\" <html> & é",
		Subject: "s", Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC), SequenceNumber: "10000000000000000001",
		MessageAttributes: map[string]sns.MessageAttribute{"z": {DataType: "String", StringValue: "1"}, "a": {DataType: "Number", StringValue: "2"}}}
	out := envelope(p, sns.Subscription{Arn: p.TopicArn + ":sub"}, p.Message)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if m["Message"] != p.Message || m["Timestamp"] != "2026-01-02T03:04:05.006Z" || m["SequenceNumber"] != p.SequenceNumber {
		t.Fatalf("%v", m)
	}
	if !strings.Contains(out, "<html> & é") || strings.Index(out, `"a" :`) > strings.Index(out, `"z" :`) {
		t.Fatalf("escaping or attribute order:\n%s", out)
	}
	if signature(p, p.Message) != signature(p, p.Message) {
		t.Fatal("signature is not deterministic")
	}
}

func TestTransformTemplate(t *testing.T) {
	ev := []byte(`{"detail-type":"Scheduled Event","n":3,"obj":{"a":"x\"y"},"resources":["r1"]}`)
	it := func(tpl string, paths map[string]string) string {
		return transform(&eventsInputTransformer{InputPathsMap: paths, InputTemplate: tpl}, ev, eventsRule)
	}
	if got := it(`{"t":"<t>","n":<n>,"o":<o>,"missing":<m>}`, map[string]string{"t": "$.detail-type", "n": "$.n", "o": "$.obj", "m": "$.nope"}); got != `{"t":"Scheduled Event","n":3,"o":{"a":"x\"y"},"missing":null}` {
		t.Errorf("object template: %s", got)
	}
	if got := it(`"count <n> of <r>"`, map[string]string{"n": "$.n", "r": "$.resources[0]"}); got != `"count 3 of r1"` {
		t.Errorf("string template: %s", got)
	}
	if got := it(`{"a":"<o>"}`, map[string]string{"o": "$.obj.a"}); got != `{"a":"x\"y"}` {
		t.Errorf("escaped string: %s", got)
	}
}
