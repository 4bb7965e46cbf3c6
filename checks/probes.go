package checks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The probes are the only checks that write. Each says what it wrote and
// removes it afterwards, with a fresh context so that an interrupted run
// (Ctrl-C, esc in the tutor) still cleans up.

const cleanupTimeout = 30 * time.Second

func probeID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ProbeKeyPrefix starts the key of every probe object, so a leftover is
// recognisable (and cleanup can find it).
const ProbeKeyPrefix = "slab-probe-"

// waitFor polls found until it reports true, the run's probe timeout passes
// or ctx ends.
func (r *run) waitFor(ctx context.Context, found func() (bool, error)) (bool, error) {
	deadline := time.Now().Add(r.probeWait)
	delay := 300 * time.Millisecond
	for {
		ok, err := found()
		if ok || err != nil {
			return ok, err
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(delay):
		}
		if delay < 2*time.Second {
			delay += delay / 2
		}
	}
}

func probeS3(ctx context.Context, r *run) (res Result) {
	if _, stop := r.needTable(ctx); stop != nil {
		return *stop
	}
	b, stop := r.needBucket(ctx)
	if stop != nil {
		return *stop
	}
	id := probeID()
	key := ProbeKeyPrefix + id + ".json"
	body, _ := json.Marshal(map[string]string{"probe": id, "writtenBy": "slab check --probe", "at": r.now().UTC().Format(time.RFC3339)})
	started := time.Now()
	put, err := r.c.S3Probe.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b.Name), Key: aws.String(key), Body: bytes.NewReader(body), ContentType: aws.String("application/json"),
	}, r.s3Region(b))
	if err != nil {
		return errorResult(err, "the probe upload")
	}
	ev := []string{fmt.Sprintf("wrote s3://%s/%s (version %s)", b.Name, key, quote(aws.ToString(put.VersionId)))}
	var rows []string
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		res.Evidence = append(res.Evidence, r.removeProbeObject(cctx, b, key)...)
		res.Evidence = append(res.Evidence, r.removeRows(cctx, rows)...)
	}()
	prefixes := []string{b.Name + "/" + key + "#", b.Name + "-" + key + "-"} // corrected and guide ids
	ok, err := r.waitFor(ctx, func() (bool, error) {
		_, err := r.scanFor(ctx, &dynamodb.ScanInput{
			ConsistentRead:           aws.Bool(true),
			FilterExpression:         aws.String("begins_with(#i, :a) OR begins_with(#i, :b)"),
			ProjectionExpression:     aws.String("#i"),
			ExpressionAttributeNames: map[string]string{"#i": "id"},
			ExpressionAttributeValues: map[string]dtypes.AttributeValue{
				":a": &dtypes.AttributeValueMemberS{Value: prefixes[0]},
				":b": &dtypes.AttributeValueMemberS{Value: prefixes[1]},
			},
		}, func(it map[string]dtypes.AttributeValue) bool {
			if id := str(it, "id"); id != "" {
				rows = append(rows, id)
			}
			return false
		})
		return len(rows) > 0, err
	})
	if err != nil {
		return Result{Status: Error, Summary: "the probe could not finish: " + firstErr(err), Evidence: ev}
	}
	if !ok {
		return fail(fmt.Sprintf("the probe upload %s produced no row in %s within %s", key, r.names.Table, r.probeWait.Round(time.Second)),
			hint("the notification, the invoke permission or the function is broken: read the other s3-processor checks and `aws logs tail /aws/lambda/"+r.names.S3Function+" --since 15m`", see(tsNotificationFires), see(tsSDKv2)),
			append(ev, "no row with id "+prefixes[0]+"*")...)
	}
	return pass(fmt.Sprintf("an upload reached the table in %s (row %s)", time.Since(started).Round(100*time.Millisecond), rows[0]),
		append(ev, "found row "+strings.Join(rows, ", "))...)
}

// removeProbeObject deletes every version and delete marker of the probe key.
func (r *run) removeProbeObject(ctx context.Context, b bucketInfo, key string) []string {
	var ids []s3types.ObjectIdentifier
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(b.Name), Prefix: aws.String(key)}
	for {
		out, err := r.c.S3Probe.ListObjectVersions(ctx, in, r.s3Region(b))
		if err != nil {
			return []string{fmt.Sprintf("cleanup failed: list the versions of s3://%s/%s: %s (delete them yourself: `slab show troubleshooting` → versioned-bucket)", b.Name, key, firstErr(err))}
		}
		for _, v := range out.Versions {
			if aws.ToString(v.Key) == key {
				ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
			}
		}
		for _, m := range out.DeleteMarkers {
			if aws.ToString(m.Key) == key {
				ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	if len(ids) == 0 {
		return []string{"removed: no version of the probe object was left"}
	}
	out, err := r.c.S3Probe.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b.Name), Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}}, r.s3Region(b))
	if err != nil {
		return []string{fmt.Sprintf("cleanup failed: delete s3://%s/%s: %s", b.Name, key, firstErr(err))}
	}
	if len(out.Errors) > 0 {
		return []string{fmt.Sprintf("cleanup failed for %d versions of s3://%s/%s: %s", len(out.Errors), b.Name, key, aws.ToString(out.Errors[0].Message))}
	}
	plural := "s"
	if len(ids) == 1 {
		plural = ""
	}
	return []string{fmt.Sprintf("removed s3://%s/%s (%d version%s)", b.Name, key, len(ids), plural)}
}

