package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/internal/testenv"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/policy"
	"github.com/slab-lab/slab/report"
	"github.com/slab-lab/slab/state"
)

// endpointArgs isolates the test and targets endpoint with the sandbox's
// static credentials.
func endpointArgs(t *testing.T, endpoint string) []string {
	t.Helper()
	dir := isolate(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	return []string{"--state-dir", dir, "--endpoint-url", endpoint}
}

// namesArgs passes a lab's names as --name flags.
func namesArgs(n lab.Names) []string {
	var out []string
	for k, v := range map[string]string{"role": n.Role, "table": n.Table, "bucket-prefix": n.BucketPrefix, "bucket": n.Bucket,
		"s3-function": n.S3Function, "event-function": n.EventFunction, "queue-function": n.QueueFunction,
		"topic": n.Topic, "queue": n.Queue, "dlq": n.DLQ, "rule": n.Rule} {
		out = append(out, "--name", k+"="+v)
	}
	return out
}

func checkJSON(t *testing.T, out string) report.Document {
	t.Helper()
	var doc report.Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return doc
}

func TestCheckExitCodes(t *testing.T) {
	f := testenv.NewFixture(t)
	testenv.RequireSandbox(t, f.Srv, "the exit-code test builds and breaks labs freely")
	n := f.Names()
	f.FullLab(n)
	base := append(endpointArgs(t, f.Srv.URL()), namesArgs(n)...)

	// Everything passes: exit 0, and the statuses land in the state file.
	out, errOut, code := runSlab(t, append(base, "check", "--format", "json")...)
	if code != exitOK {
		t.Fatalf("complete lab: exit %d\n%s\n%s", code, out, errOut)
	}
	doc := checkJSON(t, out)
	if doc.Summary.Pass != len(checks.Select(checks.Options{})) || doc.Target.Kind != "endpoint" || doc.SlabVersion == "" {
		t.Errorf("summary %+v target %+v", doc.Summary, doc.Target)
	}
	out, _, _ = runSlab(t, append(base, "steps", "--format", "json")...)
	var steps struct {
		Steps []stepJSON `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &steps); err != nil {
		t.Fatal(err)
	}
	for _, s := range steps.Steps {
		if s.Status != "pass" || s.CheckedAt == nil {
			t.Errorf("slab steps after a passing check: %+v", s)
		}
	}

	// One step, by number, as text: the target line comes first.
	out, _, code = runSlab(t, append(base, "check", "2")...)
	if code != exitOK || !strings.HasPrefix(out, "ENDPOINT "+f.Srv.URL()) || !strings.Contains(out, "dynamodb-table.key-schema") || strings.Contains(out, "iam-role") {
		t.Errorf("check 2: exit %d\n%s", code, out)
	}

	// A wrong resource: exit 1, and the step's status says fail.
	broken := n
	broken.Table = "missing-" + testenv.Unique()
	out, _, code = runSlab(t, append(append(endpointArgs(t, f.Srv.URL()), namesArgs(broken)...), "check", "dynamodb-table", "--format", "junit")...)
	if code != exitChecksFail {
		t.Errorf("missing table: exit %d\n%s", code, out)
	}
	var suites struct {
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal([]byte(out), &suites); err != nil || suites.Failures != 1 {
		t.Errorf("junit: %v failures=%d\n%s", err, suites.Failures, out)
	}

	// Could not verify, nothing failed: exit 3. A proxy refuses one
	// operation with AccessDenied, as a grader's policy without it would.
	target, _ := url.Parse(f.Srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	denying := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/functions/"+n.EventFunction+"/configuration") {
			w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"Message":"User: arn:aws:sts::000000000000:assumed-role/grader/s is not authorized to perform: lambda:GetFunctionConfiguration"}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer denying.Close()
	out, _, code = runSlab(t, append(append(endpointArgs(t, denying.URL), namesArgs(n)...), "check", "event-processor", "--format", "markdown")...)
	if code != exitUnreachable || !strings.Contains(out, "AccessDenied: not allowed to call lambda:GetFunctionConfiguration — add it to the grader policy") {
		t.Errorf("access denied: exit %d\n%s", code, out)
	}

	// Without a bucket name in the state, the checks find the lab bucket by
	// its prefix, and slab remembers it.
	noBucket := namesArgs(n)
	for i := range noBucket {
		if strings.HasPrefix(noBucket[i], "bucket=") {
			noBucket = append(noBucket[:i-1], noBucket[i+1:]...)
			break
		}
	}
	args := endpointArgs(t, f.Srv.URL())
	if out, _, code := runSlab(t, append(append(args, noBucket...), "check", "s3-bucket")...); code != exitOK {
		t.Errorf("discovered bucket: exit %d\n%s", code, out)
	}
	sf := state.ForTarget(args[1], state.TargetKey("endpoint", f.Srv.URL(), "000000000000", "us-east-1"))
	st, _, err := sf.Load("endpoint")
	if err != nil || st.Names["bucket"] != n.Bucket || st.Steps[lab.StepS3Bucket].Status != "pass" || st.Steps[lab.StepS3Bucket].MaxScore == 0 {
		t.Errorf("state after discovery: %v %+v %+v", err, st.Names, st.Steps[lab.StepS3Bucket])
	}

	// Usage errors: exit 2.
	for _, args := range [][]string{{"check", "--format", "yaml"}, {"check", "9"}, {"check", "no-such-step"}} {
		if _, errOut, code := runSlab(t, append(base, args...)...); code != exitUsage {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
	}
}

// On an empty sandbox every step fails; the default target starts one
// in-process.
func TestCheckEmptySandboxFails(t *testing.T) {
	dir := isolate(t)
	out, errOut, code := runSlab(t, "--state-dir", dir, "check", "--format", "json")
	if code != exitChecksFail {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	doc := checkJSON(t, out)
	if doc.Target.Kind != "sandbox" || doc.Target.Account != "000000000000" || doc.Summary.Fail == 0 || doc.Summary.Error != 0 {
		t.Errorf("%+v %+v", doc.Target, doc.Summary)
	}
	out, _, _ = runSlab(t, "--state-dir", dir, "steps")
	if !strings.Contains(out, "fail") {
		t.Errorf("steps:\n%s", out)
	}
}

func TestGraderPolicyCommand(t *testing.T) {
	dir := isolate(t)
	out, errOut, code := runSlab(t, "--state-dir", dir, "grader-policy")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got checks.PolicyDocument
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := checks.GraderPolicy(lab.DefaultNames(), "aws")
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Errorf("printed policy differs from checks.GraderPolicy:\n%s", out)
	}
	p, err := policy.Parse(out)
	if err != nil || p.ValidateIdentity() != nil {
		t.Errorf("not a valid identity policy: %v", err)
	}
	if strings.Contains(out, `"Action": "*"`) || strings.Contains(out, ":*\"\n") && strings.Contains(out, `"s3:*"`) {
		t.Errorf("wildcard actions in the grader policy")
	}

	out, errOut, code = runSlab(t, "--state-dir", dir, "grader-policy", "--trust", "123456789012", "--external-id", "course-42")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var tmpl struct {
		Resources struct {
			GraderRole struct {
				Type       string
				Properties struct {
					AssumeRolePolicyDocument json.RawMessage
					Policies                 []struct {
						PolicyName     string
						PolicyDocument checks.PolicyDocument
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &tmpl); err != nil {
		t.Fatal(err)
	}
	role := tmpl.Resources.GraderRole
	trust, err := policy.Parse(string(role.Properties.AssumeRolePolicyDocument))
	if err != nil || trust.ValidateTrust() != nil {
		t.Fatalf("trust policy: %v\n%s", err, out)
	}
	ok := policy.EvaluateResource(policy.Request{Principal: policy.Principal{Type: "AWS", ID: "arn:aws:iam::123456789012:role/grader"}, Action: "sts:AssumeRole",
		Resource: "arn:aws:iam::222222222222:role/slab-grader", Context: map[string][]string{"sts:ExternalId": {"course-42"}}}, trust)
	other := policy.EvaluateResource(policy.Request{Principal: policy.Principal{Type: "AWS", ID: "arn:aws:iam::999999999999:role/grader"}, Action: "sts:AssumeRole",
		Resource: "arn:aws:iam::222222222222:role/slab-grader", Context: map[string][]string{"sts:ExternalId": {"course-42"}}}, trust)
	if role.Type != "AWS::IAM::Role" || !ok.Allowed() || other.Allowed() {
		t.Errorf("trust: grader allowed %v, stranger allowed %v\n%s", ok.Allowed(), other.Allowed(), out)
	}
	if len(role.Properties.Policies) != 1 {
		t.Fatalf("policies: %+v", role.Properties.Policies)
	}
	pb, _ := json.Marshal(role.Properties.Policies[0].PolicyDocument)
	if string(pb) != string(wb) {
		t.Errorf("the template's policy is not the grader policy")
	}
	if !strings.Contains(errOut, "aws cloudformation deploy") {
		t.Errorf("no deploy hint on stderr: %s", errOut)
	}
	for _, bad := range []string{"12345", "arn:aws:sts::123456789012:assumed-role/x/y", "someone"} {
		if _, _, code := runSlab(t, "--state-dir", dir, "grader-policy", "--trust", bad); code != exitUsage {
			t.Errorf("--trust %s: exit %d", bad, code)
		}
	}
	// Renamed resources are what the policy scopes.
	out, _, _ = runSlab(t, "--state-dir", dir, "--name", "table=course-table", "grader-policy")
	if !strings.Contains(out, "table/course-table") {
		t.Errorf("--name not applied:\n%s", out)
	}
}
