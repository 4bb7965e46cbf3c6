package steps

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/lab"
)

// Done reports, with read-only calls, whether a step's main resources exist
// (enough for a later step to build on them). When they do not, missing
// names the first one that is absent. The end-to-end step is never "done":
// no step builds on it.
func Done(ctx context.Context, env *awsenv.Env, n lab.Names, stepID string) (done bool, missing string, err error) {
	p := newPerformer(ctx, env, n, PerformOptions{}, stepID)
	c := p.c
	type probe struct {
		what string
		call func() error
		gone []string // error codes that mean "does not exist"
	}
	fn := func(name string) probe {
		return probe{"Lambda function " + name, func() error {
			_, err := c.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: str(name)})
			return err
		}, []string{"ResourceNotFoundException"}}
	}
	var probes []probe
	switch stepID {
	case lab.StepIAMRole:
		probes = append(probes, probe{"IAM role " + n.Role, func() error {
			_, err := c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: str(n.Role)})
			return err
		}, []string{"NoSuchEntity"}})
	case lab.StepDynamoDBTable:
		probes = append(probes, probe{"DynamoDB table " + n.Table, func() error {
			_, err := c.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: str(n.Table)})
			return err
		}, []string{"ResourceNotFoundException"}})
	case lab.StepS3Bucket:
		if n.Bucket == "" {
			return false, "the lab's bucket (no name chosen yet)", nil
		}
		probes = append(probes, probe{"S3 bucket " + n.Bucket, func() error {
			_, err := c.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: str(n.Bucket)})
			return err
		}, []string{"NotFound", "NoSuchBucket"}})
	case lab.StepS3Processor:
		probes = append(probes, fn(n.S3Function))
	case lab.StepSNSSQS:
		probes = append(probes, probe{"SNS topic " + n.Topic, func() error {
			_, err := c.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: str(p.topicArn())})
			return err
		}, []string{"NotFound", "NotFoundException"}}, probe{"SQS queue " + n.Queue, func() error {
			_, err := c.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: str(n.Queue)})
			return err
		}, []string{"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}})
	case lab.StepEventProcessor:
		probes = append(probes, fn(n.EventFunction), probe{"EventBridge rule " + n.Rule, func() error {
			_, err := c.events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: str(n.Rule)})
			return err
		}, []string{"ResourceNotFoundException"}})
	case lab.StepQueueProcessor:
		probes = append(probes, fn(n.QueueFunction), probe{"event source mapping " + n.Queue + " -> " + n.QueueFunction, func() error {
			out, err := c.lambda.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: str(n.QueueFunction), EventSourceArn: str(p.queueArn())})
			if err == nil && len(out.EventSourceMappings) == 0 {
				return errMissing
			}
			return err
		}, []string{"ResourceNotFoundException"}})
	case lab.StepEndToEnd:
		return false, "the end-to-end test", nil
	default:
		return false, "", fmt.Errorf("unknown step %q", stepID)
	}
	for _, pr := range probes {
		err := pr.call()
		if err == errMissing || isCode(err, pr.gone...) {
			return false, pr.what, nil
		}
		if err != nil {
			return false, "", fmt.Errorf("%s: %w", pr.what, explain(err, ""))
		}
	}
	return true, "", nil
}

var errMissing = fmt.Errorf("missing")
