package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/slab-lab/slab/grade"
	"github.com/slab-lab/slab/sandbox"
)

// gradeSandbox serves n accounts, keys AKIAGRADE<i>.
func gradeSandbox(t *testing.T, dir string, n int) *sandbox.Server {
	t.Helper()
	var b strings.Builder
	b.WriteString("access_key_id,secret_access_key,account_id\n")
	for i := range n {
		fmt.Fprintf(&b, "AKIAGRADE%d,s,2000000000%02d\n", i, i)
	}
	accounts := filepath.Join(dir, "accounts.csv")
	if err := os.WriteFile(accounts, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := sandbox.New(sandbox.Options{AccountsFile: accounts})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func TestGradeCommand(t *testing.T) {
	dir := isolate(t)
	files := t.TempDir()
	srv := gradeSandbox(t, files, 3)
	roster := filepath.Join(files, "roster.csv")
	os.WriteFile(roster, []byte("student,access_key_id,secret_access_key\ncarol,AKIAGRADE2,s\nalice,AKIAGRADE0,s\nbob,AKIAGRADE1,s\nmallory,AKIAUNKNOWN,s\n"), 0o600)
	out := filepath.Join(files, "report", "class.xml")
	mark := srv.AuditMark()
	stdout, stderr, code := runSlab(t, "--state-dir", dir, "--endpoint-url", srv.URL(), "grade", "--roster", roster, "--format", "junit", "--out", out, "--concurrency", "2")
	if code != exitUnreachable {
		t.Fatalf("exit %d, want 3 (mallory could not be graded): %s\n%s", code, stderr, stdout)
	}
	if m := srv.MutatingSince(mark); len(m) > 0 {
		t.Fatalf("grading mutated: %+v", m)
	}
	lines := strings.Split(stdout, "\n")
	var order []string
	for _, l := range lines {
		for _, s := range []string{"alice", "bob", "carol", "mallory"} {
			if strings.HasPrefix(l, s+" ") {
				order = append(order, s)
			}
		}
	}
	if strings.Join(order, ",") != "alice,bob,carol,mallory" || !strings.Contains(stdout, "scored out of") || !strings.Contains(stdout, "iam-role.exists") {
		t.Fatalf("table:\n%s", stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc grade.JUnitSuites
	if err := xml.Unmarshal(b, &doc); err != nil || len(doc.Suites) != 4 || doc.Suites[3].Errors != 1 {
		t.Fatalf("junit %v: %s", err, b)
	}
	if _, err := os.Stat(grade.PartialPath(out)); !os.IsNotExist(err) {
		t.Errorf("partial file left after a finished run: %v", err)
	}
	// The report holds what students stored: the grader's alone by default.
	if fi, err := os.Stat(out); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Errorf("report mode %v %v, want 0600", fi.Mode(), err)
	}

	// --resume: a row already in the partial file is kept, not graded again;
	// a row that could not be graded is tried again.
	jout := filepath.Join(files, "class.json")
	kept := `{"student":"alice","status":"pass","score":42,"max_score":42,"rubric_total":42,"target":{"kind":"endpoint","account":"200000000000","region":"us-east-1","endpoint":""},"summary":{},"checks":[],"steps":[],"graded_at":"2026-11-27T10:00:00Z","duration_ms":1}
{"student":"bob","status":"error","error":"was down","score":0,"max_score":0,"rubric_total":42,"target":{},"summary":{},"checks":[],"steps":[],"graded_at":"2026-11-27T10:00:00Z","duration_ms":1}
{"student":"car`
	os.WriteFile(grade.PartialPath(jout), []byte(kept), 0o600)
	stdout, stderr, code = runSlab(t, "--state-dir", dir, "--endpoint-url", srv.URL(), "grade", "--roster", roster, "--format", "json", "--out", jout, "--resume", "--out-mode", "0640")
	if code != exitUnreachable || !strings.Contains(stderr, "1 of 4 students already graded") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if fi, err := os.Stat(jout); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o640) {
		t.Errorf("--out-mode 0640 made %v %v", fi.Mode(), err)
	}
	var cd grade.ClassDocument
	b, _ = os.ReadFile(jout)
	if err := json.Unmarshal(b, &cd); err != nil || len(cd.Students) != 4 {
		t.Fatalf("%v: %s", err, b)
	}
	if cd.Students[0].Student != "alice" || cd.Students[0].Score != 42 {
		t.Errorf("alice regraded: %+v", cd.Students[0])
	}
	if cd.Students[1].Error != "" || len(cd.Students[1].Checks) == 0 || cd.Rubric.Total == 0 {
		t.Errorf("bob not regraded: %+v", cd.Students[1])
	}
}

func TestGradeRosterErrorsExit2(t *testing.T) {
	dir := isolate(t)
	files := t.TempDir()
	roster := filepath.Join(files, "roster.csv")
	os.WriteFile(roster, []byte("student,profile\nbob,p\neve,\n"), 0o600)
	_, stderr, code := runSlab(t, "--state-dir", dir, "--endpoint-url", "http://127.0.0.1:1", "grade", "--roster", roster)
	if code != exitUsage || !strings.Contains(stderr, "roster.csv:3") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}
