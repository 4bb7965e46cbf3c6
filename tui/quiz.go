package tui

import (
	"github.com/slab-lab/slab/lab"
)

// Question is one multiple-choice question in the style of the AWS DevOps
// Engineer Professional exam (DOP-C02): a scenario, four options, one best
// answer, and why.
type Question struct {
	Prompt  string
	Choices []string
	Answer  int // index into Choices
	Explain string
}

// Quiz returns the questions of a step (2-3 per step).
func Quiz(stepID string) []Question { return quizBank[stepID] }

var quizBank = map[string][]Question{
	lab.StepIAMRole: {
		{
			Prompt: "A CodePipeline deploy stage creates a Lambda function through CloudFormation and fails with AccessDenied on iam:PassRole. What fixes it with the least privilege?",
			Choices: []string{
				"Allow iam:PassRole on the function's execution role ARN for the role CloudFormation deploys with (optionally conditioned on iam:PassedToService = lambda.amazonaws.com)",
				"Add lambda.amazonaws.com to the trust policy of the pipeline's deploy role",
				"Attach AWSLambdaBasicExecutionRole to the pipeline's deploy role",
				"Add a resource-based policy to the function that allows codepipeline.amazonaws.com",
			},
			Answer:  0,
			Explain: "Whoever creates or updates a function hands it a role, and handing a role requires iam:PassRole on that role. Scope it to the execution role's ARN; the trust policy and the function policy answer other questions.",
		},
		{
			Prompt: "Which statement about a Lambda function's execution role is correct?",
			Choices: []string{
				"It decides which services and accounts may invoke the function",
				"Its trust policy lets lambda.amazonaws.com assume it, and its permission policies decide what the function's code may call",
				"It needs lambda:InvokeFunction so that S3 can trigger the function",
				"A function can have one execution role per trigger",
			},
			Answer:  1,
			Explain: "The execution role is identity-based: what the code may do. Who may invoke the function is the function's resource-based policy (add-permission), which is what S3, SNS and EventBridge need.",
		},
		{
			Prompt: "Security asks that the lab's functions touch only the lab's bucket, table and topic. The role has AmazonS3FullAccess, AmazonDynamoDBFullAccess, AmazonSNSFullAccess and AmazonSQSFullAccess. What should you do?",
			Choices: []string{
				"Keep the policies and add a permissions boundary that allows *",
				"Add a service control policy that denies lambda:* in the account",
				"Replace them with AWSLambdaBasicExecutionRole, AWSLambdaSQSQueueExecutionRole and a policy that names the lab's resource ARNs; IAM Access Analyzer can generate one from CloudTrail activity",
				"Move the functions into a VPC without internet access",
			},
			Answer:  2,
			Explain: "Least privilege means narrow actions on named resources. The AWS managed Lambda policies cover logging and the SQS poller; an inline or customer managed policy scoped by ARN covers the data. A boundary allowing * changes nothing, and an SCP denying lambda:* breaks everything.",
		},
	},
	lab.StepDynamoDBTable: {
		{
			Prompt: "S3 delivers event notifications at least once, and the processor sometimes writes two items for one upload. How do you make the writes idempotent?",
			Choices: []string{
				"Use Date.now() as the item id so every write is unique",
				"Key items by bucket/key#versionId and write with a condition attribute_not_exists(id), treating ConditionalCheckFailedException as success",
				"Enable DynamoDB Streams on the table",
				"Switch the table to provisioned capacity",
			},
			Answer:  1,
			Explain: "A deterministic key plus a conditional put turns at-least-once delivery into exactly-once storage: the duplicate's write fails its condition, which is the desired outcome.",
		},
		{
			Prompt: "A table sees unpredictable, spiky traffic with long idle periods. Which capacity mode fits, and what is the trap in the guide's cost note?",
			Choices: []string{
				"On-demand; the free 25 WCU/RCU apply to provisioned capacity only, so on-demand pays per request",
				"Provisioned with 25 WCU/RCU; it is always free",
				"On-demand; it includes 25 WCU/RCU free per month",
				"Provisioned without auto scaling; it never throttles",
			},
			Answer:  0,
			Explain: "On-demand needs no capacity planning and costs nothing while idle except storage. Provisioned (with auto scaling) is cheaper for steady load, and only provisioned capacity has the 25 WCU/RCU free allowance.",
		},
		{
			Prompt: "The S3 processor stores each uploaded JSON document in the item. Uploads of 2 MB fail with \"ValidationException: Item size has exceeded the maximum allowed size\". What is the right design?",
			Choices: []string{
				"Raise the table's item size limit with a quota increase",
				"Compress the document and store it in a binary attribute, whatever its size",
				"Keep large documents in S3 and store a pointer (bucket, key, version) and the fields you query in the item",
				"Split the table into a global table",
			},
			Answer:  2,
			Explain: "DynamoDB items are at most 400 KB and that limit cannot be raised. Large payloads belong in S3 with a pointer in the item.",
		},
	},
	lab.StepS3Bucket: {
		{
			Prompt: "Three teams need to react to uploads to one bucket (a Lambda function, a Step Functions workflow and an archiver), each filtering on different object attributes. What should you configure?",
			Choices: []string{
				"Three S3 event notifications for s3:ObjectCreated:* with the same prefix, one per destination",
				"Turn on Amazon EventBridge for the bucket and create one rule per consumer",
				"Replicate the bucket three times, one replica per team",
				"An S3 Lifecycle rule that copies new objects to each team",
			},
			Answer:  1,
			Explain: "Direct notifications cannot overlap on the same event type and prefix/suffix. With EventBridge enabled, every event goes to the default bus, where rules filter on any field and fan out to many targets, with archive and replay.",
		},
		{
			Prompt: "A user deletes an object in a versioned bucket without naming a version. What happens?",
			Choices: []string{
				"The object and all its versions are deleted permanently",
				"S3 adds a delete marker; earlier versions remain and deleting the marker restores the object",
				"Versioning is suspended for that key",
				"The previous versions move to S3 Glacier",
			},
			Answer:  1,
			Explain: "A simple delete in a versioned bucket only adds a delete marker. That is also why `aws s3 rm --recursive` leaves a bucket that cannot be deleted: every version and marker has to go first.",
		},
		{
			Prompt: "A script runs `aws s3api create-bucket --create-bucket-configuration LocationConstraint=us-east-1` and fails with InvalidLocationConstraint. Why?",
			Choices: []string{
				"Bucket names must be globally unique",
				"Versioning must be enabled before the bucket is created",
				"us-east-1 is the default location and must be requested without a LocationConstraint",
				"us-east-1 must be opted in first",
			},
			Answer:  2,
			Explain: "Every other region needs LocationConstraint=<region>; us-east-1 refuses it. A name collision gives BucketAlreadyExists instead.",
		},
	},
	lab.StepS3Processor: {
		{
			Prompt: "S3 invokes a function that fails on some events, and those events are lost. How do you keep them for analysis and replay?",
			Choices: []string{
				"Configure a dead-letter queue on the S3 bucket",
				"Configure an on-failure destination (or a DLQ) for the function's asynchronous invocations",
				"Raise the function's reserved concurrency",
				"Raise the visibility timeout of the function's queue",
			},
			Answer:  1,
			Explain: "S3 invokes Lambda asynchronously. Lambda retries twice by default, keeps events up to 6 hours, then sends them to an on-failure destination or DLQ if one is configured and otherwise drops them.",
		},
		{
			Prompt: "put-bucket-notification-configuration fails with \"Unable to validate the following destination configurations\". What is the most likely cause?",
			Choices: []string{
				"The execution role lacks s3:GetObject",
				"Bucket versioning is disabled",
				"The function's resource-based policy does not allow s3.amazonaws.com to invoke it for this bucket (add-permission with --source-arn and --source-account)",
				"The function runs on arm64",
			},
			Answer:  2,
			Explain: "S3 validates that it may invoke the target when the notification is saved. The permission lives in the function policy; --source-account guards against a deleted bucket name being re-created by someone else.",
		},
		{
			Prompt: "Functions run on a Lambda runtime that has passed its deprecation date. What is true?",
			Choices: []string{
				"They stop being invoked on the deprecation date",
				"Lambda upgrades them to the next runtime version automatically",
				"They keep running without patches; creating, then updating, functions on that runtime gets blocked, so move to a supported runtime such as nodejs22.x or provided.al2023",
				"Only the console stops showing them",
			},
			Answer:  2,
			Explain: "Deprecation stops security patches and later blocks creates and updates (nodejs18.x creation is blocked today). AWS Health and Trusted Advisor list affected functions; OS-only runtimes avoid language runtime deprecations.",
		},
	},
	lab.StepSNSSQS: {
		{
			Prompt: "An SQS subscription to an SNS topic shows as confirmed, but no message reaches the queue. What is the most likely cause?",
			Choices: []string{
				"The subscription must be confirmed through the link in the first message",
				"The queue policy does not allow sns.amazonaws.com sqs:SendMessage with aws:SourceArn equal to the topic ARN",
				"Raw message delivery is off",
				"The queue's retention period is too short",
			},
			Answer:  1,
			Explain: "Same-account SQS subscriptions need no confirmation, so confirmed proves nothing. Without a queue policy letting the topic send, SNS drops deliveries silently.",
		},
		{
			Prompt: "The queue uses SSE-KMS with the AWS managed key aws/sqs, and SNS deliveries fail. What fixes it?",
			Choices: []string{
				"Enable raw message delivery",
				"Give the consumer function's execution role kms:Decrypt",
				"Encrypt the queue with a customer managed key whose key policy lets sns.amazonaws.com use kms:GenerateDataKey and kms:Decrypt",
				"Switch the queue to FIFO",
			},
			Answer:  2,
			Explain: "The AWS managed key's policy cannot be changed, so SNS can never use it. A customer managed key can grant the service principal.",
		},
		{
			Prompt: "You add a dead-letter queue to a queue that Lambda consumes. Which redrive settings follow AWS guidance?",
			Choices: []string{
				"maxReceiveCount 1, so failures surface immediately",
				"maxReceiveCount of at least 5, and a DLQ retention longer than the source queue's",
				"A FIFO dead-letter queue for a standard source queue",
				"A DLQ retention shorter than the source queue's, to save cost",
			},
			Answer:  1,
			Explain: "A low maxReceiveCount dead-letters messages that were only throttled. The message's age counts from its original enqueue, so the DLQ must keep messages longer than the source; alarm on its ApproximateNumberOfMessagesVisible and redrive after a fix.",
		},
	},
	lab.StepEventProcessor: {
		{
			Prompt: "A rule with schedule rate(5 minutes) targets a function created from the CLI. The rule's FailedInvocations metric rises and the function never runs. What is missing?",
			Choices: []string{
				"events:PutEvents in the function's execution role",
				"An IAM role on the rule for the Lambda target",
				"A statement in the function's resource-based policy for events.amazonaws.com with the rule's ARN as source",
				"A cron expression instead of a rate expression",
			},
			Answer:  2,
			Explain: "For Lambda targets EventBridge relies on the function policy (add-permission --principal events.amazonaws.com --source-arn <rule>). The console adds it for you; the CLI does not. Targets such as Step Functions use a role on the rule instead.",
		},
		{
			Prompt: "A job must run at 09:00 Europe/Berlin time all year, across daylight-saving changes, and some runs are one-off. What should you use?",
			Choices: []string{
				"An EventBridge rule with a cron expression",
				"EventBridge Scheduler, which supports time zones and one-time schedules",
				"A function that sleeps until 09:00",
				"A CloudWatch alarm with a period of one day",
			},
			Answer:  1,
			Explain: "Scheduled rules evaluate cron in UTC only; AWS now calls them legacy and recommends EventBridge Scheduler, with time zones, one-time schedules, flexible windows and a role per schedule.",
		},
		{
			Prompt: "When a CodePipeline stage fails, the team wants a notification and an automatic remediation. What is the most operationally efficient design?",
			Choices: []string{
				"A scheduled function that polls the pipeline's state every minute",
				"An EventBridge rule with an event pattern on CodePipeline Stage Execution State Change (state FAILED) targeting SNS and a remediation function or SSM Automation",
				"A CloudWatch Logs metric filter on the pipeline's logs",
				"An AWS Config rule on the pipeline",
			},
			Answer:  1,
			Explain: "Event patterns match AWS service events as they happen; no polling. The same rule can fan out to several targets.",
		},
	},
	lab.StepQueueProcessor: {
		{
			Prompt: "One malformed message in a batch of 10 makes the whole batch return to the queue again and again, and the good messages are processed repeatedly. What fixes it?",
			Choices: []string{
				"Set the batch size to 1",
				"Enable ReportBatchItemFailures on the event source mapping and return the failed message ids in batchItemFailures",
				"Configure an on-failure destination for the function's asynchronous invocations",
				"Lower the queue's visibility timeout",
			},
			Answer:  1,
			Explain: "With partial batch responses only the failed messages return to the queue. Batch size 1 works but multiplies invocations; async destinations do not apply, because the event source mapping invokes synchronously.",
		},
		{
			Prompt: "The queue processor's timeout is 60 seconds. What visibility timeout should its queue have?",
			Choices: []string{
				"30 seconds, the default",
				"60 seconds, equal to the function timeout",
				"At least 360 seconds: six times the function timeout, plus any batching window",
				"12 hours, the maximum",
			},
			Answer:  2,
			Explain: "AWS recommends at least 6x the function timeout so messages do not reappear while retries and throttled invocations are still running. A visibility timeout below the function timeout is rejected when the mapping is created.",
		},
		{
			Prompt: "Messages keep failing in the SQS-triggered function. Where do they end up?",
			Choices: []string{
				"In the function's on-failure destination after two retries",
				"They are dropped after six hours",
				"In the queue's own dead-letter queue, once they have been received maxReceiveCount times",
				"In the SNS topic's dead-letter queue",
			},
			Answer:  2,
			Explain: "Lambda polls the queue with the execution role and invokes synchronously; retries are the queue's redeliveries and the queue's redrive policy moves poison messages to its DLQ. Without one, a poison message is retried until retention expires.",
		},
	},
	lab.StepEndToEnd: {
		{
			Prompt: "`aws lambda invoke` prints StatusCode 200, yet the function threw an exception. How does the caller detect the failure?",
			Choices: []string{
				"The status code would have been 500",
				"The response carries a FunctionError field and the payload holds the error",
				"The CLI exits non-zero",
				"Only X-Ray shows function errors",
			},
			Answer:  1,
			Explain: "A synchronous invoke that ran returns 200 with FunctionError set; non-200 codes mean the invocation itself failed (throttling, permissions, bad payload).",
		},
		{
			Prompt: "S3- and EventBridge-triggered functions fail without anyone noticing. Which signals should you alarm on?",
			Choices: []string{
				"The function's Errors, AsyncEventsDropped and AsyncEventAge metrics, with an on-failure destination configured",
				"ApproximateAgeOfOldestMessage of the bucket",
				"The function's Invocations metric only",
				"ConcurrentExecutions of the account",
			},
			Answer:  0,
			Explain: "Asynchronous invocations report nothing to their caller. Errors shows failures, AsyncEventAge growing means retries pile up, AsyncEventsDropped means events were lost.",
		},
		{
			Prompt: "How long does CloudWatch Logs keep a Lambda function's log group /aws/lambda/<function> by default?",
			Choices: []string{
				"30 days",
				"Until the function is deleted",
				"Forever (never expire), until you set a retention policy or delete the group",
				"One year",
			},
			Answer:  2,
			Explain: "Log groups never expire by default and survive the function, costing storage. Set a retention (put-retention-policy) and delete the groups when you clean up.",
		},
	},
}
