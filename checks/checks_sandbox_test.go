package checks_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/content"
	"github.com/slab-lab/slab/internal/testenv"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/sandbox"
)

// variant is one setup of one check: the passing setup and each failing
// (or warning, or skipping) variant the lab's traps call for.
type variant struct {
	name    string
	check   string
	setup   func(f *fx, b *labSetup) lab.Names
	opts    checks.Options
	status  checks.Status
	summary string // must appear in the summary
	hint    string // must appear in the hint ("" = not asserted)
	// evidence must each appear in one evidence line ("" = not asserted).
	evidence []string
}

var hintLink = regexp.MustCompile("`slab show troubleshooting` → ([a-z0-9-]+)")

// assertResult checks status, summary and hint, and that every
// troubleshooting link names a real section.
func assertResult(t *testing.T, v variant, got checks.Result) {
	t.Helper()
	for _, want := range v.evidence {
		if !slices.ContainsFunc(got.Evidence, func(e string) bool { return strings.Contains(e, want) }) {
			t.Errorf("%s: no evidence line with %q: %q", v.check, want, got.Evidence)
		}
	}
	t.Helper()
	if got.Status != v.status || !strings.Contains(got.Summary, v.summary) || (v.hint != "" && !strings.Contains(got.Hint, v.hint)) {
		t.Errorf("%s: want %s %q (hint %q), got:\n%s", v.check, v.status, v.summary, v.hint, dump(got))
	} else if testing.Verbose() {
		t.Logf("%s %s: %s\n  hint: %s", got.Status, got.CheckID, got.Summary, got.Hint)
	}
	assertLinks(t, got)
}

func assertLinks(t *testing.T, r checks.Result) {
	t.Helper()
	ids := map[string]bool{}
	for _, id := range content.TroubleshootingIDs() {
		ids[id] = true
	}
	for _, m := range hintLink.FindAllStringSubmatch(r.Hint, -1) {
		if !ids[m[1]] {
			t.Errorf("%s: hint links unknown troubleshooting section %q", r.CheckID, m[1])
		}
	}
	if r.Status == checks.Fail && r.Hint == "" {
		t.Errorf("%s: a Fail without a hint", r.CheckID)
	}
}

func TestHintIDsExist(t *testing.T) {
	ids := map[string]bool{}
	for _, id := range content.TroubleshootingIDs() {
		ids[id] = true
	}
	for _, id := range checks.HintIDs {
		if !ids[id] {
			t.Errorf("hint id %q is not a troubleshooting section", id)
		}
	}
}

// same returns the base names with changes.
func same(b *labSetup, mod func(n *lab.Names)) lab.Names {
	n := b.N
	if mod != nil {
		mod(&n)
	}
	return n
}

func TestFullLabPassesEveryCheckWithoutMutating(t *testing.T) {
	f := newFx(t)
	b := f.FullLab(f.Names())
	var mark uint64
	if f.Srv != nil {
		mark = f.Srv.AuditMark()
	}
	rep := f.run(b.N, checks.Options{Concurrency: 8})
	if len(rep.Results) != len(checks.Select(checks.Options{})) {
		t.Fatalf("%d results", len(rep.Results))
	}
	for _, r := range rep.Results {
		if r.Status != checks.Pass {
			t.Errorf("%s: %s", r.CheckID, dump(r))
		}
		assertLinks(t, r)
	}
	if rep.Summary.Score != rep.Summary.MaxScore || rep.Summary.Pass != len(rep.Results) {
		t.Errorf("summary %+v", rep.Summary)
	}
	for _, s := range rep.Steps {
		if s.Status != checks.Pass {
			t.Errorf("step %s: %s", s.ID, s.Status)
		}
	}
	if testenv.External() {
		t.Skip("the audit log is the in-process sandbox's: the no-mutation assertion runs there only")
	}
	if m := f.Srv.MutatingSince(mark); len(m) > 0 {
		t.Errorf("checks.Run without Probe made mutating calls: %+v", m)
	}
	var calls int
	perOp := map[string]int{}
	for _, e := range f.Srv.AuditSince(mark) {
		if !e.Internal {
			calls++
			perOp[e.Service+":"+e.Operation]++
		}
	}
	// The per-run cache: one describe per resource, however many checks read it.
	for op, max := range map[string]int{"lambda:GetFunctionConfiguration": 3, "sqs:GetQueueAttributes": 1, "sqs:GetQueueUrl": 1, "iam:GetRole": 1,
		"dynamodb:DescribeTable": 1, "sns:GetTopicAttributes": 1, "sns:ListSubscriptionsByTopic": 1, "events:DescribeRule": 1,
		"s3:GetBucketLocation": 1, "lambda:GetPolicy": 2, "logs:DescribeLogGroups": 3} {
		if perOp[op] > max {
			t.Errorf("%s called %d times in one run, want at most %d", op, perOp[op], max)
		}
	}
	t.Logf("%d checks, %d API calls, %s", len(rep.Results), calls, rep.Duration)
}

