package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sample is a report with every status, as a run would produce it.
func sample() checks.Report {
	rs := []checks.Result{
		{CheckID: "iam-role.exists", Step: lab.StepIAMRole, Status: checks.Pass, Summary: "role lambda-integration-role exists",
			Evidence: []string{"iam:GetRole: arn:aws:iam::000000000000:role/lambda-integration-role"}, Weight: 2, Duration: 12 * time.Millisecond},
		{CheckID: "iam-role.s3-read", Step: lab.StepIAMRole, Status: checks.Warn, Weight: 1, Duration: 30 * time.Millisecond,
			Summary:  "allowed, but not only on the objects of b: s3:GetObject reaches every bucket in the account (through AmazonS3FullAccess)",
			Evidence: []string{"evaluated with iam:SimulatePrincipalPolicy", "s3:GetObject on arn:aws:s3:::b/test-data.json: allowed (AmazonS3FullAccess)"},
			Hint:     "works; least privilege scopes it to this lab's resources"},
		{CheckID: "sns-sqs.queue-policy", Step: lab.StepSNSSQS, Status: checks.Fail, Weight: 3, Duration: 5 * time.Millisecond,
			Summary:  "queue lambda-integration-queue has no policy: SNS deliveries are dropped silently",
			Evidence: []string{"sqs:GetQueueAttributes Policy: absent"},
			Hint:     "`aws sqs set-queue-attributes --queue-url U --attributes \"$(jq -c '{Policy: tojson}' sqs-policy.json)\"`; see `slab show troubleshooting` → queue-policy"},
		{CheckID: "sns-sqs.dead-letter", Step: lab.StepSNSSQS, Status: checks.Skip, Weight: 1, Summary: "skipped: needs queue q, which does not exist (see sns-sqs.queue)"},
		{CheckID: "end-to-end.function-errors", Step: lab.StepEndToEnd, Status: checks.Error, Weight: 2, Duration: 2 * time.Millisecond,
			Summary:  "could not check the log of sqs-processor: AccessDenied: not allowed to call logs:FilterLogEvents — add it to the grader policy",
			Evidence: []string{"CloudWatch Logs FilterLogEvents: AccessDeniedException: a | pipe <and> \x01control & \"quotes\""},
			Hint:     "the identity running the checks lacks logs:FilterLogEvents"},
	}
	rep := checks.Report{
		Target:   checks.Target{Kind: "sandbox", Account: "000000000000", Region: "us-east-1", Endpoint: "http://127.0.0.1:4566", Description: "SANDBOX 000000000000 us-east-1 (http://127.0.0.1:4566)"},
		Started:  time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC),
		Duration: 81 * time.Millisecond,
	}
	// Fill steps and summary as the runner does.
	byStep := map[string][]checks.Result{}
	for _, r := range rs {
		byStep[r.Step] = append(byStep[r.Step], r)
	}
	rep.Results = rs
	for _, id := range lab.StepIDs {
		if len(byStep[id]) > 0 {
			st, score, max := checks.Aggregate(byStep[id])
			rep.Steps = append(rep.Steps, checks.StepReport{ID: id, Status: st, Score: score, MaxScore: max, Results: byStep[id]})
		}
	}
	for _, r := range rs {
		switch r.Status {
		case checks.Pass:
			rep.Summary.Pass++
		case checks.Fail:
			rep.Summary.Fail++
		case checks.Warn:
			rep.Summary.Warn++
		case checks.Error:
			rep.Summary.Error++
		case checks.Skip:
			rep.Summary.Skip++
		}
	}
	_, rep.Summary.Score, rep.Summary.MaxScore = checks.Aggregate(rs)
	return rep
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n%s", name, got)
	}
}

