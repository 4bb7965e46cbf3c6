package tui

import (
	"fmt"

	"github.com/slab-lab/slab/lab"
)

// Question is one multiple-choice question in the style of the AWS DevOps
// Engineer Professional exam (DOP-C02): a scenario, four options, one best
// answer, and why. The wrong options are as long and as specific as the
// right one (TestQuizAnswersDoNotStandOut), so length gives nothing away.
type Question struct {
	// ID is stable: the learner's missed questions are kept by it.
	ID      string
	Domain  int // DOP-C02 domain, 1-6 (Domains)
	Prompt  string
	Choices []string
	Answer  int // index into Choices
	Explain string
	// Section is the heading of the step's lesson that teaches it.
	Section string
}

// Domains are the DOP-C02 exam guide's six domains.
var Domains = map[int]string{
	1: "SDLC Automation",
	2: "Configuration Management and IaC",
	3: "Resilient Cloud Solutions",
	4: "Monitoring and Logging",
	5: "Incident and Event Response",
	6: "Security and Compliance",
}

// DomainLabel is "Domain 6: Security and Compliance".
func (q Question) DomainLabel() string {
	return fmt.Sprintf("Domain %d: %s", q.Domain, Domains[q.Domain])
}

// Quiz returns the questions of a step (4 per step).
func Quiz(stepID string) []Question { return quizBank[stepID] }

// QuizMissedFirst orders a step's questions with the ones the learner
// missed last time first, then the rest in their usual order.
func QuizMissedFirst(stepID string, missed []string) []Question {
	was := map[string]bool{}
	for _, id := range missed {
		was[id] = true
	}
	var first, rest []Question
	for _, q := range quizBank[stepID] {
		if was[q.ID] {
			first = append(first, q)
		} else {
			rest = append(rest, q)
		}
	}
	return append(first, rest...)
}

