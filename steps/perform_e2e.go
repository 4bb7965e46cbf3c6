package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/lambdas"
)

// TestObjectKey is the guide's test document.
const TestObjectKey = "test-data.json"

// isoMillis is the functions' processedAt format (sortable as text).
const isoMillis = "2006-01-02T15:04:05.000Z"

// performEndToEnd uploads the test document, invokes the event processor and
// waits for both rows: the upload's, and the summary that travelled through
// SNS and SQS. When the current test document already has its row and a
// summary arrived after it, the chain is shown to work and nothing is done.
func performEndToEnd(p *performer) error {
	bucket := p.bucket()
	upload := p.resource(fmt.Sprintf("test upload s3://%s/%s", bucket, TestObjectKey), "", bucket+"/"+TestObjectKey)
	if done, err := p.e2eAlreadyShown(bucket, upload); err != nil || done {
		return err
	}

	// Half one: S3 -> s3-processor -> DynamoDB.
	body, _ := json.MarshalIndent(map[string]string{
		"id": "test-item-1", "name": "Test Item", "description": "An upload that should become one row",
		"timestamp": p.o.Now().UTC().Format(time.RFC3339),
	}, "", "  ")
	var version string
	var uploaded time.Time
	if err := upload.do("uploaded", func(ctx context.Context) error {
		uploaded = time.Now()
		out, err := p.c.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: str(bucket), Key: str(TestObjectKey), Body: strings.NewReader(string(body) + "\n"), ContentType: str("application/json"),
		})
		if err == nil {
			version = aws.ToString(out.VersionId)
		}
		return err
	}); err != nil {
		return err
	}
	if version != "" {
		upload.note("version %s", version)
	}
	upload.finish()
	var failures []string
	rowID := lambdas.S3ItemID(bucket, TestObjectKey, version, "")
	row := p.resource("DynamoDB row "+rowID, "", rowID)
	if p.o.DryRun {
		row.do("wait for the row the s3 processor writes", nil)
		row.finish()
	} else if version == "" {
		failures = append(failures, row.fail(errors.New("the upload returned no version id: is versioning on (step 3)?")).Error())
	} else {
		err := poll(p.ctx, p.o.E2ETimeout, p.e2ePollStart(), 2*time.Second, func() (bool, string, error) {
			ok, err := p.itemExists(rowID)
			return ok, "no row yet", err
		})
		switch {
		case err == nil:
			row.did = true
			row.note("stored by %s %s after the upload", p.n.S3Function, roundDur(time.Since(uploaded)))
			row.finish()
		case p.ctx.Err() != nil:
			return row.fail(p.ctx.Err())
		default:
			failures = append(failures, row.fail(p.s3LinkDiagnosis(err)).Error())
		}
	}

	// Half two: event processor -> SNS -> SQS -> queue processor -> DynamoDB.
	inv := p.resource("invocation of "+p.n.EventFunction, "", p.functionArn(p.n.EventFunction))
	var invoked time.Time
	var messageID string
	if err := inv.do("invoked", func(ctx context.Context) error {
		invoked = time.Now()
		out, err := p.c.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: str(p.n.EventFunction), Payload: []byte("{}")})
		if err != nil {
			return err
		}
		if out.FunctionError != nil {
			return fmt.Errorf("the event processor failed (%s): %s", aws.ToString(out.FunctionError), strings.TrimSpace(string(out.Payload)))
		}
		var res lambdas.EventResult
		_ = json.Unmarshal(out.Payload, &res)
		messageID = res.MessageID
		return nil
	}); err != nil {
		if p.ctx.Err() != nil {
			return err
		}
		failures = append(failures, err.Error())
		return e2eFailed(failures)
	}
	if messageID != "" {
		inv.note("published summary message %s", messageID)
	}
	inv.finish()
	summary := p.resource("DynamoDB summary row", "", "")
	if messageID != "" {
		summary.name = "DynamoDB row " + lambdas.SummaryItemID(messageID)
	}
	if p.o.DryRun {
		summary.do("wait for the summary the queue processor writes", nil)
		summary.finish()
		return nil
	}
	since := invoked.UTC().Add(-time.Second).Format(isoMillis)
	found := ""
	err := poll(p.ctx, p.o.E2ETimeout, p.e2ePollStart(), 2*time.Second, func() (bool, string, error) {
		if messageID != "" {
			ok, err := p.itemExists(lambdas.SummaryItemID(messageID))
			if ok {
				found = lambdas.SummaryItemID(messageID)
			}
			return ok, "no summary yet", err
		}
		id, err := p.summaryNewerThan(since)
		found = id
		return id != "", "no summary yet", err
	})
	switch {
	case err == nil:
		summary.did = true
		summary.name = "DynamoDB row " + found
		summary.note("stored by %s %s after the invoke, through SNS and SQS", p.n.QueueFunction, roundDur(time.Since(invoked)))
		summary.finish()
	case p.ctx.Err() != nil:
		return summary.fail(p.ctx.Err())
	default:
		failures = append(failures, summary.fail(p.queueLinkDiagnosis(err)).Error())
	}
	if len(failures) > 0 {
		return e2eFailed(failures)
	}
	return nil
}

func e2eFailed(failures []string) error {
	return fmt.Errorf("the chain did not deliver:\n  - %s", strings.Join(failures, "\n  - "))
}

