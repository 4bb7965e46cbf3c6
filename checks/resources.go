package checks

import (
	"time"

	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	etypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	itypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	stypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	qtypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// ---- ARNs the lab's names imply

func (r *run) arn(service, region, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", r.partition(), service, region, r.env.Account, resource)
}

func (r *run) partition() string {
	if r.env.Partition != "" {
		return r.env.Partition
	}
	return "aws"
}

func (r *run) tableArn() string { return r.arn("dynamodb", r.env.Region, "table/"+r.names.Table) }
func (r *run) topicArn() string { return r.arn("sns", r.env.Region, r.names.Topic) }
func (r *run) ruleArn() string  { return r.arn("events", r.env.Region, "rule/"+r.names.Rule) }
func (r *run) functionArnGuess(name string) string {
	return r.arn("lambda", r.env.Region, "function:"+name)
}
func (r *run) bucketArn(bucket string) string { return "arn:" + r.partition() + ":s3:::" + bucket }
func (r *run) roleArnGuess() string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", r.partition(), r.env.Account, r.names.Role)
}
func logGroupOf(fn string) string { return "/aws/lambda/" + fn }

// ---- IAM

type roleInfo struct {
	Exists bool
	Arn    string
	Trust  string // the trust policy document (URL-decoded by policy.Parse)
	// Created tells a role made a moment ago (still propagating) apart.
	Created time.Time
}

func (r *run) role(ctx context.Context) (roleInfo, error) {
	return memo(r, "role", func() (roleInfo, error) {
		out, err := retry(ctx, r, func() (*iam.GetRoleOutput, error) {
			return r.c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(r.names.Role)})
		})
		if isNotFound(err) {
			return roleInfo{}, nil
		}
		if err != nil {
			return roleInfo{}, err
		}
		return roleInfo{Exists: true, Arn: aws.ToString(out.Role.Arn), Trust: aws.ToString(out.Role.AssumeRolePolicyDocument), Created: aws.ToTime(out.Role.CreateDate)}, nil
	})
}

func (r *run) attached(ctx context.Context) ([]itypes.AttachedPolicy, error) {
	return memo(r, "role.attached", func() ([]itypes.AttachedPolicy, error) {
		var out []itypes.AttachedPolicy
		p := iam.NewListAttachedRolePoliciesPaginator(r.c.IAM, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(r.names.Role)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			out = append(out, page.AttachedPolicies...)
		}
		return out, nil
	})
}

// namedDoc is one of the role's identity policies.
type namedDoc struct {
	Name   string // policy name (managed or inline)
	Arn    string // managed policies only
	Inline bool
	JSON   string
}

// roleDocs reads every identity policy of the role: each attached managed
// policy's default version, and each inline policy.
func (r *run) roleDocs(ctx context.Context) ([]namedDoc, error) {
	return memo(r, "role.docs", func() ([]namedDoc, error) {
		att, err := r.attached(ctx)
		if err != nil {
			return nil, err
		}
		var docs []namedDoc
		for _, a := range att {
			gp, err := r.c.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: a.PolicyArn})
			if err != nil {
				return nil, err
			}
			v, err := r.c.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: a.PolicyArn, VersionId: gp.Policy.DefaultVersionId})
			if err != nil {
				return nil, err
			}
			docs = append(docs, namedDoc{Name: aws.ToString(a.PolicyName), Arn: aws.ToString(a.PolicyArn), JSON: aws.ToString(v.PolicyVersion.Document)})
		}
		var names []string
		p := iam.NewListRolePoliciesPaginator(r.c.IAM, &iam.ListRolePoliciesInput{RoleName: aws.String(r.names.Role)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			names = append(names, page.PolicyNames...)
		}
		for _, name := range names {
			out, err := r.c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(r.names.Role), PolicyName: aws.String(name)})
			if err != nil {
				return nil, err
			}
			docs = append(docs, namedDoc{Name: name, Inline: true, JSON: aws.ToString(out.PolicyDocument)})
		}
		return docs, nil
	})
}

// ---- DynamoDB

func (r *run) table(ctx context.Context) (*dtypes.TableDescription, error) {
	return memo(r, "table", func() (*dtypes.TableDescription, error) {
		out, err := retry(ctx, r, func() (*dynamodb.DescribeTableOutput, error) {
			return r.c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.names.Table)})
		})
		if isNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return out.Table, nil
	})
}

// ---- S3

type bucketInfo struct {
	Name   string
	Source string // "state" or "discovered"
	// Candidates are the lab buckets ListBuckets found (discovery only).
	Candidates []string
	// Missing is the state's bucket name when that bucket does not exist.
	Missing string
	// Region is where the bucket is (GetBucketLocation), "" if unknown.
	Region string
}

