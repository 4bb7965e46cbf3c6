package checks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
)

// processUploads stands in for the s3 processor (the sandbox under test may
// have no function runner): it turns each new probe object into the row
// the corrected function would write, until ctx ends.
func (f *fx) processUploads(ctx context.Context, n lab.Names) {
	done := map[string]bool{}
	for ctx.Err() == nil {
		out, err := f.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(n.Bucket), Prefix: aws.String(checks.ProbeKeyPrefix)})
		if err == nil {
			for _, v := range out.Versions {
				id := n.Bucket + "/" + aws.ToString(v.Key) + "#" + aws.ToString(v.VersionId)
				if done[id] {
					continue
				}
				done[id] = true
				_, _ = f.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(n.Table), Item: map[string]dtypes.AttributeValue{
					"id": &dtypes.AttributeValueMemberS{Value: id}, "fileName": &dtypes.AttributeValueMemberS{Value: aws.ToString(v.Key)},
				}})
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (f *fx) probeLeftovers(n lab.Names) (objects, rows int) {
	f.T.Helper()
	out, err := f.S3.ListObjectVersions(f.Ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(n.Bucket), Prefix: aws.String(checks.ProbeKeyPrefix)})
	f.Must(err, "list versions")
	objects = len(out.Versions) + len(out.DeleteMarkers)
	scan, err := f.DDB.Scan(f.Ctx, &dynamodb.ScanInput{TableName: aws.String(n.Table), FilterExpression: aws.String("contains(id, :p)"),
		ExpressionAttributeValues: map[string]dtypes.AttributeValue{":p": &dtypes.AttributeValueMemberS{Value: checks.ProbeKeyPrefix}}})
	f.Must(err, "scan")
	return objects, len(scan.Items)
}

func TestProbeS3(t *testing.T) {
	f := newFx(t)
	b := f.FullLab(f.Names())
	ctx, stop := context.WithCancel(context.Background())
	go f.processUploads(ctx, b.N)
	got := f.one("end-to-end.probe-s3", b.N, checks.Options{ProbeTimeout: 20 * time.Second})
	stop()
	assertResult(t, variant{check: "end-to-end.probe-s3", status: checks.Pass, summary: "an upload reached the table"}, got)
	ev := strings.Join(got.Evidence, "\n")
	for _, want := range []string{"wrote s3://" + b.N.Bucket + "/slab-probe-", "removed s3://", "removed row " + b.N.Bucket + "/slab-probe-"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
	if objs, rows := f.probeLeftovers(b.N); objs != 0 || rows != 0 {
		t.Errorf("probe left %d object versions and %d rows", objs, rows)
	}
}

func TestProbeS3WithoutProcessingFailsAndCleansUp(t *testing.T) {
	f := newFx(t)
	b := f.FullLab(f.Names())
	got := f.one("end-to-end.probe-s3", b.N, checks.Options{ProbeTimeout: time.Second})
	if got.Status == checks.Pass {
		t.Skip("this target runs the s3 processor itself")
	}
	assertResult(t, variant{check: "end-to-end.probe-s3", status: checks.Fail, summary: "produced no row", hint: "notification-not-firing"}, got)
	if objs, _ := f.probeLeftovers(b.N); objs != 0 {
		t.Errorf("probe left %d object versions", objs)
	}
}

func TestProbeCleansUpWhenInterrupted(t *testing.T) {
	f := newFx(t)
	b := f.FullLab(f.Names())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(500*time.Millisecond, cancel) // Ctrl-C, or esc in the tutor
	rep := checks.Run(ctx, f.Env, b.N, checks.Options{IDs: []string{"end-to-end.probe-s3"}, Probe: true, ProbeTimeout: time.Minute, Retries: -1})
	got := rep.Results[0]
	if got.Status != checks.Error || !strings.Contains(got.Summary, "cancel") {
		t.Errorf("interrupted probe: %s", dump(got))
	}
	if !strings.Contains(strings.Join(got.Evidence, "\n"), "removed s3://") {
		t.Errorf("interrupted probe does not say it cleaned up: %s", dump(got))
	}
	if objs, _ := f.probeLeftovers(b.N); objs != 0 {
		t.Errorf("interrupted probe left %d object versions", objs)
	}
}

// fakeInvoke stands in for the chain behind the event processor: the
// invoke "publishes" and, a moment later, the queue processor's row lands.
type fakeInvoke struct {
	f       *fx
	table   string
	failure string // FunctionError payload, when set
}

func (fi fakeInvoke) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	if fi.failure != "" {
		return &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"), Payload: []byte(fi.failure)}, nil
	}
	mid := fmt.Sprintf("9f1c%08d-0000-4000-8000-000000000000", time.Now().UnixNano()%1e8)
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, _ = fi.f.DDB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(fi.table), Item: map[string]dtypes.AttributeValue{
			"id": &dtypes.AttributeValueMemberS{Value: "summary-" + mid}, "type": &dtypes.AttributeValueMemberS{Value: "summary"},
			"processedAt": &dtypes.AttributeValueMemberS{Value: time.Now().UTC().Format("2006-01-02T15:04:05.000Z")},
		}})
	}()
	p, _ := json.Marshal(map[string]any{"statusCode": 200, "body": "Successfully published summary to SNS", "messageId": mid})
	return &lambda.InvokeOutput{StatusCode: 200, Payload: p}, nil
}

