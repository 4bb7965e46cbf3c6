package grade

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/report"
)

// Options tune a class run.
type Options struct {
	// Base is the grader's target: its kind (aws or an endpoint), endpoint
	// and default region, and the grader's own credentials (profile or
	// chain) from which roster roles are assumed.
	Base awsenv.Target
	// Names are the lab's names before a student's name_suffix.
	Names lab.Names
	// Concurrency is how many students are graded at once (default 8).
	Concurrency int
	// CheckConcurrency bounds the checks of one student (default 8).
	CheckConcurrency int
	// Timeout bounds one student (default 2 minutes).
	Timeout time.Duration
	// FullEvidence keeps each evidence item whole in the rows; otherwise it
	// is cut at safetext.MaxItem with a note.
	FullEvidence bool

	// run is checks.Run; tests replace it with checks that ignore their
	// context (export_test.go).
	run    func(context.Context, *awsenv.Env, lab.Names, checks.Options) checks.Report
	Rubric *Rubric
	// Skip names students already graded (--resume); they are not graded again.
	Skip map[string]bool
	// OnRow is called, serialised, as each student finishes. It is not
	// called for a student cut short by the run's cancellation.
	OnRow func(Row)
	// Version is slab's, for the per-check documents.
	Version string
}

// Row is one student's grade. Its per-check fields are those of
// `slab check --format json` (report.CheckJSON and friends).
type Row struct {
	Student    string             `json:"student"`
	Line       int                `json:"line,omitempty"`
	Status     string             `json:"status"` // the worst check status, or "error" when the account could not be graded
	Score      int                `json:"score"`
	MaxScore   int                `json:"max_score"` // the weights of the checks that could tell (errors excluded)
	Total      int                `json:"rubric_total"`
	Error      string             `json:"error,omitempty"`
	Target     report.TargetJSON  `json:"target"`
	Summary    report.SummaryJSON `json:"summary"`
	Checks     []report.CheckJSON `json:"checks"`
	Steps      []report.StepJSON  `json:"steps"`
	GradedAt   time.Time          `json:"graded_at"`
	DurationMS int64              `json:"duration_ms"`
}

// Failing lists the ids of the checks that failed, then those that errored.
func (r Row) Failing() (failed, errored []string) {
	for _, c := range r.Checks {
		switch c.Status {
		case "fail":
			failed = append(failed, c.ID)
		case "error":
			errored = append(errored, c.ID)
		}
	}
	return failed, errored
}

// StatusOf is the status of a check in the row ("error" for a row that
// could not be graded, "" when the check is not in the row).
func (r Row) StatusOf(id string) string {
	for _, c := range r.Checks {
		if c.ID == id {
			return c.Status
		}
	}
	if r.Error != "" {
		return "error"
	}
	return ""
}

// Run grades every student not in o.Skip, concurrently, and returns their
// rows sorted by student. A student whose account cannot be reached is an
// Error row; the run goes on.
func Run(ctx context.Context, students []Student, o Options) []Row {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.CheckConcurrency <= 0 {
		o.CheckConcurrency = 8
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	g := &grader{o: o, http: sharedClient(o.Concurrency * o.CheckConcurrency)}
	var (
		mu   sync.Mutex
		rows []Row
		wg   sync.WaitGroup
	)
	work := make(chan Student)
	for range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				row := g.one(ctx, s)
				if ctx.Err() != nil {
					continue // cut short: not a grade, and --resume must retry it
				}
				mu.Lock()
				rows = append(rows, row)
				if o.OnRow != nil {
					o.OnRow(row)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, s := range students {
		if o.Skip[s.Name] {
			continue
		}
		select {
		case work <- s:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	sort.Slice(rows, func(i, j int) bool { return rows[i].Student < rows[j].Student })
	return rows
}

type grader struct {
	o    Options
	http aws.HTTPClient

	baseOnce sync.Once
	base     *awsenv.Env
	baseErr  error
}

// sharedClient is one HTTP client for every student: a class against one
// endpoint reuses its connections instead of opening a pool per student.
func sharedClient(conns int) aws.HTTPClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = conns * 2
		t.MaxIdleConnsPerHost = conns
	})
}

func (g *grader) one(ctx context.Context, s Student) Row {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, g.o.Timeout)
	defer cancel()
	total := g.o.Rubric.Total()
	row := Row{Student: s.Name, Line: s.Line, Total: total, GradedAt: start.UTC(), Checks: []report.CheckJSON{}, Steps: []report.StepJSON{}}
	fail := func(err error) Row {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %s: %w", g.o.Timeout, err)
		}
		row.Status, row.Error = "error", err.Error()
		row.DurationMS = time.Since(start).Milliseconds()
		return row
	}
	env, err := g.env(ctx, s)
	if err != nil {
		return fail(err)
	}
	row.Target = report.TargetJSON{Kind: string(env.Target.Kind), Region: env.Region, Endpoint: env.Target.Endpoint}
	if env.Target.Kind == awsenv.AWS {
		row.Target.Endpoint = ""
	}
	if err := env.Identify(ctx); err != nil {
		return fail(fmt.Errorf("%s: %w", s.Way(), err))
	}
	row.Target.Account = env.Account
	if s.AccountID != "" && env.Account != s.AccountID {
		return fail(fmt.Errorf("%s reaches account %s, the roster says %s", s.Way(), env.Account, s.AccountID))
	}
	names := g.o.Names.WithSuffix(s.NameSuffix)
	var ids []string
	for _, c := range g.o.Rubric.Graded() {
		ids = append(ids, c.ID)
	}
	rep := g.runChecks(ctx, env, names, checks.Options{IDs: ids, Concurrency: g.o.CheckConcurrency}, start)
	reweight(&rep, g.o.Rubric)
	doc := report.NewDocument(rep, report.Options{Version: g.o.Version, Now: start, FullEvidence: g.o.FullEvidence})
	row.Target, row.Summary, row.Checks, row.Steps = doc.Target, doc.Summary, doc.Checks, doc.Steps
	row.Status, row.Score, row.MaxScore = doc.Summary.Status, doc.Summary.Score, doc.Summary.MaxScore
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		row.Error = fmt.Sprintf("timed out after %s; the checks it could not finish are errors", g.o.Timeout)
	}
	row.DurationMS = time.Since(start).Milliseconds()
	return row
}