func render(t *testing.T, format string, o Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	o.Version = "v1.2.3"
	if err := Write(&buf, format, sample(), o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	golden(t, "report.txt", render(t, "text", Options{}))
	golden(t, "report-color.txt", render(t, "text", Options{Color: true}))
	golden(t, "report.json", render(t, "json", Options{}))
	golden(t, "report.xml", render(t, "junit", Options{}))
	golden(t, "report.md", render(t, "markdown", Options{}))
}

func TestTargetLineHeadsEveryFormat(t *testing.T) {
	for _, f := range Formats {
		out := string(render(t, f, Options{}))
		if !strings.Contains(strings.Join(strings.SplitN(out, "\n", 7)[:6], "\n"), "000000000000") {
			t.Errorf("%s: the target is not at the top:\n%s", f, out)
		}
	}
}

func TestPlainTextHasNoEscapes(t *testing.T) {
	if bytes.Contains(render(t, "text", Options{}), []byte("\x1b[")) {
		t.Error("colour codes without Color")
	}
	if !bytes.Contains(render(t, "text", Options{Color: true}), []byte("\x1b[31m")) {
		t.Error("no colour with Color")
	}
}

func TestUnknownFormat(t *testing.T) {
	if err := Write(io.Discard, "yaml", sample(), Options{}); err == nil {
		t.Error("yaml accepted")
	}
}

// The JSON schema README documents: these keys, these types, always present.
func TestJSONSchema(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(render(t, "json", Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"schema_version": "number", "slab_version": "string", "generated_at": "string", "target": "object",
		"probe": "bool", "summary": "object", "steps": "array", "checks": "array"}
	for k, typ := range want {
		if kindOf(doc[k]) != typ {
			t.Errorf("%s: %s, want %s", k, kindOf(doc[k]), typ)
		}
	}
	for _, k := range []string{"kind", "account", "region", "endpoint"} {
		if kindOf(doc["target"].(map[string]any)[k]) != "string" {
			t.Errorf("target.%s missing", k)
		}
	}
	for _, k := range []string{"pass", "fail", "warn", "error", "skip", "score", "max_score"} {
		if kindOf(doc["summary"].(map[string]any)[k]) != "number" {
			t.Errorf("summary.%s missing", k)
		}
	}
	for _, c := range doc["checks"].([]any) {
		m := c.(map[string]any)
		for k, typ := range map[string]string{"id": "string", "step": "string", "status": "string", "summary": "string", "evidence": "array", "hint": "string", "weight": "number"} {
			if kindOf(m[k]) != typ {
				t.Errorf("check %v: %s is %s, want %s", m["id"], k, kindOf(m[k]), typ)
			}
		}
		if st := m["status"].(string); !regexp.MustCompile(`^(pass|fail|warn|error|skip)$`).MatchString(st) {
			t.Errorf("status %q", st)
		}
	}
}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case nil:
		return "missing"
	}
	return "?"
}

// junit10 is the junit-10.xsd of Jenkins' xUnit plugin (which GitLab's
// parser also accepts), as rules: each element's allowed children and
// attributes, and its required attributes.
var junit10 = map[string]struct {
	children, attrs, required []string
	text                      bool
}{
	"testsuites": {children: []string{"testsuite"}, attrs: []string{"name", "time", "tests", "failures", "errors"}},
	"testsuite": {children: []string{"testsuite", "properties", "testcase", "system-out", "system-err"},
		attrs:    []string{"name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp", "hostname", "id", "package", "file", "log", "url"},
		required: []string{"name", "tests", "failures", "errors"}},
	"properties": {children: []string{"property"}},
	"property":   {attrs: []string{"name", "value"}, required: []string{"name", "value"}},
	"testcase": {children: []string{"skipped", "error", "failure", "rerunFailure", "rerunError", "flakyFailure", "flakyError", "system-out", "system-err"},
		attrs: []string{"name", "time", "classname", "group"}, required: []string{"name"}},
	"failure":    {attrs: []string{"type", "message"}, text: true},
	"error":      {attrs: []string{"type", "message"}, text: true},
	"skipped":    {attrs: []string{"type", "message"}, text: true},
	"system-out": {text: true},
	"system-err": {text: true},
}

// surefireTime is the schema's SUREFIRE_TIME pattern for time attributes.
var surefireTime = regexp.MustCompile(`^((([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?)$`)

func TestJUnitIsValidAgainstJUnit10(t *testing.T) {
	out := render(t, "junit", Options{})
	dec := xml.NewDecoder(bytes.NewReader(out))
	var stack []string
	root := ""
	tests := map[string]int{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			name := el.Name.Local
			rule, ok := junit10[name]
			if !ok {
				t.Errorf("element %s is not in the schema", name)
				continue
			}
			if len(stack) == 0 {
				root = name
			} else if parent := junit10[stack[len(stack)-1]]; !contains(parent.children, name) {
				t.Errorf("%s may not contain %s", stack[len(stack)-1], name)
			}
			have := map[string]bool{}
			for _, a := range el.Attr {
				have[a.Name.Local] = true
				if !contains(rule.attrs, a.Name.Local) {
					t.Errorf("%s has attribute %s, not in the schema", name, a.Name.Local)
				}
				if a.Name.Local == "time" && (name == "testsuite" || name == "testsuites") && !surefireTime.MatchString(a.Value) {
					t.Errorf("%s time %q does not match SUREFIRE_TIME", name, a.Value)
				}
			}
			for _, r := range rule.required {
				if !have[r] {
					t.Errorf("%s lacks required attribute %s", name, r)
				}
			}
			tests[name]++
			stack = append(stack, name)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 && !junit10[stack[len(stack)-1]].text && strings.TrimSpace(string(el)) != "" {
				t.Errorf("%s holds text %q", stack[len(stack)-1], el)
			}
		}
	}
	if root != "testsuites" || tests["testcase"] != 5 || tests["failure"] != 1 || tests["error"] != 1 || tests["skipped"] != 1 {
		t.Errorf("root %s, counts %v", root, tests)
	}
	var doc junitSuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 5 || doc.Failures != 1 || doc.Errors != 1 {
		t.Errorf("totals %d/%d/%d", doc.Tests, doc.Failures, doc.Errors)
	}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Classname != s.Name {
				t.Errorf("testcase %s classname %s in suite %s", c.Name, c.Classname, s.Name)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
