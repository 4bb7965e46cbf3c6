package lambdas

import (
	"context"
	"encoding/json"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// SummarySubject is the subject of every summary the event processor publishes.
const SummarySubject = "Lambda Integration - Periodic Summary"

// EventProcessorFunc is event-processor: EventBridge schedule -> summary of
// the table -> SNS topic. The Go twin of node/event-processor/index.mjs.
type EventProcessorFunc struct {
	DB       ScanAPI
	SNS      PublishAPI
	Table    string
	TopicARN string
	Now      func() time.Time
	Log      Logger
}

// NewEventProcessor reads TABLE_NAME and SNS_TOPIC_ARN from the environment.
func NewEventProcessor(db ScanAPI, snsc PublishAPI) *EventProcessorFunc {
	return &EventProcessorFunc{DB: db, SNS: snsc, Table: tableFromEnv(), TopicARN: os.Getenv("SNS_TOPIC_ARN")}
}

// EventResult is the function's response.
type EventResult struct {
	StatusCode int    `json:"statusCode"`
	Body       string `json:"body"`
	MessageID  string `json:"messageId"`
}

// Summary is the message published to the topic.
type Summary struct {
	Timestamp   string        `json:"timestamp"`
	ItemCount   int           `json:"itemCount"`
	LatestItems []SummaryItem `json:"latestItems"`
}

// SummaryItem copies three attributes of a scanned item; an attribute the
// item lacks is left out, as JSON.stringify leaves out undefined.
type SummaryItem struct {
	ID          any `json:"id,omitempty"`
	FileName    any `json:"fileName,omitempty"`
	ProcessedAt any `json:"processedAt,omitempty"`
}

// Handle ignores the event's content: the schedule is only the trigger.
func (p *EventProcessorFunc) Handle(ctx context.Context, _ json.RawMessage) (EventResult, error) {
	if p.TopicARN == "" {
		// Without this the Publish fails with a vaguer InvalidParameter.
		err := &namedError{name: "Error", msg: "SNS_TOPIC_ARN is empty: set the function environment variable to the topic ARN"}
		p.Log.logError(ctx, errorLine{}, err)
		return EventResult{}, err
	}
	res, err := p.run(ctx)
	if err != nil {
		p.Log.logError(ctx, errorLine{}, err)
		return EventResult{}, err
	}
	return res, nil
}

func (p *EventProcessorFunc) run(ctx context.Context) (EventResult, error) {
	// Scan with Limit 10 reads the first 10 items in the table's internal
	// (hash) order: arbitrary items, earlier summaries included, not the
	// latest ones; that would need a sort key or an index to Query.
	out, err := p.DB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(p.Table), Limit: aws.Int32(10)})
	if err != nil {
		return EventResult{}, err
	}
	summary := Summary{Timestamp: isoNow(p.Now), ItemCount: len(out.Items), LatestItems: []SummaryItem{}}
	for _, item := range out.Items {
		var si SummaryItem
		if av, ok := item["id"]; ok {
			si.ID = fromAttr(av)
		}
		if av, ok := item["fileName"]; ok {
			si.FileName = fromAttr(av)
		}
		if av, ok := item["processedAt"]; ok {
			si.ProcessedAt = fromAttr(av)
		}
		summary.LatestItems = append(summary.LatestItems, si)
	}
	msg, err := marshalJS(summary, "  ")
	if err != nil {
		return EventResult{}, err
	}
	pub, err := p.SNS.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(p.TopicARN),
		Subject:  aws.String(SummarySubject),
		Message:  aws.String(string(msg)),
	})
	if err != nil {
		return EventResult{}, err
	}
	id := aws.ToString(pub.MessageId)
	p.Log.printf("Published summary of %d items as SNS message %s", len(out.Items), id)
	return EventResult{StatusCode: 200, Body: "Successfully published summary to SNS", MessageID: id}, nil
}
