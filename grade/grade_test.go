package grade_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/grade"
	"github.com/slab-lab/slab/internal/testenv"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/sandbox"
)

// class is a sandbox whose accounts file maps n keys to n accounts.
type class struct {
	srv      *sandbox.Server
	dir      string
	students []grade.Student
}

func key(i int) string     { return fmt.Sprintf("AKIASTUDENT%04d", i) }
func account(i int) string { return fmt.Sprintf("1000000%05d", i) }

func newClass(t testing.TB, n int, latency time.Duration) *class {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("access_key_id,secret_access_key,account_id\n")
	for i := range n {
		fmt.Fprintf(&b, "%s,secret,%s\n", key(i), account(i))
	}
	accounts := filepath.Join(dir, "accounts.csv")
	if err := os.WriteFile(accounts, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := sandbox.New(sandbox.Options{AccountsFile: accounts, Latency: latency})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	c := &class{srv: srv, dir: dir}
	for i := range n {
		c.students = append(c.students, grade.Student{Name: fmt.Sprintf("student%03d", i), AccessKeyID: key(i), SecretAccessKey: "secret"})
	}
	return c
}

func (c *class) base() awsenv.Target {
	return awsenv.Target{Kind: awsenv.Endpoint, Endpoint: c.srv.URL(), Region: awsenv.DefaultRegion}
}

// fixture is the SDK, as student i, for setting up their stage.
func (c *class) fixture(t *testing.T, i int) *testenv.Fixture {
	t.Helper()
	ctx := context.Background()
	env, err := awsenv.Load(ctx, awsenv.Target{Kind: awsenv.Endpoint, Endpoint: c.srv.URL(), Region: awsenv.DefaultRegion, AccessKeyID: key(i), SecretAccessKey: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Identify(ctx); err != nil {
		t.Fatal(err)
	}
	return testenv.FixtureFor(t, env, c.srv)
}

// stepsOneToThree builds the role, the table and the bucket.
func stepsOneToThree(t *testing.T, f *testenv.Fixture, n lab.Names) {
	n.Bucket = n.BucketFor(f.Env.Account, time.Now().Unix())
	f.Role(n.Role, testenv.LambdaTrust, []string{testenv.BasicExec, testenv.SQSExec}, map[string]string{testenv.InlineName: f.LeastPrivilege(n)})
	f.Table(n.Table, nil)
	f.WaitTable(n.Table)
	f.Bucket(n.Bucket, "", s3types.BucketVersioningStatusEnabled)
}

func stepOf(id string) string {
	c, _ := checks.ByID(id)
	return c.Step
}

var early = map[string]bool{lab.StepIAMRole: true, lab.StepDynamoDBTable: true, lab.StepS3Bucket: true}

func TestGradeClass(t *testing.T) {
	const n = 30
	c := newClass(t, n, 0)
	// Stages: i%3 == 0 nothing done; 1 steps 1-3; 2 steps 1-3 under a name suffix.
	stage := func(i int) int { return i % 3 }
	for i := range n {
		switch stage(i) {
		case 1:
			stepsOneToThree(t, c.fixture(t, i), lab.DefaultNames())
		case 2:
			suffix := fmt.Sprintf("s%d", i)
			c.students[i].NameSuffix = suffix
			stepsOneToThree(t, c.fixture(t, i), lab.DefaultNames().WithSuffix(suffix))
		}
	}
	// One student whose keys the sandbox does not know.
	students := append(c.students, grade.Student{Name: "zz-invalid", AccessKeyID: "AKIANOTINTHEFILE", SecretAccessKey: "x"})

	out := filepath.Join(c.dir, "class.csv")
	partial, err := grade.OpenPartial(grade.PartialPath(out), false)
	if err != nil {
		t.Fatal(err)
	}
	mark := c.srv.AuditMark()
	rows := grade.Run(context.Background(), students, grade.Options{
		Base: c.base(), Names: lab.DefaultNames(), Concurrency: 8, Rubric: &grade.Rubric{},
		OnRow: func(r grade.Row) {
			if err := partial.Append(r); err != nil {
				t.Error(err)
			}
		},
	})
	partial.Close()
	if m := c.srv.MutatingSince(mark); len(m) > 0 {
		t.Fatalf("grading mutated: %+v", m)
	}
	if len(rows) != n+1 {
		t.Fatalf("%d rows, want %d", len(rows), n+1)
	}
	rubric := &grade.Rubric{}
	total := rubric.Total()
	earlyMax := 0
	for _, ch := range rubric.Graded() {
		if early[ch.Step] {
			earlyMax += ch.Weight
		}
	}
	for i, r := range rows[:n] {
		if r.Student != c.students[i].Name {
			t.Fatalf("row %d is %s, want %s (sorted)", i, r.Student, c.students[i].Name)
		}
		if r.Error != "" || r.Target.Account != account(i) {
			t.Errorf("%s: account %q error %q", r.Student, r.Target.Account, r.Error)
			continue
		}
		if r.Total != total {
			t.Errorf("%s: total %d, want %d", r.Student, r.Total, total)
		}
		failed, errored := r.Failing()
		if len(errored) > 0 {
			t.Errorf("%s: checks errored: %v", r.Student, errored)
		}
		switch stage(i) {
		case 0:
			if r.Score != 0 || r.Status != "fail" {
				t.Errorf("nothing done: %s scored %d status %s", r.Student, r.Score, r.Status)
			}
			for _, want := range []string{"iam-role.exists", "dynamodb-table.exists"} {
				if !contains(failed, want) && r.StatusOf(want) != "fail" {
					t.Errorf("nothing done: %s: %s is %q", r.Student, want, r.StatusOf(want))
				}
			}
		default:
			for _, id := range failed {
				if early[stepOf(id)] {
					t.Errorf("steps 1-3 done: %s fails %s of step %s", r.Student, id, stepOf(id))
				}
			}
			if len(failed) == 0 {
				t.Errorf("steps 1-3 done: %s fails nothing of the later steps", r.Student)
			}
			if r.Score != earlyMax {
				t.Errorf("steps 1-3 done: %s scored %d, want %d (the weights of steps 1-3)", r.Student, r.Score, earlyMax)
			}
		}
	}
	bad := rows[n]
	if bad.Student != "zz-invalid" || bad.Status != "error" || bad.Error == "" || len(bad.Checks) != 0 {
		t.Errorf("invalid keys: %+v", bad)
	}
	t.Logf("nothing done: %d/%d %v; steps 1-3: %d/%d; invalid: %s", rows[0].Score, total, first(rows[0].Failing()), rows[1].Score, total, bad.Error)

	class := grade.Class{Rows: rows, Rubric: rubric, Target: "test", GeneratedAt: time.Now()}

	// CSV: a column per check id, the statuses in them.
	var buf bytes.Buffer
	if err := grade.CSV(&buf, class); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n+2 {
		t.Fatalf("csv: %d records", len(recs))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, ch := range rubric.Graded() {
		if _, ok := col[ch.ID]; !ok {
			t.Errorf("csv: no column %s", ch.ID)
		}
	}
	for _, h := range []string{"student", "score", "max_score", "status", "error"} {
		if _, ok := col[h]; !ok {
			t.Errorf("csv: no column %s", h)
		}
	}
	if got := recs[1][col["iam-role.exists"]]; got != "fail" {
		t.Errorf("csv: student000 iam-role.exists = %q", got)
	}
	if got := recs[2][col["iam-role.exists"]]; got != "pass" {
		t.Errorf("csv: student001 iam-role.exists = %q", got)
	}
	if got := recs[n+1]; got[col["status"]] != "error" || got[col["error"]] == "" || got[col["iam-role.exists"]] != "error" {
		t.Errorf("csv: invalid student %v", got)
	}

	// JUnit: parses into testsuites/testsuite/testcase with the problems.
	buf.Reset()
	if err := grade.JUnit(&buf, class); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName xml.Name `xml:"testsuites"`
		Tests   int      `xml:"tests,attr"`
		Suites  []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Errors   int    `xml:"errors,attr"`
			Skipped  int    `xml:"skipped,attr"`
			Time     string `xml:"time,attr"`
			Cases    []struct {
				Name      string    `xml:"name,attr"`
				Classname string    `xml:"classname,attr"`
				Time      string    `xml:"time,attr"`
				Failure   *struct{} `xml:"failure"`
				Error     *struct{} `xml:"error"`
				Skipped   *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("junit: %v", err)
	}
	if len(doc.Suites) != n+1 {
		t.Fatalf("junit: %d suites", len(doc.Suites))
	}
	sum := 0
	for i, s := range doc.Suites {
		if s.Name != rows[i].Student || s.Time == "" || s.Tests != len(s.Cases) {
			t.Errorf("junit suite %d: %s time %q tests %d cases %d", i, s.Name, s.Time, s.Tests, len(s.Cases))
		}
		sum += s.Tests
		fails, errs, skips := 0, 0, 0
		for _, tc := range s.Cases {
			if tc.Name == "" || tc.Time == "" || !strings.HasPrefix(tc.Classname, s.Name+".") {
				t.Errorf("junit %s: testcase %+v", s.Name, tc)
			}
			if tc.Failure != nil {
				fails++
			}
			if tc.Error != nil {
				errs++
			}
			if tc.Skipped != nil {
				skips++
			}
		}
		if fails != s.Failures || errs != s.Errors || skips != s.Skipped {
			t.Errorf("junit %s: counts %d/%d/%d, attributes %d/%d/%d", s.Name, fails, errs, skips, s.Failures, s.Errors, s.Skipped)
		}
		if i < n {
			r := rows[i]
			if s.Failures != r.Summary.Fail || len(s.Cases) != len(r.Checks) {
				t.Errorf("junit %s: %d failures, row %d", s.Name, s.Failures, r.Summary.Fail)
			}
		}
	}
	if sum != doc.Tests {
		t.Errorf("junit: tests %d, suites sum %d", doc.Tests, sum)
	}
	last := doc.Suites[n]
	if last.Errors != 1 || len(last.Cases) != 1 || last.Cases[0].Error == nil {
		t.Errorf("junit: invalid student %+v", last)
	}

	// Markdown, JSON and the table state the rubric's total.
	for name, render := range map[string]func() error{
		"markdown": func() error { return grade.Markdown(&buf, class) },
		"table":    func() error { return grade.Table(&buf, class) },
		"json":     func() error { return grade.JSON(&buf, class) },
	} {
		buf.Reset()
		if err := render(); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("scored out of %d", total)
		if name == "json" {
			want = fmt.Sprintf(`"total": %d`, total)
		}
		if !strings.Contains(buf.String(), want) || !strings.Contains(buf.String(), "student029") || !strings.Contains(buf.String(), "iam-role.exists") {
			t.Errorf("%s: no %q, or rows missing:\n%s", name, want, buf.String())
		}
		if name == "json" {
			var cd grade.ClassDocument
			if err := json.Unmarshal(buf.Bytes(), &cd); err != nil || len(cd.Students) != n+1 || cd.Students[1].Checks[0].Summary == "" {
				t.Errorf("json: %v", err)
			}
		}
	}

	// The partial file has every row; resuming skips them all.
	got, err := grade.ReadPartial(grade.PartialPath(out))
	if err != nil || len(got) != n+1 {
		t.Fatalf("partial: %d rows, %v", len(got), err)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func first(a, _ []string) []string { return a }

// TestGradeAssumesRoles grades through roles the students created for the
// grader (account 0), and makes an Error row of a role that is missing.
func TestGradeAssumesRoles(t *testing.T) {
	c := newClass(t, 4, 0)
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, account(0))
	// The role's session may read only what the grader policy allows, as
	// on AWS.
	doc, err := json.Marshal(checks.GraderPolicy(lab.DefaultNames(), "aws"))
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 2} {
		f := c.fixture(t, i)
		f.Role("slab-grader", trust, nil, map[string]string{"slab-grader": string(doc)})
		if i == 2 {
			stepsOneToThree(t, f, lab.DefaultNames())
		}
	}
	base := c.base()
	base.AccessKeyID, base.SecretAccessKey = key(0), "secret"
	students := []grade.Student{
		{Name: "one", AccountID: account(1), RoleName: "slab-grader"},
		{Name: "two", AccountID: account(2), RoleName: "slab-grader"},
		{Name: "three", AccountID: account(3), RoleName: "slab-grader"}, // no such role
	}
	mark := c.srv.AuditMark()
	rows := grade.Run(context.Background(), students, grade.Options{Base: base, Names: lab.DefaultNames(), Rubric: &grade.Rubric{}})
	for _, m := range c.srv.MutatingSince(mark) {
		if m.Operation != "AssumeRole" {
			t.Errorf("grading mutated: %+v", m)
		}
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	byName := map[string]grade.Row{}
	for _, r := range rows {
		byName[r.Student] = r
	}
	if r := byName["one"]; r.Error != "" || r.Target.Account != account(1) || r.Score != 0 {
		t.Errorf("one: %+v", r)
	}
	if r := byName["two"]; r.Error != "" || r.Target.Account != account(2) || r.StatusOf("iam-role.exists") != "pass" || r.Score == 0 {
		t.Errorf("two: %s %s score %d", r.Error, r.Target.Account, r.Score)
	}
	if r := byName["three"]; r.Status != "error" || !strings.Contains(r.Error, "cannot assume arn:aws:iam::"+account(3)+":role/slab-grader") {
		t.Errorf("three: %+v", r)
	}
}

// TestGradeCancelKeepsFinishedRows: an interrupted run hands out only the
// students it finished, never a row cut short by the cancellation.
func TestGradeCancelKeepsFinishedRows(t *testing.T) {
	c := newClass(t, 40, 20*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var handed []grade.Row
	rows := grade.Run(ctx, c.students, grade.Options{Base: c.base(), Names: lab.DefaultNames(), Concurrency: 4, Rubric: &grade.Rubric{},
		OnRow: func(r grade.Row) {
			handed = append(handed, r)
			if len(handed) == 3 {
				cancel()
			}
		}})
	if len(rows) < 3 || len(rows) >= 40 || len(rows) != len(handed) {
		t.Fatalf("%d rows, %d handed out", len(rows), len(handed))
	}
	for _, r := range rows {
		if r.Error != "" || r.Summary.Error > 0 {
			t.Errorf("%s: a cut-short row was kept: %s %+v", r.Student, r.Error, r.Summary)
		}
	}
}

// A check that ignores its context (the 6 MB queue policy took 66 s
// against --timeout 30s) cannot hold a student past the time limit: the
// checks that finished keep their results, the rest are errors, the row
// says it timed out, and the next student is graded.
func TestTimeoutHonouredWhenACheckIgnoresItsContext(t *testing.T) {
	c := newClass(t, 2, 0)
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	calls := 0
	var mu sync.Mutex
	run := func(ctx context.Context, env *awsenv.Env, n lab.Names, o checks.Options) checks.Report {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if !first {
			return checks.Run(ctx, env, n, o)
		}
		// One check finishes, then the run hangs without looking at ctx.
		c, _ := checks.ByID("iam-role.exists")
		o.OnResult(checks.Result{CheckID: c.ID, Step: c.Step, Weight: c.Weight, Status: checks.Pass, Summary: "exists"})
		<-stuck
		return checks.Report{}
	}
	opts := grade.WithRun(grade.Options{Base: c.base(), Names: lab.DefaultNames(), Rubric: &grade.Rubric{}, Concurrency: 1, Timeout: 500 * time.Millisecond}, run)
	done := make(chan []grade.Row, 1)
	go func() { done <- grade.Run(context.Background(), c.students, opts) }()
	var rows []grade.Row
	select {
	case rows = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("grading never returned: the time limit was not honoured")
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	if !strings.Contains(r.Error, "timed out after 500ms") || r.StatusOf("iam-role.exists") != "pass" || r.StatusOf("dynamodb-table.exists") != "error" {
		t.Errorf("stuck student: error %q, iam-role.exists %s, dynamodb-table.exists %s", r.Error, r.StatusOf("iam-role.exists"), r.StatusOf("dynamodb-table.exists"))
	}
	if rows[1].Error != "" || len(rows[1].Checks) == 0 {
		t.Errorf("the next student was not graded: %+v", rows[1])
	}
}

// TestGradeSuffixedStudentThroughTheGraderPolicy grades a student whose lab
// carries a name suffix through a role holding only the generated grader
// policy, in a sandbox that authorizes every request of a role session: no
// check may answer AccessDenied (an error row). A role whose policy was
// generated for other names does meet AccessDenied, so the test can fail.
func TestGradeSuffixedStudentThroughTheGraderPolicy(t *testing.T) {
	c := newClass(t, 3, 0)
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, account(0))
	policyFor := func(n lab.Names) string {
		doc, err := json.Marshal(checks.GraderPolicy(n, "aws"))
		if err != nil {
			t.Fatal(err)
		}
		return string(doc)
	}
	alice := lab.DefaultNames().WithSuffix("alice")
	for i, doc := range map[int]string{1: policyFor(lab.DefaultNames()), 2: policyFor(lab.DefaultNames().WithSuffix("bob"))} {
		f := c.fixture(t, i)
		f.Role("slab-grader", trust, nil, map[string]string{"slab-grader": doc})
		stepsOneToThree(t, f, alice)
	}
	base := c.base()
	base.AccessKeyID, base.SecretAccessKey = key(0), "secret"
	students := []grade.Student{
		{Name: "alice", AccountID: account(1), RoleName: "slab-grader", NameSuffix: "alice"},
		{Name: "alice-wrong-policy", AccountID: account(2), RoleName: "slab-grader", NameSuffix: "alice"},
	}
	rows := grade.Run(context.Background(), students, grade.Options{Base: base, Names: lab.DefaultNames(), Rubric: &grade.Rubric{}})
	byName := map[string]grade.Row{}
	for _, r := range rows {
		byName[r.Student] = r
	}
	r := byName["alice"]
	if r.Error != "" {
		t.Fatalf("alice: %s", r.Error)
	}
	if _, errored := r.Failing(); len(errored) > 0 {
		for _, ch := range r.Checks {
			if ch.Status == "error" {
				t.Errorf("alice: %s errored: %s", ch.ID, ch.Summary)
			}
		}
	}
	for _, id := range []string{"iam-role.exists", "dynamodb-table.exists"} {
		if s := r.StatusOf(id); s != "pass" {
			t.Errorf("alice: %s is %q, want pass", id, s)
		}
	}
	if _, errored := byName["alice-wrong-policy"].Failing(); len(errored) == 0 && byName["alice-wrong-policy"].Error == "" {
		t.Errorf("a grader policy for other names met no AccessDenied: the sandbox did not authorize the grader's session")
	}
}