func iamVariants() []variant {
	ec2Trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	listTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com"]},"Action":["sts:AssumeRole"]}]}`
	denyTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	guide := []string{basicExec, s3Full, dynamoFull, snsFull, sqsFull}
	// withRole gives the checked names a new role with these policies.
	withRole := func(trust string, managed []string, inline func(f *fx, n lab.Names) map[string]string) func(f *fx, b *labSetup) lab.Names {
		return func(f *fx, b *labSetup) lab.Names {
			n := b.N
			n.Role = "role-" + unique()
			var in map[string]string
			if inline != nil {
				in = inline(f, n)
			}
			f.Role(n.Role, trust, managed, in)
			return n
		}
	}
	doc := func(stmts ...string) string {
		return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
	}
	return []variant{
		{name: "missing role", check: "iam-role.exists", status: checks.Fail, summary: "does not exist", hint: "slab show iam-role",
			setup: func(f *fx, b *labSetup) lab.Names {
				return same(b, func(n *lab.Names) { n.Role = "missing-" + unique() })
			}},
		{name: "trust for ec2", check: "iam-role.trust-policy", status: checks.Fail, summary: "does not let lambda.amazonaws.com", hint: "role-propagation",
			setup: withRole(ec2Trust, []string{basicExec}, nil)},
		{name: "trust with a principal list", check: "iam-role.trust-policy", status: checks.Pass, summary: "may assume",
			setup: withRole(listTrust, nil, nil)},
		{name: "trust with a deny", check: "iam-role.trust-policy", status: checks.Fail, summary: "denies",
			setup: withRole(denyTrust, nil, nil)},
		{name: "trust without a role", check: "iam-role.trust-policy", status: checks.Skip, summary: "does not exist",
			setup: func(f *fx, b *labSetup) lab.Names {
				return same(b, func(n *lab.Names) { n.Role = "missing-" + unique() })
			}},
		{name: "no logging policy", check: "iam-role.logging", status: checks.Fail, summary: "logs:CreateLogGroup", hint: "lambda-permission-errors",
			setup: withRole(lambdaTrust, nil, nil)},
		{name: "console-style scoped logging", check: "iam-role.logging", status: checks.Pass, summary: "may logs:CreateLogGroup",
			setup: withRole(lambdaTrust, nil, func(f *fx, n lab.Names) map[string]string {
				var groups []string
				for _, fn := range []string{n.S3Function, n.EventFunction, n.QueueFunction} {
					groups = append(groups, fmt.Sprintf("%q", f.ARN("logs", "log-group:/aws/lambda/"+fn+":*")))
				}
				return map[string]string{"logs": doc(
					fmt.Sprintf(`{"Effect":"Allow","Action":"logs:CreateLogGroup","Resource":"arn:aws:logs:%s:%s:*"}`, f.Env.Region, f.Env.Account),
					`{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":[`+strings.Join(groups, ",")+`]}`)}
			})},
		{name: "the guide's FullAccess policies", check: "iam-role.s3-read", status: checks.Warn, summary: "AmazonS3FullAccess",
			setup: withRole(lambdaTrust, guide, nil)},
		{name: "no s3 permission", check: "iam-role.s3-read", status: checks.Fail, summary: "may not s3:GetObject",
			setup: withRole(lambdaTrust, []string{basicExec}, nil)},
		{name: "GetObject without GetObjectVersion", check: "iam-role.s3-read", status: checks.Warn, summary: "s3:GetObjectVersion",
			setup: withRole(lambdaTrust, nil, func(f *fx, n lab.Names) map[string]string {
				return map[string]string{"s3": doc(fmt.Sprintf(`{"Effect":"Allow","Action":"S3:GetObject","Resource":"arn:aws:s3:::%s/*"}`, n.Bucket))}
			})},
		{name: "deny overrides allow on objects", check: "iam-role.s3-read", status: checks.Fail, summary: "explicitly denied", hint: "Deny overrides",
			setup: withRole(lambdaTrust, []string{s3Full}, func(f *fx, n lab.Names) map[string]string {
				return map[string]string{"deny": doc(fmt.Sprintf(`{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/*"}`, n.Bucket))}
			})},
		{name: "no bucket yet", check: "iam-role.s3-read", status: checks.Skip, summary: "verified in step 3 (s3-bucket): needs the lab bucket",
			setup: func(f *fx, b *labSetup) lab.Names {
				return same(b, func(n *lab.Names) { n.Bucket, n.BucketPrefix = "", "none-"+unique()+"-" })
			}},
		{name: "the guide's FullAccess policies", check: "iam-role.dynamodb-write", status: checks.Warn, summary: "AmazonDynamoDBFullAccess",
			setup: withRole(lambdaTrust, guide, nil)},
		{name: "PutItem without Scan", check: "iam-role.dynamodb-write", status: checks.Fail, summary: "may not dynamodb:Scan",
			setup: withRole(lambdaTrust, nil, func(f *fx, n lab.Names) map[string]string {
				return map[string]string{"ddb": doc(fmt.Sprintf(`{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":%q}`, f.ARN("dynamodb", "table/"+n.Table)))}
			})},
		{name: "policy names another table", check: "iam-role.dynamodb-write", status: checks.Fail, summary: "may not dynamodb:PutItem",
			setup: withRole(lambdaTrust, nil, func(f *fx, n lab.Names) map[string]string {
				return map[string]string{"ddb": doc(fmt.Sprintf(`{"Effect":"Allow","Action":["dynamodb:PutItem","dynamodb:Scan"],"Resource":%q}`, f.ARN("dynamodb", "table/other")))}
			})},
		{name: "deny overrides FullAccess", check: "iam-role.dynamodb-write", status: checks.Fail, summary: "explicitly denied dynamodb:PutItem",
			setup: withRole(lambdaTrust, []string{dynamoFull}, func(f *fx, n lab.Names) map[string]string {
				return map[string]string{"deny": doc(fmt.Sprintf(`{"Effect":"Deny","Action":"dynamodb:Put*","Resource":%q}`, f.ARN("dynamodb", "table/"+n.Table)))}
			})},
		{name: "the guide's FullAccess policies", check: "iam-role.sns-publish", status: checks.Warn, summary: "AmazonSNSFullAccess",
			setup: withRole(lambdaTrust, guide, nil)},
		{name: "no publish", check: "iam-role.sns-publish", status: checks.Fail, summary: "may not sns:Publish",
			setup: withRole(lambdaTrust, []string{basicExec, sqsExec}, nil)},
		{name: "the guide's FullAccess policies", check: "iam-role.sqs-consume", status: checks.Warn, summary: "AmazonSQSFullAccess",
			setup: withRole(lambdaTrust, guide, nil)},
		{name: "no sqs permission", check: "iam-role.sqs-consume", status: checks.Fail, summary: "may not sqs:ReceiveMessage", hint: "esm-permission",
			setup: withRole(lambdaTrust, []string{basicExec}, nil)},
		{name: "SQS:* on the queue", check: "iam-role.sqs-consume", status: checks.Pass, summary: "may sqs:ReceiveMessage",
			setup: withRole(lambdaTrust, nil, func(f *fx, n lab.Names) map[string]string {
				return map[string]string{"sqs": doc(fmt.Sprintf(`{"Effect":"Allow","Action":"SQS:*","Resource":%q}`, f.ARN("sqs", n.Queue)))}
			})},
	}
}

