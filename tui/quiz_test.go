package tui

import (
	"strings"
	"testing"

	"github.com/slab-lab/slab/content"
	"github.com/slab-lab/slab/lab"
)

// The quiz bank: at least four questions per step, each tagged with its
// DOP-C02 domain and linked to a heading of the step's lesson; ids unique;
// the right answer is the longest option in at most 35% of the questions
// (and the shortest in at most 35%),
// and no prompt gives its answer away by repeating it.
func TestQuizAnswersDoNotStandOut(t *testing.T) {
	ids := map[string]bool{}
	total, longest, shortest := 0, 0, 0
	for _, step := range append(append([]string{}, lab.StepIDs...), ChainQuiz) {
		qs := Quiz(step)
		if len(qs) < 4 {
			t.Errorf("step %s has %d questions, want at least 4", step, len(qs))
		}
		if step == ChainQuiz && len(qs) < 12 {
			t.Errorf("the chain quiz has %d questions, want at least 12", len(qs))
		}
		names := []string{step}
		if step == ChainQuiz {
			names = chainLessons
		}
		lesson := ""
		for _, name := range names {
			md, err := content.Lesson(name)
			if err != nil {
				t.Fatal(err)
			}
			lesson += md
		}
		for _, q := range qs {
			total++
			if q.ID == "" || ids[q.ID] {
				t.Errorf("%s: missing or repeated id %q", step, q.ID)
			}
			ids[q.ID] = true
			if Domains[q.Domain] == "" {
				t.Errorf("%s: domain %d is not a DOP-C02 domain", q.ID, q.Domain)
			}
			if !strings.Contains(lesson, "## "+q.Section+"\n") && !strings.Contains(lesson, "### "+q.Section+"\n") {
				t.Errorf("%s: the lesson of %s has no section %q", q.ID, step, q.Section)
			}
			if len(q.Choices) != 4 || q.Answer < 0 || q.Answer >= len(q.Choices) || q.Explain == "" {
				t.Errorf("%s: malformed", q.ID)
				continue
			}
			ans := q.Choices[q.Answer]
			isLongest := true
			for i, c := range q.Choices {
				if i != q.Answer && len(c) >= len(ans) {
					isLongest = false
				}
			}
			if isLongest {
				longest++
			}
			// Nor the shortest: a bank of terse right answers among long
			// wrong ones gives itself away the other way round.
			isShortest := true
			for i, c := range q.Choices {
				if i != q.Answer && len(c) <= len(ans) {
					isShortest = false
				}
			}
			if isShortest {
				shortest++
			}
			if strings.Contains(strings.ToLower(q.Prompt), strings.ToLower(ans)) {
				t.Errorf("%s: the prompt repeats its answer", q.ID)
			}
			// A key phrase of the answer (its first five words) must not
			// appear in the prompt either.
			if w := strings.Fields(strings.ToLower(ans)); len(w) >= 5 && strings.Contains(strings.ToLower(q.Prompt), strings.Join(w[:5], " ")) {
				t.Errorf("%s: the prompt gives its answer away", q.ID)
			}
		}
	}
	if longest*100 > total*35 {
		t.Errorf("the right answer is the longest option in %d of %d questions (over 35%%)", longest, total)
	}
	if shortest*100 > total*35 {
		t.Errorf("the right answer is the shortest option in %d of %d questions (over 35%%)", shortest, total)
	}
	t.Logf("%d questions; the answer is the longest option in %d, the shortest in %d", total, longest, shortest)
}

func TestQuizMissedFirst(t *testing.T) {
	qs := Quiz(lab.StepSNSSQS)
	got := QuizMissedFirst(lab.StepSNSSQS, []string{qs[3].ID, qs[1].ID})
	if got[0].ID != qs[1].ID || got[1].ID != qs[3].ID || got[2].ID != qs[0].ID || got[3].ID != qs[2].ID {
		t.Errorf("order %v", []string{got[0].ID, got[1].ID, got[2].ID, got[3].ID})
	}
}
