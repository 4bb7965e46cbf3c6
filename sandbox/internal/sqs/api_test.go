package sqs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/slab-lab/slab/sandbox/internal/core"
	sqssvc "github.com/slab-lab/slab/sandbox/internal/sqs"
)

func TestGoAPIEnqueueReceiveDelete(t *testing.T) {
	f := start(t, false)
	url := f.create(t, "engine", nil)
	arn := f.arn(t, url)

	done := make(chan []sqssvc.Message, 1)
	go func() {
		msgs, err := f.svc.Receive(context.Background(), arn, sqssvc.ReceiveOptions{MaxMessages: 10, WaitTime: 20 * time.Second, AttributeNames: []string{"All"}, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Error(err)
		}
		done <- msgs
	}()
	time.Sleep(100 * time.Millisecond)
	id, err := f.svc.Enqueue(arn, `{"Type":"Notification"}`, map[string]sqssvc.MessageAttribute{"source": {DataType: "String", StringValue: "sns"}}, "AIDAIT2UOQQY3AUEKVGXU")
	if err != nil {
		t.Fatal(err)
	}
	msgs := <-done
	if len(msgs) != 1 || msgs[0].MessageID != id || msgs[0].Attributes["SenderId"] != "AIDAIT2UOQQY3AUEKVGXU" || msgs[0].MessageAttributes["source"].StringValue != "sns" {
		t.Fatalf("received %+v", msgs)
	}
	// The same message is visible to HTTP clients as in flight.
	if f.attrs(t, url)["ApproximateNumberOfMessagesNotVisible"] != "1" {
		t.Fatal("Go API receive not reflected in attributes")
	}
	if err := f.svc.ChangeVisibility(arn, msgs[0].ReceiptHandle, 0); err != nil {
		t.Fatal(err)
	}
	again, err := f.svc.Receive(context.Background(), arn, sqssvc.ReceiveOptions{AttributeNames: []string{"ApproximateReceiveCount"}})
	if err != nil || len(again) != 1 || again[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("%+v %v", again, err)
	}
	if err := f.svc.Delete(arn, again[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Delete(arn, "junk"); err == nil || core.AsError(err).Code != "ReceiptHandleIsInvalid" {
		t.Fatalf("junk handle: %v", err)
	}
	if _, err := f.svc.Enqueue("arn:aws:sqs:us-east-1:000000000000:none", "x", nil, "s"); err == nil || core.AsError(err).Code != "QueueDoesNotExist" {
		t.Fatalf("unknown queue: %v", err)
	}
	if _, err := f.svc.Enqueue(arn, "", nil, "s"); err == nil {
		t.Fatal("empty body accepted")
	}
	// A cancelled context ends a long poll.
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := f.svc.Receive(cctx, arn, sqssvc.ReceiveOptions{WaitTime: 20 * time.Second}); err != nil || len(got) != 0 {
		t.Fatalf("cancelled receive %v %v", got, err)
	}
}

func TestGoAPIRedriveAndWait(t *testing.T) {
	f := start(t, false)
	dlq := f.arn(t, f.create(t, "engine-dlq", nil))
	src := f.arn(t, f.create(t, "engine-src", map[string]string{"VisibilityTimeout": "0", "RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":1}`, dlq)}))
	if _, err := f.svc.Enqueue(src, "bad", nil, "s"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.Receive(context.Background(), src, sqssvc.ReceiveOptions{}); len(got) != 1 {
		t.Fatal("first receive")
	}
	woke := make(chan struct{})
	go func() {
		f.svc.Wait(context.Background(), dlq, 20*time.Second)
		close(woke)
	}()
	time.Sleep(50 * time.Millisecond)
	if got, _ := f.svc.Receive(context.Background(), src, sqssvc.ReceiveOptions{}); len(got) != 0 {
		t.Fatal("message over maxReceiveCount was delivered")
	}
	<-woke
	got, err := f.svc.Receive(context.Background(), dlq, sqssvc.ReceiveOptions{})
	if err != nil || len(got) != 1 || got[0].Body != "bad" {
		t.Fatalf("%+v %v", got, err)
	}
}

func TestSQSViewHook(t *testing.T) {
	f := start(t, false)
	url := f.create(t, "hooked", map[string]string{"VisibilityTimeout": "180", "Policy": `{"Statement":[]}`})
	view, ok := f.env.Core.Hook(core.HookSQS).(core.SQSView)
	if !ok {
		t.Fatal("sqs hook not registered")
	}
	var info core.QueueInfo
	var found bool
	_ = f.env.Core.Store.View(func(tx *core.Tx) error {
		info, found = view.QueueByARN(tx, "arn:aws:sqs:us-east-1:000000000000:hooked")
		return nil
	})
	if !found || info.URL != url || info.VisibilityTimeout != 180 || info.Policy != `{"Statement":[]}` || info.Name != "hooked" {
		t.Fatalf("%+v %v", info, found)
	}
	_ = f.env.Core.Store.View(func(tx *core.Tx) error {
		_, found = view.QueueByARN(tx, "arn:aws:sqs:eu-west-1:000000000000:hooked")
		return nil
	})
	if found {
		t.Fatal("queue found in another region")
	}
}

func TestStateSurvivesAReopen(t *testing.T) {
	dir := t.TempDir()
	f := start(t, false)
	if err := f.env.Core.Store.Open(dir); err != nil {
		t.Fatal(err)
	}
	url := f.create(t, "durable", map[string]string{"VisibilityTimeout": "0"})
	arn := f.arn(t, url)
	_, err := f.cli.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("kept"),
		MessageAttributes: map[string]types.MessageAttributeValue{"b": {DataType: aws.String("Binary"), BinaryValue: []byte{9, 8}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.receive(t, url, 1, nil)) != 1 {
		t.Fatal("receive before reopen")
	}
	if err := f.env.Core.Store.Close(); err != nil {
		t.Fatal(err)
	}

	c := core.New()
	svc := sqssvc.New(c)
	if err := c.Store.Open(dir); err != nil {
		t.Fatal(err)
	}
	defer c.Store.Close()
	got, err := svc.Receive(context.Background(), arn, sqssvc.ReceiveOptions{AttributeNames: []string{"ApproximateReceiveCount"}, MessageAttributeNames: []string{"All"}})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	if got[0].Body != "kept" || got[0].Attributes["ApproximateReceiveCount"] != "2" || string(got[0].MessageAttributes["b"].BinaryValue) != "\x09\x08" {
		t.Fatalf("after reopen: %+v", got[0])
	}
}