func (r *run) removeRows(ctx context.Context, ids []string) []string {
	var out []string
	for _, id := range uniq(ids) {
		_, err := r.c.DynamoDBProbe.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(r.names.Table),
			Key:       map[string]dtypes.AttributeValue{"id": &dtypes.AttributeValueMemberS{Value: id}},
		})
		if err != nil {
			out = append(out, fmt.Sprintf("cleanup failed: delete row %s: %s", id, firstErr(err)))
			continue
		}
		out = append(out, "removed row "+id)
	}
	return out
}

func firstErr(err error) string {
	s, _ := describeError(err)
	return s
}

func probeChain(ctx context.Context, r *run) (res Result) {
	fn := r.names.EventFunction
	if _, stop := r.needFunction(ctx, fn, "event-processor.function"); stop != nil {
		return *stop
	}
	if _, stop := r.needTable(ctx); stop != nil {
		return *stop
	}
	id := probeID()
	// The summary's processedAt comes from the queue processor's clock:
	// allow a little skew.
	since := r.now().Add(-5 * time.Second).UTC().Format("2006-01-02T15:04:05.000Z")
	started := time.Now()
	payload, _ := json.Marshal(map[string]string{"source": "slab.probe", "probe": id})
	out, err := r.c.LambdaProbe.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: payload})
	if err != nil {
		return errorResult(err, "the probe invoke of "+fn)
	}
	ev := []string{fmt.Sprintf("invoked %s with %s: StatusCode %d", fn, payload, out.StatusCode)}
	if fe := aws.ToString(out.FunctionError); fe != "" {
		h := see(tsFunctionError)
		p := string(out.Payload)
		switch {
		case strings.Contains(p, "ImportModuleError") || strings.Contains(p, "aws-sdk"):
			h = hint(h, see(tsSDKv2))
		case strings.Contains(p, "SNS_TOPIC_ARN") || strings.Contains(p, "TopicArn"):
			h = hint(h, see(tsTopicEnv))
		}
		return fail(fmt.Sprintf("the invoke returned StatusCode %d with FunctionError %s: the function threw", out.StatusCode, fe), h, append(ev, "payload: "+p)...)
	}
	var resp struct {
		MessageID string `json:"messageId"`
	}
	_ = json.Unmarshal(out.Payload, &resp)
	if resp.MessageID != "" {
		ev = append(ev, "published SNS message "+resp.MessageID)
	}
	var row string
	defer func() {
		if row == "" {
			return
		}
		cctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		res.Evidence = append(res.Evidence, r.removeRows(cctx, []string{row})...)
	}()
	ok, err := r.waitFor(ctx, func() (bool, error) {
		if resp.MessageID != "" {
			want := "summary-" + resp.MessageID
			got, err := r.c.DynamoDBProbe.GetItem(ctx, &dynamodb.GetItemInput{
				TableName: aws.String(r.names.Table), ConsistentRead: aws.Bool(true),
				Key: map[string]dtypes.AttributeValue{"id": &dtypes.AttributeValueMemberS{Value: want}},
			})
			if err != nil {
				return false, err
			}
			if len(got.Item) > 0 {
				row = want
				return true, nil
			}
			return false, nil
		}
		// The guide's function returns no message id: any summary newer
		// than the invoke will do (not deleted: it cannot be told apart
		// from the schedule's).
		var newer string
		_, err := r.scanFor(ctx, &dynamodb.ScanInput{
			ConsistentRead:           aws.Bool(true),
			FilterExpression:         aws.String("begins_with(#i, :s) AND #p >= :t"),
			ProjectionExpression:     aws.String("#i"),
			ExpressionAttributeNames: map[string]string{"#i": "id", "#p": "processedAt"},
			ExpressionAttributeValues: map[string]dtypes.AttributeValue{
				":s": &dtypes.AttributeValueMemberS{Value: "summary-"},
				":t": &dtypes.AttributeValueMemberS{Value: since},
			},
		}, func(it map[string]dtypes.AttributeValue) bool {
			newer = str(it, "id")
			return newer != ""
		})
		if newer != "" {
			ev = append(ev, "found summary row "+newer+" (processedAt >= "+since+"; left in place)")
		}
		return newer != "", err
	})
	if err != nil {
		return Result{Status: Error, Summary: "the probe could not finish: " + firstErr(err), Evidence: ev}
	}
	if !ok {
		return fail(fmt.Sprintf("no summary row newer than the invoke within %s: the message did not make it through SNS, SQS and the queue processor", r.probeWait.Round(time.Second)),
			hint("read the sns-sqs and queue-processor checks", see(tsSNSSQS)), ev...)
	}
	took := time.Since(started).Round(100 * time.Millisecond)
	if row != "" {
		return pass(fmt.Sprintf("an invoke reached the table through SNS and SQS in %s (row %s)", took, row), append(ev, "found row "+row)...)
	}
	return pass(fmt.Sprintf("an invoke reached the table through SNS and SQS in %s", took), ev...)
}
