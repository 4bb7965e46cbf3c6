package tui

import (
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/content"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/steps"
)

var word = regexp.MustCompile(`[A-Za-z]{4,}`)

// TestLessonsLoseNoWords renders every lesson at the widths the tutor uses
// and checks that every word of the markdown reaches the screen. Glamour
// drops words where it wraps a quote, which is why quotes are flattened.
func TestLessonsLoseNoWords(t *testing.T) {
	o := sandboxOptions(&store{})
	for _, id := range lab.StepIDs {
		md, err := composeLesson(id, o.Render, o.SandboxExport, "")
		if err != nil {
			t.Fatal(err)
		}
		src := regexp.MustCompile("(?s)<!--.*?-->|\\]\\([^)]*\\)|```[a-z]+").ReplaceAllString(md, "]")
		for _, w := range []int{60, 80, 87} {
			for _, style := range []string{"dark", plainStyle} {
				out, err := renderMarkdown(md, w, style)
				if err != nil {
					t.Fatal(err)
				}
				// A code line wrapped on screen continues after "↪ ".
				text := regexp.MustCompile(`\s*\n\s*`+codeCont).ReplaceAllString(ansi.Strip(out), "")
				have := map[string]int{}
				for _, x := range word.FindAllString(text, -1) {
					have[x]++
				}
				for _, x := range word.FindAllString(src, -1) {
					if have[x] == 0 {
						t.Errorf("%s at %d columns (%s): the word %q is missing", id, w, style, x)
					}
				}
				for i, l := range strings.Split(out, "\n") {
					if ansi.StringWidth(l) > w {
						t.Errorf("%s at %d columns (%s): line %d is %d wide", id, w, style, i, ansi.StringWidth(l))
					}
				}
			}
		}
	}
}

func TestUnwrapMarkdownKeepsCodeAndJoinsProse(t *testing.T) {
	in := "# Title\n\nOne line\nand its continuation.\n\n- item one\n  continues here\n- item two\n\n> **Changed.**\n> - quoted item\n>   goes on\n\n```bash\naws s3 ls \\\n  --recursive\n> not a quote\n```\n| a | b |\n|---|---|\n"
	want := "# Title\n\nOne line and its continuation.\n\n- item one continues here\n- item two\n\n**Changed.**\n- quoted item goes on\n\n```bash\naws s3 ls \\\n  --recursive\n> not a quote\n```\n| a | b |\n|---|---|\n"
	if got := unwrapMarkdown(in); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestEveryLessonHasCommandsAndTheChangedSection(t *testing.T) {
	o := sandboxOptions(&store{})
	for _, id := range lab.StepIDs {
		r, err := renderStepLesson(lessonKey{Name: id, Width: 80, Style: plainStyle}, o.Render, o.SandboxExport)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Commands) < 2 || r.Commands[0].Text != o.SandboxExport {
			t.Errorf("%s: commands %d, first %q", id, len(r.Commands), r.Commands[0].Text)
		}
		for i, l := range r.CmdLines {
			if l < 0 {
				t.Errorf("%s: command %d (%s) not found in the rendered lesson", id, i+1, r.Commands[i].Title)
			}
		}
		if r.Changed < 0 {
			t.Errorf("%s: no %q section", id, changedHeading)
		}
		if len(r.Trouble) == 0 {
			t.Errorf("%s: links no troubleshooting section", id)
		}
	}
}

func TestHintTroubleFindsSectionIDs(t *testing.T) {
	ids := content.TroubleshootingIDs()
	if len(ids) == 0 {
		t.Fatal("no troubleshooting ids")
	}
	for _, h := range []string{"see troubleshooting.md#" + ids[0], "troubleshooting: " + ids[0], "(#" + ids[0] + ")", "see `slab show troubleshooting` → " + ids[0]} {
		if got := hintTrouble(h); got != ids[0] {
			t.Errorf("hintTrouble(%q) = %q", h, got)
		}
	}
	if got := hintTrouble("see #not-a-section"); got != "" {
		t.Errorf("unknown id accepted: %q", got)
	}
	o := sandboxOptions(&store{})
	for _, id := range ids {
		md, err := troubleSections(o.Render, []string{id})
		if err != nil || !strings.Contains(md, "### ") {
			t.Errorf("section %s: %v\n%s", id, err, md)
		}
	}
}

func TestAggregateWorstStatusAndWeightedScore(t *testing.T) {
	status, score, maxScore := aggregate(roleResults)
	if status != "fail" || score != 2+2+1 || maxScore != 8 {
		t.Errorf("aggregate = %s %d/%d", status, score, maxScore)
	}
	status, _, _ = aggregate([]checks.Result{{Status: checks.Pass}, {Status: checks.Error}})
	if status != "error" {
		t.Errorf("an error must not read as a pass: %s", status)
	}
}

func TestQuizBank(t *testing.T) {
	for _, s := range steps.All {
		qs := Quiz(s.ID)
		if len(qs) < 4 {
			t.Errorf("%s: %d questions, want at least 4", s.ID, len(qs))
		}
		for i, q := range qs {
			if q.Prompt == "" || q.Explain == "" || len(q.Choices) != 4 || q.Answer < 0 || q.Answer >= len(q.Choices) {
				t.Errorf("%s question %d is malformed: %+v", s.ID, i+1, q)
			}
		}
	}
}

func TestResultsShowTheCheckTitle(t *testing.T) {
	var c checks.Check
	for _, s := range steps.All {
		if len(s.Checks) > 0 {
			c = s.Checks[0]
			break
		}
	}
	if c.ID == "" {
		t.Skip("no checks registered in this build")
	}
	if got := checkTitle(c.ID); got != c.Title || got == "" {
		t.Errorf("checkTitle(%s) = %q, want %q", c.ID, got, c.Title)
	}
	if checkTitle("no.such-check") != "" {
		t.Error("an unknown id has a title")
	}
}
