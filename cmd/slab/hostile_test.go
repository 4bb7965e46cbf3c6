package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/slab-lab/slab/internal/safetext"
	"github.com/slab-lab/slab/internal/testenv"
)

// The hostile set, stored where a student can store it (a function's
// environment, a roster's student column), goes through every format of
// `slab check` and `slab grade`: what reaches a person is inert.
func TestHostileAccountThroughEveryFormat(t *testing.T) {
	f := testenv.NewFixture(t)
	testenv.RequireSandbox(t, f.Srv, "the test stores hostile values in a lab")
	n := f.Names()
	f.FullLab(n)
	hostile := strings.Join(safetext.Hostile, " ")
	if _, err := f.Lambda.UpdateFunctionConfiguration(f.Ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(n.S3Function),
		Environment: &ltypes.Environment{Variables: map[string]string{"TABLE_NAME": n.Table + hostile}}}); err != nil {
		t.Fatal(err)
	}
	base := append(endpointArgs(t, f.Srv.URL()), namesArgs(n)...)
	inert := func(what, out string) {
		t.Helper()
		if r, i := safetext.Unsafe(out); i >= 0 {
			t.Errorf("%s: %U at byte %d: %q", what, r, i, out[max(0, i-40):min(len(out), i+40)])
		}
	}
	for _, format := range []string{"text", "json", "junit", "markdown"} {
		out, errOut, _ := runSlab(t, append(base, "check", "s3-processor", "--format", format)...)
		if !strings.Contains(out, "TABLE_NAME") {
			t.Fatalf("check --format %s does not show the value:\n%s\n%s", format, out, errOut)
		}
		inert("check --format "+format, out)
	}
	dir := t.TempDir()
	roster := filepath.Join(dir, "roster.csv")
	os.WriteFile(roster, []byte("student,access_key_id,secret_access_key\n\"=HYPERLINK(\"\"https://evil.example\"\")\x1b]0;t\x07\",test,test\n"), 0o600)
	for _, format := range []string{"csv", "markdown", "junit", "json"} {
		file := filepath.Join(dir, "class."+format)
		out, errOut, _ := runSlab(t, append(endpointArgs(t, f.Srv.URL()), append(namesArgs(n), "grade", "--roster", roster, "--format", format, "--out", file)...)...)
		if !strings.Contains(out, "HYPERLINK") {
			t.Fatalf("grade table without the student:\n%s\n%s", out, errOut)
		}
		inert("grade table", out)
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		inert("grade --format "+format, string(b))
		if format == "csv" {
			recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
			if err != nil || len(recs) != 2 || !strings.HasPrefix(recs[1][0], "'=HYPERLINK") {
				t.Errorf("CSV student cell not neutralised (%v):\n%s", err, b)
			}
		}
	}
}
