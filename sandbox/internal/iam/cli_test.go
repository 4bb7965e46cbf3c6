package iam_test

import (
	"encoding/json"
	"github.com/slab-lab/slab/internal/extern"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The guide's IAM commands through the unmodified AWS CLI v2 (Debian's
// awscli), which decodes IAM's URL-encoded documents itself. Few calls: each
// CLI start costs seconds.
func TestAWSCLIGuideCommands(t *testing.T) {
	awsCLI := extern.AWSCLIv2(t)
	if testing.Short() {
		t.Skip("starts the AWS CLI several times")
	}
	env, _ := start(t)
	dir := t.TempDir()
	trustFile := filepath.Join(dir, "lambda-trust-policy.json")
	if err := os.WriteFile(trustFile, []byte(`{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Service": "lambda.amazonaws.com"
      },
      "Action": "sts:AssumeRole"
    }
  ]
}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(awsCLI, append(args, "--endpoint-url", env.URL, "--output", "json")...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDSANDBOXTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1",
			"AWS_PAGER=", "AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"), "HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("iam", "create-role", "--role-name", "lambda-integration-role", "--assume-role-policy-document", "file://"+trustFile)
	run("iam", "wait", "role-exists", "--role-name", "lambda-integration-role")
	run("iam", "put-role-policy", "--role-name", "lambda-integration-role", "--policy-name", "logs",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"arn:aws:logs:*:*:log-group:/aws/lambda/a b+c:*"}]}`)

	var role struct {
		Role struct {
			Arn                      string
			AssumeRolePolicyDocument struct {
				Statement []struct{ Principal struct{ Service string } }
			}
		}
	}
	if err := json.Unmarshal([]byte(run("iam", "get-role", "--role-name", "lambda-integration-role")), &role); err != nil {
		t.Fatal(err)
	}
	if role.Role.Arn != "arn:aws:iam::000000000000:role/lambda-integration-role" || role.Role.AssumeRolePolicyDocument.Statement[0].Principal.Service != "lambda.amazonaws.com" {
		t.Fatalf("get-role: %+v", role)
	}
	var inline struct {
		PolicyDocument struct {
			Statement []struct{ Resource string }
		}
	}
	if err := json.Unmarshal([]byte(run("iam", "get-role-policy", "--role-name", "lambda-integration-role", "--policy-name", "logs")), &inline); err != nil {
		t.Fatal(err)
	}
	if got := inline.PolicyDocument.Statement[0].Resource; got != "arn:aws:logs:*:*:log-group:/aws/lambda/a b+c:*" {
		t.Fatalf("the CLI decoded the document to %q", got)
	}
}
