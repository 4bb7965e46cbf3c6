package cleanup

import (
	"context"
	"errors"
	"fmt"
	"github.com/slab-lab/slab/awserr"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
)

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retry runs fn until it succeeds, fails for good, or the attempts run out.
// Not-found errors are returned as they are: the caller decides whether
// they mean done.
func (c *Cleaner) retry(ctx context.Context, r *Resource, what string, fn func() error) error {
	delay := c.opts.Backoff
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || awserr.IsNotFound(err) || !awserr.IsTransient(err) || attempt >= c.opts.Attempts {
			return err
		}
		c.emit(Event{Resource: r, Status: StatusRetry, Detail: fmt.Sprintf("%s: %s; retrying in %s", what, awserr.Code(err), delay), Err: err})
		if err := sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(delay*2, c.opts.MaxBackoff)
	}
}

// waitGone polls exists until it reports false, or the timeout passes.
func (c *Cleaner) waitGone(ctx context.Context, r *Resource, what string, exists func() (bool, error)) error {
	deadline := time.Now().Add(c.opts.Timeout)
	announced := false
	for {
		ok, err := exists()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is still present after %s", what, c.opts.Timeout)
		}
		if !announced {
			c.emit(Event{Resource: r, Status: StatusWait, Detail: "waiting until " + what + " is gone"})
			announced = true
		}
		if err := sleep(ctx, c.opts.Poll); err != nil {
			return err
		}
	}
}

// Delete deletes one resource with its parts and confirms it is gone with a
// fresh read. It is idempotent: a resource already gone is done. gone
// reports whether it was gone before this call touched it.
func (c *Cleaner) Delete(ctx context.Context, r *Resource) (gone bool, err error) {
	switch r.Kind {
	case KindRule:
		return c.deleteRule(ctx, r)
	case KindNotification:
		return c.deleteNotification(ctx, r)
	case KindMapping:
		return c.deleteMapping(ctx, r)
	case KindFunction:
		return c.deleteFunction(ctx, r)
	case KindTopic:
		return c.deleteTopic(ctx, r)
	case KindQueue:
		return c.deleteQueue(ctx, r)
	case KindBucket:
		return c.deleteBucket(ctx, r)
	case KindTable:
		return c.deleteTable(ctx, r)
	case KindLogGroup:
		return c.deleteLogGroup(ctx, r)
	case KindRole:
		return c.deleteRole(ctx, r)
	}
	return false, fmt.Errorf("unknown resource kind %q", r.Kind)
}

// --- EventBridge: targets, then the rule ---

func (c *Cleaner) ruleExists(ctx context.Context, name string) (bool, error) {
	_, err := c.c.Events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name)})
	if awserr.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func (c *Cleaner) deleteRule(ctx context.Context, r *Resource) (bool, error) {
	ok, err := c.ruleExists(ctx, r.Name)
	if err != nil || !ok {
		return !ok && err == nil, err
	}
	// Targets are listed afresh: the plan may be stale after an interruption.
	for {
		out, err := c.c.Events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(r.Name)})
		if awserr.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("list targets: %w", err)
		}
		if len(out.Targets) == 0 {
			break
		}
		ids := make([]string, 0, len(out.Targets))
		for _, t := range out.Targets {
			ids = append(ids, aws.ToString(t.Id))
		}
		err = c.retry(ctx, r, "remove targets", func() error {
			out, err := c.c.Events.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(r.Name), Ids: ids})
			if err == nil && out.FailedEntryCount > 0 && len(out.FailedEntries) > 0 {
				f := out.FailedEntries[0]
				return &smithy.GenericAPIError{Code: aws.ToString(f.ErrorCode), Message: aws.ToString(f.ErrorMessage)}
			}
			return err
		})
		if awserr.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("remove targets: %w", err)
		}
		c.emit(Event{Resource: r, Status: StatusStep, Detail: "removed targets " + strings.Join(ids, ", ")})
	}
	err = c.retry(ctx, r, "delete rule", func() error {
		_, err := c.c.Events.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(r.Name)})
		return err
	})
	if err != nil && !awserr.IsNotFound(err) {
		return false, err
	}
	return false, c.waitGone(ctx, r, "the rule", func() (bool, error) { return c.ruleExists(ctx, r.Name) })
}

