package steps

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// --- step 2: the table ---

func performTable(p *performer) error {
	c := p.c.ddb
	r := p.resource("DynamoDB table "+p.n.Table, "table", p.tableArn())
	got, err := c.DescribeTable(p.ctx, &dynamodb.DescribeTableInput{TableName: str(p.n.Table)})
	switch {
	case isCode(err, "ResourceNotFoundException"):
		if err := r.create("does not exist", func(ctx context.Context) error {
			var tags []ddbtypes.Tag
			for k, v := range p.tags() {
				tags = append(tags, ddbtypes.Tag{Key: str(k), Value: str(v)})
			}
			sort.Slice(tags, func(i, j int) bool { return *tags[i].Key < *tags[j].Key })
			_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName:            str(p.n.Table),
				AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: str("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
				KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: str("id"), KeyType: ddbtypes.KeyTypeHash}},
				BillingMode:          ddbtypes.BillingModePayPerRequest,
				Tags:                 tags,
			})
			if isCode(err, "ResourceInUseException") {
				return nil // created by a concurrent run
			}
			return err
		}); err != nil {
			return err
		}
		if !p.o.DryRun {
			if err := p.waitTable(r); err != nil {
				return err
			}
		}
	case err != nil:
		return r.fail(err)
	default:
		t := got.Table
		r.id = aws.ToString(t.TableArn)
		if why := tableKeyProblem(t); why != "" {
			return r.fail(fmt.Errorf("%s; a table's key cannot be changed: delete the table (slab cleanup) and run this step again", why))
		}
		if t.TableStatus == ddbtypes.TableStatusCreating || t.TableStatus == ddbtypes.TableStatusUpdating {
			if err := p.waitTable(r); err != nil {
				return err
			}
		}
		if t.BillingModeSummary == nil || t.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest {
			if err := r.update("billing mode is provisioned, want PAY_PER_REQUEST (on-demand)", func(ctx context.Context) error {
				_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: str(p.n.Table), BillingMode: ddbtypes.BillingModePayPerRequest})
				return err
			}); err != nil {
				return err
			}
			if !p.o.DryRun {
				if err := p.waitTable(r); err != nil {
					return err
				}
			}
		}
		tl, err := c.ListTagsOfResource(p.ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: t.TableArn})
		if err != nil {
			return r.fail(err)
		}
		have := map[string]string{}
		for _, tg := range tl.Tags {
			have[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		if why, set := p.missingTags(have); why != "" {
			if err := r.update(why, func(ctx context.Context) error {
				var tags []ddbtypes.Tag
				for k, v := range set {
					tags = append(tags, ddbtypes.Tag{Key: str(k), Value: str(v)})
				}
				_, err := c.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: t.TableArn, Tags: tags})
				return err
			}); err != nil {
				return err
			}
		}
	}
	r.finish()
	return nil
}

func (p *performer) waitTable(r *resource) error {
	start := time.Now()
	w := dynamodb.NewTableExistsWaiter(p.c.ddb, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 500*time.Millisecond, 5*time.Second
	})
	if err := w.Wait(p.ctx, &dynamodb.DescribeTableInput{TableName: str(p.n.Table)}, 5*time.Minute); err != nil {
		return r.fail(err)
	}
	r.note("ACTIVE after %s", roundDur(time.Since(start)))
	return nil
}

