package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/sandbox"
	"github.com/slab-lab/slab/steps"
)

// runSlab runs the CLI in-process with captured output.
func runSlab(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	code = run(args, ios)
	return out.String(), errOut.String(), code
}

// isolate keeps the test away from the user's AWS config and state.
func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(home, ".local", "share"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "no-aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "no-aws-credentials"))
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	// No instance metadata service here: without this the SDK would wait
	// for 169.254.169.254 before concluding there are no credentials.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return filepath.Join(home, "state")
}

func TestStepsJSONListsTheEightFixedIDs(t *testing.T) {
	dir := isolate(t)
	out, errOut, code := runSlab(t, "--state-dir", dir, "steps", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Target targetInfo `json:"target"`
		Steps  []stepJSON `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(doc.Steps) != 8 {
		t.Fatalf("%d steps", len(doc.Steps))
	}
	for i, s := range doc.Steps {
		if s.ID != lab.StepIDs[i] || s.Number != i+1 || s.Title == "" {
			t.Errorf("step %d: %+v", i+1, s)
		}
	}
	if doc.Target.Kind != "sandbox" || doc.Target.Account != "000000000000" || doc.Target.Region != "us-east-1" {
		t.Errorf("target %+v", doc.Target)
	}
}

func TestShowSNSSQSHasStringValuedQueuePolicy(t *testing.T) {
	dir := isolate(t)
	out, errOut, code := runSlab(t, "--state-dir", dir, "show", "5", "--format", "markdown")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	cmds := commandText(out)
	if !strings.Contains(cmds, "jq -c '{Policy: tojson}'") {
		t.Errorf("no string-valued policy command:\n%s", cmds)
	}
	if strings.Contains(cmds, `'{"Policy": '$(`) {
		t.Errorf("the guide's broken quoting is back in the commands")
	}
	if !strings.Contains(cmds, "aws --endpoint-url http://127.0.0.1:4566 sqs set-queue-attributes") {
		t.Errorf("sandbox commands lack --endpoint-url:\n%s", out)
	}
}

func TestShowS3BucketLocationConstraintByRegion(t *testing.T) {
	dir := isolate(t)
	out, errOut, code := runSlab(t, "--state-dir", dir, "show", "s3-bucket", "--format", "markdown")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if cmds := commandText(out); strings.Contains(cmds, "LocationConstraint") || !strings.Contains(cmds, "s3api create-bucket") {
		t.Errorf("us-east-1 commands must create the bucket without a LocationConstraint:\n%s", cmds)
	}
	out, errOut, code = runSlab(t, "--state-dir", dir, "--region", "eu-west-1", "show", "s3-bucket", "--format", "markdown")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(commandText(out), "LocationConstraint=eu-west-1") {
		t.Errorf("eu-west-1 lesson lacks LocationConstraint=eu-west-1:\n%s", out)
	}
}

func TestShowKeepsTheBucketNameChosenOnce(t *testing.T) {
	dir := isolate(t)
	first, _, _ := runSlab(t, "--state-dir", dir, "show", "3", "--format", "markdown")
	time.Sleep(1100 * time.Millisecond) // a new unix second would give a new name if it were not kept
	second, _, _ := runSlab(t, "--state-dir", dir, "show", "3", "--format", "markdown")
	b1 := bucketIn(first)
	if b1 == "" || b1 != bucketIn(second) {
		t.Fatalf("bucket changed or missing: %q vs %q", b1, bucketIn(second))
	}
}

// commandText is the lesson's bash blocks: what a learner would run.
func commandText(markdown string) string {
	var b strings.Builder
	for _, c := range steps.Commands(markdown) {
		b.WriteString(c.Text + "\n")
	}
	return b.String()
}

func bucketIn(s string) string {
	for _, f := range strings.Fields(s) {
		if strings.HasPrefix(f, "lambda-integration-000000000000-") {
			return strings.Trim(f, "`'\"\\")
		}
	}
	return ""
}

