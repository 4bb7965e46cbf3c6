package sqs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
	sqssvc "github.com/slab-lab/slab/sandbox/internal/sqs"
)

func serveOnce(t testing.TB, h http.Handler, target, path string, body []byte) *httptest.ResponseRecorder {
	// A short deadline bounds long polls: a fuzzed ReceiveMessage may ask
	// to wait 20 s on the queue that exists.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)).WithContext(ctx)
	req.URL.Path = path
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	sbtest.Sign(t, req, body, "sqs", core.DefaultAccessKey, core.DefaultSecretKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// FuzzRequest feeds arbitrary operations, paths and bodies to both
// protocols: nothing may panic (the router would turn a panic into a 500),
// hang, or answer outside the protocol's shapes.
func FuzzRequest(f *testing.F) {
	seeds := []struct{ target, path, body string }{
		{"AmazonSQS.CreateQueue", "/", `{"QueueName":"q2","Attributes":{"VisibilityTimeout":"5"}}`},
		{"AmazonSQS.SendMessage", "/", `{"QueueUrl":"http://x/AKIDFUZZ/q","MessageBody":"hi"}`},
		{"AmazonSQS.SendMessage", "/", `{"QueueUrl":"http://x/000000000000/q","MessageBody":"hi","MessageAttributes":{"a":{"DataType":"Binary","BinaryValue":"AAE="}}}`},
		{"AmazonSQS.ReceiveMessage", "/", `{"QueueUrl":"http://x/000000000000/q","WaitTimeSeconds":20}`},
		{"AmazonSQS.SendMessageBatch", "/", `{"QueueUrl":"http://x/000000000000/q","Entries":[{"Id":"a","MessageBody":"x"},{"Id":"a"}]}`},
		{"AmazonSQS.DeleteMessage", "/", `{"QueueUrl":"http://x/000000000000/q","ReceiptHandle":"AQEBAAAA"}`},
		{"AmazonSQS.ChangeMessageVisibility", "/", `{"QueueUrl":"http://x/000000000000/q","ReceiptHandle":"AQEBMDAwMDAwMDAwMDAwL3VzLWVhc3QtMS9xADEAYQ==","VisibilityTimeout":1}`},
		{"AmazonSQS.SetQueueAttributes", "/", `{"QueueUrl":"http://x/000000000000/q","Attributes":{"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:q\",\"maxReceiveCount\":1e9}"}}`},
		{"AmazonSQS.ListQueues", "/", `{"MaxResults":1,"NextToken":"%%%"}`},
		{"AmazonSQS.GetQueueAttributes", "/", `{"QueueUrl":"http://x/000000000000/q","AttributeNames":["All"]}`},
		{"AmazonSQS.Nope", "/", `{}`},
		{"AmazonSQS.CreateQueue", "/", `{"QueueName":`},
		{"AmazonSQS.CreateQueue", "/", `[1,2,3]`},
		{"", "/", "Action=CreateQueue&QueueName=z&Attribute.1.Name=DelaySeconds&Attribute.1.Value=3"},
		{"", "/000000000000/q", "Action=ReceiveMessage&WaitTimeSeconds=20&AttributeName.1=All"},
		{"", "/", "Action=SendMessage&QueueUrl=http%3A%2F%2Fx%2F000000000000%2Fq&MessageBody=a&MessageAttribute.1.Name=n&MessageAttribute.1.Value.DataType=Number&MessageAttribute.1.Value.StringValue=1"},
		{"", "/", "Action=SendMessageBatch&QueueUrl=http%3A%2F%2Fx%2F000000000000%2Fq&SendMessageBatchRequestEntry.99999999999999999999.Id=a"},
		{"", "/", "Action=DeleteMessageBatch&QueueUrl=http%3A%2F%2Fx%2F000000000000%2Fq&DeleteMessageBatchRequestEntry.1.Id=a&DeleteMessageBatchRequestEntry.1.ReceiptHandle=%00"},
		{"", "/", "Action=ListQueues&MaxResults=abc"},
		{"", "/", "%zz=%"},
		{"", "/a/b/c", ""},
	}
	for _, s := range seeds {
		f.Add(s.target, s.path, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, target, path string, body []byte) {
		// A hung input crashes the worker with the input in the message.
		wd := time.AfterFunc(20*time.Second, func() { panic(fmt.Sprintf("HANG %q %q %q", target, path, body)) })
		defer wd.Stop()
		c := core.New()
		svc := sqssvc.New(c)
		c.Endpoint = "http://x"
		h := core.NewHandler(c, core.HandlerOptions{Services: []core.Service{svc}})
		if rec := serveOnce(t, h, "AmazonSQS.CreateQueue", "/", []byte(`{"QueueName":"q"}`)); rec.Code != 200 {
			t.Fatalf("setup: %d %s", rec.Code, rec.Body)
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		rec := serveOnce(t, h, target, path, body)
		if rec.Code >= 500 {
			t.Fatalf("server error %d: %s", rec.Code, rec.Body)
		}
		if target != "" {
			var v map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatalf("JSON protocol answered non-JSON %q: %v", rec.Body, err)
			}
			if rec.Code >= 400 {
				if typ, _ := v["__type"].(string); typ == "" {
					t.Fatalf("error without __type: %s", rec.Body)
				}
				if rec.Header().Get("x-amzn-query-error") == "" {
					t.Fatalf("error without x-amzn-query-error: %s", rec.Body)
				}
			}
			return
		}
		var root struct {
			XMLName xml.Name
			Code    string `xml:"Error>Code"`
		}
		if err := xml.Unmarshal(rec.Body.Bytes(), &root); err != nil {
			t.Fatalf("Query protocol answered non-XML %q: %v", rec.Body, err)
		}
		if rec.Code >= 400 && (root.XMLName.Local != "ErrorResponse" || root.Code == "") {
			t.Fatalf("error without ErrorResponse/Code: %s", rec.Body)
		}
		if rec.Code == 200 && !strings.HasSuffix(root.XMLName.Local, "Response") {
			t.Fatalf("success root %s", root.XMLName.Local)
		}
	})
}
