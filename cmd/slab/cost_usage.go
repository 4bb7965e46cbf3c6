package main

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/awsenv"
)

// usageReader implements cost.UsageReader over the SDK: the cost package
// stays free of AWS clients, and this adapter holds the paging.
type usageReader struct {
	s3   *s3.Client
	ddb  *dynamodb.Client
	logs *cloudwatchlogs.Client
}

func newUsageReader(env *awsenv.Env) *usageReader {
	pathStyle := env.Target.Kind != awsenv.AWS
	return &usageReader{
		s3:   s3.NewFromConfig(env.Config, func(o *s3.Options) { o.UsePathStyle = pathStyle }),
		ddb:  dynamodb.NewFromConfig(env.Config),
		logs: cloudwatchlogs.NewFromConfig(env.Config),
	}
}

func missing(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "NoSuchBucket", "ResourceNotFoundException", "NotFound":
		return true
	}
	return false
}

func (u *usageReader) Buckets(ctx context.Context) ([]string, error) {
	var names []string
	in := &s3.ListBucketsInput{}
	for {
		out, err := u.s3.ListBuckets(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, b := range out.Buckets {
			names = append(names, aws.ToString(b.Name))
		}
		if aws.ToString(out.ContinuationToken) == "" {
			return names, nil
		}
		in.ContinuationToken = out.ContinuationToken
	}
}

func (u *usageReader) BucketUsage(ctx context.Context, bucket string) (versions, markers, bytes int64, found bool, err error) {
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1000)}
	for {
		out, err := u.s3.ListObjectVersions(ctx, in)
		if missing(err) {
			return 0, 0, 0, false, nil
		}
		if err != nil {
			return 0, 0, 0, false, err
		}
		versions += int64(len(out.Versions))
		markers += int64(len(out.DeleteMarkers))
		for _, v := range out.Versions {
			bytes += aws.ToInt64(v.Size)
		}
		if !aws.ToBool(out.IsTruncated) {
			return versions, markers, bytes, true, nil
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
}

func (u *usageReader) TableUsage(ctx context.Context, table string) (items, bytes int64, found bool, err error) {
	d, err := u.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if missing(err) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, err
	}
	bytes = aws.ToInt64(d.Table.TableSizeBytes)
	// DescribeTable's ItemCount lags by hours; a COUNT scan is exact and,
	// on a lab-sized table, costs a fraction of a cent.
	in := &dynamodb.ScanInput{TableName: aws.String(table), Select: ddbtypes.SelectCount}
	for {
		out, err := u.ddb.Scan(ctx, in)
		if err != nil {
			return aws.ToInt64(d.Table.ItemCount), bytes, true, nil
		}
		items += int64(out.Count)
		if len(out.LastEvaluatedKey) == 0 {
			return items, bytes, true, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func (u *usageReader) LogGroupUsage(ctx context.Context, group string) (int64, bool, error) {
	out, err := u.logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
	if err != nil {
		return 0, false, err
	}
	for _, g := range out.LogGroups {
		if aws.ToString(g.LogGroupName) == group {
			return aws.ToInt64(g.StoredBytes), true, nil
		}
	}
	return 0, false, nil
}

func (u *usageReader) ReportLines(ctx context.Context, group string, limit int) ([]string, error) {
	var lines []string
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`"Billed Duration"`)}
	// FilterLogEvents may return empty pages with a token while it scans;
	// a bounded number of pages keeps `slab cost` quick on a busy group.
	for page := 0; page < 100 && len(lines) < limit; page++ {
		out, err := u.logs.FilterLogEvents(ctx, in)
		if missing(err) {
			return lines, nil
		}
		if err != nil {
			return nil, err
		}
		for _, e := range out.Events {
			lines = append(lines, aws.ToString(e.Message))
		}
		if out.NextToken == nil || aws.ToString(out.NextToken) == aws.ToString(in.NextToken) {
			break
		}
		in.NextToken = out.NextToken
	}
	return lines, nil
}