func storageVariants() []variant {
	return []variant{
		{name: "missing table", check: "dynamodb-table.exists", status: checks.Fail, summary: "does not exist", hint: "slab show dynamodb-table",
			setup: func(f *fx, b *labSetup) lab.Names {
				return same(b, func(n *lab.Names) { n.Table = "missing-" + unique() })
			}},
		{name: "missing table", check: "dynamodb-table.key-schema", status: checks.Skip, summary: "does not exist",
			setup: func(f *fx, b *labSetup) lab.Names {
				return same(b, func(n *lab.Names) { n.Table = "missing-" + unique() })
			}},
		{name: "composite key", check: "dynamodb-table.key-schema", status: checks.Fail, summary: "not id (S, HASH)",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Table = "t-" + unique() })
				f.Table(n.Table, func(in *dynamodb.CreateTableInput) {
					in.AttributeDefinitions = append(in.AttributeDefinitions, dtypes.AttributeDefinition{AttributeName: aws.String("ts"), AttributeType: dtypes.ScalarAttributeTypeN})
					in.KeySchema = append(in.KeySchema, dtypes.KeySchemaElement{AttributeName: aws.String("ts"), KeyType: dtypes.KeyTypeRange})
				})
				return n
			}},
		{name: "numeric id", check: "dynamodb-table.key-schema", status: checks.Fail, summary: "id N HASH",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Table = "t-" + unique() })
				f.Table(n.Table, func(in *dynamodb.CreateTableInput) {
					in.AttributeDefinitions[0].AttributeType = dtypes.ScalarAttributeTypeN
				})
				return n
			}},
		{name: "provisioned", check: "dynamodb-table.billing-mode", status: checks.Warn, summary: "provisioned",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Table = "t-" + unique() })
				f.Table(n.Table, func(in *dynamodb.CreateTableInput) {
					in.BillingMode = dtypes.BillingModeProvisioned
					in.ProvisionedThroughput = &dtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
				})
				return n
			}},
		{name: "found by prefix", check: "s3-bucket.exists", status: checks.Pass, summary: "found by its",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Bucket, n.BucketPrefix = "", "disc-"+unique()+"-" })
				f.Bucket(n.BucketFor(f.Env.Account, 1764000000), "", s3types.BucketVersioningStatusEnabled)
				return n
			}},
		{name: "several lab buckets", check: "s3-bucket.exists", status: checks.Warn, summary: "2 lab buckets",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Bucket, n.BucketPrefix = "", "many-"+unique()+"-" })
				f.Bucket(n.BucketFor(f.Env.Account, 1764000000), "", "")
				f.Bucket(n.BucketFor(f.Env.Account, 1764000100), "", "")
				return n
			}},
		{name: "no bucket", check: "s3-bucket.exists", status: checks.Fail, summary: "no lab bucket", hint: "lost-shell-variables",
			setup: func(f *fx, b *labSetup) lab.Names {
				return same(b, func(n *lab.Names) { n.Bucket, n.BucketPrefix = "", "none-"+unique()+"-" })
			}},
		{name: "state names a missing bucket", check: "s3-bucket.exists", status: checks.Fail, summary: "does not exist",
			setup: func(f *fx, b *labSetup) lab.Names {
				return same(b, func(n *lab.Names) {
					n.BucketPrefix = "gone-" + unique() + "-"
					n.Bucket = n.BucketFor(f.Env.Account, 1764000000)
				})
			}},
		{name: "state bucket missing, another found", check: "s3-bucket.exists", status: checks.Warn, summary: "from slab's state does not exist",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.BucketPrefix = "other-" + unique() + "-" })
				n.Bucket = n.BucketFor(f.Env.Account, 1764000000)
				f.Bucket(n.BucketFor(f.Env.Account, 1764000200), "", "")
				return n
			}},
		{name: "bucket in another region", check: "s3-bucket.region", status: checks.Fail, summary: "is in eu-west-1", hint: "bucket-region",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Bucket = n.BucketFor(f.Env.Account, time.Now().UnixNano()) })
				f.Bucket(n.Bucket, "eu-west-1", "")
				return n
			}},
		{name: "versioning never enabled", check: "s3-bucket.versioning", status: checks.Fail, summary: "never enabled", hint: "put-bucket-versioning",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Bucket = n.BucketFor(f.Env.Account, time.Now().UnixNano()) })
				f.Bucket(n.Bucket, "", "")
				return n
			}},
		{name: "versioning suspended", check: "s3-bucket.versioning", status: checks.Fail, summary: "suspended",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Bucket = n.BucketFor(f.Env.Account, time.Now().UnixNano()) })
				f.Bucket(n.Bucket, "", s3types.BucketVersioningStatusEnabled)
				f.bucket2Suspend(n.Bucket)
				return n
			}},
	}
}