// --- S3 notification: only the lab's configurations ---

func (c *Cleaner) deleteNotification(ctx context.Context, r *Resource) (bool, error) {
	get := func() (*s3.GetBucketNotificationConfigurationOutput, error) {
		return c.c.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(r.Name)})
	}
	cfg, err := get()
	if awserr.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	keep, removed := c.withoutLab(cfg, r)
	if removed == 0 {
		return true, nil
	}
	err = c.retry(ctx, r, "put notification configuration", func() error {
		_, err := c.c.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String(r.Name), NotificationConfiguration: keep})
		return err
	})
	if awserr.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	cfg, err = get()
	if awserr.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("confirm: %w", err)
	}
	if _, left := c.withoutLab(cfg, r); left > 0 {
		return false, fmt.Errorf("%d lab configurations are still on the bucket", left)
	}
	return false, nil
}

// withoutLab returns the configuration without the lab's entries, and how
// many it removed.
func (c *Cleaner) withoutLab(cfg *s3.GetBucketNotificationConfigurationOutput, r *Resource) (*s3types.NotificationConfiguration, int) {
	labTarget := map[string]bool{}
	for _, t := range r.labTargets {
		labTarget[t] = true
	}
	out := &s3types.NotificationConfiguration{EventBridgeConfiguration: cfg.EventBridgeConfiguration}
	removed := 0
	for _, x := range cfg.LambdaFunctionConfigurations {
		if labTarget[aws.ToString(x.LambdaFunctionArn)] {
			removed++
			continue
		}
		out.LambdaFunctionConfigurations = append(out.LambdaFunctionConfigurations, x)
	}
	for _, x := range cfg.QueueConfigurations {
		if labTarget[aws.ToString(x.QueueArn)] {
			removed++
			continue
		}
		out.QueueConfigurations = append(out.QueueConfigurations, x)
	}
	for _, x := range cfg.TopicConfigurations {
		if labTarget[aws.ToString(x.TopicArn)] {
			removed++
			continue
		}
		out.TopicConfigurations = append(out.TopicConfigurations, x)
	}
	return out, removed
}

// --- Lambda: the mapping (deleted in the background), then functions ---

func (c *Cleaner) mappingState(ctx context.Context, uuid string) (string, bool, error) {
	out, err := c.c.Lambda.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
	if awserr.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return aws.ToString(out.State), true, nil
}

func (c *Cleaner) deleteMapping(ctx context.Context, r *Resource) (bool, error) {
	st, ok, err := c.mappingState(ctx, r.Name)
	if err != nil || !ok {
		return !ok && err == nil, err
	}
	if st != "Deleting" {
		err := c.retry(ctx, r, "delete event source mapping", func() error {
			_, err := c.c.Lambda.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: aws.String(r.Name)})
			if awserr.Code(err) == "ResourceInUseException" {
				// Already Deleting (another run, or our own retry): fine.
				if st, _, e := c.mappingState(ctx, r.Name); e == nil && st == "Deleting" {
					return nil
				}
			}
			return err
		})
		if awserr.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
	// The mapping keeps polling the queue until it is gone.
	return false, c.waitGone(ctx, r, "the event source mapping", func() (bool, error) {
		_, ok, err := c.mappingState(ctx, r.Name)
		return ok, err
	})
}

func (c *Cleaner) functionExists(ctx context.Context, name string) (bool, error) {
	_, err := c.c.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if awserr.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func (c *Cleaner) deleteFunction(ctx context.Context, r *Resource) (bool, error) {
	err := c.retry(ctx, r, "delete function", func() error {
		_, err := c.c.Lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(r.Name)})
		return err
	})
	if awserr.IsNotFound(err) {
		ok, err := c.functionExists(ctx, r.Name)
		return !ok && err == nil, err
	}
	if err != nil {
		return false, err
	}
	return false, c.waitGone(ctx, r, "the function", func() (bool, error) { return c.functionExists(ctx, r.Name) })
}

