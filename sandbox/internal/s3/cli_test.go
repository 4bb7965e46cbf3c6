package s3_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"github.com/slab-lab/slab/internal/extern"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// awsCLI runs the unmodified AWS CLI v2 against the sandbox.
type awsCLI struct {
	t        *testing.T
	endpoint string
	env      []string
}

func newAWSCLI(t *testing.T, e *env) *awsCLI {
	if testing.Short() {
		t.Skip("starts the AWS CLI (Python): skipped in -short")
	}
	extern.AWSCLIv2(t)
	home := t.TempDir()
	return &awsCLI{t: t, endpoint: e.URL, env: []string{
		"HOME=" + home, "PATH=/usr/bin:/bin", "AWS_ACCESS_KEY_ID=" + acctA, "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=" + filepath.Join(home, "none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"), "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true",
	}}
}

// run returns stdout, stderr and the exit code.
func (a *awsCLI) run(args ...string) (string, string, int) {
	a.t.Helper()
	cmd := exec.Command(extern.AWSCLIPath, append(args, "--endpoint-url", a.endpoint, "--output", "json")...)
	cmd.Env = a.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		a.t.Fatalf("aws %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func (a *awsCLI) ok(args ...string) string {
	a.t.Helper()
	out, errs, code := a.run(args...)
	if code != 0 {
		a.t.Fatalf("aws %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

// TestAWSCLIGuideFlow runs the guide's S3 commands with the CLI: a
// versioned bucket, a notification configuration, uploads (one above the
// CLI's 8 MB multipart threshold), ranged downloads, and the cleanup whose
// first attempt meets BucketNotEmpty.
func TestAWSCLIGuideFlow(t *testing.T) {
	e := start(t)
	aws := newAWSCLI(t, e)
	dir := t.TempDir()
	big := make([]byte, 9<<20)
	_, _ = rand.Read(big)
	bigPath, smallPath := filepath.Join(dir, "big.bin"), filepath.Join(dir, "test-data.json")
	if err := os.WriteFile(bigPath, big, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(smallPath, []byte(`{"id":1}`), 0o600); err != nil {
		t.Fatal(err)
	}

	aws.ok("s3api", "create-bucket", "--bucket", "cli-bucket")
	aws.ok("s3api", "put-bucket-versioning", "--bucket", "cli-bucket", "--versioning-configuration", "Status=Enabled")
	fn := "arn:aws:lambda:us-east-1:" + acctA + ":function:s3-to-dynamodb-processor"
	aws.ok("s3api", "put-bucket-notification-configuration", "--bucket", "cli-bucket", "--notification-configuration",
		`{"LambdaFunctionConfigurations":[{"Id":"s3-trigger","LambdaFunctionArn":"`+fn+`","Events":["s3:ObjectCreated:*"],"Filter":{"Key":{"FilterRules":[{"Name":"suffix","Value":".json"}]}}}]}`)
	var notif struct {
		LambdaFunctionConfigurations []struct {
			ID     string `json:"Id"`
			Arn    string `json:"LambdaFunctionArn"`
			Filter struct {
				Key struct {
					FilterRules []struct{ Name, Value string }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(aws.ok("s3api", "get-bucket-notification-configuration", "--bucket", "cli-bucket")), &notif); err != nil {
		t.Fatal(err)
	}
	if len(notif.LambdaFunctionConfigurations) != 1 || notif.LambdaFunctionConfigurations[0].Arn != fn ||
		notif.LambdaFunctionConfigurations[0].Filter.Key.FilterRules[0].Name != "Suffix" {
		t.Fatalf("notification: %+v", notif)
	}

	aws.ok("s3", "cp", bigPath, "s3://cli-bucket/big.bin")
	aws.ok("s3", "cp", smallPath, "s3://cli-bucket/")
	aws.ok("s3", "cp", smallPath, "s3://cli-bucket/")
	ls := aws.ok("s3", "ls", "s3://cli-bucket", "--recursive")
	if !strings.Contains(ls, "big.bin") || !strings.Contains(ls, "test-data.json") || !strings.Contains(ls, "9437184") {
		t.Fatalf("ls: %s", ls)
	}
	var head struct {
		ETag        string
		ContentType string
	}
	if err := json.Unmarshal([]byte(aws.ok("s3api", "head-object", "--bucket", "cli-bucket", "--key", "big.bin")), &head); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(head.ETag, `-2"`) {
		t.Fatalf("big.bin was not a multipart upload: %+v", head)
	}
	if err := json.Unmarshal([]byte(aws.ok("s3api", "head-object", "--bucket", "cli-bucket", "--key", "test-data.json")), &head); err != nil {
		t.Fatal(err)
	}
	if head.ContentType != "application/json" {
		t.Fatalf("content type %q", head.ContentType)
	}
	got := filepath.Join(dir, "got.bin")
	aws.ok("s3", "cp", "s3://cli-bucket/big.bin", got)
	if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, big) {
		t.Fatalf("download differs (%d bytes, %v)", len(b), err)
	}

	// The guide's cleanup: rm --recursive only adds delete markers.
	aws.ok("s3", "rm", "s3://cli-bucket", "--recursive")
	_, errs, code := aws.run("s3api", "delete-bucket", "--bucket", "cli-bucket")
	if code == 0 || !strings.Contains(errs, "BucketNotEmpty") || !strings.Contains(errs, "You must delete all versions in the bucket") {
		t.Fatalf("delete-bucket of a versioned bucket: exit %d %s", code, errs)
	}
	var versions struct {
		Versions, DeleteMarkers []struct{ Key, VersionId string }
	}
	if err := json.Unmarshal([]byte(aws.ok("s3api", "list-object-versions", "--bucket", "cli-bucket")), &versions); err != nil {
		t.Fatal(err)
	}
	if len(versions.Versions) != 3 || len(versions.DeleteMarkers) != 2 {
		t.Fatalf("versions: %+v", versions)
	}
	var del struct {
		Objects []struct{ Key, VersionId string }
	}
	del.Objects = append(versions.Versions, versions.DeleteMarkers...)
	doc, _ := json.Marshal(del)
	aws.ok("s3api", "delete-objects", "--bucket", "cli-bucket", "--delete", string(doc))
	aws.ok("s3api", "delete-bucket", "--bucket", "cli-bucket")
	_, errs, code = aws.run("s3api", "head-bucket", "--bucket", "cli-bucket")
	if code == 0 || !strings.Contains(errs, "404") {
		t.Fatalf("head-bucket after delete: exit %d %s", code, errs)
	}
}