func functionVariants() []variant {
	// newFn points the names at a new s3 processor created with mod.
	newFn := func(mod func(*lambda.CreateFunctionInput)) func(f *fx, b *labSetup) lab.Names {
		return func(f *fx, b *labSetup) lab.Names {
			n := same(b, func(n *lab.Names) { n.S3Function = "fn-" + unique() })
			f.Function(n.S3Function, b.RoleArn, map[string]string{"TABLE_NAME": n.Table}, mod)
			return n
		}
	}
	summerFn := func(rt ltypes.Runtime) func(f *fx, b *labSetup) lab.Names {
		return func(f *fx, b *labSetup) lab.Names {
			testenv.RequireSandbox(f.T, f.Srv, "a function on a runtime blocked today")
			return newFn(func(in *lambda.CreateFunctionInput) { in.Runtime, in.Handler = rt, aws.String("index.handler") })(f, b)
		}
	}
	return []variant{
		{name: "missing function", check: "s3-processor.function", status: checks.Fail, summary: "does not exist", hint: "slab show s3-processor",
			setup: func(f *fx, b *labSetup) lab.Names {
				return same(b, func(n *lab.Names) { n.S3Function = "missing-" + unique() })
			}},
		{name: "pending", check: "s3-processor.function", status: checks.Warn, summary: "not ready yet", hint: "not-ready-yet", setup: newFn(nil)},
		{name: "another role", check: "s3-processor.function", status: checks.Fail, summary: "runs as role",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.S3Function = "fn-" + unique() })
				other := f.Role("other-"+unique(), lambdaTrust, []string{basicExec}, nil)
				f.Function(n.S3Function, other, nil, nil)
				return n
			}},
		// A function made in the summer of 2026 (see summerRuntimes),
		// judged today, before its create block, and on nodejs22.x after
		// its update block: the three phases of a runtime's end.
		{name: "nodejs20.x today", check: "s3-processor.runtime", status: checks.Fail, summary: "blocked for new functions (deprecated since 2026-04-30, creating functions blocked since 2026-08-31)", hint: "runtime-deprecated",
			setup: summerFn(ltypes.RuntimeNodejs20x)},
		{name: "nodejs20.x in June 2026", check: "s3-processor.runtime", status: checks.Fail, summary: "deprecated: no more security patches (deprecated since 2026-04-30, creating functions blocked from 2026-08-31)", hint: "runtime-deprecated",
			opts:  checks.Options{Now: func() time.Time { return time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC) }},
			setup: summerFn(ltypes.RuntimeNodejs20x)},
		{name: "nodejs22.x after its update block", check: "s3-processor.runtime", status: checks.Fail, summary: "can no longer be created or updated",
			opts: checks.Options{Now: func() time.Time { return time.Date(2027, 7, 10, 0, 0, 0, 0, time.UTC) }},
			setup: newFn(func(in *lambda.CreateFunctionInput) {
				in.Runtime, in.Handler = ltypes.RuntimeNodejs22x, aws.String("index.handler")
			})},
		{name: "nodejs22.x", check: "s3-processor.runtime", status: checks.Pass, summary: "nodejs22.x (Node.js 22) is supported",
			setup: newFn(func(in *lambda.CreateFunctionInput) {
				in.Runtime, in.Handler = ltypes.RuntimeNodejs22x, aws.String("index.handler")
			})},
		{name: "timeout 60", check: "s3-processor.config", status: checks.Warn, summary: "timeout 60 s",
			setup: newFn(func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(60) })},
		{name: "memory 128", check: "s3-processor.config", status: checks.Warn, summary: "memory 128 MB",
			setup: newFn(func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(128) })},
		{name: "missing function", check: "s3-processor.config", status: checks.Skip, summary: "does not exist",
			setup: func(f *fx, b *labSetup) lab.Names {
				return same(b, func(n *lab.Names) { n.S3Function = "missing-" + unique() })
			}},
		{name: "no source account", check: "s3-processor.invoke-permission", status: checks.Warn, summary: "SourceAccount", hint: "--source-account",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := newFn(nil)(f, b)
				f.Permission(n.S3Function, "s3-trigger", "s3.amazonaws.com", "arn:aws:s3:::"+n.Bucket, "")
				return n
			}},
		{name: "no permission", check: "s3-processor.invoke-permission", status: checks.Fail, summary: "no resource-based policy", hint: "s3-invoke-permission",
			setup: newFn(nil)},
		{name: "permission for another bucket", check: "s3-processor.invoke-permission", status: checks.Fail, summary: "names another source",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := newFn(nil)(f, b)
				f.Permission(n.S3Function, "s3-trigger", "s3.amazonaws.com", "arn:aws:s3:::some-other-bucket", f.Env.Account)
				return n
			}},
		{name: "permission for another service", check: "s3-processor.invoke-permission", status: checks.Fail, summary: "no statement lets s3.amazonaws.com",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := newFn(nil)(f, b)
				f.Permission(n.S3Function, "sns-trigger", "sns.amazonaws.com", "arn:aws:s3:::"+n.Bucket, "")
				return n
			}},
		{name: "ObjectCreated:Put only", check: "s3-processor.notification", status: checks.Warn, summary: "multipart",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := f.notifiedBucket(b, b.S3Fn, []s3types.Event{"s3:ObjectCreated:Put"}, ".json")
				return n
			}},
		{name: ".JSON suffix", check: "s3-processor.notification", status: checks.Fail, summary: "case-sensitive", hint: "notification-not-firing",
			setup: func(f *fx, b *labSetup) lab.Names {
				return f.notifiedBucket(b, b.S3Fn, []s3types.Event{"s3:ObjectCreated:*"}, ".JSON")
			}},
		{name: "no suffix", check: "s3-processor.notification", status: checks.Warn, summary: "no suffix filter",
			setup: func(f *fx, b *labSetup) lab.Names {
				return f.notifiedBucket(b, b.S3Fn, []s3types.Event{"s3:ObjectCreated:*"}, "")
			}},
		{name: "no notification", check: "s3-processor.notification", status: checks.Fail, summary: "has no notification",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Bucket = n.BucketFor(f.Env.Account, time.Now().UnixNano()) })
				f.Bucket(n.Bucket, "", s3types.BucketVersioningStatusEnabled)
				return n
			}},
		{name: "notifies another function", check: "s3-processor.notification", status: checks.Fail, summary: "not " + "arn:aws:lambda", hint: "lost-shell-variables",
			setup: func(f *fx, b *labSetup) lab.Names {
				other := f.Function("other-"+unique(), b.RoleArn, nil, nil)
				f.WaitActive(other[strings.LastIndex(other, ":")+1:])
				return f.notifiedBucket(b, other, []s3types.Event{"s3:ObjectCreated:*"}, ".json")
			}},
	}
}

// notifiedBucket makes a new bucket notifying fnArn and points the names at it.
func (f *fx) notifiedBucket(b *labSetup, fnArn string, events []s3types.Event, suffix string) lab.Names {
	n := same(b, func(n *lab.Names) { n.Bucket = n.BucketFor(f.Env.Account, time.Now().UnixNano()) })
	f.Bucket(n.Bucket, "", s3types.BucketVersioningStatusEnabled)
	fn := fnArn[strings.LastIndex(fnArn, ":")+1:]
	f.Permission(fn, "s3-"+unique(), "s3.amazonaws.com", "arn:aws:s3:::"+n.Bucket, f.Env.Account)
	f.Notification(n.Bucket, jsonConfig(fnArn, events, suffix))
	return n
}

func (f *fx) bucket2Suspend(bucket string) {
	f.T.Helper()
	_, err := f.S3.PutBucketVersioning(f.Ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}})
	f.Must(err, "suspend versioning")
}

