package lambdas

import (
	"github.com/slab-lab/slab/internal/extern"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var wantNodeFunctions = []string{"event-processor", "queue-processor", "s3-processor"}

// requireNode returns the node binary, skipping the test when it is missing
// unless SLAB_REQUIRE_EXTERNAL=1 says the external tools must be there.
func requireNode(t *testing.T) string {
	t.Helper()
	return extern.Tool(t, "node", "Debian's nodejs, to check the lab's Node.js functions")
}

func TestNodeFunctions(t *testing.T) {
	got := NodeFunctions()
	if strings.Join(got, ",") != strings.Join(wantNodeFunctions, ",") {
		t.Fatalf("NodeFunctions() = %v, want %v", got, wantNodeFunctions)
	}
	for _, name := range got {
		src, ok := NodeSource(name)
		if !ok || src == "" {
			t.Errorf("NodeSource(%q) = empty, %v", name, ok)
		}
	}
	for _, bad := range []string{"", "nope", "../node", "s3-processor/index.mjs", "."} {
		if _, ok := NodeSource(bad); ok {
			t.Errorf("NodeSource(%q) found a source", bad)
		}
	}
}

// TestNodeSourcesFollowTheCorrections guards the corrections the lessons teach
// (lab-corrections.md rows 2, 10, 13, 14, 15), independent of node being installed.
func TestNodeSourcesFollowTheCorrections(t *testing.T) {
	common := []string{"export const handler", "process.env.TABLE_NAME || 'lambda-integration-data'", "context?.awsRequestId"}
	want := map[string][]string{
		"s3-processor": {"@aws-sdk/client-s3", "GetObjectCommand", "transformToString(", "@aws-sdk/lib-dynamodb", "DynamoDBDocumentClient", "PutCommand",
			"attribute_not_exists(id)", "ConditionalCheckFailedException", "replace(/\\+/g, ' ')", "decodeURIComponent(",
			"`${bucket}/${key}#${versionId || record.s3.object.sequencer}`", "MAX_INLINE_BYTES = 350000", "pointer", "rawContent", "contentType",
			"fileName", "processedAt"},
		"event-processor": {"@aws-sdk/lib-dynamodb", "ScanCommand", "Limit: 10", "@aws-sdk/client-sns", "PublishCommand",
			"'Lambda Integration - Periodic Summary'", "process.env.SNS_TOPIC_ARN", "latestItems", "itemCount", "timestamp"},
		"queue-processor": {"@aws-sdk/lib-dynamodb", "PutCommand", "batchItemFailures", "itemIdentifier: record.messageId",
			"`summary-${snsMessageId}`", "attribute_not_exists(id)", "ConditionalCheckFailedException", "envelope.Type !== 'Notification'"},
	}
	for name, needles := range want {
		src, ok := NodeSource(name)
		if !ok {
			t.Fatalf("no source for %s", name)
		}
		for _, n := range append(common, needles...) {
			if !strings.Contains(src, n) {
				t.Errorf("%s: missing %q", name, n)
			}
		}
		for _, bad := range []string{"require(", "'aws-sdk'", ".promise()", "Date.now()"} {
			if strings.Contains(src, bad) {
				t.Errorf("%s: contains %q (SDK v2 or non-idempotent id)", name, bad)
			}
		}
		// The lessons paste each source into a quoted heredoc ending in EOF.
		for _, line := range strings.Split(src, "\n") {
			if strings.TrimSpace(line) == "EOF" {
				t.Errorf("%s: a line reads EOF and would end the lesson's heredoc", name)
			}
		}
	}
}

func TestNodeCheck(t *testing.T) {
	node := requireNode(t)
	dir := t.TempDir()
	for _, name := range NodeFunctions() {
		src, _ := NodeSource(name)
		p := filepath.Join(dir, name, "index.mjs")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(node, "--check", p).CombinedOutput()
		if err != nil {
			t.Errorf("node --check %s: %v\n%s", name, err, out)
		}
	}
}

// TestNodeHandlers runs the handlers against a fake AWS SDK (testdata/node-harness)
// to check their behaviour: idempotent ids, pointers, partial batch responses.
func TestNodeHandlers(t *testing.T) {
	node := requireNode(t)
	dir := t.TempDir()
	harness := filepath.Join("testdata", "node-harness")
	if err := copyTree(filepath.Join(harness, "fake-sdk"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	run, err := os.ReadFile(filepath.Join(harness, "run.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run.mjs"), run, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range NodeFunctions() {
		src, _ := NodeSource(name)
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "index.mjs"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(node, "run.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_PATH=")
	out, err := cmd.CombinedOutput()
	t.Logf("\n%s", out)
	if err != nil {
		t.Fatalf("node run.mjs: %v", err)
	}
	if !strings.Contains(string(out), "ok   ") || strings.Contains(string(out), "FAIL") {
		t.Fatalf("handler tests did not pass")
	}
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