func TestAWSTargetWithoutCredentialsExits3(t *testing.T) {
	dir := isolate(t)
	_, errOut, code := runSlab(t, "--state-dir", dir, "--aws", "target")
	if code != exitUnreachable {
		t.Fatalf("exit %d, want 3: %s", code, errOut)
	}
	if !strings.Contains(errOut, "aws configure") || !strings.Contains(errOut, "--profile") {
		t.Errorf("message does not say how to fix it: %s", errOut)
	}
	if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
		t.Errorf("stack trace: %s", errOut)
	}
}

func TestAWSShowWithoutCredentialsRendersPlaceholders(t *testing.T) {
	dir := isolate(t)
	out, errOut, code := runSlab(t, "--state-dir", dir, "--aws", "show", "3", "--format", "markdown")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "$ACCOUNT_ID") {
		t.Errorf("no account placeholder:\n%s", out)
	}
	if strings.Contains(out, "--endpoint-url") {
		t.Errorf("AWS commands carry --endpoint-url")
	}
	if !strings.Contains(errOut, "account id is unknown") {
		t.Errorf("no notice on stderr: %q", errOut)
	}
}

func TestCorruptStateIsMovedAside(t *testing.T) {
	dir := isolate(t)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "state-sandbox.json")
	if err := os.WriteFile(path, []byte("{definitely not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runSlab(t, "--state-dir", dir, "steps")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "moved it to") || !strings.Contains(out, "iam-role") {
		t.Fatalf("stderr %q stdout %q", errOut, out)
	}
	aside, _ := filepath.Glob(path + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("moved-aside files: %v", aside)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("fresh state not written: %v", err)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	dir := isolate(t)
	for _, args := range [][]string{
		{"show", "9"},
		{"show", "nope"},
		{"steps", "--format", "xml"},
		{"--bogus-flag"},
		{"--aws", "--endpoint-url", "http://x", "steps"},
		{"--name", "rol=x", "steps"},
		{"do"},
		{"do", "9"},
		{"do", "--all", "1"},
		{"do", "--runtime", "java", "1"},
		{"check", "9"},
		{"check", "--format", "yaml"},
		{"grader-policy", "extra"},
		{"cleanup", "now"},
		{"cost", "--format", "xml"},
		{"cost", "--hours", "0"},
		{"cost", "--arch", "sparc"},
		{"grade"},
		{"grade", "--roster", "does-not-exist.csv"},
	} {
		_, errOut, code := runSlab(t, append([]string{"--state-dir", dir}, args...)...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut)
		}
		if strings.TrimSpace(errOut) == "" {
			t.Errorf("%v: no message", args)
		}
	}
}

func TestVersion(t *testing.T) {
	out, _, code := runSlab(t, "version")
	if code != 0 || !strings.HasPrefix(out, "slab dev") || !strings.Contains(out, "go1.") {
		t.Fatalf("exit %d: %q", code, out)
	}
}