func TestProbeChain(t *testing.T) {
	f := newFx(t)
	b := f.FullLab(f.Names())
	cl := checks.NewClients(f.Env)
	cl.LambdaProbe = fakeInvoke{f: f, table: b.N.Table}
	got := f.one("end-to-end.probe-chain", b.N, checks.Options{Clients: cl, ProbeTimeout: 10 * time.Second})
	assertResult(t, variant{check: "end-to-end.probe-chain", status: checks.Pass, summary: "reached the table through SNS and SQS"}, got)
	ev := strings.Join(got.Evidence, "\n")
	if !strings.Contains(ev, "published SNS message") || !strings.Contains(ev, "removed row summary-") {
		t.Errorf("evidence: %s", ev)
	}
	id := strings.TrimPrefix(ev[strings.Index(ev, "removed row ")+len("removed row "):], "")
	id = strings.SplitN(id, "\n", 2)[0]
	out, err := f.DDB.GetItem(f.Ctx, &dynamodb.GetItemInput{TableName: aws.String(b.N.Table), Key: map[string]dtypes.AttributeValue{"id": &dtypes.AttributeValueMemberS{Value: id}}})
	f.Must(err, "get item")
	if len(out.Item) != 0 {
		t.Errorf("probe left its summary row %s", id)
	}
}

func TestProbeChainFunctionError(t *testing.T) {
	f := newFx(t)
	b := f.FullLab(f.Names())
	cl := checks.NewClients(f.Env)
	cl.LambdaProbe = fakeInvoke{f: f, failure: `{"errorType":"Runtime.ImportModuleError","errorMessage":"Error: Cannot find module 'aws-sdk'"}`}
	got := f.one("end-to-end.probe-chain", b.N, checks.Options{Clients: cl, ProbeTimeout: time.Second})
	assertResult(t, variant{check: "end-to-end.probe-chain", status: checks.Fail, summary: "StatusCode 200 with FunctionError Unhandled", hint: "aws-sdk-v2-import"}, got)
}

func TestProbesRunOnlyWhenAsked(t *testing.T) {
	for _, c := range checks.Select(checks.Options{}) {
		if c.Probe {
			t.Errorf("%s selected without Probe", c.ID)
		}
	}
	var probes []string
	for _, c := range checks.Select(checks.Options{Probe: true, Steps: []string{lab.StepEndToEnd}}) {
		if c.Probe {
			probes = append(probes, c.ID)
		}
	}
	if strings.Join(probes, ",") != "end-to-end.probe-s3,end-to-end.probe-chain" {
		t.Errorf("probes: %v", probes)
	}
}
