package steps_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/internal/testenv"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/sandbox"
	"github.com/slab-lab/slab/steps"
)

// target is where an integration test runs: an in-process sandbox, or the
// endpoint in SLAB_TEST_ENDPOINT ("aws" for real AWS).
type target struct {
	env   *awsenv.Env
	srv   *sandbox.Server // nil outside the in-process sandbox
	names lab.Names
	state string // the state id written into tags

	iam    *iam.Client
	lambda *lambda.Client
	s3     *s3.Client
	ddb    *dynamodb.Client
	sns    *sns.Client
	sqs    *sqs.Client
	events *eventbridge.Client
}

func openTarget(t *testing.T) *target {
	t.Helper()
	tg := &target{names: lab.DefaultNames(), state: "t" + randHex(4)}
	tg.env, tg.srv = testenv.Open(t)
	if tg.srv == nil {
		// A shared account or endpoint: names of our own, so nothing the
		// learner (or a parallel run) has is touched.
		tg.names = tg.names.WithSuffix("t" + randHex(3))
	}
	cfg := tg.env.Config
	tg.iam = iam.NewFromConfig(cfg)
	tg.lambda = lambda.NewFromConfig(cfg)
	tg.s3 = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = tg.env.Target.Kind != awsenv.AWS })
	tg.ddb = dynamodb.NewFromConfig(cfg)
	tg.sns = sns.NewFromConfig(cfg)
	tg.sqs = sqs.NewFromConfig(cfg)
	tg.events = eventbridge.NewFromConfig(cfg)
	return tg
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (tg *target) opts() steps.PerformOptions {
	return steps.PerformOptions{StateID: tg.state, E2ETimeout: 20 * time.Second}
}

// perform runs steps in order with the options, keeping the bucket the
// first perform chooses; it returns every outcome and the first error.
func (tg *target) perform(ctx context.Context, t *testing.T, o steps.PerformOptions, ids ...string) ([]steps.ResourceOutcome, error) {
	t.Helper()
	var all []steps.ResourceOutcome
	for _, id := range ids {
		st := steps.ByID(id)
		out, err := st.Perform(ctx, tg.env, tg.names, o)
		if out.Bucket != "" {
			tg.names.Bucket = out.Bucket
		}
		all = append(all, out.Resources...)
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

func (tg *target) mustPerform(t *testing.T, o steps.PerformOptions, ids ...string) []steps.ResourceOutcome {
	t.Helper()
	out, err := tg.perform(context.Background(), t, o, ids...)
	if err != nil {
		t.Fatalf("perform %v: %v\n%s", ids, err, dump(out))
	}
	return out
}

// mark is a position in the sandbox's audit log (0 outside it).
func (tg *target) mark() uint64 {
	if tg.srv == nil {
		return 0
	}
	return tg.srv.AuditMark()
}

// mutations lists the mutating calls since mark as "Service Operation",
// or ok=false outside the sandbox (with the reason logged).
func (tg *target) mutations(t *testing.T, mark uint64) (ops []string, ok bool) {
	t.Helper()
	if tg.srv == nil {
		t.Logf("skipping the audit-log assertion: SLAB_TEST_ENDPOINT=%s has no sandbox audit log", os.Getenv("SLAB_TEST_ENDPOINT"))
		return nil, false
	}
	for _, e := range tg.srv.MutatingSince(mark) {
		if e.Internal {
			continue
		}
		ops = append(ops, e.Service+" "+e.Operation)
	}
	return ops, true
}

// external mutations: the functions' own calls (PutItem, Publish, ...) come
// over HTTP too; tests that must ignore them filter by service/operation.

func dump(out []steps.ResourceOutcome) string {
	var b strings.Builder
	for _, r := range out {
		b.WriteString("  " + r.Step + " | " + r.Action + " | " + r.Resource)
		if r.Detail != "" {
			b.WriteString(" | " + r.Detail)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// labSteps are steps 1-7: everything that does not need functions to run.
var labSteps = []string{lab.StepIAMRole, lab.StepDynamoDBTable, lab.StepS3Bucket, lab.StepS3Processor, lab.StepSNSSQS, lab.StepEventProcessor, lab.StepQueueProcessor}