// --- SNS: subscriptions, then the topic ---

func (c *Cleaner) topicExists(ctx context.Context, arn string) (bool, error) {
	_, err := c.c.SNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if awserr.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func (c *Cleaner) deleteTopic(ctx context.Context, r *Resource) (bool, error) {
	ok, err := c.topicExists(ctx, r.ARN)
	if err != nil || !ok {
		return !ok && err == nil, err
	}
	in := &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(r.ARN)}
	var subs []string
	for {
		out, err := c.c.SNS.ListSubscriptionsByTopic(ctx, in)
		if awserr.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("list subscriptions: %w", err)
		}
		for _, s := range out.Subscriptions {
			if a := aws.ToString(s.SubscriptionArn); strings.HasPrefix(a, "arn:") {
				subs = append(subs, a)
			}
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	for _, s := range subs {
		err := c.retry(ctx, r, "unsubscribe", func() error {
			_, err := c.c.SNS.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(s)})
			return err
		})
		if err != nil && !awserr.IsNotFound(err) {
			return false, fmt.Errorf("unsubscribe %s: %w", s, err)
		}
		c.emit(Event{Resource: r, Status: StatusStep, Detail: "unsubscribed " + s})
	}
	err = c.retry(ctx, r, "delete topic", func() error {
		_, err := c.c.SNS.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(r.ARN)})
		return err
	})
	if err != nil && !awserr.IsNotFound(err) {
		return false, err
	}
	return false, c.waitGone(ctx, r, "the topic", func() (bool, error) { return c.topicExists(ctx, r.ARN) })
}

// --- SQS ---

func (c *Cleaner) queueURL(ctx context.Context, name string) (string, bool, error) {
	out, err := c.c.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if awserr.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return aws.ToString(out.QueueUrl), true, nil
}

func (c *Cleaner) deleteQueue(ctx context.Context, r *Resource) (bool, error) {
	url, ok, err := c.queueURL(ctx, r.Name)
	if err != nil || !ok {
		return !ok && err == nil, err
	}
	err = c.retry(ctx, r, "delete queue", func() error {
		_, err := c.c.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)})
		return err
	})
	if err != nil && !awserr.IsNotFound(err) {
		return false, err
	}
	// SQS may answer for up to 60 seconds after the deletion.
	return false, c.waitGone(ctx, r, "the queue", func() (bool, error) {
		_, ok, err := c.queueURL(ctx, r.Name)
		return ok, err
	})
}

// --- S3: every version and delete marker, uploads, then the bucket ---

