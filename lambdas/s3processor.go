package lambdas

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// MaxInlineBytes is the largest object stored inside its item. A DynamoDB item
// is at most 400 KB, attribute names included; larger objects get a pointer.
const MaxInlineBytes = 350000

// S3ProcessorFunc is s3-processor: S3 ObjectCreated (*.json) -> one DynamoDB
// item per object version. The Go twin of node/s3-processor/index.mjs.
type S3ProcessorFunc struct {
	S3    GetObjectAPI
	DB    PutItemAPI
	Table string
	Now   func() time.Time
	Log   Logger
}

// NewS3Processor reads TABLE_NAME from the environment.
func NewS3Processor(s3c GetObjectAPI, db PutItemAPI) *S3ProcessorFunc {
	return &S3ProcessorFunc{S3: s3c, DB: db, Table: tableFromEnv()}
}

// S3Result is the function's response.
type S3Result struct {
	StatusCode int    `json:"statusCode"`
	Body       string `json:"body"`
}

// Handle processes the records in order and fails on the first error: S3
// invokes asynchronously, so Lambda retries the whole event (two more
// attempts), which the conditional put makes harmless for records already done.
func (p *S3ProcessorFunc) Handle(ctx context.Context, event events.S3Event) (S3Result, error) {
	for _, record := range event.Records {
		if err := p.processRecord(ctx, record); err != nil {
			p.Log.logError(ctx, errorLine{Bucket: record.S3.Bucket.Name, Key: record.S3.Object.Key}, err)
			return S3Result{}, err
		}
	}
	return S3Result{StatusCode: 200, Body: fmt.Sprintf("Successfully processed %d records", len(event.Records))}, nil
}

// DecodeS3Key is decodeURIComponent(key.replace(/\+/g, ' ')): event keys
// arrive URL-encoded with spaces as '+'.
func DecodeS3Key(key string) (string, error) {
	k, err := url.QueryUnescape(key)
	if err == nil && !utf8.ValidString(k) {
		err = fmt.Errorf("decodes to invalid UTF-8")
	}
	if err != nil {
		return "", &namedError{name: "URIError", msg: fmt.Sprintf("URI malformed: object key %q: %v", key, err)}
	}
	return k, nil
}

// S3ItemID names the object version, or the event's sequencer on an
// unversioned bucket, so a redelivered event maps to the same item.
func S3ItemID(bucket, key, versionID, sequencer string) string {
	v := versionID
	if v == "" {
		v = sequencer
	}
	if v == "" {
		v = "undefined" // what the Node version's template literal yields
	}
	return bucket + "/" + key + "#" + v
}

func (p *S3ProcessorFunc) processRecord(ctx context.Context, record events.S3EventRecord) error {
	bucket := record.S3.Bucket.Name
	key, err := DecodeS3Key(record.S3.Object.Key)
	if err != nil {
		return err
	}
	versionID := record.S3.Object.VersionID
	id := S3ItemID(bucket, key, versionID, record.S3.Object.Sequencer)

	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	obj, err := p.S3.GetObject(ctx, in)
	if err != nil {
		return err
	}
	defer obj.Body.Close()
	contentType := aws.ToString(obj.ContentType)
	if contentType == "" {
		contentType = "application/octet-stream"
	}

	item := map[string]types.AttributeValue{
		"id":          &types.AttributeValueMemberS{Value: id},
		"fileName":    &types.AttributeValueMemberS{Value: key},
		"bucket":      &types.AttributeValueMemberS{Value: bucket},
		"processedAt": &types.AttributeValueMemberS{Value: isoNow(p.Now)},
	}
	if versionID != "" {
		item["versionId"] = &types.AttributeValueMemberS{Value: versionID}
	}

	size := record.S3.Object.Size
	if obj.ContentLength != nil {
		size = *obj.ContentLength
	}
	pointer := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"bucket":      &types.AttributeValueMemberS{Value: bucket},
		"key":         &types.AttributeValueMemberS{Value: key},
		"size":        &types.AttributeValueMemberN{Value: fmt.Sprint(size)},
		"contentType": &types.AttributeValueMemberS{Value: contentType},
	}}

	inline := false
	if size <= MaxInlineBytes {
		// Read one byte past the limit: a body longer than its ContentLength
		// said still ends up as a pointer, never as an oversized item.
		b, err := io.ReadAll(io.LimitReader(obj.Body, MaxInlineBytes+1))
		if err != nil {
			return err
		}
		if text := decodeUTF8(b); len(text) <= MaxInlineBytes {
			inline = true
			item["content"] = contentAttr(text, contentType)
		}
	}
	if !inline {
		item["pointer"] = pointer
	}

	err = p.put(ctx, id, key, item)
	if err != nil && inline && isAWSError(err, "ValidationException") && itemSizeRe.MatchString(errMessage(err)) {
		// Nested JSON can still outgrow 400 KB once marshalled: fall back to a pointer.
		delete(item, "content")
		item["pointer"] = pointer
		inline = false
		err = p.put(ctx, id, key, item)
	}
	return err
}

var itemSizeRe = regexp.MustCompile(`(?i)item size`)

// contentAttr is the parsed JSON, or the raw text and its type when the
// object is not JSON.
func contentAttr(text, contentType string) types.AttributeValue {
	if v, err := parseJSON(text); err == nil {
		if av, err := toAttr(v); err == nil {
			return av
		}
	}
	return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"rawContent":  &types.AttributeValueMemberS{Value: text},
		"contentType": &types.AttributeValueMemberS{Value: contentType},
	}}
}

// put writes the item unless one with its id exists: an earlier delivery of
// the same event already stored it, which counts as success.
func (p *S3ProcessorFunc) put(ctx context.Context, id, key string, item map[string]types.AttributeValue) error {
	_, err := p.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(p.Table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(id)"),
	})
	switch {
	case err == nil:
		suffix := ""
		if _, ok := item["pointer"]; ok {
			suffix = " (pointer)"
		}
		p.Log.printf("Stored %s as %s%s", key, id, suffix)
		return nil
	case isAWSError(err, "ConditionalCheckFailedException"):
		p.Log.printf("Duplicate delivery of %s, already stored", id)
		return nil
	}
	return err
}