func messagingVariants() []variant {
	// withQueue points the names at a new queue with this policy (after
	// {{Q}} and {{T}} are replaced by the queue's and the topic's ARNs).
	withQueue := func(policyDoc string, attrs map[string]string) func(f *fx, b *labSetup) lab.Names {
		return func(f *fx, b *labSetup) lab.Names {
			n := same(b, func(n *lab.Names) { n.Queue = "q-" + unique() })
			url, arn := f.Queue(n.Queue, attrs)
			if policyDoc != "" {
				f.SetQueuePolicy(url, strings.NewReplacer("{{Q}}", arn, "{{T}}", b.TopicArn).Replace(policyDoc))
			}
			return n
		}
	}
	stmt := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	return []variant{
		{name: "missing topic", check: "sns-sqs.topic", status: checks.Fail, summary: "does not exist", hint: "slab show sns-sqs",
			setup: func(f *fx, b *labSetup) lab.Names {
				return same(b, func(n *lab.Names) { n.Topic = "missing-" + unique() })
			}},
		{name: "missing queue", check: "sns-sqs.queue", status: checks.Fail, summary: "does not exist",
			setup: func(f *fx, b *labSetup) lab.Names {
				return same(b, func(n *lab.Names) { n.Queue = "missing-" + unique() })
			}},
		{name: "not subscribed", check: "sns-sqs.subscription", status: checks.Fail, summary: "is not subscribed", hint: "sns-sqs-not-working",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Topic, n.Queue = "t-"+unique(), "q-"+unique() })
				f.Topic(n.Topic)
				f.Queue(n.Queue, nil)
				return n
			}},
		{name: "subscribed another queue", check: "sns-sqs.subscription", status: checks.Fail, summary: "go to", hint: "lost-shell-variables",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Topic, n.Queue = "t-"+unique(), "q-"+unique() })
				t := f.Topic(n.Topic)
				f.Queue(n.Queue, nil)
				_, other := f.Queue("other-"+unique(), nil)
				f.Subscribe(t, other, nil)
				return n
			}},
		{name: "raw delivery on", check: "sns-sqs.raw-delivery", status: checks.Fail, summary: "raw message delivery is on", hint: "raw-delivery",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Topic, n.Queue = "t-"+unique(), "q-"+unique() })
				t := f.Topic(n.Topic)
				_, q := f.Queue(n.Queue, nil)
				f.Subscribe(t, q, map[string]string{"RawMessageDelivery": "true"})
				return n
			}},
		{name: "no policy (the guide's refused set-queue-attributes)", check: "sns-sqs.queue-policy", status: checks.Fail, summary: "has no policy",
			hint: `jq -c '{Policy: tojson}' sqs-policy.json`, setup: withQueue("", nil)},
		{name: "principal as a list", check: "sns-sqs.queue-policy", status: checks.Pass, summary: "and only it",
			setup: withQueue(stmt(`{"Effect":"Allow","Principal":{"Service":["sns.amazonaws.com"]},"Action":"sqs:SendMessage","Resource":"{{Q}}","Condition":{"ArnEquals":{"aws:SourceArn":"{{T}}"}}}`), nil)},
		{name: "SQS:* and AWS:SourceArn", check: "sns-sqs.queue-policy", status: checks.Pass, summary: "and only it",
			setup: withQueue(stmt(`{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"SQS:*","Resource":"{{Q}}","Condition":{"ArnLike":{"AWS:SourceArn":"{{T}}"}}}`), nil)},
		{name: "deny overrides allow", check: "sns-sqs.queue-policy", status: checks.Fail, summary: "denies", hint: "Deny overrides",
			setup: withQueue(stmt(`{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"{{Q}}","Condition":{"ArnEquals":{"aws:SourceArn":"{{T}}"}}},`+
				`{"Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"{{Q}}"}`), nil)},
		{name: "another topic", check: "sns-sqs.queue-policy", status: checks.Fail, summary: "names another topic", hint: "queue-policy",
			setup: withQueue(stmt(`{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"{{Q}}","Condition":{"ArnEquals":{"aws:SourceArn":"{{T}}-old"}}}`), nil)},
		{name: "open to everyone", check: "sns-sqs.queue-policy", status: checks.Warn, summary: "so may anyone",
			setup: withQueue(stmt(`{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"{{Q}}"}`), nil)},
		{name: "no dead-letter queue", check: "sns-sqs.dead-letter", status: checks.Warn, summary: "no dead-letter queue", hint: "poison-message",
			setup: withQueue("", nil)},
	}
}