func (r *run) peekBucket() (bucketInfo, bool) {
	r.mu.Lock()
	e, ok := r.memo["bucket"]
	r.mu.Unlock()
	if !ok {
		return bucketInfo{}, false
	}
	select {
	case <-e.done:
	default:
		return bucketInfo{}, false
	}
	b, ok := e.val.(bucketInfo)
	return b, ok && e.err == nil
}

// bucket finds the lab bucket: the state's name when that bucket exists,
// else the account's buckets named <prefix><account>-<digits>.
func (r *run) bucket(ctx context.Context) (bucketInfo, error) {
	return memo(r, "bucket", func() (bucketInfo, error) {
		var b bucketInfo
		if r.names.Bucket != "" {
			region, found, err := r.bucketRegion(ctx, r.names.Bucket)
			if err != nil {
				return b, err
			}
			if found {
				return bucketInfo{Name: r.names.Bucket, Source: "state", Region: region}, nil
			}
			b.Missing = r.names.Bucket
		}
		cands, err := r.labBuckets(ctx)
		if err != nil {
			return b, err
		}
		b.Candidates = cands
		if len(cands) > 0 {
			// The newest: names end in the creation's unix time.
			b.Name, b.Source = cands[len(cands)-1], "discovered"
			region, found, err := r.bucketRegion(ctx, b.Name)
			if err != nil {
				return b, err
			}
			if !found {
				b.Name, b.Source = "", ""
			}
			b.Region = region
		}
		return b, nil
	})
}

// labBuckets lists the account's lab buckets, sorted by name (and so by
// creation time, for equal-length timestamps).
func (r *run) labBuckets(ctx context.Context) ([]string, error) {
	prefix := r.names.BucketPrefix + r.env.Account + "-"
	var out []string
	in := &s3.ListBucketsInput{Prefix: aws.String(prefix)}
	for {
		page, err := r.c.S3.ListBuckets(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, b := range page.Buckets {
			if name := aws.ToString(b.Name); r.names.IsLabBucket(name, r.env.Account) {
				out = append(out, name)
			}
		}
		if aws.ToString(page.ContinuationToken) == "" {
			break
		}
		in.ContinuationToken = page.ContinuationToken
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) < len(out[j])
		}
		return out[i] < out[j]
	})
	return out, nil
}

// bucketRegion asks where a bucket is; found is false when it does not exist.
func (r *run) bucketRegion(ctx context.Context, bucket string) (region string, found bool, err error) {
	out, err := retry(ctx, r, func() (*s3.GetBucketLocationOutput, error) {
		return r.c.S3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket)})
	})
	if isNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		// Asked in the wrong region, S3 redirects and names the right one.
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.Response != nil {
			if reg := re.Response.Header.Get("x-amz-bucket-region"); reg != "" {
				return reg, true, nil
			}
		}
		return "", false, err
	}
	switch c := string(out.LocationConstraint); c {
	case "":
		return "us-east-1", true, nil
	case "EU":
		return "eu-west-1", true, nil
	default:
		return c, true, nil
	}
}

// s3Region is a client option that sends bucket calls to the bucket's own
// region on real AWS (S3 refuses a signature for the wrong region).
func (r *run) s3Region(b bucketInfo) func(*s3.Options) {
	return func(o *s3.Options) {
		if b.Region != "" && r.env.IsAWS() {
			o.Region = b.Region
		}
	}
}

// ---- Lambda

func (r *run) function(ctx context.Context, name string) (*lambda.GetFunctionConfigurationOutput, error) {
	return memo(r, "fn:"+name, func() (*lambda.GetFunctionConfigurationOutput, error) {
		out, err := retry(ctx, r, func() (*lambda.GetFunctionConfigurationOutput, error) {
			return r.c.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
		})
		if isNotFound(err) {
			return nil, nil
		}
		return out, err
	})
}

// functionPolicy is the function's resource-based policy, "" when it has none.
func (r *run) functionPolicy(ctx context.Context, name string) (string, error) {
	return memo(r, "fnpolicy:"+name, func() (string, error) {
		out, err := r.c.Lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(name)})
		if isNotFound(err) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Policy), nil
	})
}

func (r *run) mappings(ctx context.Context, fn string) ([]ltypes.EventSourceMappingConfiguration, error) {
	return memo(r, "esm:"+fn, func() ([]ltypes.EventSourceMappingConfiguration, error) {
		var out []ltypes.EventSourceMappingConfiguration
		p := lambda.NewListEventSourceMappingsPaginator(r.c.Lambda, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(fn)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if isNotFound(err) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			out = append(out, page.EventSourceMappings...)
		}
		return out, nil
	})
}

// ---- SNS and SQS

// topic returns the topic's attributes, nil when it does not exist.
func (r *run) topic(ctx context.Context) (map[string]string, error) {
	return memo(r, "topic", func() (map[string]string, error) {
		out, err := retry(ctx, r, func() (*sns.GetTopicAttributesOutput, error) {
			return r.c.SNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(r.topicArn())})
		})
		if isNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if out.Attributes == nil {
			return map[string]string{}, nil
		}
		return out.Attributes, nil
	})
}

