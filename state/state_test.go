package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveLoadRoundTripAndMode(t *testing.T) {
	f := ForTarget(t.TempDir(), "aws-123456789012-eu-west-1")
	st, notice, err := f.Load("aws")
	if err != nil || notice != "" {
		t.Fatal(err, notice)
	}
	st.Names["bucket"] = "lambda-integration-123456789012-1"
	st.Steps["iam-role"] = StepRecord{Status: "pass", Score: 5, MaxScore: 5}
	if err := f.Save(st); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	got, _, err := f.Load("aws")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != st.ID || got.Names["bucket"] != st.Names["bucket"] || got.Steps["iam-role"].Status != "pass" {
		t.Fatalf("got %+v", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(f.Path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestCorruptFileMovedAside(t *testing.T) {
	dir := t.TempDir()
	f := ForTarget(dir, "sandbox")
	for _, garbage := range []string{"{not json", `{"version": 99, "id": "x"}`, `{"version": 1}`} {
		if err := os.WriteFile(f.Path, []byte(garbage), 0o600); err != nil {
			t.Fatal(err)
		}
		st, notice, err := f.Load("sandbox")
		if err != nil {
			t.Fatalf("%q: %v", garbage, err)
		}
		if st == nil || st.ID == "" || !strings.Contains(notice, "moved it to") {
			t.Fatalf("%q: state %+v notice %q", garbage, st, notice)
		}
		if _, err := os.Stat(f.Path); !os.IsNotExist(err) {
			t.Fatalf("%q: corrupt file still in place", garbage)
		}
	}
	matches, _ := filepath.Glob(f.Path + ".corrupt-*")
	if len(matches) == 0 {
		t.Fatal("nothing moved aside")
	}
}

func TestTargetKey(t *testing.T) {
	cases := map[string]string{
		TargetKey("sandbox", "", "000000000000", "us-east-1"):            "sandbox",
		TargetKey("sandbox", "", "000000000000", "eu-west-1"):            "sandbox-eu-west-1",
		TargetKey("aws", "", "123456789012", "eu-west-1"):                "aws-123456789012-eu-west-1",
		TargetKey("endpoint", "http://localhost:4566", "1", "us-east-1"): "endpoint-localhost:4566-1-us-east-1",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q want %q", got, want)
		}
	}
	if p := ForTarget("/x", "endpoint-localhost:4566-1-us-east-1").Path; strings.Contains(filepath.Base(p), ":") {
		t.Errorf("unsafe file name %s", p)
	}
}