func eventVariants() []variant {
	withEnv := func(env map[string]string) func(f *fx, b *labSetup) lab.Names {
		return func(f *fx, b *labSetup) lab.Names {
			n := same(b, func(n *lab.Names) { n.EventFunction = "ev-" + unique() })
			f.Function(n.EventFunction, b.RoleArn, env, nil)
			return n
		}
	}
	return []variant{
		{name: "no SNS_TOPIC_ARN", check: "event-processor.topic-env", status: checks.Fail, summary: "no SNS_TOPIC_ARN", hint: "sns-topic-env",
			setup: withEnv(map[string]string{"TABLE_NAME": "x"})},
		{name: "empty SNS_TOPIC_ARN", check: "event-processor.topic-env", status: checks.Fail, summary: "is empty", hint: "lost-shell-variables",
			setup: withEnv(map[string]string{"SNS_TOPIC_ARN": ""})},
		{name: "another topic", check: "event-processor.topic-env", status: checks.Fail, summary: "not the topic's ARN",
			setup: withEnv(map[string]string{"SNS_TOPIC_ARN": "arn:aws:sns:us-east-1:000000000000:other"})},
		{name: "missing rule", check: "event-processor.rule", status: checks.Fail, summary: "does not exist",
			setup: func(f *fx, b *labSetup) lab.Names {
				return same(b, func(n *lab.Names) { n.Rule = "missing-" + unique() })
			}},
		// Step 8 says to disable the rule once the chain is tested: with a
		// summary row in the table that is correct, not a deviation.
		{name: "disabled after testing", check: "event-processor.rule", status: checks.Pass, summary: "DISABLED after the chain was tested",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Rule = "r-" + unique() })
				f.Rule(n.Rule, "rate(5 minutes)")
				_, err := f.Events.DisableRule(f.Ctx, &eventbridge.DisableRuleInput{Name: aws.String(n.Rule)})
				f.Must(err, "disable rule")
				return n
			}},
		// Created with --state DISABLED before the chain ever ran: the
		// schedule never fires, and step 6 must not pass.
		{name: "created disabled before testing", check: "event-processor.rule", status: checks.Fail, summary: "chain has never run end to end", hint: "events enable-rule",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Rule, n.Table = "r-"+unique(), "t-"+unique() })
				f.Table(n.Table, nil)
				f.WaitTable(n.Table)
				f.Rule(n.Rule, "rate(5 minutes)")
				_, err := f.Events.DisableRule(f.Ctx, &eventbridge.DisableRuleInput{Name: aws.String(n.Rule)})
				f.Must(err, "disable rule")
				return n
			}},
		{name: "every minute", check: "event-processor.rule", status: checks.Warn, summary: "rate(1 minute)",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Rule = "r-" + unique() })
				f.Rule(n.Rule, "rate(1 minute)")
				return n
			}},
		{name: "no target", check: "event-processor.rule-target", status: checks.Fail, summary: "has no target", hint: "schedule-not-firing",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Rule = "r-" + unique() })
				f.Rule(n.Rule, "rate(5 minutes)")
				return n
			}},
		{name: "another target", check: "event-processor.rule-target", status: checks.Fail, summary: "targets",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.Rule = "r-" + unique() })
				f.Rule(n.Rule, "rate(5 minutes)")
				f.Target(n.Rule, b.QueueFn)
				return n
			}},
		{name: "missing rule", check: "event-processor.rule-target", status: checks.Skip, summary: "does not exist",
			setup: func(f *fx, b *labSetup) lab.Names {
				return same(b, func(n *lab.Names) { n.Rule = "missing-" + unique() })
			}},
		{name: "no permission", check: "event-processor.invoke-permission", status: checks.Fail, summary: "no resource-based policy", hint: "events-invoke-permission",
			setup: withEnv(nil)},
		{name: "permission for another rule", check: "event-processor.invoke-permission", status: checks.Fail, summary: "no statement lets events.amazonaws.com",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := withEnv(nil)(f, b)
				f.Permission(n.EventFunction, "eventbridge-trigger", "events.amazonaws.com", f.ARN("events", "rule/other"), "")
				return n
			}},
	}
}

func queueVariants() []variant {
	withMapping := func(batch int32, report, enabled bool) func(f *fx, b *labSetup) lab.Names {
		return func(f *fx, b *labSetup) lab.Names {
			n := same(b, func(n *lab.Names) { n.QueueFunction = "qp-" + unique() })
			f.Function(n.QueueFunction, b.RoleArn, nil, nil)
			f.WaitActive(n.QueueFunction)
			in := &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(n.QueueFunction), EventSourceArn: aws.String(b.QueueArn), BatchSize: aws.Int32(batch), Enabled: aws.Bool(enabled)}
			if report {
				in.FunctionResponseTypes = []ltypes.FunctionResponseType{ltypes.FunctionResponseTypeReportBatchItemFailures}
			}
			out, err := f.Lambda.CreateEventSourceMapping(f.Ctx, in)
			f.Must(err, "mapping")
			f.WaitMapping(aws.ToString(out.UUID))
			return n
		}
	}
	withVisibility := func(vt string) func(f *fx, b *labSetup) lab.Names {
		return func(f *fx, b *labSetup) lab.Names {
			n := same(b, func(n *lab.Names) { n.Queue = "q-" + unique() })
			f.Queue(n.Queue, map[string]string{"VisibilityTimeout": vt})
			return n
		}
	}
	return []variant{
		{name: "no mapping", check: "queue-processor.mapping", status: checks.Fail, summary: "no event source mapping", hint: "create-event-source-mapping",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := same(b, func(n *lab.Names) { n.QueueFunction = "qp-" + unique() })
				f.Function(n.QueueFunction, b.RoleArn, nil, nil)
				return n
			}},
		{name: "disabled", check: "queue-processor.mapping", status: checks.Fail, summary: "is Disabled", setup: withMapping(10, true, false)},
		{name: "batch size 5", check: "queue-processor.mapping", status: checks.Warn, summary: "batch size 5", setup: withMapping(5, true, true)},
		{name: "no partial batch failures", check: "queue-processor.mapping", status: checks.Warn, summary: "no ReportBatchItemFailures", hint: "poison-message",
			setup: withMapping(10, false, true)},
		{name: "equal to the function timeout", check: "queue-processor.visibility-timeout", status: checks.Warn, summary: "under 6 x", setup: withVisibility("30")},
		{name: "shorter than the function timeout", check: "queue-processor.visibility-timeout", status: checks.Fail, summary: "shorter than the function's timeout",
			hint: "visibility-timeout", setup: withVisibility("20")},
	}
}

