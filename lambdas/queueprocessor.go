package lambdas

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// QueueProcessorFunc is queue-processor: SQS (fed by the SNS topic) -> one
// summary item per SNS message. The Go twin of node/queue-processor/index.mjs.
//
// A record that cannot be parsed or written is reported in the partial batch
// response, so only it is retried (and finally moved to the dead-letter
// queue) while the rest of its batch is deleted. The event source mapping
// must be created with --function-response-types ReportBatchItemFailures for
// Lambda to honour the response.
type QueueProcessorFunc struct {
	DB    PutItemAPI
	Table string
	Now   func() time.Time
	Log   Logger
}

// NewQueueProcessor reads TABLE_NAME from the environment.
func NewQueueProcessor(db PutItemAPI) *QueueProcessorFunc {
	return &QueueProcessorFunc{DB: db, Table: tableFromEnv()}
}

// SummaryItemID is the item id of the summary carried by an SNS message. The
// SNS MessageId is stable across SQS redeliveries, so a message processed
// twice writes one item.
func SummaryItemID(snsMessageID string) string { return "summary-" + snsMessageID }

// Handle never fails the whole batch; failures are listed per record.
func (p *QueueProcessorFunc) Handle(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
	// An empty list, not null: the Node version returns [].
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, record := range event.Records {
		snsID, msg, err := parseSQSRecord(record)
		if err == nil {
			err = p.store(ctx, snsID, msg)
		}
		if err != nil {
			id := record.MessageId
			p.Log.logError(ctx, errorLine{MessageID: &id}, err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: record.MessageId})
		}
	}
	return resp, nil
}

func poison(msg string) error { return &namedError{name: "PoisonMessageError", msg: msg} }

// parseSQSRecord expects the SNS envelope (raw message delivery off) whose
// Message is the JSON summary published by the event processor.
func parseSQSRecord(record events.SQSMessage) (string, map[string]any, error) {
	body, err := parseJSON(record.Body)
	if err != nil {
		return "", nil, poison("body is not JSON")
	}
	env, _ := body.(map[string]any)
	typ, _ := env["Type"].(string)
	message, isString := env["Message"].(string)
	snsID, _ := env["MessageId"].(string)
	if env == nil || typ != "Notification" || !isString || snsID == "" {
		return "", nil, poison("body is not an SNS notification envelope (is RawMessageDelivery on?)")
	}
	parsed, err := parseJSON(message)
	if err != nil {
		return "", nil, poison("SNS Message is not JSON")
	}
	msg, ok := parsed.(map[string]any)
	if !ok {
		return "", nil, poison("SNS Message is not a JSON object")
	}
	return snsID, msg, nil
}

func (p *QueueProcessorFunc) store(ctx context.Context, snsID string, msg map[string]any) error {
	id := SummaryItemID(snsID)
	item := map[string]types.AttributeValue{
		"id":           &types.AttributeValueMemberS{Value: id},
		"type":         &types.AttributeValueMemberS{Value: "summary"},
		"snsMessageId": &types.AttributeValueMemberS{Value: snsID},
		"processedAt":  &types.AttributeValueMemberS{Value: isoNow(p.Now)},
	}
	// Copied as they are, whatever their JSON type; absent ones stay absent.
	for _, k := range []string{"timestamp", "itemCount"} {
		if v, ok := msg[k]; ok {
			av, err := toAttr(v)
			if err != nil {
				return err
			}
			item[k] = av
		}
	}
	_, err := p.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(p.Table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(id)"),
	})
	switch {
	case err == nil:
		p.Log.printf("Stored %s", id)
		return nil
	case isAWSError(err, "ConditionalCheckFailedException"):
		p.Log.printf("Duplicate delivery of %s, already stored", id)
		return nil
	}
	return err
}