type queueInfo struct {
	Exists bool
	URL    string
	Arn    string
	Attrs  map[string]string
}

func (r *run) queue(ctx context.Context) (queueInfo, error) {
	return memo(r, "queue", func() (queueInfo, error) {
		u, err := retry(ctx, r, func() (*sqs.GetQueueUrlOutput, error) {
			return r.c.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(r.names.Queue)})
		})
		if isNotFound(err) {
			return queueInfo{}, nil
		}
		if err != nil {
			return queueInfo{}, err
		}
		a, err := r.c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u.QueueUrl, AttributeNames: []qtypes.QueueAttributeName{qtypes.QueueAttributeNameAll}})
		if isNotFound(err) {
			return queueInfo{}, nil
		}
		if err != nil {
			return queueInfo{}, err
		}
		q := queueInfo{Exists: true, URL: aws.ToString(u.QueueUrl), Attrs: a.Attributes}
		if q.Attrs == nil {
			q.Attrs = map[string]string{}
		}
		q.Arn = q.Attrs["QueueArn"]
		if q.Arn == "" {
			q.Arn = r.arn("sqs", r.env.Region, r.names.Queue)
		}
		return q, nil
	})
}

// queueArn is the queue's ARN. SQS derives it from the name, region and
// account alone, so no call is needed (which keeps it off the critical path
// of every check that compares against it).
func (r *run) queueArn(context.Context) string {
	return r.arn("sqs", r.env.Region, r.names.Queue)
}

// subscriptions lists the topic's subscriptions; nil when the topic does
// not exist.
func (r *run) subscriptions(ctx context.Context) ([]stypes.Subscription, error) {
	return memo(r, "subs", func() ([]stypes.Subscription, error) {
		var out []stypes.Subscription
		p := sns.NewListSubscriptionsByTopicPaginator(r.c.SNS, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(r.topicArn())})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if isNotFound(err) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			out = append(out, page.Subscriptions...)
		}
		return out, nil
	})
}

// labSubscription is the topic's sqs subscription to the lab queue (nil
// when none), with the topic's other sqs endpoints for the evidence.
func (r *run) labSubscription(ctx context.Context) (*stypes.Subscription, []string, error) {
	subs, err := r.subscriptions(ctx)
	if err != nil {
		return nil, nil, err
	}
	want := r.queueArn(ctx)
	var others []string
	for i := range subs {
		s := &subs[i]
		if !strings.EqualFold(aws.ToString(s.Protocol), "sqs") {
			continue
		}
		if aws.ToString(s.Endpoint) == want {
			return s, others, nil
		}
		others = append(others, aws.ToString(s.Endpoint))
	}
	return nil, others, nil
}

func (r *run) subscriptionAttrs(ctx context.Context, arn string) (map[string]string, error) {
	return memo(r, "subattrs:"+arn, func() (map[string]string, error) {
		out, err := r.c.SNS.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(arn)})
		if err != nil {
			return nil, err
		}
		return out.Attributes, nil
	})
}

// ---- EventBridge

func (r *run) rule(ctx context.Context) (*eventbridge.DescribeRuleOutput, error) {
	return memo(r, "rule", func() (*eventbridge.DescribeRuleOutput, error) {
		out, err := retry(ctx, r, func() (*eventbridge.DescribeRuleOutput, error) {
			return r.c.Events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(r.names.Rule)})
		})
		if isNotFound(err) {
			return nil, nil
		}
		return out, err
	})
}

func (r *run) targets(ctx context.Context) ([]etypes.Target, error) {
	return memo(r, "targets", func() ([]etypes.Target, error) {
		var out []etypes.Target
		in := &eventbridge.ListTargetsByRuleInput{Rule: aws.String(r.names.Rule)}
		for {
			page, err := r.c.Events.ListTargetsByRule(ctx, in)
			if isNotFound(err) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			out = append(out, page.Targets...)
			if aws.ToString(page.NextToken) == "" {
				return out, nil
			}
			in.NextToken = page.NextToken
		}
	})
}

// ---- Logs

// logGroupExists reports whether /aws/lambda/<fn> exists.
func (r *run) logGroupExists(ctx context.Context, fn string) (bool, error) {
	return memo(r, "loggroup:"+fn, func() (bool, error) {
		name := logGroupOf(fn)
		in := &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)}
		for {
			page, err := r.c.Logs.DescribeLogGroups(ctx, in)
			if err != nil {
				return false, err
			}
			for _, g := range page.LogGroups {
				if aws.ToString(g.LogGroupName) == name {
					return true, nil
				}
			}
			if aws.ToString(page.NextToken) == "" {
				return false, nil
			}
			in.NextToken = page.NextToken
		}
	})
}
