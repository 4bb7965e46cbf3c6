package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/slab-lab/slab/cost"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/state"
	"github.com/slab-lab/slab/tui"
)

// tutorSession opens an online session on an in-process sandbox, as the
// tutor does, and builds its hooks.
func tutorSession(t *testing.T) (*session, tui.Hooks) {
	t.Helper()
	dir := isolate(t)
	var out bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out}
	s, err := openSession(context.Background(), ios, &globalOptions{StateDir: dir}, online, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return s, tutorHooks(s)
}

func TestTutorHooksCost(t *testing.T) {
	_, h := tutorSession(t)
	if h.Cost == nil {
		t.Fatal("no Cost hook")
	}
	r, err := h.Cost(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.Total.PerMonth <= 0 || r.Total.PerDay <= 0 {
		t.Errorf("total = %+v, want a running cost per day and month", r.Total)
	}
	if r.PricesAsOf != cost.AsOf() || r.PricesAsOf == "" {
		t.Errorf("prices as of %q, want the table's %q", r.PricesAsOf, cost.AsOf())
	}
	var sum float64
	steps := map[string]bool{}
	for _, l := range r.Lines {
		sum += l.PerMonth
		steps[l.Step] = true
	}
	if d := sum - r.Total.PerMonth; d > 1e-9 || d < -1e-9 {
		t.Errorf("lines sum to %g a month, total says %g", sum, r.Total.PerMonth)
	}
	for _, id := range []string{lab.StepDynamoDBTable, lab.StepEventProcessor, lab.StepQueueProcessor, lab.StepSNSSQS} {
		if !steps[id] {
			t.Errorf("no cost line for step %s: %+v", id, r.Lines)
		}
	}
	notes := strings.Join(r.Notes, "\n")
	for _, want := range []string{"sandbox itself bills nothing", "Measured now", "Assumes arm64"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

func TestTutorHooksCleanup(t *testing.T) {
	s, h := tutorSession(t)
	if h.CleanupPlan == nil || h.Cleanup == nil {
		t.Fatal("no cleanup hooks")
	}
	ctx := context.Background()
	plan, err := h.CleanupPlan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Count() != 0 {
		t.Fatalf("empty sandbox: plan lists %d resources: %+v", plan.Count(), plan)
	}

	table := lab.DefaultNames().Table
	_, err = dynamodb.NewFromConfig(s.env.Config).CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}}})
	if err != nil {
		t.Fatal(err)
	}
	s.st.Steps[lab.StepDynamoDBTable] = state.StepRecord{Status: "pass"}
	if err := s.stateFile.Save(s.st); err != nil {
		t.Fatal(err)
	}

	plan, err = h.CleanupPlan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := "DynamoDB table " + table
	if plan.Count() != 1 || plan.Groups[0].Items[0].Resource != want {
		t.Fatalf("plan = %+v, want only %s", plan, want)
	}
	var progress []tui.ResourceProgress
	rep, err := h.Cleanup(ctx, plan, func(p tui.ResourceProgress) { progress = append(progress, p) })
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Verified || len(rep.Leftovers) != 0 || len(rep.Deleted) != 1 || rep.Deleted[0] != want {
		t.Fatalf("report = %+v, want %s deleted and verified", rep, want)
	}
	deleted := false
	for _, p := range progress {
		if p.Resource == want && p.State == tui.Done {
			deleted = true
		}
	}
	if !deleted || progress[len(progress)-1].Resource != "verification" || progress[len(progress)-1].State != tui.Done {
		t.Errorf("progress = %+v, want the table done and the verification last", progress)
	}
	if _, err := dynamodb.NewFromConfig(s.env.Config).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err == nil {
		t.Error("the table still exists")
	}
	// The hook leaves the state alone (it runs off the update loop); the
	// tutor forgets the lab itself when the report is verified.
	if len(s.st.Steps) != 1 {
		t.Errorf("the hook touched the state: %v", s.st.Steps)
	}
	if plan, err := h.CleanupPlan(ctx); err != nil || plan.Count() != 0 {
		t.Errorf("after cleanup: plan %+v, %v; want empty", plan, err)
	}
}
