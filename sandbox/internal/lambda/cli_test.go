package lambda_test

import (
	"github.com/slab-lab/slab/internal/extern"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAWSCLI drives the sandbox with the unmodified AWS CLI v2 (botocore's
// own Lambda model: trailing-slash list paths, fileb:// zips, its waiters),
// running the lab's commands.
func TestAWSCLI(t *testing.T) {
	cli := extern.AWSCLIv2(t)
	if testing.Short() {
		t.Skip("slow: starts the CLI several times")
	}
	fx := start(t, nil)
	fx.svc.CreateDelay = 300 * time.Millisecond
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "function.zip")
	if err := os.WriteFile(zipPath, zipOf(t, map[string]string{"index.js": "exports.handler = async () => 'ok';"}), 0o600); err != nil {
		t.Fatal(err)
	}
	aws := func(args ...string) (string, error) {
		cmd := exec.Command(cli, append([]string{"--endpoint-url", fx.env.URL, "--output", "text"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDSANDBOXTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1",
			"AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := aws(args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	// The guide's runtime: refused, in the words lab-corrections quotes.
	if out, err := aws("lambda", "create-function", "--function-name", "queue-processor", "--runtime", "nodejs18.x", "--role", roleArn,
		"--handler", "index.handler", "--zip-file", "fileb://function.zip"); err == nil ||
		!strings.Contains(out, "An error occurred (InvalidParameterValueException) when calling the CreateFunction operation: The runtime parameter of nodejs18.x is no longer supported for creating or updating AWS Lambda functions") {
		t.Fatalf("create-function on nodejs18.x: %v\n%s", err, out)
	}
	must("lambda", "create-function", "--function-name", "queue-processor", "--runtime", "nodejs22.x", "--role", roleArn,
		"--handler", "index.handler", "--zip-file", "fileb://function.zip", "--timeout", "30", "--query", "State")
	must("lambda", "wait", "function-active-v2", "--function-name", "queue-processor")
	if got := must("lambda", "list-functions", "--query", "Functions[].[FunctionName,State]"); got != "queue-processor\tActive" {
		t.Fatalf("list-functions: %q", got)
	}
	if got := must("lambda", "add-permission", "--function-name", "queue-processor", "--statement-id", "s3-trigger", "--action", "lambda:InvokeFunction",
		"--principal", "s3.amazonaws.com", "--source-arn", "arn:aws:s3:::bucket", "--source-account", acct); !strings.Contains(got, `"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::bucket"}`) {
		t.Fatalf("add-permission: %s", got)
	}
	out, err := aws("lambda", "add-permission", "--function-name", "queue-processor", "--statement-id", "s3-trigger", "--action", "lambda:InvokeFunction", "--principal", "s3.amazonaws.com")
	if err == nil || !strings.Contains(out, "ResourceConflictException") || !strings.Contains(out, "The statement id (s3-trigger) provided already exists") {
		t.Fatalf("duplicate add-permission: %v %s", err, out)
	}
	// The queue's 30 s visibility timeout equals the function's timeout: accepted.
	must("lambda", "create-event-source-mapping", "--function-name", "queue-processor", "--batch-size", "10", "--event-source-arn", queueArn)
	if got := must("lambda", "list-event-source-mappings", "--function-name", "queue-processor", "--query", "EventSourceMappings[].[BatchSize,EventSourceArn]"); got != "10\t"+queueArn {
		t.Fatalf("list-event-source-mappings: %q", got)
	}
	out, err = aws("lambda", "create-function", "--function-name", "old-node", "--runtime", "nodejs16.x", "--role", roleArn,
		"--handler", "index.handler", "--zip-file", "fileb://function.zip")
	if err == nil || !strings.Contains(out, "An error occurred (InvalidParameterValueException) when calling the CreateFunction operation: The runtime parameter of nodejs16.x is no longer supported") {
		t.Fatalf("retired runtime: %v %s", err, out)
	}
	out, err = aws("lambda", "create-function", "--function-name", "old-node", "--runtime", "nodejs99.x", "--role", roleArn,
		"--handler", "index.handler", "--zip-file", "fileb://function.zip")
	if err == nil || !strings.Contains(out, "ValidationException") {
		t.Fatalf("runtime outside the enum: %v %s", err, out)
	}
}