func (c *Cleaner) bucketExists(ctx context.Context, name string) (bool, error) {
	_, err := c.c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
	if awserr.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// batchSize is DeleteObjects' limit; roundCap bounds the versions held in
// memory per listing round (a bigger bucket takes more rounds).
const (
	batchSize = 1000
	roundCap  = 100 * batchSize
)

// EmptyBucket deletes every object version and delete marker: it lists
// them with ListObjectVersions, page by page (at most 1,000 entries each),
// then deletes them in DeleteObjects batches of at most 1,000 keys, and
// lists again until a listing comes back empty, so versions written
// meanwhile go too. Listing a round completely before deleting keeps the
// pagination markers valid (a marker naming a version already deleted is
// not something to rely on). It returns how many it deleted.
func (c *Cleaner) EmptyBucket(ctx context.Context, r *Resource) (int, error) {
	deleted := 0
	for round := 0; round < 10; round++ {
		var ids []s3types.ObjectIdentifier
		in := &s3.ListObjectVersionsInput{Bucket: aws.String(r.Name), MaxKeys: aws.Int32(batchSize)}
		for len(ids) < roundCap {
			out, err := c.c.S3.ListObjectVersions(ctx, in)
			if err != nil {
				return deleted, err
			}
			for _, v := range out.Versions {
				ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
			}
			for _, m := range out.DeleteMarkers {
				ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
		}
		if len(ids) == 0 {
			break
		}
		for len(ids) > 0 {
			n := min(len(ids), batchSize)
			part := ids[:n]
			var out *s3.DeleteObjectsOutput
			err := c.retry(ctx, r, "delete objects", func() error {
				var err error
				out, err = c.c.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(r.Name), Delete: &s3types.Delete{Objects: part, Quiet: aws.Bool(true)}})
				return err
			})
			if err != nil {
				return deleted, err
			}
			if len(out.Errors) > 0 {
				e := out.Errors[0]
				return deleted, fmt.Errorf("delete objects: %d of %d failed, first %s (version %s): %s: %s", len(out.Errors), n, aws.ToString(e.Key), aws.ToString(e.VersionId), aws.ToString(e.Code), aws.ToString(e.Message))
			}
			deleted += n
			c.emit(Event{Resource: r, Status: StatusStep, Detail: fmt.Sprintf("deleted %s object versions and delete markers", commas(int64(deleted)))})
			ids = ids[n:]
		}
	}
	// Incomplete multipart uploads are billed as storage too.
	uin := &s3.ListMultipartUploadsInput{Bucket: aws.String(r.Name)}
	for {
		out, err := c.c.S3.ListMultipartUploads(ctx, uin)
		if err != nil {
			if awserr.IsNotFound(err) || awserr.Code(err) == "NotImplemented" {
				break
			}
			return deleted, fmt.Errorf("list multipart uploads: %w", err)
		}
		for _, u := range out.Uploads {
			_, err := c.c.S3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(r.Name), Key: u.Key, UploadId: u.UploadId})
			if err != nil && !awserr.IsNotFound(err) && awserr.Code(err) != "NoSuchUpload" {
				return deleted, fmt.Errorf("abort multipart upload %s: %w", aws.ToString(u.Key), err)
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		uin.KeyMarker, uin.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
	return deleted, nil
}

func (c *Cleaner) deleteBucket(ctx context.Context, r *Resource) (bool, error) {
	ok, err := c.bucketExists(ctx, r.Name)
	if err != nil || !ok {
		return !ok && err == nil, err
	}
	for attempt := 0; ; attempt++ {
		if _, err := c.EmptyBucket(ctx, r); err != nil {
			if awserr.IsNotFound(err) {
				return false, nil
			}
			return false, err
		}
		err := c.retry(ctx, r, "delete bucket", func() error {
			_, err := c.c.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(r.Name)})
			return err
		})
		if awserr.Code(err) == "BucketNotEmpty" && attempt < 3 {
			continue // something wrote meanwhile: empty it again
		}
		if err != nil && !awserr.IsNotFound(err) {
			return false, err
		}
		break
	}
	return false, c.waitGone(ctx, r, "the bucket", func() (bool, error) { return c.bucketExists(ctx, r.Name) })
}

// --- DynamoDB: delete, then the TableNotExists waiter ---

func (c *Cleaner) deleteTable(ctx context.Context, r *Resource) (bool, error) {
	out, err := c.c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.Name)})
	if awserr.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if out.Table == nil || out.Table.TableStatus != ddbtypes.TableStatusDeleting {
		err := c.retry(ctx, r, "delete table", func() error {
			_, err := c.c.DynamoDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(r.Name)})
			if awserr.Code(err) == "ResourceInUseException" {
				if d, e := c.c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.Name)}); e == nil && d.Table != nil && d.Table.TableStatus == ddbtypes.TableStatusDeleting {
					return nil // a parallel or earlier deletion is under way
				}
			}
			return err
		})
		if awserr.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
	c.emit(Event{Resource: r, Status: StatusWait, Detail: "waiting until the table no longer exists"})
	w := dynamodb.NewTableNotExistsWaiter(c.c.DynamoDB, func(o *dynamodb.TableNotExistsWaiterOptions) {
		o.MinDelay = c.opts.Poll
		o.MaxDelay = max(c.opts.Poll, min(20*time.Second, c.opts.Timeout))
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.Name)}, c.opts.Timeout); err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, fmt.Errorf("wait for table-not-exists: %w", err)
	}
	return false, nil
}

// --- CloudWatch Logs ---