// tableKeyProblem says what is wrong with the table's key, "" when it is
// the lab's: a single string partition key named id.
func tableKeyProblem(t *ddbtypes.TableDescription) string {
	types := map[string]ddbtypes.ScalarAttributeType{}
	for _, a := range t.AttributeDefinitions {
		types[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	var keys []string
	for _, k := range t.KeySchema {
		keys = append(keys, fmt.Sprintf("%s (%s, %s)", aws.ToString(k.AttributeName), k.KeyType, types[aws.ToString(k.AttributeName)]))
	}
	if len(t.KeySchema) == 1 && aws.ToString(t.KeySchema[0].AttributeName) == "id" && t.KeySchema[0].KeyType == ddbtypes.KeyTypeHash && types["id"] == ddbtypes.ScalarAttributeTypeS {
		return ""
	}
	return fmt.Sprintf("the table's key is %s, the lab needs one string partition key id (HASH, S)", strings.Join(keys, " + "))
}

// --- step 3: the bucket ---

func performBucket(p *performer) error {
	c := p.c.s3
	bucket := p.bucket()
	r := p.resource("S3 bucket "+bucket, "bucket", bucket)
	_, err := c.HeadBucket(p.ctx, &s3.HeadBucketInput{Bucket: str(bucket)})
	exists := err == nil
	if region := redirectedRegion(err); err != nil && region != "" && region != p.env.Region {
		return r.fail(p.wrongRegion(region))
	}
	switch {
	case isCode(err, "NotFound", "NoSuchBucket"):
		if err := r.create("does not exist", func(ctx context.Context) error {
			in := &s3.CreateBucketInput{Bucket: str(bucket)}
			// us-east-1 takes no location constraint (InvalidLocationConstraint).
			if p.env.Region != "us-east-1" {
				in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(p.env.Region)}
			}
			_, err := c.CreateBucket(ctx, in)
			switch {
			case isCode(err, "BucketAlreadyOwnedByYou"):
				return nil
			case isCode(err, "BucketAlreadyExists"):
				return fmt.Errorf("the name %s belongs to another AWS account (bucket names are global); choose another with --name bucket=%s<unix time>: %w", bucket, p.n.BucketPrefix+p.account()+"-", err)
			}
			return err
		}); err != nil {
			return err
		}
	case isCode(err, "Forbidden", "AccessDenied", "403"):
		return r.fail(fmt.Errorf("the bucket exists but HeadBucket is forbidden: it belongs to another account, or your identity lacks s3:ListBucket on arn:%s:s3:::%s (%w)", p.partition(), bucket, err))
	case err != nil:
		return r.fail(err)
	}
	if exists {
		loc, err := c.GetBucketLocation(p.ctx, &s3.GetBucketLocationInput{Bucket: str(bucket)})
		if err != nil {
			return r.fail(err)
		}
		region := string(loc.LocationConstraint)
		if region == "" {
			region = "us-east-1"
		} else if region == "EU" {
			region = "eu-west-1"
		}
		if region != p.env.Region {
			return r.fail(p.wrongRegion(region))
		}
	}
	// Versioning.
	versioned := false
	if exists {
		v, err := c.GetBucketVersioning(p.ctx, &s3.GetBucketVersioningInput{Bucket: str(bucket)})
		if err != nil {
			return r.fail(err)
		}
		versioned = v.Status == s3types.BucketVersioningStatusEnabled
		if !versioned {
			status := string(v.Status)
			if status == "" {
				status = "never enabled"
			}
			if err := r.update("versioning is "+strings.ToLower(status)+", want Enabled", p.enableVersioning(bucket)); err != nil {
				return err
			}
		}
	} else if err := r.update("versioning on", p.enableVersioning(bucket)); err != nil {
		return err
	}
	// Tags. PutBucketTagging replaces the whole set, so keep the others.
	have := map[string]string{}
	if exists {
		t, err := c.GetBucketTagging(p.ctx, &s3.GetBucketTaggingInput{Bucket: str(bucket)})
		if err != nil && !isCode(err, "NoSuchTagSet", "NoSuchTagSetError") {
			return r.fail(err)
		}
		if err == nil {
			for _, tg := range t.TagSet {
				have[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
		}
	}
	if why, set := p.missingTags(have); why != "" {
		if !exists {
			why = "tags"
		}
		if err := r.update(why, func(ctx context.Context) error {
			all := map[string]string{}
			for k, v := range have {
				all[k] = v
			}
			for k, v := range set {
				all[k] = v
			}
			var ts []s3types.Tag
			for k, v := range all {
				ts = append(ts, s3types.Tag{Key: str(k), Value: str(v)})
			}
			sort.Slice(ts, func(i, j int) bool { return *ts[i].Key < *ts[j].Key })
			_, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: str(bucket), Tagging: &s3types.Tagging{TagSet: ts}})
			return err
		}); err != nil {
			return err
		}
	}
	if r.created {
		// A new bucket's versioning and tags are part of creating it.
		r.whys = r.whys[:1]
		r.note("in %s, versioning enabled, tagged", p.env.Region)
	}
	r.finish()
	return nil
}

func (p *performer) enableVersioning(bucket string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, err := p.c.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  str(bucket),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
		})
		return err
	}
}
