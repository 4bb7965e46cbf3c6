package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slab-lab/slab/lambdas"
)

// The Go runtime's paths (running executable, source build) are tested in
// package lambdas, which builds slab; here the command's contract.

func TestPackageNodejsWritesTheZipAndItsCodeSha256(t *testing.T) {
	dir := isolate(t)
	out := filepath.Join(t.TempDir(), "queue.zip")
	stdout, stderr, code := runSlab(t, "--state-dir", dir, "package", "queue-processor", "-o", out, "--runtime", "nodejs")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	z, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"queue-processor (nodejs22.x, handler index.handler)", "wrote " + out, "CodeSha256: " + lambdas.CodeSha256(z)} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	r, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil || len(r.File) != 1 || r.File[0].Name != "index.mjs" {
		t.Fatalf("zip: %v %v", err, r)
	}
	// Deterministic: a second run writes the same bytes.
	if _, _, code := runSlab(t, "--state-dir", dir, "package", "queue-processor", "-o", out+"2", "--runtime", "nodejs"); code != 0 {
		t.Fatal("second run failed")
	}
	z2, _ := os.ReadFile(out + "2")
	if !bytes.Equal(z, z2) {
		t.Error("two runs wrote different zips")
	}
}

// The lessons and the AWS console name the functions, the handlers have
// short names: slab package takes either, and the learner's own names.
func TestPackageTakesFunctionNames(t *testing.T) {
	dir := isolate(t)
	out := filepath.Join(t.TempDir(), "f.zip")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"package", "s3-to-dynamodb-processor"}, "s3-processor (nodejs22.x"},
		{[]string{"package", "event-to-sns-processor"}, "event-processor (nodejs22.x"},
		{[]string{"package", "sqs-processor"}, "queue-processor (nodejs22.x"},
		{[]string{"--name", "s3-function=ingest", "package", "ingest"}, "s3-processor (nodejs22.x"},
	} {
		stdout, stderr, code := runSlab(t, append(append([]string{"--state-dir", dir}, tc.args...), "-o", out, "--runtime", "nodejs")...)
		if code != 0 || !strings.Contains(stdout, tc.want) {
			t.Errorf("slab %v: exit %d, %s%s; want %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

func TestPackageUsageErrorsExit2(t *testing.T) {
	dir := isolate(t)
	out := filepath.Join(t.TempDir(), "f.zip")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"package", "nope", "-o", out}, "unknown function"},
		{[]string{"package", "s3-to-dynamo", "-o", out}, "s3-processor, or a function name: s3-to-dynamodb-processor"},
		{[]string{"package", "s3-processor", "-o", out, "--arch", "amd64"}, "arm64 or x86_64"},
		{[]string{"package", "s3-processor", "-o", out, "--arch", ""}, "arm64 or x86_64"},
		{[]string{"package", "s3-processor", "-o", out, "--runtime", "python"}, "go or nodejs"},
		{[]string{"package", "s3-processor"}, "-o FILE is required"},
		{[]string{"package"}, "name one function"},
		{[]string{"package", "a", "b", "-o", out}, "name one function"},
	} {
		_, stderr, code := runSlab(t, append([]string{"--state-dir", dir}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("slab %v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a zip was written on a usage error")
	}
}