func endToEndVariants() []variant {
	emptyTable := func(f *fx, b *labSetup) lab.Names {
		n := same(b, func(n *lab.Names) { n.Table = "t-" + unique() })
		f.Table(n.Table, nil)
		f.WaitTable(n.Table)
		return n
	}
	// logged points the s3 processor's name at a new one whose log holds
	// these lines, the other two at functions that never logged.
	logged := func(at time.Duration, lines ...string) func(f *fx, b *labSetup) lab.Names {
		return func(f *fx, b *labSetup) lab.Names {
			n := same(b, func(n *lab.Names) {
				u := unique()
				n.S3Function, n.EventFunction, n.QueueFunction = "s3p-"+u, "none-a-"+u, "none-b-"+u
			})
			f.Log(n.S3Function, time.Now().Add(at), lines...)
			return n
		}
	}
	return []variant{
		{name: "no rows", check: "end-to-end.s3-rows", status: checks.Fail, summary: "no row for a .json upload", hint: "notification-not-firing", setup: emptyTable},
		{name: "the guide's row", check: "end-to-end.s3-rows", status: checks.Warn, summary: "guide's code", hint: "duplicate-rows",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := emptyTable(f, b)
				f.PutItem(n.Table, map[string]string{"id": n.Bucket + "-test-data.json-1730540467512", "fileName": "test-data.json", "bucket": n.Bucket})
				return n
			}},
		{name: "no summaries", check: "end-to-end.summary-rows", status: checks.Fail, summary: "no summary-* row", hint: "sns-sqs-not-working", setup: emptyTable},
		{name: "never invoked", check: "end-to-end.log-groups", status: checks.Fail, summary: "no log group", hint: "log-events-not-found",
			evidence: []string{"logs:DescribeLogGroups: not found /aws/lambda/never-"},
			setup: func(f *fx, b *labSetup) lab.Names {
				return same(b, func(n *lab.Names) { n.QueueFunction = "never-" + unique() })
			}},
		{name: "none invoked", check: "end-to-end.log-groups", status: checks.Fail, summary: "no log group", hint: "log-events-not-found",
			evidence: []string{"logs:DescribeLogGroups: not found /aws/lambda/none1-"},
			setup: func(f *fx, b *labSetup) lab.Names {
				return same(b, func(n *lab.Names) {
					u := unique()
					n.S3Function, n.EventFunction, n.QueueFunction = "none1-"+u, "none2-"+u, "none3-"+u
				})
			}},
		{name: "aws-sdk v2 code", check: "end-to-end.function-errors", status: checks.Fail, summary: "Cannot find module 'aws-sdk'", hint: "aws-sdk-v2-import",
			setup: logged(-time.Minute, "START RequestId: 1 Version: $LATEST",
				"2026-11-27T10:00:00.000Z\tundefined\tERROR\tUncaught Exception \t{\"errorType\":\"Runtime.ImportModuleError\",\"errorMessage\":\"Error: Cannot find module 'aws-sdk'\\nRequire stack:\\n- /var/task/index.js\"}")},
		{name: "v3 code, no v3 client", check: "end-to-end.function-errors", status: checks.Fail, summary: "finds no @aws-sdk client", hint: "aws-sdk-v3-missing",
			setup: logged(-time.Minute, "START RequestId: 1 Version: $LATEST",
				"2026-11-27T10:00:00.000Z\tundefined\tERROR\tUncaught Exception \t{\"errorType\":\"Runtime.ImportModuleError\",\"errorMessage\":\"Error: Cannot find package '@aws-sdk/client-dynamodb' imported from /var/task/index.mjs\"}")},
		{name: "handler module missing", check: "end-to-end.function-errors", status: checks.Fail, summary: "the handler's module is not in the package", hint: "function-error",
			setup: logged(-time.Minute, "2026-11-27T10:00:00.000Z\tundefined\tERROR\tUncaught Exception \t{\"errorType\":\"Runtime.ImportModuleError\",\"errorMessage\":\"Error: Cannot find module 'index'\\nRequire stack:\\n- /var/runtime/index.mjs\"}")},
		{name: "node process warnings only", check: "end-to-end.function-errors", status: checks.Pass, summary: "no errors",
			setup: logged(-time.Minute, "2026-12-08T01:58:06.020Z\tundefined\tERROR\t(node:1896) Warning: NodeVersionSupportWarning: The AWS SDK for JavaScript (v3) versions published after the first week of January 2027 will require node >=22.",
				"2026-12-08T01:58:06.020Z\tundefined\tERROR\t(node:7) [DEP0040] DeprecationWarning: The `punycode` module is deprecated.")},
		{name: "timeouts", check: "end-to-end.function-errors", status: checks.Fail, summary: "Task timed out",
			setup: logged(-time.Minute, "2026-11-27T10:00:30.000Z 5d1b Task timed out after 30.03 seconds")},
		{name: "unhandled errors", check: "end-to-end.function-errors", status: checks.Fail, summary: "unhandled errors", hint: "function-error",
			setup: logged(-time.Minute, `{"level":"error","requestId":"5d1b","error":"AccessDeniedException","message":"not authorized to perform: dynamodb:PutItem"}`)},
		{name: "errors from before the last update", check: "end-to-end.function-errors", status: checks.Pass, summary: "no errors",
			setup: func(f *fx, b *labSetup) lab.Names {
				n := logged(-time.Hour, `{"level":"error","error":"Error","message":"old code"}`)(f, b)
				f.Function(n.S3Function, b.RoleArn, nil, nil) // created now: the error predates it
				return n
			}},
		{name: "no log groups", check: "end-to-end.function-errors", status: checks.Skip, summary: "log groups",
			setup: func(f *fx, b *labSetup) lab.Names {
				return same(b, func(n *lab.Names) {
					u := unique()
					n.S3Function, n.EventFunction, n.QueueFunction = "a-"+u, "b-"+u, "c-"+u
				})
			}},
	}
}

// summerRuntimes is the day the variants' sandbox takes runtimes as of:
// nodejs20.x could still be created then (its create block came on
// 2026-08-31), as a student's function from that summer was.
var summerRuntimes = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)

func TestCheckVariants(t *testing.T) {
	f := &fx{testenv.NewFixtureWith(t, sandbox.Options{RuntimesAsOf: summerRuntimes})}
	b := f.FullLab(f.Names())
	var all []variant
	for _, g := range [][]variant{iamVariants(), storageVariants(), functionVariants(), messagingVariants(), eventVariants(), queueVariants(), endToEndVariants()} {
		all = append(all, g...)
	}
	seen := map[string]bool{}
	var hints []string
	for _, v := range all {
		seen[v.check] = true
		t.Run(v.check+"/"+v.name, func(t *testing.T) {
			ff := f.with(t)
			n := v.setup(ff, b)
			got := ff.one(v.check, n, v.opts)
			assertResult(t, v, got)
			if got.Hint != "" {
				hints = append(hints, got.Hint)
			}
			if !f.Env.IsAWS() {
				if bare := bareAWS(strings.Join(hintCommands([]string{got.Hint}), "\n"), f.Env.Target.Endpoint); len(bare) > 0 {
					t.Errorf("%s: hint commands without --endpoint-url: %q", v.check, bare)
				}
			}
		})
	}
	// Every hint the variants produced, pasted as the learner would.
	if !testing.Short() && !f.Env.IsAWS() && f.Srv != nil {
		t.Run("hints-reach-only-the-sandbox", func(t *testing.T) {
			cmds := hintCommands(hints)
			if len(cmds) < 20 {
				t.Fatalf("only %d hint commands from %d variants", len(cmds), len(all))
			}
			runContained(t, f, cmds)
		})
	}
	// Every check has at least one non-passing variant here, or its
	// passing setup is the only one it has (checked by the full run).
	for _, c := range checks.Select(checks.Options{}) {
		if !seen[c.ID] {
			switch c.ID {
			case "dynamodb-table.active", "event-processor.function", "queue-processor.function", "event-processor.runtime",
				"queue-processor.runtime", "event-processor.config", "queue-processor.config":
				// covered by dedicated tests (timing) or by the s3-processor variants of the shared code
			default:
				t.Errorf("check %s has no variant", c.ID)
			}
		}
	}
}