var quizBank = map[string][]Question{
	lab.StepIAMRole: {
		{
			ID: "iam-passrole", Domain: 6, Section: "On the exam",
			Prompt: "A CodePipeline deploy stage creates a Lambda function through CloudFormation and fails with AccessDenied on iam:PassRole. What fixes it with the least privilege?",
			Choices: []string{
				"Allow iam:PassRole on the execution role's ARN to the role CloudFormation deploys with",
				"Add lambda.amazonaws.com to the trust policy of the pipeline's deploy role, so that Lambda can assume the deploy role while CloudFormation creates the function",
				"Attach AWSLambdaBasicExecutionRole to the deploy role",
				"Add a resource-based policy to the function that allows codepipeline.amazonaws.com to call lambda:CreateFunction and lambda:UpdateFunctionConfiguration",
			},
			Answer:  0,
			Explain: "Whoever creates or updates a function hands it a role, and handing a role requires iam:PassRole on that role (optionally conditioned on iam:PassedToService). The trust policy and the function policy answer other questions.",
		},
		{
			ID: "iam-execution-role", Domain: 6, Section: "What and why",
			Prompt: "Which statement about a Lambda function's execution role is correct?",
			Choices: []string{
				"It decides which services and accounts may invoke the function, through the same statements that its permission policies use for the function's own calls",
				"Its trust policy lets lambda.amazonaws.com assume it; its permission policies decide what the code may call",
				"It needs lambda:InvokeFunction on the function's own ARN so that S3, SNS and EventBridge can trigger the function on the learner's behalf",
				"A function can have one execution role per trigger",
			},
			Answer:  1,
			Explain: "The execution role is identity-based: what the code may do. Who may invoke the function is the function's resource-based policy (add-permission), which is what S3, SNS and EventBridge need.",
		},
		{
			ID: "iam-least-privilege", Domain: 6, Section: "Least privilege (recommended)",
			Prompt: "Security asks that the lab's functions touch only the lab's bucket, table and topic. The role has the four FullAccess policies for S3, DynamoDB, SNS and SQS. What should you do?",
			Choices: []string{
				"Keep the four policies and add a permissions boundary that allows * on every resource, so the boundary documents what the role may do without breaking it",
				"Add an SCP that denies lambda:* in the account",
				"Use the Lambda managed policies for logs and the SQS poller, plus a policy naming the lab's ARNs",
				"Move the functions into a VPC without internet access, so that they can only reach the bucket, table and topic through gateway and interface endpoints",
			},
			Answer:  2,
			Explain: "Least privilege means narrow actions on named resources; IAM Access Analyzer can generate such a policy from CloudTrail activity. A boundary allowing * changes nothing, an SCP denying lambda:* breaks everything, and a VPC limits the network, not the permissions.",
		},
		{
			ID: "iam-trust-principal", Domain: 6, Section: "If it goes wrong",
			Prompt: "CreateFunction fails with \"The role defined for the function cannot be assumed by Lambda\" a few seconds after the role was created with the right trust policy. What is the most likely reason?",
			Choices: []string{
				"IAM is eventually consistent: a new role can take seconds to be usable, so retry with backoff",
				"The trust policy must name the function's ARN as its Principal, because Lambda assumes the role per function",
				"The role needs the AWSLambdaRole managed policy before any function can be created with it",
				"The caller is missing lambda:AssumeRole on the role, which CreateFunction checks first",
			},
			Answer:  0,
			Explain: "IAM changes propagate globally with a short delay; a role used right after it was created can be refused. Pipelines retry, or wait on `aws iam wait role-exists` plus a pause. The Principal is the service lambda.amazonaws.com, not a function.",
		},
	},
	lab.StepDynamoDBTable: {
		{
			ID: "ddb-idempotent", Domain: 3, Section: "On the exam",
			Prompt: "S3 delivers event notifications at least once, and the processor sometimes writes two items for one upload. How do you make the writes idempotent?",
			Choices: []string{
				"Use Date.now() as the item id, so that each write gets its own key and the second delivery cannot overwrite the first one's data",
				"Key items by bucket/key#versionId and put with attribute_not_exists(id)",
				"Enable DynamoDB Streams on the table",
				"Switch the table to provisioned capacity with one write capacity unit, so that concurrent duplicate writes are throttled and retried in order",
			},
			Answer:  1,
			Explain: "A deterministic key plus a conditional put turns at-least-once delivery into exactly-once storage: the duplicate's write fails its condition (ConditionalCheckFailedException), which is the desired outcome.",
		},
		{
			ID: "ddb-capacity", Domain: 2, Section: "Changed since the original guide",
			Prompt: "A table sees unpredictable, spiky traffic with long idle periods. Which capacity mode fits, and what is the trap in the guide's cost note?",
			Choices: []string{
				"On-demand; the 25 free WCU/RCU apply only to provisioned capacity",
				"Provisioned with 25 WCU and 25 RCU, because that much capacity is covered by the free tier forever, whatever the traffic",
				"On-demand, because it includes 25 WCU and 25 RCU free each month on top of paying per request for the rest",
				"Provisioned without auto scaling; it never throttles",
			},
			Answer:  0,
			Explain: "On-demand needs no capacity planning and costs nothing while idle except storage. Provisioned (with auto scaling) is cheaper for steady load, and only provisioned capacity has the 25 WCU/RCU free allowance.",
		},
		{
			ID: "ddb-item-size", Domain: 3, Section: "On the exam",
			Prompt: "The S3 processor stores each uploaded JSON document in the item. Uploads of 2 MB fail with a ValidationException about the item size. What is the right design?",
			Choices: []string{
				"Request a Service Quotas increase for the table's maximum item size, which DynamoDB raises per table up to 10 MB",
				"Compress every document with gzip and store it in a binary attribute, which DynamoDB does not count towards the item size",
				"Keep large documents in S3; store a pointer and the queried fields in the item",
				"Turn the table into a global table",
			},
			Answer:  2,
			Explain: "DynamoDB items are at most 400 KB and that limit cannot be raised. Large payloads belong in S3 with a pointer (bucket, key, version) in the item.",
		},
		{
			ID: "ddb-pitr", Domain: 3, Section: "On the exam",
			Prompt: "A bad deployment overwrote items in the table an hour ago. How do you recover the data with the least effort, if it was set up beforehand?",
			Choices: []string{
				"Restore from point-in-time recovery to a new table at a time before the deployment",
				"Roll back the DynamoDB table with the CloudFormation stack's rollback, which restores the items",
				"Read the old values from the table's CloudWatch Logs log group",
				"Ask AWS Support to undo the writes from the table's internal journal",
			},
			Answer:  0,
			Explain: "Point-in-time recovery (continuous backups, 35 days) restores to any second into a new table. A stack rollback restores the table's definition, not its items; DynamoDB keeps no item history in logs.",
		},
	},
	lab.StepS3Bucket: {
		{
			ID: "s3-eventbridge", Domain: 5, Section: "On the exam",
			Prompt: "Three teams need to react to uploads to one bucket (a Lambda function, a Step Functions workflow and an archiver), each filtering on different object attributes. What should you configure?",
			Choices: []string{
				"Three S3 event notifications for s3:ObjectCreated:* with the same prefix and suffix, one per destination, each with its own filter rules on the object's metadata",
				"Turn on Amazon EventBridge for the bucket and create one rule per consumer",
				"Replicate the bucket three times with S3 Replication, one replica per team, and give each replica its own notification configuration",
				"An S3 Lifecycle rule that copies new objects to each team",
			},
			Answer:  1,
			Explain: "Direct notifications cannot overlap on the same event type and prefix/suffix. With EventBridge enabled, every event goes to the default bus, where rules filter on any field and fan out to many targets, with archive and replay.",
		},
		{
			ID: "s3-delete-marker", Domain: 3, Section: "What and why",
			Prompt: "A user deletes an object in a versioned bucket without naming a version. What happens?",
			Choices: []string{
				"The object and all of its earlier versions are deleted permanently, because a delete without a version id applies to the whole key",
				"S3 adds a delete marker; the versions remain, and removing the marker restores the object",
				"Versioning is suspended for that key",
				"The current and previous versions move to S3 Glacier Flexible Retrieval, from which a restore request brings them back",
			},
			Answer:  1,
			Explain: "A simple delete in a versioned bucket only adds a delete marker. That is also why `aws s3 rm --recursive` leaves a bucket that cannot be deleted: every version and marker has to go first.",
		},
		{
			ID: "s3-location-constraint", Domain: 2, Section: "Changed since the original guide",
			Prompt: "A script creates its bucket with --create-bucket-configuration LocationConstraint=us-east-1 and fails with InvalidLocationConstraint. Why?",
			Choices: []string{
				"Bucket names must be globally unique",
				"Versioning has to be enabled in the same call, and us-east-1 refuses buckets created without it",
				"us-east-1 is the default and must be requested without a LocationConstraint",
				"us-east-1 is an opt-in Region, and the account has not enabled it in the account settings yet",
			},
			Answer:  2,
			Explain: "Every other Region needs LocationConstraint=<region>; us-east-1 refuses it. A name collision gives BucketAlreadyExists instead.",
		},
		{
			ID: "s3-versioning-cost", Domain: 3, Section: "On the exam",
			Prompt: "A versioned bucket's storage bill keeps growing although the application overwrites the same few keys. What keeps the protection and bounds the cost?",
			Choices: []string{
				"A lifecycle rule that expires noncurrent versions after N days",
				"Suspend versioning, which deletes the noncurrent versions the bucket kept so far",
				"Enable MFA Delete, which stops overwrites from keeping the old version",
				"Turn on S3 Transfer Acceleration",
			},
			Answer:  0,
			Explain: "Every overwrite keeps the previous version, billed as storage. NoncurrentVersionExpiration (and expiring delete markers) bounds it; suspending versioning keeps the versions already stored.",
		},
	},
	lab.StepS3Processor: {
		{
			ID: "s3fn-async-failure", Domain: 5, Section: "On the exam",
			Prompt: "S3 invokes a function that fails on some events, and those events are lost. How do you keep them for analysis and replay?",
			Choices: []string{
				"Configure a dead-letter queue on the S3 bucket's notification configuration, so that S3 keeps events the function did not accept",
				"Add an on-failure destination (or a DLQ) to the function's async invocations",
				"Raise the function's reserved concurrency",
				"Raise the visibility timeout of the queue that S3 uses internally to hold events for the function",
			},
			Answer:  1,
			Explain: "S3 invokes Lambda asynchronously. Lambda retries twice by default, keeps events up to 6 hours, then sends them to an on-failure destination or DLQ if one is configured and otherwise drops them.",
		},
		{
			ID: "s3fn-permission", Domain: 6, Section: "Connect the bucket",
			Prompt: "put-bucket-notification-configuration fails with \"Unable to validate the following destination configurations\". What is the most likely cause?",
			Choices: []string{
				"The function's execution role lacks s3:GetObject and s3:GetObjectVersion on the bucket, which S3 checks before saving the notification",
				"Bucket versioning is disabled, and S3 only sends notifications to functions from versioned buckets",
				"The function policy does not let s3.amazonaws.com invoke it for this bucket",
				"The function runs on arm64",
			},
			Answer:  2,
			Explain: "S3 validates that it may invoke the target when the notification is saved. The permission lives in the function policy (add-permission); --source-account guards against a deleted bucket name being re-created by someone else.",
		},
		{
			ID: "s3fn-runtime", Domain: 1, Section: "Changed since the original guide",
			Prompt: "Functions run on a Lambda runtime that has passed its deprecation date. What is true?",
			Choices: []string{
				"They stop being invoked on the deprecation date, and every event sent to them afterwards fails with a ResourceConflictException",
				"Lambda upgrades them to the next runtime version automatically during the next maintenance window, keeping the same handler",
				"They run unpatched, then creates and updates get blocked: move to a supported runtime",
				"Only the console stops showing them",
			},
			Answer:  2,
			Explain: "Deprecation stops security patches and later blocks creates and updates. AWS Health and Trusted Advisor list affected functions; OS-only runtimes such as provided.al2023 avoid language runtime deprecations.",
		},
		{
			ID: "s3fn-recursion", Domain: 3, Section: "On the exam",
			Prompt: "A function triggered by uploads to a bucket writes its output back into the same bucket, and the invocations climb without end. What prevents this?",
			Choices: []string{
				"Write output under a prefix or bucket the notification does not match",
				"Lower the function's timeout so each run ends before the next upload",
				"Turn on bucket versioning so a write does not emit a second event",
				"Use a FIFO queue between the bucket and the function",
			},
			Answer:  0,
			Explain: "Every object created matches the notification again. Filter the notification (prefix/suffix) or write elsewhere; Lambda's recursive loop detection stops some loops, but the design should not rely on it.",
		},
	},
	lab.StepSNSSQS: {
		{
			ID: "snssqs-queue-policy", Domain: 6, Section: "What and why",
			Prompt: "An SQS subscription to an SNS topic shows as confirmed, but no message reaches the queue. What is the most likely cause?",
			Choices: []string{
				"The subscription still has to be confirmed through the link that SNS sends in the first message delivered to the queue",
				"The queue policy does not let sns.amazonaws.com send from this topic's ARN",
				"Raw message delivery is off",
				"The queue's message retention period is shorter than the topic's delivery retry policy, so messages expire on the way",
			},
			Answer:  1,
			Explain: "Same-account SQS subscriptions need no confirmation, so confirmed proves nothing. Without a queue policy letting the topic send (aws:SourceArn), SNS drops deliveries silently.",
		},
		{
			ID: "snssqs-kms", Domain: 6, Section: "On the exam",
			Prompt: "The queue uses SSE-KMS with the AWS managed key aws/sqs, and SNS deliveries fail. What fixes it?",
			Choices: []string{
				"Enable raw message delivery on the subscription, so that SNS sends the message body without the envelope that needs encrypting",
				"Give the consumer function's execution role kms:Decrypt on the aws/sqs key, so that the queue can decrypt what SNS sends",
				"Use a customer managed key whose policy lets sns.amazonaws.com use it",
				"Switch the queue to FIFO",
			},
			Answer:  2,
			Explain: "The AWS managed key's policy cannot be changed, so SNS can never use it. A customer managed key can grant the service principal kms:GenerateDataKey and kms:Decrypt.",
		},
		{
			ID: "snssqs-redrive", Domain: 3, Section: "What and why",
			Prompt: "You add a dead-letter queue to a queue that Lambda consumes. Which redrive settings follow AWS guidance?",
			Choices: []string{
				"maxReceiveCount 1, so that a failing message reaches the dead-letter queue at once and the team sees failures immediately",
				"maxReceiveCount of at least 5, and a DLQ retention longer than the source queue's",
				"A FIFO dead-letter queue for the standard source queue, so that failed messages keep their original order for replay",
				"A DLQ retention shorter than the source queue's, to save cost",
			},
			Answer:  1,
			Explain: "A low maxReceiveCount dead-letters messages that were only throttled. A message's age counts from its original enqueue, so the DLQ must keep messages longer than the source; alarm on its depth and redrive after a fix.",
		},
		{
			ID: "snssqs-fanout", Domain: 3, Section: "What and why",
			Prompt: "Why does the lab put an SQS queue between the SNS topic and the queue processor instead of subscribing the function to the topic directly?",
			Choices: []string{
				"The queue buffers bursts and keeps messages through consumer failures",
				"SNS cannot invoke Lambda functions directly; it only delivers to queues",
				"A queue makes delivery exactly once, which SNS cannot do",
				"SQS is cheaper per message than the SNS to Lambda delivery",
			},
			Answer:  0,
			Explain: "SNS can invoke Lambda, but then a slow or failing consumer loses messages after SNS's retries. The queue decouples them: it absorbs bursts, lets the consumer batch, and redrives poison messages to the DLQ. Standard queues are at least once.",
		},
	},
	lab.StepEventProcessor: {
		{
			ID: "events-permission", Domain: 6, Section: "Schedule it",
			Prompt: "A rule with schedule rate(5 minutes) targets a function created from the CLI. The rule's FailedInvocations metric rises and the function never runs. What is missing?",
			Choices: []string{
				"events:PutEvents in the function's execution role, so that the function can accept the events the rule puts on the bus",
				"An IAM role on the rule with lambda:InvokeFunction, which EventBridge needs for every target type including Lambda",
				"A function policy statement for events.amazonaws.com with the rule's ARN",
				"A cron expression instead of a rate expression",
			},
			Answer:  2,
			Explain: "For Lambda targets EventBridge relies on the function policy (add-permission --principal events.amazonaws.com --source-arn <rule>). The console adds it for you; the CLI does not. Targets such as Step Functions use a role on the rule instead.",
		},
		{
			ID: "events-scheduler", Domain: 5, Section: "Changed since the original guide",
			Prompt: "A job must run at 09:00 Europe/Berlin time all year, across daylight-saving changes, and some runs are one-off. What should you use?",
			Choices: []string{
				"An EventBridge scheduled rule with a cron expression in the Europe/Berlin time zone, plus one extra rule per one-off run",
				"EventBridge Scheduler, with time zones and one-time schedules",
				"A function invoked every minute that sleeps until 09:00 Berlin time and then runs the job, skipping days when it already ran",
				"A CloudWatch alarm with a period of one day",
			},
			Answer:  1,
			Explain: "Scheduled rules evaluate cron in UTC only; AWS now calls them legacy and recommends EventBridge Scheduler, with time zones, one-time schedules, flexible windows and a role per schedule.",
		},
		{
			ID: "events-pipeline", Domain: 5, Section: "On the exam",
			Prompt: "When a CodePipeline stage fails, the team wants a notification and an automatic remediation. What is the most operationally efficient design?",
			Choices: []string{
				"A scheduled function that polls the pipeline's state every minute and publishes to SNS and starts the remediation when it finds a failed stage",
				"An EventBridge rule on Stage Execution State Change FAILED targeting SNS and the remediation",
				"A CloudWatch Logs metric filter on the pipeline's log group with an alarm that notifies SNS and runs the remediation as its action",
				"An AWS Config rule on the pipeline",
			},
			Answer:  1,
			Explain: "Event patterns match AWS service events as they happen; no polling. The same rule can fan out to several targets (SNS, a function, SSM Automation).",
		},
		{
			ID: "events-disable", Domain: 4, Section: "Changed since the original guide",
			Prompt: "After testing, the scheduled rule keeps invoking the function 288 times a day. What stops it while keeping the setup for later?",
			Choices: []string{
				"Disable the rule; enable it again when it is needed",
				"Remove the function's invoke permission so every run fails",
				"Set the function's reserved concurrency to the rule's rate",
				"Delete the function's log group",
			},
			Answer:  0,
			Explain: "A disabled rule keeps its schedule and targets and costs nothing. Removing the permission leaves failed invocations (FailedInvocations alarms); deleting logs changes nothing about the runs, which the next invocation re-creates.",
		},
	},
	lab.StepQueueProcessor: {
		{
			ID: "sqs-partial-batch", Domain: 3, Section: "Connect the queue",
			Prompt: "One malformed message in a batch of 10 makes the whole batch return to the queue again and again, and the good messages are processed repeatedly. What fixes it?",
			Choices: []string{
				"Set the event source mapping's batch size to 1, so that each malformed message fails alone and never takes good messages back to the queue with it",
				"Turn on ReportBatchItemFailures and return the failed message ids",
				"Configure an on-failure destination for the function's asynchronous invocations, so the failing batch goes there instead of back to the queue",
				"Lower the queue's visibility timeout",
			},
			Answer:  1,
			Explain: "With partial batch responses only the failed messages return to the queue. Batch size 1 works but multiplies invocations; async destinations do not apply, because the event source mapping invokes synchronously.",
		},
		{
			ID: "sqs-visibility", Domain: 3, Section: "What and why",
			Prompt: "The queue processor's timeout is 60 seconds. What visibility timeout should its queue have?",
			Choices: []string{
				"30 seconds, the default",
				"60 seconds, equal to the function timeout, because a message cannot be processed longer than the function runs",
				"At least 360 seconds: six times the function timeout",
				"12 hours, the maximum, so that no message ever becomes visible again while any consumer might still be working on it",
			},
			Answer:  2,
			Explain: "AWS recommends at least 6x the function timeout (plus any batching window) so messages do not reappear while retries and throttled invocations run. A visibility timeout below the function timeout is rejected when the mapping is created.",
		},
		{
			ID: "sqs-dlq", Domain: 3, Section: "If it goes wrong",
			Prompt: "Messages keep failing in the SQS-triggered function. Where do they end up?",
			Choices: []string{
				"In the function's on-failure destination after Lambda's two automatic retries of the failed batch",
				"They are dropped after six hours",
				"In the queue's DLQ, after maxReceiveCount receives",
				"In the SNS topic's dead-letter queue, because the messages came from the topic's subscription",
			},
			Answer:  2,
			Explain: "Lambda polls the queue with the execution role and invokes synchronously; retries are the queue's redeliveries and the queue's redrive policy moves poison messages to its DLQ. Without one, a poison message is retried until retention expires.",
		},
		{
			ID: "sqs-esm-role", Domain: 6, Section: "What and why",
			Prompt: "Creating the event source mapping fails because Lambda cannot read the queue. Which identity needs sqs:ReceiveMessage?",
			Choices: []string{
				"The function's execution role: the mapping polls with it",
				"The queue policy must name lambda.amazonaws.com as principal",
				"The SNS topic's delivery role, which hands messages on",
				"The caller of CreateEventSourceMapping only",
			},
			Answer:  0,
			Explain: "Lambda's poller uses the execution role for ReceiveMessage, DeleteMessage and GetQueueAttributes (AWSLambdaSQSQueueExecutionRole). No resource policy for lambda.amazonaws.com is needed for a same-account queue.",
		},
	},
	lab.StepEndToEnd: {
		{
			ID: "e2e-function-error", Domain: 4, Section: "Changed since the original guide",
			Prompt: "`aws lambda invoke` prints StatusCode 200, yet the function threw an exception. How does the caller detect the failure?",
			Choices: []string{
				"It cannot: the status code would have been 500 if the function had failed, so a 200 proves the function succeeded",
				"The response carries FunctionError and the payload holds the error",
				"The CLI exits with a non-zero status and prints the function's stack trace to standard error",
				"Only X-Ray shows function errors",
			},
			Answer:  1,
			Explain: "A synchronous invoke that ran returns 200 with FunctionError set; non-200 codes mean the invocation itself failed (throttling, permissions, bad payload).",
		},
		{
			ID: "e2e-async-alarms", Domain: 4, Section: "On the exam",
			Prompt: "S3- and EventBridge-triggered functions fail without anyone noticing. Which signals should you alarm on?",
			Choices: []string{
				"Errors, AsyncEventsDropped and AsyncEventAge, with an on-failure destination",
				"The bucket's ApproximateAgeOfOldestMessage metric, which S3 publishes for events waiting to be delivered to the function",
				"The function's Invocations metric only",
				"The account's ConcurrentExecutions metric, which drops whenever an asynchronous invocation fails",
			},
			Answer:  0,
			Explain: "Asynchronous invocations report nothing to their caller. Errors shows failures, AsyncEventAge growing means retries pile up, AsyncEventsDropped means events were lost.",
		},
		{
			ID: "e2e-log-retention", Domain: 4, Section: "On the exam",
			Prompt: "How long does CloudWatch Logs keep a Lambda function's log group /aws/lambda/<function> by default?",
			Choices: []string{
				"30 days",
				"Until the function is deleted, because Lambda deletes the function's log group with it",
				"Forever, until you set a retention policy or delete the group",
				"One year, the default retention that Lambda sets when it creates the log group at the first invocation",
			},
			Answer:  2,
			Explain: "Log groups never expire by default and survive the function, costing storage. Set a retention (put-retention-policy) and delete the groups when you clean up.",
		},
		{
			ID: "e2e-tracing", Domain: 4, Section: "On the exam",
			Prompt: "An upload takes minutes to show up as a summary, and you need to see which hop of S3, Lambda, SNS and SQS is slow. What gives that view?",
			Choices: []string{
				"Turn on X-Ray active tracing on the functions and follow the trace",
				"Raise every function's memory, which also enables duration metrics",
				"Enable S3 server access logging on the bucket, which logs each hop",
				"Set the queue's delivery delay to 0 so that every hop is logged",
			},
			Answer:  0,
			Explain: "X-Ray traces requests across Lambda, SNS and SQS and shows where time goes. Memory changes speed, not visibility; S3 access logs cover only the upload.",
		},
	},
}