func TestTargetSandboxStartsInProcess(t *testing.T) {
	dir := isolate(t)
	out, errOut, code := runSlab(t, "--state-dir", dir, "target", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Target targetInfo `json:"target"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Target.Kind != "sandbox" || doc.Target.Account != "000000000000" || !strings.HasPrefix(doc.Target.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("%+v", doc.Target)
	}
}

func TestUnreachableEndpointExits3(t *testing.T) {
	dir := isolate(t)
	_, errOut, code := runSlab(t, "--state-dir", dir, "--endpoint-url", "http://127.0.0.1:1", "target")
	if code != exitUnreachable {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

func TestSandboxCommandServesAndFlushes(t *testing.T) {
	dir := isolate(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out}
	cmd := newRootCmd(ios)
	cmd.SetArgs([]string{"--state-dir", dir, "sandbox", "--addr", "127.0.0.1:0"})
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	var url string
	for i := 0; i < 200 && url == ""; i++ {
		time.Sleep(10 * time.Millisecond)
		for _, f := range strings.Fields(out.String()) {
			if strings.HasPrefix(f, "AWS_ENDPOINT_URL=") {
				url = strings.TrimPrefix(f, "AWS_ENDPOINT_URL=")
			}
		}
	}
	if url == "" {
		t.Fatalf("no export line: %s", out.String())
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"), config.WithBaseEndpoint(url),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	if err != nil {
		t.Fatal(err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "000000000000" {
		t.Fatalf("%v %v", id, err)
	}
	// The note on the export line: whether the learner's aws reads its
	// AWS_ENDPOINT_URL (2.13+), once aws --version answered or was not found.
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(out.String(), "Note: the export line sets the test credentials and the region;") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if s := out.String(); !strings.Contains(s, "Note: the export line sets the test credentials and the region;") || !strings.Contains(s, "AWS_ENDPOINT_URL") {
		t.Errorf("no note on the export line:\n%s", s)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sandbox", "snapshot.json")); err != nil {
		t.Fatalf("no snapshot after shutdown: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sandbox", "sandbox.lock")); !os.IsNotExist(err) {
		t.Fatalf("lock not released: %v", err)
	}
}

func TestSandboxRefusesDamagedStateAndRepairSaysWhatItDropped(t *testing.T) {
	dir := isolate(t)
	data := filepath.Join(dir, "data")
	srv, err := sandbox.New(sandbox.Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	// Damage followed by a whole record: not a torn tail, so no guessing.
	journal := filepath.Join(data, "journal.jsonl")
	if err := os.WriteFile(journal, []byte("garbage\n[]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runSlab(t, "sandbox", "--addr", "127.0.0.1:0", "--data-dir", data)
	if code != exitUsage || !strings.Contains(errOut, journal+" is damaged at byte 0") || !strings.Contains(errOut, "slab sandbox --repair") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	out, errOut, code := runSlab(t, "sandbox", "--repair", "--data-dir", data)
	if code != 0 {
		t.Fatalf("repair: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "dropped "+journal+": 8 bytes at byte 0") || !strings.Contains(out, "1 journal records kept") {
		t.Fatalf("repair output:\n%s", out)
	}
	backups, _ := filepath.Glob(filepath.Join(data, "repair-*", "journal.jsonl"))
	if len(backups) != 1 {
		t.Fatalf("backups %v, want the original journal kept once", backups)
	}
	if b, _ := os.ReadFile(backups[0]); string(b) != "garbage\n[]\n" {
		t.Fatalf("backup holds %q", b)
	}
	out, _, code = runSlab(t, "sandbox", "--repair", "--data-dir", data)
	if code != 0 || !strings.Contains(out, "nothing dropped") {
		t.Fatalf("second repair: exit %d:\n%s", code, out)
	}
}

// A `go build` from a checkout carries no -ldflags: the version falls back
// to what the toolchain recorded.
func TestVersionFallsBackToBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-12-08T01:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	v, c, d := stamp("dev", "none", "unknown", bi)
	if v != "dev" || c != "0123456789ab with uncommitted changes" || d != "2026-12-08T01:00:00Z" {
		t.Errorf("checkout build: %q %q %q", v, c, d)
	}
	v, c, d = stamp("dev", "none", "unknown", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}})
	if v != "v1.4.0" || c != "none" || d != "unknown" {
		t.Errorf("go install @v1.4.0: %q %q %q", v, c, d)
	}
	// goreleaser's stamp wins.
	v, c, d = stamp("1.5.0", "abc1234", "2026-12-01T00:00:00Z", bi)
	if v != "1.5.0" || c != "abc1234" || d != "2026-12-01T00:00:00Z" {
		t.Errorf("release build: %q %q %q", v, c, d)
	}
	if v, c, d := stamp("dev", "none", "unknown", nil); v != "dev" || c != "none" || d != "unknown" {
		t.Errorf("no build info: %q %q %q", v, c, d)
	}
}

// Cobra takes the first back-quoted word of a flag's usage as its value
// name: a back-quoted command there printed `--endpoint-url slab sandbox`.
func TestFlagValueNamesAreNames(t *testing.T) {
	root := newRootCmd(&IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.PersistentFlags(), c.LocalNonPersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if name, _ := pflag.UnquoteUsage(f); strings.ContainsAny(name, " `") {
					t.Errorf("%s --%s: value name %q", c.CommandPath(), f.Name, name)
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	out, _, _ := runSlab(t, "--help")
	if !strings.Contains(out, "--endpoint-url URL") {
		t.Errorf("--help:\n%s", out)
	}
}
