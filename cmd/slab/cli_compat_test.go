package main

import (
	"bufio"
	"context"
	"github.com/slab-lab/slab/internal/extern"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/steps"
)

func goEnv(t *testing.T, key string) string {
	t.Helper()
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", key, err)
	}
	return strings.TrimSpace(string(out))
}

// buildSlab builds the binary once per test binary run.
func buildSlab(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "slab")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

// startSandboxProcess runs `slab sandbox` as its own process and returns
// its URL.
func startSandboxProcess(t *testing.T, bin string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	args := append([]string{"--state-dir", t.TempDir(), "sandbox", "--addr", "127.0.0.1:0", "--memory"}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "slab sandbox serving "); ok {
			go func() {
				for sc.Scan() {
				}
			}()
			return strings.TrimSpace(u)
		}
	}
	t.Fatal("slab sandbox printed no URL")
	return ""
}

// TestGuideCommandsWithAWSCLI runs the corrected lab's own commands, as the
// lessons render them for the sandbox, with the real AWS CLI v2 against
// `slab sandbox` in another process: steps 1-7, then the manual cleanup.
func TestGuideCommandsWithAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ~80 AWS CLI commands; skipped with -short")
	}
	awsPath := extern.AWSCLIv2(t)
	extern.Tool(t, "jq", "Debian's jq")
	bin := buildSlab(t)
	url := startSandboxProcess(t, bin)

	work := t.TempDir()
	names := lab.DefaultNames()
	names.Bucket = names.BucketFor("000000000000", time.Now().Unix())
	rc := steps.Context{Target: "sandbox", Region: "us-east-1", Account: "000000000000", Endpoint: url, StateID: "c0ffee00", Names: names}
	env := []string{
		// slab first (the lessons call `slab package`), then the CLI v2
		// before any other aws. No Go: on the sandbox, slab packages the
		// functions without a toolchain.
		"PATH=" + filepath.Dir(bin) + ":" + filepath.Dir(awsPath) + ":/bin",
		"HOME=" + work, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1", "AWS_PAGER=", "AWS_CONFIG_FILE=" + filepath.Join(work, "none"),
	}
	run := func(t *testing.T, script string) (string, error) {
		cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", script)
		cmd.Dir = work
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	aws := func(t *testing.T, args ...string) string {
		t.Helper()
		cmd := exec.Command(awsPath, append([]string{"--endpoint-url", url, "--output", "text"}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	// What each step must leave behind, read back with the CLI.
	expect := map[string]func(t *testing.T){
		lab.StepIAMRole: func(t *testing.T) {
			if got := aws(t, "iam", "get-role", "--role-name", names.Role, "--query", "Role.RoleName"); got != names.Role {
				t.Errorf("role: %q", got)
			}
			if got := aws(t, "iam", "list-attached-role-policies", "--role-name", names.Role, "--query", "AttachedPolicies[].PolicyName"); !strings.Contains(got, "AWSLambdaBasicExecutionRole") {
				t.Errorf("attached: %q", got)
			}
		},
		lab.StepDynamoDBTable: func(t *testing.T) {
			if got := aws(t, "dynamodb", "describe-table", "--table-name", names.Table, "--query", "Table.[TableStatus,BillingModeSummary.BillingMode]"); got != "ACTIVE\tPAY_PER_REQUEST" {
				t.Errorf("table: %q", got)
			}
		},
		lab.StepS3Bucket: func(t *testing.T) {
			if got := aws(t, "s3api", "get-bucket-versioning", "--bucket", names.Bucket, "--query", "Status"); got != "Enabled" {
				t.Errorf("versioning: %q", got)
			}
		},
		lab.StepS3Processor: func(t *testing.T) {
			if got := aws(t, "lambda", "get-function-configuration", "--function-name", names.S3Function, "--query", "[Runtime,Timeout,MemorySize,State]"); got != "provided.al2023\t30\t256\tActive" {
				t.Errorf("function: %q", got)
			}
			if got := aws(t, "s3api", "get-bucket-notification-configuration", "--bucket", names.Bucket, "--query", "LambdaFunctionConfigurations[0].Filter.Key.FilterRules[0].Value"); got != ".json" {
				t.Errorf("notification suffix: %q", got)
			}
		},
		lab.StepSNSSQS: func(t *testing.T) {
			qurl := aws(t, "sqs", "get-queue-url", "--queue-name", names.Queue)
			pol := aws(t, "sqs", "get-queue-attributes", "--queue-url", qurl, "--attribute-names", "Policy", "--output", "json")
			if !strings.Contains(pol, "sns.amazonaws.com") || !strings.Contains(pol, "ArnEquals") {
				t.Errorf("queue policy: %s", pol)
			}
			vis := aws(t, "sqs", "get-queue-attributes", "--queue-url", qurl, "--attribute-names", "VisibilityTimeout", "--query", "Attributes.VisibilityTimeout")
			if vis != "180" {
				t.Errorf("visibility: %q", vis)
			}
		},
		lab.StepEventProcessor: func(t *testing.T) {
			if got := aws(t, "events", "describe-rule", "--name", names.Rule, "--query", "[ScheduleExpression,State]"); got != "rate(5 minutes)\tENABLED" && got != "rate(5 minutes)\tDISABLED" {
				t.Errorf("rule: %q", got)
			}
		},
		lab.StepQueueProcessor: func(t *testing.T) {
			if got := aws(t, "lambda", "list-event-source-mappings", "--function-name", names.QueueFunction, "--query", "EventSourceMappings[0].[State,BatchSize]"); got != "Enabled\t10" {
				t.Errorf("mapping: %q", got)
			}
		},
	}
	lessons := append(append([]string{}, lab.StepIDs[:7]...), "cleanup")
	for _, id := range lessons {
		md, err := steps.RenderLesson(id, rc)
		if err != nil {
			t.Fatal(err)
		}
		blocks := steps.Commands(md)
		for i, c := range blocks {
			if c.Alt {
				continue
			}
			last := id == "cleanup" && i == len(blocks)-1
			out, err := run(t, c.Text)
			if last {
				// The final verification finds nothing: every line is empty,
				// an empty result, or a not-found error.
				for _, line := range strings.Split(out, "\n") {
					l := strings.TrimSpace(line)
					switch {
					case l == "", l == "None", l == "[]", strings.Contains(l, "Not Found"), strings.Contains(l, "NotFound"),
						strings.Contains(l, "does not exist"), strings.Contains(l, "NoSuch"), strings.Contains(l, "NonExistent"), strings.Contains(l, "cannot be found"):
					default:
						t.Errorf("cleanup verification found something: %q\n%s", l, out)
					}
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s block %d (%s) failed: %v\n--- script\n%s\n--- output\n%s", id, i, c.Title, err, c.Text, out)
			}
		}
		if check, ok := expect[id]; ok {
			t.Run(id, check)
		}
	}
	// After the cleanup nothing of the lab is left.
	if got := aws(t, "lambda", "list-functions", "--query", "length(Functions)"); got != "0" {
		t.Errorf("functions left: %s", got)
	}
	if got := aws(t, "s3api", "list-buckets", "--query", "length(Buckets)"); got != "0" {
		t.Errorf("buckets left: %s", got)
	}
	if got := aws(t, "dynamodb", "list-tables", "--query", "length(TableNames)"); got != "0" {
		t.Errorf("tables left: %s", got)
	}
	if got := aws(t, "iam", "list-roles", "--query", "length(Roles)"); got != "0" {
		t.Errorf("roles left: %s", got)
	}
}
