package checks

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/slab-lab/slab/lab"
)

func dynamoChecks() []Check {
	desc := []string{"dynamodb:DescribeTable"}
	return []Check{
		{ID: "dynamodb-table.exists", Title: "The table exists", Weight: 2, Actions: desc, Run: wrap(checkTableExists)},
		{ID: "dynamodb-table.active", Title: "The table is ACTIVE", Weight: 1, Actions: desc, Run: wrap(checkTableActive)},
		{ID: "dynamodb-table.key-schema", Title: "The key is id (string, HASH)", Weight: 2, Actions: desc, Run: wrap(checkKeySchema)},
		{ID: "dynamodb-table.billing-mode", Title: "The table is on-demand", Weight: 1, Actions: desc, Run: wrap(checkBillingMode)},
	}
}

func s3Checks() []Check {
	find := []string{"s3:GetBucketLocation", "s3:ListAllMyBuckets"}
	return []Check{
		{ID: "s3-bucket.exists", Title: "The lab bucket exists", Weight: 2, Actions: find, Run: wrap(checkBucketExists)},
		{ID: "s3-bucket.region", Title: "The bucket is in the functions' region", Weight: 1, Actions: find, Run: wrap(checkBucketRegion)},
		{ID: "s3-bucket.versioning", Title: "Versioning is enabled", Weight: 2, Actions: append(find, "s3:GetBucketVersioning"), Run: wrap(checkVersioning)},
	}
}

// ---- DynamoDB

func (r *run) needTable(ctx context.Context) (*dtypes.TableDescription, *Result) {
	t, err := r.table(ctx)
	if err != nil {
		res := errorResult(err, "table "+r.names.Table)
		return nil, &res
	}
	if t == nil {
		res := skip("needs table "+r.names.Table+", which does not exist", "dynamodb-table.exists")
		return nil, &res
	}
	return t, nil
}

func checkTableExists(ctx context.Context, r *run) Result {
	t, err := r.table(ctx)
	if err != nil {
		return errorResult(err, "table "+r.names.Table)
	}
	if t == nil {
		return fail("table "+r.names.Table+" does not exist", redo(lab.StepDynamoDBTable), "dynamodb:DescribeTable "+r.names.Table+": ResourceNotFoundException")
	}
	return pass("table "+r.names.Table+" exists", "dynamodb:DescribeTable: "+aws.ToString(t.TableArn))
}

func checkTableActive(ctx context.Context, r *run) Result {
	t, stop := r.needTable(ctx)
	if stop != nil {
		return *stop
	}
	st := t.TableStatus
	ev := "TableStatus: " + string(st)
	switch st {
	case dtypes.TableStatusActive:
		return pass("table "+r.names.Table+" is ACTIVE", ev)
	case dtypes.TableStatusCreating, dtypes.TableStatusUpdating:
		return warn("table "+r.names.Table+" is "+string(st)+": not ready yet",
			hint("wait for it: `aws dynamodb wait table-exists --table-name "+r.names.Table+"`, then check again", see(tsNotReady)), ev)
	case dtypes.TableStatusDeleting:
		return fail("table "+r.names.Table+" is being deleted", hint("wait until it is gone, then create it again: "+redo(lab.StepDynamoDBTable), see(tsTableDeleting)), ev)
	}
	return warn("table "+r.names.Table+" is "+string(st), see(tsNotReady), ev)
}

func checkKeySchema(ctx context.Context, r *run) Result {
	t, stop := r.needTable(ctx)
	if stop != nil {
		return *stop
	}
	types := map[string]string{}
	for _, a := range t.AttributeDefinitions {
		types[aws.ToString(a.AttributeName)] = string(a.AttributeType)
	}
	var parts []string
	for _, k := range t.KeySchema {
		name := aws.ToString(k.AttributeName)
		parts = append(parts, fmt.Sprintf("%s %s %s", name, types[name], k.KeyType))
	}
	got := strings.Join(parts, ", ")
	ev := "KeySchema: " + got
	if len(t.KeySchema) == 1 && aws.ToString(t.KeySchema[0].AttributeName) == "id" && t.KeySchema[0].KeyType == dtypes.KeyTypeHash && types["id"] == "S" {
		return pass("key schema is id (S, HASH)", ev)
	}
	return fail("key schema is "+got+", not id (S, HASH) alone",
		"the functions write items keyed by a string id only; a key schema cannot be changed: delete the table and create it again ("+redo(lab.StepDynamoDBTable)+")", ev)
}

