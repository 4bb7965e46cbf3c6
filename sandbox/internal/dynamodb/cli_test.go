package dynamodb_test

import (
	"bytes"
	"encoding/json"
	"github.com/slab-lab/slab/internal/extern"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// awsCLI is Debian's AWS CLI v2, the one learners run against the sandbox.
const awsCLI = extern.AWSCLIPath

// TestAWSCLILabCommands runs the lab guide's own DynamoDB commands through
// the unmodified AWS CLI (botocore checks the X-Amz-Crc32 header too).
func TestAWSCLILabCommands(t *testing.T) {
	extern.AWSCLIv2(t)
	if testing.Short() {
		t.Skip("starts the Python CLI several times")
	}
	t.Parallel()
	// Deleted tables vanish at once: the CLI's waiter polls every 20 s.
	f := start(t, 300*time.Millisecond, 0)
	home := t.TempDir()
	run := func(args ...string) (string, string, error) {
		cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", f.env.URL, "--output", "json"}, args...)...)
		cmd.Env = []string{
			"HOME=" + home, "PATH=/usr/bin:/bin", "AWS_ACCESS_KEY_ID=AKIDSANDBOXTEST", "AWS_SECRET_ACCESS_KEY=secret",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=", "AWS_CONFIG_FILE=" + home + "/config", "AWS_SHARED_CREDENTIALS_FILE=" + home + "/credentials",
		}
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		return out.String(), errOut.String(), err
	}
	mustRun := func(args ...string) map[string]any {
		t.Helper()
		out, errOut, err := run(args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, errOut)
		}
		var v map[string]any
		if strings.TrimSpace(out) != "" {
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		return v
	}
	const table = "lambda-integration-data"
	created := mustRun("dynamodb", "create-table", "--table-name", table,
		"--attribute-definitions", "AttributeName=id,AttributeType=S",
		"--key-schema", "AttributeName=id,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
	if st := created["TableDescription"].(map[string]any)["TableStatus"]; st != "CREATING" {
		t.Fatalf("create-table status %v", st)
	}
	mustRun("dynamodb", "wait", "table-exists", "--table-name", table)
	desc := mustRun("dynamodb", "describe-table", "--table-name", table)
	if st := desc["Table"].(map[string]any)["TableStatus"]; st != "ACTIVE" {
		t.Fatalf("describe-table status %v", st)
	}
	mustRun("dynamodb", "put-item", "--table-name", table, "--item", `{"id":{"S":"summary-1700000000000"},"type":{"S":"summary"},"itemCount":{"N":"3"}}`)
	mustRun("dynamodb", "put-item", "--table-name", table, "--item", `{"id":{"S":"bucket-test-data.json-1"},"fileName":{"S":"test-data.json"}}`)
	scan := mustRun("dynamodb", "scan", "--table-name", table,
		"--filter-expression", "begins_with(id, :prefix)",
		"--expression-attribute-values", `{":prefix":{"S":"summary-"}}`)
	if scan["Count"].(float64) != 1 || scan["ScannedCount"].(float64) != 2 {
		t.Fatalf("scan %v", scan)
	}
	_, errOut, err := run("dynamodb", "put-item", "--table-name", table, "--item", `{"id":{"S":"summary-1700000000000"}}`, "--condition-expression", "attribute_not_exists(id)")
	if err == nil || !strings.Contains(errOut, "ConditionalCheckFailedException") {
		t.Fatalf("conditional put: %v %s", err, errOut)
	}
	mustRun("dynamodb", "delete-table", "--table-name", table)
	mustRun("dynamodb", "wait", "table-not-exists", "--table-name", table)
}