// The same IAM variants, with iam:SimulatePrincipalPolicy denied to the
// caller: slab's own evaluator must reach the same verdicts.
func TestIAMVariantsWithoutSimulate(t *testing.T) {
	f := newFx(t)
	b := f.FullLab(f.Names())
	cl := checks.NewClients(f.Env)
	cl.IAM = noSimulate{cl.IAM}
	for _, v := range append(iamVariants(), variant{name: "least privilege", check: "iam-role.dynamodb-write", status: checks.Pass, summary: "may dynamodb:PutItem",
		setup: func(f *fx, b *labSetup) lab.Names { return b.N }}) {
		t.Run(v.check+"/"+v.name, func(t *testing.T) {
			ff := f.with(t)
			n := v.setup(ff, b)
			o := v.opts
			o.Clients = cl
			got := ff.one(v.check, n, o)
			assertResult(t, v, got)
			if got.Status != checks.Skip && (v.check != "iam-role.exists" && v.check != "iam-role.trust-policy") &&
				!strings.Contains(strings.Join(got.Evidence, "\n"), "slab's policy evaluator") {
				t.Errorf("not evaluated by slab's evaluator: %s", dump(got))
			}
		})
	}
}

type noSimulate struct{ checks.IAMAPI }

func (noSimulate) SimulatePrincipalPolicy(ctx context.Context, in *iam.SimulatePrincipalPolicyInput, _ ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error) {
	return nil, &smithy.OperationError{ServiceID: "IAM", OperationName: "SimulatePrincipalPolicy",
		Err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "User: arn:aws:sts::000000000000:assumed-role/grader/x is not authorized to perform: iam:SimulatePrincipalPolicy"}}
}

// "Not ready yet" states: AWS keeps a new table CREATING and a new function
// Pending for seconds. AWS's timing at 0.4 keeps them 2 s, long enough for
// any machine to run the check inside the window.
func TestNotReadyYetIsAWarning(t *testing.T) {
	f := &fx{testenv.NewFixtureWith(t, sandbox.Options{Consistency: sandbox.AWS, TimingScale: 0.4})}
	testenv.RequireSandbox(t, f.Srv, "the sandbox's CREATING window")
	n := f.Names()
	f.Table(n.Table, nil)
	assertResult(t, variant{check: "dynamodb-table.active", status: checks.Warn, summary: "CREATING: not ready yet", hint: "not-ready-yet"},
		f.one("dynamodb-table.active", n, checks.Options{}))
	role := f.Role(n.Role, lambdaTrust, []string{basicExec}, nil)
	f.Function(n.S3Function, role, map[string]string{"TABLE_NAME": n.Table}, nil)
	assertResult(t, variant{check: "s3-processor.function", status: checks.Warn, summary: "not ready yet", hint: "not-ready-yet"},
		f.one("s3-processor.function", n, checks.Options{}))
	f.WaitTable(n.Table)
	assertResult(t, variant{check: "dynamodb-table.active", status: checks.Pass, summary: "ACTIVE"}, f.one("dynamodb-table.active", n, checks.Options{}))
	f.WaitActive(n.S3Function)
	assertResult(t, variant{check: "s3-processor.function", status: checks.Pass, summary: ""}, f.one("s3-processor.function", n, checks.Options{}))
}

func TestEveryFunctionStepHasTheSameFunctionChecks(t *testing.T) {
	f := newFx(t)
	b := f.FullLab(f.Names())
	for _, step := range []string{lab.StepEventProcessor, lab.StepQueueProcessor} {
		for _, id := range []string{step + ".function", step + ".runtime", step + ".config"} {
			assertResult(t, variant{check: id, status: checks.Pass, summary: ""}, f.one(id, b.N, checks.Options{}))
		}
		n := b.N
		switch step {
		case lab.StepEventProcessor:
			n.EventFunction = "missing-" + unique()
		default:
			n.QueueFunction = "missing-" + unique()
		}
		assertResult(t, variant{check: step + ".function", status: checks.Fail, summary: "does not exist", hint: "slab show " + step}, f.one(step+".function", n, checks.Options{}))
		assertResult(t, variant{check: step + ".runtime", status: checks.Skip, summary: "does not exist"}, f.one(step+".runtime", n, checks.Options{}))
	}
}

// A correct step 1 passes before step 3 exists: its bucket check is
// verified in step 3, and the step is judged on its own resources.
func TestStepIsJudgedOnItsOwnResources(t *testing.T) {
	f := newFx(t)
	n := f.Names()
	n.Bucket, n.BucketPrefix = "", "none-"+unique()+"-"
	f.Role(n.Role, lambdaTrust, []string{basicExec, sqsExec}, map[string]string{"lab": f.LeastPrivilege(n)})
	rep := f.run(n, checks.Options{Steps: []string{lab.StepIAMRole}})
	if len(rep.Steps) != 1 || rep.Steps[0].Status != checks.Pass {
		t.Fatalf("step 1 with a correct role and no bucket: %+v", rep.Steps)
	}
	deferred := 0
	for _, r := range rep.Results {
		if r.Deferred() {
			deferred++
			if r.VerifiedIn != 3 || !strings.HasPrefix(r.Summary, "verified in step 3") {
				t.Errorf("%s: %+v", r.CheckID, r)
			}
		}
	}
	if deferred == 0 {
		t.Fatalf("no check waits for step 3's bucket: %+v", rep.Results)
	}
	// A skip for the step's own missing resource still keeps it from ✓.
	gone := n
	gone.Role = "none-" + unique()
	rep = f.run(gone, checks.Options{Steps: []string{lab.StepIAMRole}})
	if rep.Steps[0].Status == checks.Pass {
		t.Errorf("step 1 without its role passed: %+v", rep.Results)
	}
}