// e2eAlreadyShown reports (and records) the chain as already shown when the
// current test document has its row and a summary arrived after the upload.
func (p *performer) e2eAlreadyShown(bucket string, upload *resource) (bool, error) {
	head, err := p.c.s3.HeadObject(p.ctx, &s3.HeadObjectInput{Bucket: str(bucket), Key: str(TestObjectKey)})
	if isCode(err, "NotFound", "NoSuchKey", "NoSuchBucket") {
		return false, nil
	}
	if err != nil {
		return false, upload.fail(err)
	}
	version := aws.ToString(head.VersionId)
	if version == "" || head.LastModified == nil {
		return false, nil
	}
	rowID := lambdas.S3ItemID(bucket, TestObjectKey, version, "")
	ok, err := p.itemExists(rowID)
	if isCode(err, "ResourceNotFoundException") {
		return false, nil
	}
	if err != nil || !ok {
		return false, err
	}
	summary, err := p.summaryNewerThan(head.LastModified.UTC().Format(isoMillis))
	if err != nil || summary == "" {
		return false, err
	}
	upload.note("version %s, uploaded %s", version, head.LastModified.UTC().Format(time.RFC3339))
	upload.finish()
	r := p.resource("DynamoDB row "+rowID, "", rowID)
	r.finish()
	s := p.resource("DynamoDB row "+summary, "", summary)
	s.note("a summary arrived after the upload: the whole chain delivers")
	s.finish()
	return true, nil
}

func (p *performer) itemExists(id string) (bool, error) {
	out, err := p.c.ddb.GetItem(p.ctx, &dynamodb.GetItemInput{
		TableName: str(p.n.Table), ConsistentRead: aws.Bool(true),
		Key:                  map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: id}},
		ProjectionExpression: str("id"),
	})
	if err != nil {
		return false, err
	}
	return len(out.Item) > 0, nil
}

// summaryNewerThan returns the id of a summary row processed at or after
// the time (isoMillis text), "" when there is none.
func (p *performer) summaryNewerThan(since string) (string, error) {
	pg := dynamodb.NewScanPaginator(p.c.ddb, &dynamodb.ScanInput{
		TableName:                 str(p.n.Table),
		ConsistentRead:            aws.Bool(true),
		FilterExpression:          str("begins_with(id, :p) AND processedAt >= :t"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": &ddbtypes.AttributeValueMemberS{Value: "summary-"}, ":t": &ddbtypes.AttributeValueMemberS{Value: since}},
		ProjectionExpression:      str("id"),
	})
	for pg.HasMorePages() {
		page, err := pg.NextPage(p.ctx)
		if err != nil {
			return "", err
		}
		for _, it := range page.Items {
			if v, ok := it["id"].(*ddbtypes.AttributeValueMemberS); ok {
				return v.Value, nil
			}
		}
	}
	return "", nil
}

// s3LinkDiagnosis names the part of the first half that did not deliver.
func (p *performer) s3LinkDiagnosis(err error) error {
	return fmt.Errorf("S3 -> %s -> DynamoDB did not deliver: no row for the upload (%v). "+
		"Check the bucket's notification (%s, s3:ObjectCreated:*, suffix .json), the permission %s, "+
		"and the function's log group /aws/lambda/%s (slab do %s repairs the first two)",
		p.n.S3Function, err, NotificationID, S3StatementID, p.n.S3Function, "s3-processor")
}

// queueLinkDiagnosis looks at the queues to say where the summary stopped.
func (p *performer) queueLinkDiagnosis(err error) error {
	where := fmt.Sprintf("the summary did not reach table %s (%v)", p.n.Table, err)
	counts := func(name string) (visible, inFlight int, ok bool) {
		u, qerr := p.c.sqs.GetQueueUrl(p.ctx, &sqs.GetQueueUrlInput{QueueName: str(name)})
		if qerr != nil {
			return 0, 0, false
		}
		a, qerr := p.c.sqs.GetQueueAttributes(p.ctx, &sqs.GetQueueAttributesInput{QueueUrl: u.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		}})
		if qerr != nil {
			return 0, 0, false
		}
		visible, _ = strconv.Atoi(a.Attributes["ApproximateNumberOfMessages"])
		inFlight, _ = strconv.Atoi(a.Attributes["ApproximateNumberOfMessagesNotVisible"])
		return visible, inFlight, true
	}
	vis, fl, ok := counts(p.n.Queue)
	dlq, _, _ := counts(p.n.DLQ)
	switch {
	case !ok:
		return fmt.Errorf("%s; queue %s cannot be read", where, p.n.Queue)
	case fl > 0:
		return fmt.Errorf("%s: %d message(s) in flight in %s: %s received it but has not stored it (failing? see /aws/lambda/%s)", where, fl, p.n.Queue, p.n.QueueFunction, p.n.QueueFunction)
	case vis > 0:
		return fmt.Errorf("%s: SNS -> SQS delivered (%d message(s) waiting in %s) but SQS -> %s did not: check the event source mapping (slab do queue-processor)", where, vis, p.n.Queue, p.n.QueueFunction)
	case dlq > 0:
		return fmt.Errorf("%s: %d message(s) in the dead-letter queue %s: %s kept failing on them (see /aws/lambda/%s)", where, dlq, p.n.DLQ, p.n.QueueFunction, p.n.QueueFunction)
	}
	return fmt.Errorf("%s: %s -> SNS -> SQS did not deliver: queue %s is empty; check the subscription and the queue policy (slab do sns-sqs)", where, p.n.EventFunction, p.n.Queue)
}

// e2ePollStart is the first wait between reads of a row the chain writes.
// The sandbox delivers in milliseconds, so a quarter-second first wait
// would be most of the step's time there; on AWS the first delivery takes
// seconds and fewer reads do.
func (p *performer) e2ePollStart() time.Duration {
	if p.env != nil && p.env.Target.Kind == awsenv.Sandbox {
		return 20 * time.Millisecond
	}
	return 250 * time.Millisecond
}
