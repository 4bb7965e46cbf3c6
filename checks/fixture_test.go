package checks_test

import (
	"encoding/json"
	"testing"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/internal/testenv"
	"github.com/slab-lab/slab/lab"
)

// fx is the shared test fixture (internal/testenv) with the checks' own helpers.
type fx struct{ *testenv.Fixture }

type labSetup = testenv.Lab

// Short names for the fixture's constants.
const (
	lambdaTrust = testenv.LambdaTrust
	basicExec   = testenv.BasicExec
	sqsExec     = testenv.SQSExec
	s3Full      = testenv.S3Full
	dynamoFull  = testenv.DynamoFull
	snsFull     = testenv.SNSFull
	sqsFull     = testenv.SQSFull
)

var (
	unique     = testenv.Unique
	jsonConfig = testenv.JSONConfig
)

func newFx(t *testing.T) *fx { return &fx{testenv.NewFixture(t)} }

func (f *fx) with(t *testing.T) *fx { return &fx{f.Fixture.With(t)} }

// run runs checks against n.
func (f *fx) run(n lab.Names, o checks.Options) checks.Report {
	f.T.Helper()
	if o.Retries == 0 {
		o.Retries = -1
	}
	return checks.Run(f.Ctx, f.Env, n, o)
}

// one runs a single check and returns its result.
func (f *fx) one(id string, n lab.Names, o checks.Options) checks.Result {
	f.T.Helper()
	o.IDs = []string{id}
	c, ok := checks.ByID(id)
	if !ok {
		f.T.Fatalf("no check %s", id)
	}
	o.Probe = c.Probe
	rep := f.run(n, o)
	if len(rep.Results) != 1 {
		f.T.Fatalf("%s: %d results", id, len(rep.Results))
	}
	return rep.Results[0]
}

func dump(r checks.Result) string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}

func jsonMarshal(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
