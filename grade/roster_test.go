package grade

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slab-lab/slab/checks"
)

func TestParseRoster(t *testing.T) {
	in := `student,profile,account_id,role_name,external_id,access_key_id,secret_access_key,region,name_suffix
bob,,,,,AKIA1,secret,eu-west-1,
alice,course-alice,,,,,,,a1
carol,,123456789012,slab-grader,ext-1,,,,

dave,,210987654321,slab-grader,,,,,
`
	got, err := ParseRoster(strings.NewReader(in), "r.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].Name != "alice" || got[1].Name != "bob" || got[3].Name != "dave" {
		t.Fatalf("%+v", got)
	}
	if got[0].Profile != "course-alice" || got[0].NameSuffix != "a1" || got[0].Line != 3 {
		t.Errorf("alice: %+v", got[0])
	}
	if got[1].AccessKeyID != "AKIA1" || got[1].Region != "eu-west-1" {
		t.Errorf("bob: %+v", got[1])
	}
	if got[2].RoleName != "slab-grader" || got[2].ExternalID != "ext-1" || got[2].AccountID != "123456789012" {
		t.Errorf("carol: %+v", got[2])
	}
	if got[3].Line != 6 {
		t.Errorf("dave on line %d", got[3].Line)
	}
}

func TestParseRosterErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"student,profile,colour\nbob,p,red\n", `r.csv:1: unknown column "colour"`},
		{"profile\np\n", "r.csv:1: no student column"},
		{"student,profile\nbob,p\neve,\n", `r.csv:3: student "eve": names no way into the account`},
		{"student,account_id\nbob,123456789012\n", `r.csv:2: student "bob": names no way`},
		{"student,role_name\nbob,r\n", `r.csv:2: student "bob": role_name needs account_id`},
		{"student,access_key_id\nbob,AKIA\n", `r.csv:2: student "bob": access_key_id and secret_access_key go together`},
		{"student,profile,access_key_id,secret_access_key\nbob,p,A,s\n", "r.csv:2: student \"bob\": names more than one way"},
		{"student,account_id,role_name\nbob,1234,r\n", `r.csv:2: student "bob": account_id "1234" is not 12 digits`},
		{"student,profile\nbob,p\nbob,q\n", `r.csv:3: student "bob" is already on line 2`},
		{"student,profile\nbob,p,extra\n", "r.csv:2: 3 fields"},
		{"", "r.csv: empty file"},
	} {
		_, err := ParseRoster(strings.NewReader(tc.in), "r.csv")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestRubric(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "r.json")
	os.WriteFile(js, []byte(`{"weights": {"iam-role.exists": 10, "end-to-end.log-groups": 0}}`), 0o600)
	r, err := LoadRubric(js)
	if err != nil {
		t.Fatal(err)
	}
	def := (&Rubric{}).Total()
	c, _ := checks.ByID("iam-role.exists")
	e, _ := checks.ByID("end-to-end.log-groups")
	if got, want := r.Total(), def-c.Weight+10-e.Weight; got != want {
		t.Errorf("total %d, want %d", got, want)
	}
	for _, g := range r.Graded() {
		if g.ID == "end-to-end.log-groups" {
			t.Error("weight 0 still graded")
		}
	}
	cs := filepath.Join(dir, "r.csv")
	os.WriteFile(cs, []byte("check_id,weight\niam-role.exists,7\n"), 0o600)
	if r, err = LoadRubric(cs); err != nil || r.Weights["iam-role.exists"] != 7 {
		t.Fatalf("%+v %v", r, err)
	}
	for body, want := range map[string]string{
		`{"weights": {"nope": 1}}`:             `unknown check id "nope"`,
		`{"weight": {}}`:                       "unknown field",
		"iam-role.exists,x\n":                  "not a whole number",
		`{"weights": {"iam-role.exists": -1}}`: "negative",
	} {
		os.WriteFile(cs, []byte(body), 0o600)
		if _, err := LoadRubric(cs); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
}