func (c *Cleaner) logGroupExists(ctx context.Context, name string) (bool, error) {
	out, err := c.c.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	if err != nil {
		return false, err
	}
	for _, g := range out.LogGroups {
		if aws.ToString(g.LogGroupName) == name {
			return true, nil
		}
	}
	return false, nil
}

func (c *Cleaner) deleteLogGroup(ctx context.Context, r *Resource) (bool, error) {
	err := c.retry(ctx, r, "delete log group", func() error {
		_, err := c.c.Logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(r.Name)})
		return err
	})
	gone := awserr.IsNotFound(err)
	if err != nil && !gone {
		return false, err
	}
	ok, err := c.logGroupExists(ctx, r.Name)
	if err != nil {
		return false, fmt.Errorf("confirm: %w", err)
	}
	if ok {
		return false, errors.New("the log group is still there (an invocation may have re-created it)")
	}
	return gone, nil
}

// --- IAM: detach, delete inline, leave instance profiles, then the role ---

func (c *Cleaner) roleExists(ctx context.Context, name string) (bool, error) {
	_, err := c.c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if awserr.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func (c *Cleaner) deleteRole(ctx context.Context, r *Resource) (bool, error) {
	ok, err := c.roleExists(ctx, r.Name)
	if err != nil || !ok {
		return !ok && err == nil, err
	}
	step := func(what string, fn func() error) error {
		err := c.retry(ctx, r, what, fn)
		if err != nil && !awserr.IsNotFound(err) {
			return fmt.Errorf("%s: %w", what, err)
		}
		c.emit(Event{Resource: r, Status: StatusStep, Detail: what})
		return nil
	}
	// Listed afresh, like the rule's targets: a stale plan must not leave
	// a policy attached and the role undeletable.
	var attached []string
	ain := &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(r.Name)}
	for {
		out, err := c.c.IAM.ListAttachedRolePolicies(ctx, ain)
		if awserr.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("list attached policies: %w", err)
		}
		for _, p := range out.AttachedPolicies {
			attached = append(attached, aws.ToString(p.PolicyArn))
		}
		if !out.IsTruncated || out.Marker == nil {
			break
		}
		ain.Marker = out.Marker
	}
	for _, p := range attached {
		if err := step("detach "+p, func() error {
			_, err := c.c.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(r.Name), PolicyArn: aws.String(p)})
			return err
		}); err != nil {
			return false, err
		}
	}
	var inline []string
	pin := &iam.ListRolePoliciesInput{RoleName: aws.String(r.Name)}
	for {
		out, err := c.c.IAM.ListRolePolicies(ctx, pin)
		if awserr.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("list inline policies: %w", err)
		}
		inline = append(inline, out.PolicyNames...)
		if !out.IsTruncated || out.Marker == nil {
			break
		}
		pin.Marker = out.Marker
	}
	for _, p := range inline {
		if err := step("delete inline policy "+p, func() error {
			_, err := c.c.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(r.Name), PolicyName: aws.String(p)})
			return err
		}); err != nil {
			return false, err
		}
	}
	var profiles []string
	iin := &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String(r.Name)}
	for {
		out, err := c.c.IAM.ListInstanceProfilesForRole(ctx, iin)
		if awserr.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("list instance profiles: %w", err)
		}
		for _, p := range out.InstanceProfiles {
			profiles = append(profiles, aws.ToString(p.InstanceProfileName))
		}
		if !out.IsTruncated || out.Marker == nil {
			break
		}
		iin.Marker = out.Marker
	}
	for _, p := range profiles {
		if err := step("remove from instance profile "+p, func() error {
			_, err := c.c.IAM.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{RoleName: aws.String(r.Name), InstanceProfileName: aws.String(p)})
			return err
		}); err != nil {
			return false, err
		}
	}
	err = c.retry(ctx, r, "delete role", func() error {
		_, err := c.c.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(r.Name)})
		return err
	})
	if err != nil && !awserr.IsNotFound(err) {
		return false, err
	}
	return false, c.waitGone(ctx, r, "the role", func() (bool, error) { return c.roleExists(ctx, r.Name) })
}
