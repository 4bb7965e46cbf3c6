package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddbapi "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	snsapi "github.com/aws/aws-sdk-go-v2/service/sns"
	sqsapi "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/slab-lab/slab/sandbox/internal/core"
	"github.com/slab-lab/slab/sandbox/internal/dynamodb"
	"github.com/slab-lab/slab/sandbox/internal/engine"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
	"github.com/slab-lab/slab/sandbox/internal/sns"
	"github.com/slab-lab/slab/sandbox/internal/sqs"
	"github.com/slab-lab/slab/sandbox/internal/sts"
)

// A student's queue policy can be megabytes; SNS evaluates it for every
// delivery. The hardening issue saw one publish stall another account's
// PutItem for 19.6 s because the policy was evaluated inside a store
// transaction. Here the evaluation is held on a channel: another account's
// PutItem must still complete, and the delivery must go through once the
// evaluation is let go.
func TestQueuePolicyEvaluationDoesNotHoldOtherAccountsCalls(t *testing.T) {
	var eng *engine.Engine
	e := sbtest.Start(t, func(c *core.Core) []core.Service {
		db := dynamodb.New(c)
		db.CreateDelay = 0
		svcs := []core.Service{sts.New(c), db, sns.New(c), sqs.New(c)}
		eng = engine.New(c, svcs, engine.Options{PollInterval: 20 * time.Millisecond})
		return svcs
	})
	eng.Start()
	t.Cleanup(eng.Close)

	student := sbtest.Config(e.URL, "111111111111", "us-east-1")
	sn, sq := snsapi.NewFromConfig(student), sqsapi.NewFromConfig(student)
	topic, err := sn.CreateTopic(ctx, &snsapi.CreateTopicInput{Name: aws.String("t")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sq.CreateQueue(ctx, &sqsapi.CreateQueueInput{QueueName: aws.String("q")})
	if err != nil {
		t.Fatal(err)
	}
	qarn := "arn:aws:sqs:us-east-1:111111111111:q"
	// A policy whose last statement is the one that allows (within SQS's
	// size limit; the hold below stands for a slow evaluation).
	var stmts []string
	for i := range 20 {
		stmts = append(stmts, fmt.Sprintf(`{"Sid":"s%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sqs:GetQueueUrl","Resource":%q}`, i, qarn))
	}
	stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":%q,"Condition":{"ArnEquals":{"aws:SourceArn":%q}}}`, qarn, aws.ToString(topic.TopicArn)))
	doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
	if _, err := sq.SetQueueAttributes(ctx, &sqsapi.SetQueueAttributesInput{QueueUrl: q.QueueUrl, Attributes: map[string]string{"Policy": doc}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Subscribe(ctx, &snsapi.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(qarn)}); err != nil {
		t.Fatal(err)
	}

	other := ddbapi.NewFromConfig(sbtest.Config(e.URL, "333333333333", "us-east-1"))
	if _, err := other.CreateTable(ctx, &ddbapi.CreateTableInput{
		TableName: aws.String("data"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := ddbapi.NewTableExistsWaiter(other).Wait(ctx, &ddbapi.DescribeTableInput{TableName: aws.String("data")}, time.Minute); err != nil {
		t.Fatal(err)
	}

	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	restore := engine.SetEvaluateHook(func() { once.Do(func() { close(entered); <-release }) })
	defer restore()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	if _, err := sn.Publish(ctx, &snsapi.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("hello")}); err != nil {
		t.Fatal(err)
	}
	<-entered // the delivery is now evaluating the queue policy, and stays there

	// With the evaluation inside a store transaction this call would wait
	// for it forever; the deadline turns that into a failure, it measures
	// nothing.
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := other.PutItem(cctx, &ddbapi.PutItemInput{TableName: aws.String("data"), Item: map[string]ddbtypes.AttributeValue{
		"id": &ddbtypes.AttributeValueMemberS{Value: "x"},
	}}); err != nil {
		t.Fatalf("PutItem of another account while a queue policy is being evaluated: %v", err)
	}
	close(release)
	released = true
	out, err := sq.ReceiveMessage(ctx, &sqsapi.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 20})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("delivery after the evaluation: %v %v", out, err)
	}
}
