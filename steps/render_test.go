package steps

import (
	"strings"
	"testing"
	"time"

	"github.com/slab-lab/slab/lab"
)

func TestCommandsParsesTagsAndTitles(t *testing.T) {
	md := "# T\n\nFirst do this,\nacross two lines:\n\n```bash\necho one\n```\n\n### Option B\n\n```bash alt\necho two\n```\n\n```json\n{}\n```\n"
	got := Commands(md)
	if len(got) != 2 {
		t.Fatalf("%d commands: %+v", len(got), got)
	}
	if got[0].Text != "echo one" || got[0].Alt || got[0].Title != "First do this, across two lines" {
		t.Errorf("first: %+v", got[0])
	}
	if got[1].Text != "echo two" || !got[1].Alt || got[1].Title != "Option B" {
		t.Errorf("second: %+v", got[1])
	}
}

func TestFindByIDAndNumber(t *testing.T) {
	for i, id := range lab.StepIDs {
		a, err := Find(id)
		if err != nil || a.Number != i+1 {
			t.Fatalf("%s: %v %v", id, a, err)
		}
		b, err := Find(string(rune('1' + i)))
		if err != nil || b != a {
			t.Fatalf("%d: %v", i+1, err)
		}
	}
	for _, bad := range []string{"0", "9", "iam", ""} {
		if _, err := Find(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestEveryStepRendersWithMainCommands(t *testing.T) {
	n := lab.DefaultNames()
	n.Bucket = n.BucketFor("123456789012", 1)
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		for _, s := range All {
			md, err := s.Render(Context{Target: "aws", Region: region, Account: "123456789012", StateID: "ab12", Names: n})
			if err != nil {
				t.Fatal(err)
			}
			main := 0
			for _, c := range Commands(md) {
				if !c.Alt {
					main++
				}
				if strings.Contains(c.Text, "--endpoint-url") {
					t.Errorf("%s: AWS commands carry --endpoint-url", s.ID)
				}
			}
			if main == 0 {
				t.Errorf("%s: no main commands", s.ID)
			}
		}
	}
}

func TestRuntimeTableFollowsTheRuntimesPackage(t *testing.T) {
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	got, err := RuntimeTable(at, "nodejs18.x", "nodejs20.x", "nodejs22.x")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| runtime | deprecated | new functions blocked | updates blocked | on 2026-11-27 |",
		"| nodejs18.x | 2025-09-01 | 2026-02-03 | 2026-03-09 | update blocked |",
		"| nodejs20.x | 2026-04-30 | 2026-08-31 | not announced | create blocked |",
		"| nodejs22.x | 2027-04-30 | 2027-06-01 | 2027-07-01 | supported |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if _, err := RuntimeTable(at, "nodejs99.x"); err == nil || !strings.Contains(err.Error(), "nodejs99.x") {
		t.Fatalf("an unknown runtime: %v", err)
	}
	md, err := RenderLesson("troubleshooting", Context{Target: "sandbox", Region: "us-east-1", Account: "000000000000", Names: lab.DefaultNames()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md, "| nodejs18.x | 2025-09-01 | 2026-02-03 | 2026-03-09 |") {
		t.Fatal("the troubleshooting lesson does not show the runtime table")
	}
}
