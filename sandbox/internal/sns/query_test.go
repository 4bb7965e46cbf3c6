package sns_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"github.com/slab-lab/slab/internal/extern"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
	snssvc "github.com/slab-lab/slab/sandbox/internal/sns"
)

const snsNS = "http://sns.amazonaws.com/doc/2010-03-31/"

func post(t *testing.T, endpoint string, params url.Values) (int, []byte) {
	t.Helper()
	body := []byte(params.Encode())
	req, _ := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sbtest.Sign(t, req, body, "sns", "AKIDSANDBOXTEST", sbtest.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func TestQueryShapes(t *testing.T) {
	f := start(t)
	status, body := post(t, f.env.URL, url.Values{"Action": {"CreateTopic"}, "Name": {"shapes"}, "Attributes.entry.1.key": {"DisplayName"}, "Attributes.entry.1.value": {"Shapes"}})
	var created struct {
		XMLName  xml.Name `xml:"CreateTopicResponse"`
		TopicArn string   `xml:"CreateTopicResult>TopicArn"`
		ReqID    string   `xml:"ResponseMetadata>RequestId"`
	}
	if err := xml.Unmarshal(body, &created); err != nil || status != 200 || created.XMLName.Space != snsNS || created.ReqID == "" {
		t.Fatalf("%d %v %s", status, err, body)
	}
	_, body = post(t, f.env.URL, url.Values{"Action": {"GetTopicAttributes"}, "TopicArn": {created.TopicArn}})
	var attrs struct {
		Entries []struct {
			Key   string `xml:"key"`
			Value string `xml:"value"`
		} `xml:"GetTopicAttributesResult>Attributes>entry"`
	}
	if err := xml.Unmarshal(body, &attrs); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range attrs.Entries {
		got[e.Key] = e.Value
	}
	if got["DisplayName"] != "Shapes" || got["TopicArn"] != created.TopicArn {
		t.Fatalf("%s", body)
	}
	_, body = post(t, f.env.URL, url.Values{"Action": {"ListTopics"}})
	var list struct {
		Arns []string `xml:"ListTopicsResult>Topics>member>TopicArn"`
	}
	if err := xml.Unmarshal(body, &list); err != nil || len(list.Arns) != 1 || list.Arns[0] != created.TopicArn {
		t.Fatalf("%v %s", err, body)
	}
	status, body = post(t, f.env.URL, url.Values{"Action": {"Publish"}, "TopicArn": {created.TopicArn + "-x"}, "Message": {"m"}})
	var e struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Type    string   `xml:"Error>Type"`
		Code    string   `xml:"Error>Code"`
		Message string   `xml:"Error>Message"`
	}
	if err := xml.Unmarshal(body, &e); err != nil || status != 404 || e.Code != "NotFound" || e.Type != "Sender" || e.Message != "Topic does not exist" || e.XMLName.Space != snsNS {
		t.Fatalf("%d %v %s", status, err, body)
	}
	status, body = post(t, f.env.URL, url.Values{"Action": {"Publish"}, "TopicArn": {created.TopicArn}, "Message": {"m"},
		"MessageAttributes.entry.1.Name": {"k"}, "MessageAttributes.entry.1.Value.DataType": {"String"}, "MessageAttributes.entry.1.Value.StringValue": {"v"}})
	var pub struct {
		ID string `xml:"PublishResult>MessageId"`
	}
	if err := xml.Unmarshal(body, &pub); err != nil || status != 200 || pub.ID == "" {
		t.Fatalf("%d %s", status, body)
	}
	if ev := f.events(); len(ev) != 1 || ev[0].MessageAttributes["k"].StringValue != "v" {
		t.Fatalf("events %+v", ev)
	}
}

// TestAWSCLI runs the guide's SNS commands through the real AWS CLI v2
// when it is installed.
func TestAWSCLI(t *testing.T) {
	cli := extern.AWSCLIv2(t)
	if testing.Short() {
		t.Skip("the CLI starts a Python interpreter per command")
	}
	f := start(t)
	home := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(cli, append([]string{"--endpoint-url", f.env.URL, "--output", "json"}, args...)...)
		cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "AWS_ACCESS_KEY_ID=AKIDSANDBOXTEST", "AWS_SECRET_ACCESS_KEY=secret",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=", "AWS_CONFIG_FILE=" + home + "/none", "AWS_SHARED_CREDENTIALS_FILE=" + home + "/none"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	arn := strings.TrimSpace(run("sns", "create-topic", "--name", "lambda-integration-notifications", "--query", "TopicArn", "--output", "text"))
	if arn != "arn:aws:sns:us-east-1:000000000000:lambda-integration-notifications" {
		t.Fatalf("arn %q", arn)
	}
	var sub struct{ SubscriptionArn string }
	if err := json.Unmarshal([]byte(run("sns", "subscribe", "--topic-arn", arn, "--protocol", "sqs", "--notification-endpoint", "arn:aws:sqs:us-east-1:000000000000:lambda-integration-queue")), &sub); err != nil || !strings.HasPrefix(sub.SubscriptionArn, arn+":") {
		t.Fatalf("subscribe %v %+v", err, sub)
	}
	var list struct {
		Subscriptions []struct{ SubscriptionArn, Protocol, Endpoint string }
	}
	if err := json.Unmarshal([]byte(run("sns", "list-subscriptions-by-topic", "--topic-arn", arn)), &list); err != nil || len(list.Subscriptions) != 1 || list.Subscriptions[0].SubscriptionArn != sub.SubscriptionArn {
		t.Fatalf("list %v %+v", err, list)
	}
	var pub struct{ MessageId string }
	if err := json.Unmarshal([]byte(run("sns", "publish", "--topic-arn", arn, "--subject", "Data Processing Summary", "--message", `{"n":1}`)), &pub); err != nil || pub.MessageId == "" {
		t.Fatalf("publish %v %+v", err, pub)
	}
	if got := strings.TrimSpace(run("sns", "get-subscription-attributes", "--subscription-arn", sub.SubscriptionArn, "--query", "Attributes.RawMessageDelivery", "--output", "text")); got != "false" {
		t.Fatalf("RawMessageDelivery %q", got)
	}
	run("sns", "delete-topic", "--topic-arn", arn)
}

// FuzzRequest feeds arbitrary bodies and paths to the Query protocol:
// nothing may panic (the router would answer 500), hang, or answer other
// than an XML <...Response> or <ErrorResponse>.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		"Action=CreateTopic&Name=t",
		"Action=CreateTopic&Name=t.fifo&Attributes.entry.1.key=FifoTopic&Attributes.entry.1.value=true",
		"Action=Subscribe&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aseed&Protocol=sqs&Endpoint=arn%3Aaws%3Asqs%3Aus-east-1%3A000000000000%3Aq&Attributes.entry.1.key=FilterPolicy&Attributes.entry.1.value=%7B%22a%22%3A%5B%7B%22numeric%22%3A%5B%22%3E%22%2C1%5D%7D%5D%7D",
		"Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aseed&Message=m&MessageAttributes.entry.1.Name=a&MessageAttributes.entry.1.Value.DataType=String.Array&MessageAttributes.entry.1.Value.StringValue=%5B1%5D",
		"Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aseed&Message=%7B%7D&MessageStructure=json",
		"Action=PublishBatch&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aseed&PublishBatchRequestEntries.member.1.Id=a&PublishBatchRequestEntries.member.1.Message=m",
		"Action=ListTopics&NextToken=%%%",
		"Action=Unsubscribe&SubscriptionArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aseed%3Ax",
		"Action=SetSubscriptionAttributes&SubscriptionArn=a%3Ab&AttributeName=FilterPolicy&AttributeValue=%7B",
		"Action=TagResource&ResourceArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aseed&Tags.member.1.Key=&Tags.member.1.Value=v",
		"Action=GetTopicAttributes&TopicArn=arn%3Aaws%3Asns%3A%3A%3A",
		"Action=Nope",
		"%zz",
		"",
	} {
		f.Add("/", []byte(s))
	}
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		wd := time.AfterFunc(20*time.Second, func() { panic(fmt.Sprintf("HANG %q %q", path, body)) })
		defer wd.Stop()
		c := core.New()
		svc := snssvc.New(c)
		h := core.NewHandler(c, core.HandlerOptions{Services: []core.Service{svc}})
		serve := func(b []byte) *httptest.ResponseRecorder {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(b)).WithContext(ctx)
			req.URL.Path = "/" + strings.TrimPrefix(path, "/")
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			sbtest.Sign(t, req, b, "sns", core.DefaultAccessKey, core.DefaultSecretKey)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		if rec := serve([]byte("Action=CreateTopic&Name=seed")); rec.Code != 200 {
			t.Fatalf("setup %d %s", rec.Code, rec.Body)
		}
		rec := serve(body)
		if rec.Code >= 500 {
			t.Fatalf("server error %d: %s", rec.Code, rec.Body)
		}
		var root struct {
			XMLName xml.Name
			Code    string `xml:"Error>Code"`
		}
		if err := xml.Unmarshal(rec.Body.Bytes(), &root); err != nil {
			t.Fatalf("non-XML answer %q: %v", rec.Body, err)
		}
		if rec.Code >= 400 && (root.XMLName.Local != "ErrorResponse" || root.Code == "") {
			t.Fatalf("error without ErrorResponse/Code: %s", rec.Body)
		}
		if rec.Code == 200 && !strings.HasSuffix(root.XMLName.Local, "Response") {
			t.Fatalf("success root %s", root.XMLName.Local)
		}
	})
}