func checkBillingMode(ctx context.Context, r *run) Result {
	t, stop := r.needTable(ctx)
	if stop != nil {
		return *stop
	}
	mode := dtypes.BillingModeProvisioned // absent: tables created before on-demand existed
	if t.BillingModeSummary != nil && t.BillingModeSummary.BillingMode != "" {
		mode = t.BillingModeSummary.BillingMode
	}
	ev := "BillingMode: " + string(mode)
	if mode == dtypes.BillingModePayPerRequest {
		return pass("table is on-demand (PAY_PER_REQUEST)", ev)
	}
	if t.ProvisionedThroughput != nil {
		ev += fmt.Sprintf(", %d RCU / %d WCU", aws.ToInt64(t.ProvisionedThroughput.ReadCapacityUnits), aws.ToInt64(t.ProvisionedThroughput.WriteCapacityUnits))
	}
	return warn("table uses provisioned capacity, not on-demand",
		"works, but bills capacity by the hour whether used or not; the lab uses on-demand: `aws dynamodb update-table --table-name "+r.names.Table+" --billing-mode PAY_PER_REQUEST`", ev)
}

// ---- S3

func (r *run) needBucket(ctx context.Context) (bucketInfo, *Result) {
	b, err := r.bucket(ctx)
	if err != nil {
		res := errorResult(err, "the lab bucket")
		return b, &res
	}
	if b.Name == "" {
		res := skip("needs the lab bucket, which does not exist", "s3-bucket.exists")
		return b, &res
	}
	return b, nil
}

func checkBucketExists(ctx context.Context, r *run) Result {
	b, err := r.bucket(ctx)
	if err != nil {
		return errorResult(err, "the lab bucket")
	}
	prefix := r.names.BucketPrefix + r.env.Account + "-"
	switch {
	case b.Name == "" && b.Missing != "":
		return fail("bucket "+b.Missing+" (the name slab chose for you) does not exist, and no other "+prefix+"* bucket does",
			redo(lab.StepS3Bucket), "s3:GetBucketLocation "+b.Missing+": NoSuchBucket", "s3:ListBuckets prefix "+prefix+": none")
	case b.Name == "":
		return fail("no lab bucket: no bucket is named "+prefix+"<digits>", hint(redo(lab.StepS3Bucket), see(tsLostVariables)),
			"s3:ListBuckets prefix "+prefix+": none")
	case b.Missing != "":
		return warn("bucket "+b.Missing+" from slab's state does not exist; checking "+b.Name+" instead",
			"if "+b.Name+" is your lab bucket, slab remembers it from now on", "found: "+strings.Join(b.Candidates, ", "))
	case b.Source == "discovered" && len(b.Candidates) > 1:
		return warn(fmt.Sprintf("%d lab buckets: %s; checking the newest, %s", len(b.Candidates), strings.Join(b.Candidates, ", "), b.Name),
			hint("delete the ones you do not use (empty versioned buckets first)", see(tsVersionedBucket)), "s3:ListBuckets prefix "+prefix)
	case b.Source == "discovered":
		return pass("bucket "+b.Name+" exists (found by its "+prefix+" prefix)", "s3:ListBuckets prefix "+prefix+": "+b.Name)
	}
	return pass("bucket "+b.Name+" exists", "s3:GetBucketLocation "+b.Name+": "+b.Region)
}

func checkBucketRegion(ctx context.Context, r *run) Result {
	b, stop := r.needBucket(ctx)
	if stop != nil {
		return *stop
	}
	ev := fmt.Sprintf("s3:GetBucketLocation %s: %s; functions' region: %s", b.Name, b.Region, r.env.Region)
	if b.Region == r.env.Region {
		return pass("bucket "+b.Name+" is in "+b.Region+", with the functions", ev)
	}
	return fail(fmt.Sprintf("bucket %s is in %s, the functions in %s: S3 cannot notify a function in another region", b.Name, b.Region, r.env.Region),
		see(tsBucketRegion), ev)
}

func checkVersioning(ctx context.Context, r *run) Result {
	b, stop := r.needBucket(ctx)
	if stop != nil {
		return *stop
	}
	out, err := r.c.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(b.Name)}, r.s3Region(b))
	if err != nil {
		return errorResult(err, "the versioning of "+b.Name)
	}
	st := out.Status
	ev := "s3:GetBucketVersioning: Status " + quote(string(st))
	switch st {
	case s3types.BucketVersioningStatusEnabled:
		return pass("versioning is enabled on "+b.Name, ev)
	case s3types.BucketVersioningStatusSuspended:
		return fail("versioning is suspended on "+b.Name, "enable it: `aws s3api put-bucket-versioning --bucket "+b.Name+" --versioning-configuration Status=Enabled`", ev)
	}
	return fail("versioning was never enabled on "+b.Name, "enable it: `aws s3api put-bucket-versioning --bucket "+b.Name+" --versioning-configuration Status=Enabled`", ev)
}
