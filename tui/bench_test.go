package tui

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/state"
)

// warmStateFile writes a state file as a learner half-way through the lab
// leaves it: five steps checked with results, two quizzes, on step 6.
func warmStateFile(b *testing.B) state.File {
	f := state.ForTarget(b.TempDir(), "sandbox")
	st := state.New("sandbox")
	st.Current = lab.StepEventProcessor
	for _, id := range lab.StepIDs[:5] {
		res := make([]checks.Result, 0, len(roleResults))
		for _, r := range roleResults {
			r.Step = id
			res = append(res, r)
		}
		st.Steps[id] = state.StepRecord{Status: "warn", Score: 7, MaxScore: 8, CheckedAt: time.Now(), Results: mustJSON(b, res)}
	}
	st.Quiz[lab.StepIAMRole] = state.QuizRecord{Correct: 2, Total: 3, AnsweredAt: time.Now()}
	st.Quiz[lab.StepDynamoDBTable] = state.QuizRecord{Correct: 3, Total: 3, AnsweredAt: time.Now()}
	if err := f.Save(st); err != nil {
		b.Fatal(err)
	}
	return f
}

// BenchmarkStartupFirstFrame is the tutor's share of the time to the first
// frame: load the state file, build the model, take the window size and draw.
// The lesson's glamour rendering runs in a command after this frame (see
// BenchmarkLessonRender).
func BenchmarkStartupFirstFrame(b *testing.B) {
	f := warmStateFile(b)
	o := sandboxOptions(&store{})
	o.Profile = colorprofile.TrueColor
	ctx := context.Background()
	for b.Loop() {
		st, _, err := f.Load("sandbox")
		if err != nil {
			b.Fatal(err)
		}
		o.State = st
		m := New(ctx, o)
		_ = m.Init()
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		if v := m.View(); v.Content == "" {
			b.Fatal("empty frame")
		}
	}
}

// BenchmarkLessonRender is the command that replaces the first frame's
// placeholder with the lesson: template, glamour (dark style, 87 columns),
// command extraction.
func BenchmarkLessonRender(b *testing.B) {
	o := sandboxOptions(&store{})
	for _, style := range []string{"dark", plainStyle} {
		b.Run(style, func(b *testing.B) {
			k := lessonKey{Name: lab.StepEventProcessor, Width: 87, Style: style}
			for b.Loop() {
				if _, err := renderStepLesson(k, o.Render, o.SandboxExport); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStepSwitch is a key press moving to a step whose lesson is
// cached: what holding j down costs per step.
func BenchmarkStepSwitch(b *testing.B) {
	o := sandboxOptions(&store{})
	m := New(context.Background(), o)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	for i := range lab.StepIDs {
		r, err := renderStepLesson(m.lessonKeyFor(i), o.Render, o.SandboxExport)
		if err != nil {
			b.Fatal(err)
		}
		m.rendered[r.Key] = &r
	}
	i := 0
	for b.Loop() {
		i = (i + 1) % len(lab.StepIDs)
		m.selectStep(i)
		_ = m.View()
	}
}

func mustJSON(b *testing.B, v []checks.Result) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}
