package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/steps"
)

func TestGoRunBinary(t *testing.T) {
	t.Setenv("GOCACHE", "/srv/gocache")
	if !goRunBinary("/srv/gocache/0f/0f00-d/slab") {
		t.Error("a go run binary in a GOCACHE elsewhere")
	}
	for exe, want := range map[string]bool{
		"/tmp/go-build1234/b001/exe/slab":        true,
		"/home/me/.cache/go-build/b001/exe/slab": true,
		"/usr/local/bin/slab":                    false,
		"/tmp/exe/slab":                          false,
		"/root/.cache/go-build/a2/a26316d05838bef9b82d30b917eff8c4b79d05a56b3ac97a0caa136c2a17a311-d/slab": true,
		"/opt/a2/x-d/slab": false,
	} {
		if got := goRunBinary(exe); got != want {
			t.Errorf("goRunBinary(%s) = %v", exe, got)
		}
	}
}

// The lesson's `slab package` line is what the learner's shell needs in its
// working directory: a path to cmd/slab inside a checkout, nothing outside.
func TestGoRunFromTheWorkingDirectory(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"cmd/slab", "content/lessons"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		wd, want string
		ok       bool
	}{
		{root, "go run ./cmd/slab", true},
		{filepath.Join(root, "content", "lessons"), "go run ../../cmd/slab", true},
		{filepath.Join(root, "cmd"), "go run ./slab", true},
		{t.TempDir(), "", false},
	} {
		t.Chdir(tc.wd)
		if got, ok := goRunFrom(root); got != tc.want || ok != tc.ok {
			t.Errorf("in %s: %q %v, want %q %v", tc.wd, got, ok, tc.want, tc.ok)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/slab":     "/usr/bin/slab",
		"/home/a b/slab":    "'/home/a b/slab'",
		"/tmp/it's/slab":    `'/tmp/it'\''s/slab'`,
		"./cmd/slab":        "./cmd/slab",
		"C:/x/slab.exe":     "C:/x/slab.exe",
		"/x/$(rm -rf)/slab": "'/x/$(rm -rf)/slab'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// Option A's package line runs slab the way it was started, for the target.
func TestLessonPackageLineNamesThisSlab(t *testing.T) {
	for _, tc := range []struct {
		target, slab, want string
	}{
		{"sandbox", "go run ./cmd/slab", "\ngo run ./cmd/slab package s3-processor --arch arm64 -o s3-processor.zip\n"},
		{"sandbox", "", "\nslab package s3-processor --arch arm64 -o s3-processor.zip\n"},
		{"aws", "/opt/slab/slab", "\n/opt/slab/slab --aws package s3-processor --arch arm64 -o s3-processor.zip\n"},
		{"endpoint", "slab", "\nslab --endpoint-url http://localhost:4566 package s3-processor --arch arm64 -o s3-processor.zip\n"},
	} {
		c := steps.Context{Target: tc.target, Region: "us-east-1", Account: "000000000000", Names: lab.DefaultNames(), StateID: "s", Slab: tc.slab}
		if tc.target != "aws" {
			c.Endpoint = "http://localhost:4566"
		}
		text, err := steps.ByID(lab.StepS3Processor).Render(c)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, tc.want) {
			t.Errorf("%s, %q: the lesson lacks %q", tc.target, tc.slab, tc.want)
		}
	}
}