// deadlineGrace is how long a student's checks get, past the deadline, to
// notice it; those still running then are reported as errors.
const deadlineGrace = 2 * time.Second

// runChecks runs the checks, but returns by the deadline (plus a moment's
// grace) even if a check does not heed its context: the checks that finished
// keep their results, the others become errors, and the run goes on. The
// late checks' goroutines end on their own; their results are dropped.
func (g *grader) runChecks(ctx context.Context, env *awsenv.Env, names lab.Names, o checks.Options, start time.Time) checks.Report {
	var mu sync.Mutex
	var finished []checks.Result
	o.OnResult = func(r checks.Result) {
		mu.Lock()
		finished = append(finished, r)
		mu.Unlock()
	}
	run := g.o.run
	if run == nil {
		run = checks.Run
	}
	done := make(chan checks.Report, 1)
	go func() { done <- run(ctx, env, names, o) }()
	select {
	case rep := <-done:
		return rep
	case <-ctx.Done():
	}
	grace := time.NewTimer(deadlineGrace)
	defer grace.Stop()
	select {
	case rep := <-done:
		return rep
	case <-grace.C:
	}
	mu.Lock()
	defer mu.Unlock()
	return checks.Partial(env, o, start, finished, fmt.Sprintf("did not finish within the time limit (%s)", g.o.Timeout))
}

// reweight applies the rubric's weights and recomputes the scores.
func reweight(rep *checks.Report, r *Rubric) {
	if r == nil || len(r.Weights) == 0 {
		return
	}
	set := func(rs []checks.Result) {
		for i := range rs {
			if w, ok := r.Weights[rs[i].CheckID]; ok {
				rs[i].Weight = w
			}
		}
	}
	set(rep.Results)
	for i := range rep.Steps {
		set(rep.Steps[i].Results)
		rep.Steps[i].Status, rep.Steps[i].Score, rep.Steps[i].MaxScore = checks.Aggregate(rep.Steps[i].Results)
	}
	_, rep.Summary.Score, rep.Summary.MaxScore = checks.Aggregate(rep.Results)
}

// env builds the student's target. Nothing is called but, for a role,
// sts:AssumeRole with the grader's credentials.
func (g *grader) env(ctx context.Context, s Student) (*awsenv.Env, error) {
	t := g.o.Base
	t.Adaptive = true
	if t.Kind == awsenv.Sandbox {
		// A sandbox with an accounts file tells accounts apart by key;
		// only an identified endpoint target says which one it is.
		t.Kind = awsenv.Endpoint
	}
	if s.Region != "" {
		t.Region = s.Region
	}
	switch {
	case s.AccessKeyID != "":
		t.Profile = ""
		t.AccessKeyID, t.SecretAccessKey, t.SessionToken = s.AccessKeyID, s.SecretAccessKey, s.SessionToken
	case s.Profile != "":
		t.Profile = s.Profile
		t.AccessKeyID, t.SecretAccessKey, t.SessionToken = "", "", ""
	case s.RoleName != "":
		creds, err := g.assume(ctx, s)
		if err != nil {
			return nil, err
		}
		t.Profile = ""
		t.AccessKeyID, t.SecretAccessKey, t.SessionToken = aws.ToString(creds.AccessKeyId), aws.ToString(creds.SecretAccessKey), aws.ToString(creds.SessionToken)
	}
	env, err := awsenv.Load(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Way(), err)
	}
	env.Config.HTTPClient = g.http
	return env, nil
}

func (g *grader) assume(ctx context.Context, s Student) (*ststypes.Credentials, error) {
	g.baseOnce.Do(func() {
		t := g.o.Base
		t.Adaptive = true
		if t.Kind == awsenv.Sandbox {
			t.Kind = awsenv.Endpoint
		}
		g.base, g.baseErr = awsenv.Load(context.WithoutCancel(ctx), t)
		if g.base != nil {
			g.base.Config.HTTPClient = g.http
		}
	})
	if g.baseErr != nil {
		return nil, fmt.Errorf("the grader's credentials: %w", g.baseErr)
	}
	region := g.base.Region
	if s.Region != "" {
		region = s.Region
	}
	arn := fmt.Sprintf("arn:%s:iam::%s:role/%s", awsenv.PartitionOf(region), s.AccountID, s.RoleName)
	in := &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("slab-grade"), DurationSeconds: aws.Int32(3600)}
	if s.ExternalID != "" {
		in.ExternalId = aws.String(s.ExternalID)
	}
	out, err := sts.NewFromConfig(g.base.Config, func(o *sts.Options) { o.Region = region }).AssumeRole(ctx, in)
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) {
			return nil, fmt.Errorf("cannot assume %s: %s: %s (the role must trust the grader's identity%s)", arn, api.ErrorCode(), api.ErrorMessage(),
				map[bool]string{true: " and the external id", false: ""}[s.ExternalID != ""])
		}
		return nil, fmt.Errorf("cannot assume %s: %w", arn, err)
	}
	if out.Credentials == nil {
		return nil, fmt.Errorf("cannot assume %s: no credentials in the answer", arn)
	}
	return out.Credentials, nil
}
