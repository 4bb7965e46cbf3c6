package sqs_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"github.com/slab-lab/slab/internal/extern"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
)

const sqsNS = "http://queue.amazonaws.com/doc/2012-11-05/"

// post sends a Query-protocol request the way AWS CLI v2.9 does: a signed
// form POST (the sandbox reads only the credential scope of the signature).
func post(t *testing.T, endpoint, path string, params url.Values) (int, []byte) {
	t.Helper()
	body := []byte(params.Encode())
	req, err := http.NewRequest(http.MethodPost, endpoint+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sbtest.Sign(t, req, body, "sqs", "AKIDSANDBOXTEST", sbtest.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func decodeXML(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := xml.Unmarshal(body, v); err != nil {
		t.Fatalf("bad XML %v:\n%s", err, body)
	}
}

type xmlMeta struct {
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type xmlError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Type    string   `xml:"Error>Type"`
	Code    string   `xml:"Error>Code"`
	Message string   `xml:"Error>Message"`
	ReqID   string   `xml:"RequestId"`
}

func TestQueryProtocolAsTheCLIUsesIt(t *testing.T) {
	f := start(t, false)
	ep := f.env.URL

	status, body := post(t, ep, "/", url.Values{"Action": {"CreateQueue"}, "Version": {"2012-11-05"}, "QueueName": {"cli-queue"},
		"Attribute.1.Name": {"VisibilityTimeout"}, "Attribute.1.Value": {"40"}, "Tag.1.Key": {"team"}, "Tag.1.Value": {"lab"}})
	var created struct {
		XMLName  xml.Name `xml:"CreateQueueResponse"`
		QueueURL string   `xml:"CreateQueueResult>QueueUrl"`
		xmlMeta
	}
	decodeXML(t, body, &created)
	if status != 200 || created.XMLName.Space != sqsNS || created.QueueURL != ep+"/000000000000/cli-queue" || created.RequestID == "" {
		t.Fatalf("CreateQueue %d %+v\n%s", status, created, body)
	}
	qurl := created.QueueURL

	_, body = post(t, ep, "/", url.Values{"Action": {"GetQueueUrl"}, "QueueName": {"cli-queue"}})
	var got struct {
		XMLName  xml.Name `xml:"GetQueueUrlResponse"`
		QueueURL string   `xml:"GetQueueUrlResult>QueueUrl"`
	}
	decodeXML(t, body, &got)
	if got.QueueURL != qurl {
		t.Fatalf("GetQueueUrl %s", body)
	}

	status, body = post(t, ep, "/", url.Values{"Action": {"GetQueueUrl"}, "QueueName": {"absent"}})
	var e xmlError
	decodeXML(t, body, &e)
	if status != 400 || e.XMLName.Space != sqsNS || e.Type != "Sender" || e.Code != "AWS.SimpleQueueService.NonExistentQueue" || e.Message != "The specified queue does not exist." || e.ReqID == "" {
		t.Fatalf("GetQueueUrl error %d %+v", status, e)
	}

	// The corrected lab sets the policy as a JSON string (jq tojson).
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:000000000000:cli-queue"}]}`
	status, body = post(t, ep, "/", url.Values{"Action": {"SetQueueAttributes"}, "QueueUrl": {qurl}, "Attribute.1.Name": {"Policy"}, "Attribute.1.Value": {policy}})
	var set struct {
		XMLName xml.Name `xml:"SetQueueAttributesResponse"`
		xmlMeta
	}
	decodeXML(t, body, &set)
	if status != 200 || set.RequestID == "" {
		t.Fatalf("SetQueueAttributes %d %s", status, body)
	}
	status, body = post(t, ep, "/", url.Values{"Action": {"SetQueueAttributes"}, "QueueUrl": {qurl}, "Attribute.1.Name": {"Policy"}, "Attribute.1.Value": {"{not json"}})
	e = xmlError{}
	decodeXML(t, body, &e)
	if status != 400 || e.Code != "InvalidAttributeValue" {
		t.Fatalf("bad policy %d %s", status, body)
	}

	_, body = post(t, ep, "/", url.Values{"Action": {"GetQueueAttributes"}, "QueueUrl": {qurl}, "AttributeName.1": {"All"}})
	var attrs struct {
		XMLName    xml.Name `xml:"GetQueueAttributesResponse"`
		Attributes []struct {
			Name  string `xml:"Name"`
			Value string `xml:"Value"`
		} `xml:"GetQueueAttributesResult>Attribute"`
	}
	decodeXML(t, body, &attrs)
	m := map[string]string{}
	for _, a := range attrs.Attributes {
		m[a.Name] = a.Value
	}
	if m["QueueArn"] != "arn:aws:sqs:us-east-1:000000000000:cli-queue" || m["VisibilityTimeout"] != "40" || m["Policy"] != policy {
		t.Fatalf("GetQueueAttributes %v", m)
	}

	status, body = post(t, ep, "/", url.Values{"Action": {"SendMessage"}, "QueueUrl": {qurl}, "MessageBody": {`{"test":"message"}`},
		"MessageAttribute.1.Name": {"kind"}, "MessageAttribute.1.Value.DataType": {"String"}, "MessageAttribute.1.Value.StringValue": {"probe"}})
	var sent struct {
		XMLName xml.Name `xml:"SendMessageResponse"`
		MD5Body string   `xml:"SendMessageResult>MD5OfMessageBody"`
		MD5Attr string   `xml:"SendMessageResult>MD5OfMessageAttributes"`
		ID      string   `xml:"SendMessageResult>MessageId"`
	}
	decodeXML(t, body, &sent)
	if status != 200 || sent.MD5Body != md5hex(`{"test":"message"}`) || sent.ID == "" || sent.MD5Attr == "" {
		t.Fatalf("SendMessage %d %s", status, body)
	}

	// Posted to the queue URL's path with no QueueUrl parameter, as older
	// clients do.
	u, _ := url.Parse(qurl)
	_, body = post(t, ep, u.Path, url.Values{"Action": {"ReceiveMessage"}, "AttributeName.1": {"All"}, "MessageAttributeName.1": {"All"}, "MaxNumberOfMessages": {"10"}})
	var rcv struct {
		XMLName  xml.Name `xml:"ReceiveMessageResponse"`
		Messages []struct {
			MessageID     string `xml:"MessageId"`
			ReceiptHandle string `xml:"ReceiptHandle"`
			MD5OfBody     string `xml:"MD5OfBody"`
			Body          string `xml:"Body"`
			Attributes    []struct {
				Name  string `xml:"Name"`
				Value string `xml:"Value"`
			} `xml:"Attribute"`
			MD5OfMessageAttributes string `xml:"MD5OfMessageAttributes"`
			MessageAttributes      []struct {
				Name     string `xml:"Name"`
				DataType string `xml:"Value>DataType"`
				String   string `xml:"Value>StringValue"`
			} `xml:"MessageAttribute"`
		} `xml:"ReceiveMessageResult>Message"`
	}
	decodeXML(t, body, &rcv)
	if len(rcv.Messages) != 1 {
		t.Fatalf("ReceiveMessage %s", body)
	}
	msg := rcv.Messages[0]
	if msg.MessageID != sent.ID || msg.Body != `{"test":"message"}` || msg.MD5OfBody != sent.MD5Body || msg.MD5OfMessageAttributes != sent.MD5Attr {
		t.Fatalf("message %+v", msg)
	}
	if len(msg.MessageAttributes) != 1 || msg.MessageAttributes[0].Name != "kind" || msg.MessageAttributes[0].DataType != "String" || msg.MessageAttributes[0].String != "probe" {
		t.Fatalf("message attributes %+v", msg.MessageAttributes)
	}
	names := map[string]bool{}
	for _, a := range msg.Attributes {
		names[a.Name] = true
	}
	if !names["ApproximateReceiveCount"] || !names["SentTimestamp"] || !names["SenderId"] {
		t.Fatalf("system attributes %+v", msg.Attributes)
	}

	status, body = post(t, ep, "/", url.Values{"Action": {"DeleteMessage"}, "QueueUrl": {qurl}, "ReceiptHandle": {msg.ReceiptHandle}})
	if status != 200 || !strings.Contains(string(body), "<DeleteMessageResponse") {
		t.Fatalf("DeleteMessage %d %s", status, body)
	}
	status, body = post(t, ep, "/", url.Values{"Action": {"DeleteMessage"}, "QueueUrl": {qurl}, "ReceiptHandle": {"junk"}})
	e = xmlError{}
	decodeXML(t, body, &e)
	if status != 400 || e.Code != "ReceiptHandleIsInvalid" {
		t.Fatalf("bad handle %d %s", status, body)
	}

	status, body = post(t, ep, "/", url.Values{"Action": {"DeleteQueue"}, "QueueUrl": {qurl}})
	if status != 200 || !strings.Contains(string(body), "<DeleteQueueResponse") {
		t.Fatalf("DeleteQueue %d %s", status, body)
	}
	status, body = post(t, ep, "/", url.Values{"Action": {"CreateQueue"}, "QueueName": {"cli-queue"}})
	e = xmlError{}
	decodeXML(t, body, &e)
	if status != 400 || e.Code != "AWS.SimpleQueueService.QueueDeletedRecently" {
		t.Fatalf("recreate %d %s", status, body)
	}

	status, body = post(t, ep, "/", url.Values{"Action": {"Frobnicate"}})
	e = xmlError{}
	decodeXML(t, body, &e)
	if status != 400 || e.Code != "InvalidAction" {
		t.Fatalf("unknown action %d %s", status, body)
	}
}

func TestQueryBatchShapes(t *testing.T) {
	f := start(t, false)
	qurl := f.create(t, "qb", nil)
	_, body := post(t, f.env.URL, "/", url.Values{"Action": {"SendMessageBatch"}, "QueueUrl": {qurl},
		"SendMessageBatchRequestEntry.1.Id": {"a"}, "SendMessageBatchRequestEntry.1.MessageBody": {"one"},
		"SendMessageBatchRequestEntry.2.Id": {"b"}, "SendMessageBatchRequestEntry.2.MessageBody": {"two"}, "SendMessageBatchRequestEntry.2.DelaySeconds": {"9999"}})
	var out struct {
		OK []struct {
			ID        string `xml:"Id"`
			MessageID string `xml:"MessageId"`
		} `xml:"SendMessageBatchResult>SendMessageBatchResultEntry"`
		Failed []struct {
			ID          string `xml:"Id"`
			Code        string `xml:"Code"`
			SenderFault bool   `xml:"SenderFault"`
		} `xml:"SendMessageBatchResult>BatchResultErrorEntry"`
	}
	decodeXML(t, body, &out)
	if len(out.OK) != 1 || out.OK[0].ID != "a" || out.OK[0].MessageID == "" || len(out.Failed) != 1 || out.Failed[0].Code != "InvalidParameterValue" || !out.Failed[0].SenderFault {
		t.Fatalf("%s", body)
	}
	_, body = post(t, f.env.URL, "/", url.Values{"Action": {"ListQueues"}})
	var list struct {
		URLs []string `xml:"ListQueuesResult>QueueUrl"`
	}
	decodeXML(t, body, &list)
	if len(list.URLs) != 1 || list.URLs[0] != qurl {
		t.Fatalf("%s", body)
	}
}

func TestJSONErrorsCarryTheQueryCode(t *testing.T) {
	f := start(t, false)
	req, _ := http.NewRequest(http.MethodPost, f.env.URL+"/", strings.NewReader(`{"QueueName":"nope"}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AmazonSQS.GetQueueUrl")
	req.Header.Set("X-Amzn-Query-Mode", "true")
	sbtest.Sign(t, req, []byte(`{"QueueName":"nope"}`), "sqs", "AKIDSANDBOXTEST", sbtest.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || body["__type"] != "com.amazonaws.sqs#QueueDoesNotExist" || body["message"] != "The specified queue does not exist." {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
	if h := resp.Header.Get("x-amzn-query-error"); h != "AWS.SimpleQueueService.NonExistentQueue;Sender" {
		t.Fatalf("x-amzn-query-error %q", h)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		t.Fatalf("content type %q", ct)
	}
}

// TestAWSCLI runs the guide's own SQS commands through the real AWS CLI v2
// (Query protocol) when it is installed.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("the CLI starts a Python interpreter per command")
	}
	cli := extern.AWSCLIv2(t)
	f := start(t, false)
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
	var created struct{ QueueUrl string }
	if err := json.Unmarshal([]byte(run("sqs", "create-queue", "--queue-name", "lambda-integration-queue")), &created); err != nil || created.QueueUrl == "" {
		t.Fatalf("create-queue: %v %+v", err, created)
	}
	arn := strings.TrimSpace(run("sqs", "get-queue-attributes", "--queue-url", created.QueueUrl, "--attribute-names", "QueueArn", "--query", "Attributes.QueueArn", "--output", "text"))
	if arn != "arn:aws:sqs:us-east-1:000000000000:lambda-integration-queue" {
		t.Fatalf("arn %q", arn)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"` + arn + `"}]}`
	attrs, _ := json.Marshal(map[string]string{"Policy": policy})
	run("sqs", "set-queue-attributes", "--queue-url", created.QueueUrl, "--attributes", string(attrs))
	got := run("sqs", "get-queue-attributes", "--queue-url", created.QueueUrl, "--attribute-names", "Policy", "--query", "Attributes.Policy", "--output", "text")
	if strings.TrimSpace(got) != policy {
		t.Fatalf("policy %q", got)
	}
	run("sqs", "send-message", "--queue-url", created.QueueUrl, "--message-body", `{"test":"message"}`)
	var rcv struct {
		Messages []struct {
			Body          string
			ReceiptHandle string
			Attributes    map[string]string
		}
	}
	if err := json.Unmarshal([]byte(run("sqs", "receive-message", "--queue-url", created.QueueUrl, "--attribute-names", "All")), &rcv); err != nil || len(rcv.Messages) != 1 {
		t.Fatalf("receive-message: %v %+v", err, rcv)
	}
	if rcv.Messages[0].Body != `{"test":"message"}` || rcv.Messages[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("message %+v", rcv.Messages[0])
	}
	run("sqs", "delete-message", "--queue-url", created.QueueUrl, "--receipt-handle", rcv.Messages[0].ReceiptHandle)
	run("sqs", "delete-queue", "--queue-url", created.QueueUrl)
	cmd := exec.Command(cli, "--endpoint-url", f.env.URL, "sqs", "create-queue", "--queue-name", "lambda-integration-queue")
	cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "AWS_ACCESS_KEY_ID=AKIDSANDBOXTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=" + home + "/none"}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "AWS.SimpleQueueService.QueueDeletedRecently") {
		t.Fatalf("recreate within 60 s: %v\n%s", err, out)
	}
}
