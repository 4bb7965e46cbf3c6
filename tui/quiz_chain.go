package tui

import (
	"fmt"

	"github.com/slab-lab/slab/steps"
)

// ChainQuiz is the id of the quiz on the whole chain (the overview's q).
const ChainQuiz = "chain"

// chainLessons are the lessons the chain questions link: the exam tips
// (one section per DOP-C02 domain) and the overview.
var chainLessons = []string{"exam-tips", "overview"}

func init() {
	qs := chainQuestions()
	// Spread the right answers over a-d: written with the answer second,
	// each question is rotated so that answer i lands at i mod 4.
	for i := range qs {
		q := &qs[i]
		n := len(q.Choices)
		shift := (i%n - q.Answer + n) % n
		rot := make([]string, n)
		for j, c := range q.Choices {
			rot[(j+shift)%n] = c
		}
		q.Choices, q.Answer = rot, (q.Answer+shift)%n
	}
	quizBank[ChainQuiz] = qs
}

func chainQuestions() []Question {
	return []Question{
		{
			ID: "chain-decouple", Domain: 3, Section: "3. Resilient Cloud Solutions",
			Prompt: "The event processor publishes faster than the queue processor can write. Which part of the chain keeps the summaries from being lost?",
			Choices: []string{
				"SNS retries each delivery until the function has capacity",
				"The SQS queue holds them until the poller catches up",
				"DynamoDB on-demand absorbs every write burst",
				"EventBridge replays the schedule's missed events from its archive",
			},
			Answer:  1,
			Explain: "The queue buffers between a producer and a slower consumer; Lambda's poller scales with the backlog and the DLQ catches messages that keep failing.",
		},
		{
			ID: "chain-invocation-types", Domain: 5, Section: "5. Incident and Event Response",
			Prompt: "Which of the chain's functions are invoked asynchronously, so their failures go to Lambda's retries and on-failure destinations?",
			Choices: []string{
				"All three, because every trigger in the chain is an AWS service",
				"The S3 and the EventBridge-triggered functions, not the SQS one",
				"Only the SQS-triggered function, through its event source mapping",
				"None; S3, EventBridge and SQS all invoke functions synchronously",
			},
			Answer:  1,
			Explain: "S3 and EventBridge invoke asynchronously (two retries, up to six hours, then a destination or DLQ). The event source mapping polls SQS and invokes synchronously; the queue's redrive policy handles failures.",
		},
		{
			ID: "chain-resource-policies", Domain: 6, Section: "6. Security and Compliance",
			Prompt: "Which resource-based policies does the chain need, besides the functions' execution role?",
			Choices: []string{
				"A bucket policy letting Lambda read the uploads",
				"Function policies for S3 and EventBridge, and a queue policy for SNS",
				"A topic policy letting the event processor publish to it",
				"A table policy letting all three functions write items",
			},
			Answer:  1,
			Explain: "S3 and EventBridge need lambda:InvokeFunction in the function policy (add-permission); SNS needs sqs:SendMessage in the queue policy. Reading the bucket, publishing and writing are the execution role's job.",
		},
		{
			ID: "chain-iac", Domain: 2, Section: "2. Configuration Management and IaC",
			Prompt: "You turn the lab into an AWS SAM template. Which resource stays hard to express, and why?",
			Choices: []string{
				"The table, because SAM has no resource type for DynamoDB",
				"The bucket notification, which creates a circular dependency",
				"The schedule, because SAM cannot express rate expressions",
				"The role, because SAM cannot create roles for functions",
			},
			Answer:  1,
			Explain: "A bucket whose notification targets a function, a function whose permission names the bucket: SAM's S3 event on the function breaks the loop by owning the bucket, or you split the notification into a custom resource.",
		},
		{
			ID: "chain-deploy-safely", Domain: 1, Section: "1. SDLC Automation",
			Prompt: "A new version of the queue processor must go out without risking the whole queue. What is the safest rollout?",
			Choices: []string{
				"Update $LATEST in place during a quiet hour and watch the logs",
				"Publish a version and shift an alias with CodeDeploy, with alarms",
				"Create a second queue and split the topic's traffic by hand",
				"Raise the batch size so that fewer invocations see the new code",
			},
			Answer:  1,
			Explain: "Versions plus an alias let CodeDeploy shift traffic (canary or linear) and roll back automatically on CloudWatch alarms; the event source mapping points at the alias.",
		},
		{
			ID: "chain-observe", Domain: 4, Section: "4. Monitoring and Logging",
			Prompt: "Which single alarm best tells you that summaries have stopped reaching the table through SNS and SQS?",
			Choices: []string{
				"The bucket's NumberOfObjects metric dropping to zero",
				"ApproximateAgeOfOldestMessage on the queue, or its DLQ's depth",
				"The table's ConsumedWriteCapacityUnits staying above zero",
				"The rule's Invocations metric rising above 288 a day",
			},
			Answer:  1,
			Explain: "A growing oldest-message age means the consumer is not keeping up or failing; messages in the DLQ mean they failed for good. Both point at the part of the chain that stopped.",
		},
		{
			ID: "chain-cost", Domain: 2, Section: "Time and cost",
			Prompt: "After the lab, what keeps costing money if it is left in place?",
			Choices: []string{
				"Nothing; Lambda and DynamoDB bill only while they are used",
				"The schedule's runs, the stored versions and the log groups",
				"The IAM role, which is billed per attached policy and month",
				"The SNS subscription, billed per hour while it is confirmed",
			},
			Answer:  1,
			Explain: "The rule invokes the function 288 times a day, the versioned bucket keeps every version, the table and the never-expiring log groups keep what they store. IAM and subscriptions cost nothing by themselves.",
		},
		{
			ID: "chain-idempotency", Domain: 3, Section: "3. Resilient Cloud Solutions",
			Prompt: "Every hop in the chain delivers at least once. Where must the chain deduplicate, so that a row is never written twice?",
			Choices: []string{
				"In SNS, by turning on message deduplication for the topic",
				"In the functions' writes, with deterministic keys and conditions",
				"In SQS, by switching the standard queue to long polling",
				"In S3, by enabling versioning so each upload is one event",
			},
			Answer:  1,
			Explain: "Only the consumer can make duplicates harmless: a key derived from the event (bucket/key#version, the SNS MessageId) plus a conditional put. Standard topics and queues do not deduplicate.",
		},
		{
			ID: "chain-cross-account", Domain: 6, Section: "6. Security and Compliance",
			Prompt: "A second account must send messages to the lab's topic. What has to change?",
			Choices: []string{
				"The queue policy, to allow the other account's principals",
				"The topic policy, to allow sns:Publish from that account",
				"The execution role's trust policy, to trust that account",
				"Nothing, because SNS topics accept publishers from any account",
			},
			Answer:  1,
			Explain: "Cross-account access to a topic is granted in its resource policy (sns:Publish for the other account, ideally with conditions). The queue policy still only needs to trust the topic.",
		},
		{
			ID: "chain-retry-storm", Domain: 5, Section: "5. Incident and Event Response",
			Prompt: "A bad deployment makes the queue processor fail every message. What limits the damage while you roll back?",
			Choices: []string{
				"Delete the queue so that no more messages are delivered",
				"Disable the event source mapping; messages wait in the queue",
				"Lower the visibility timeout so messages are retried sooner",
				"Turn on raw message delivery so messages skip the function",
			},
			Answer:  1,
			Explain: "A disabled mapping stops the poller; messages stay in the queue (up to its retention) and flow again once the mapping is re-enabled after the rollback. Failing them faster only fills the DLQ.",
		},
		{
			ID: "chain-region", Domain: 2, Section: "2. Configuration Management and IaC",
			Prompt: "The team deploys the same lab in eu-west-1 from one script. Which command of the guide breaks there without a change?",
			Choices: []string{
				"Creating the table, because on-demand is us-east-1 only",
				"Creating the bucket, which needs its LocationConstraint",
				"Creating the role, because IAM roles are per Region",
				"Creating the topic, because SNS names must be unique per Region",
			},
			Answer:  1,
			Explain: "Outside us-east-1, create-bucket needs --create-bucket-configuration LocationConstraint=<region>; IAM is global and the other resources take the Region from the client.",
		},
		{
			ID: "chain-tracing", Domain: 4, Section: "4. Monitoring and Logging",
			Prompt: "How do you follow one upload through all three functions to see where its time went?",
			Choices: []string{
				"Search the three log groups by the object key, one at a time",
				"Turn on X-Ray active tracing and follow the trace across hops",
				"Enable S3 server access logs, which log the downstream calls",
				"Read the table's stream, which records each function's timing",
			},
			Answer:  1,
			Explain: "X-Ray propagates the trace through Lambda, SNS and SQS, so one view shows every hop's duration. Logs need correlation ids you add yourself.",
		},
	}
}

// quizName is "step 3" or "the whole chain".
func quizName(id string) string {
	if st := steps.ByID(id); st != nil {
		return fmt.Sprintf("step %d", st.Number)
	}
	return "the whole chain"
}
