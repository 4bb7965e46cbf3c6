package tui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/slab-lab/slab/checks"
)

// In a wide terminal the prose stays ≈100 columns wide and the checks take
// the rest of the width, beside the lesson.
func TestWideTerminalCapsProseAndWidensChecks(t *testing.T) {
	o := sandboxOptions(&store{})
	o.Hooks.RunChecks = func(ctx context.Context, stepID string, progress func(checks.Result)) ([]checks.Result, error) {
		return roleResults, nil
	}
	h := start(t, o, 200, 50)
	h.waitFor("What and why")
	h.keys("c")
	s := h.golden("200x50", "Checks · 2 passed", "What and why")
	lesson := 0
	for _, l := range strings.Split(s, "\n") {
		// The lesson is the part between the two separators.
		parts := strings.Split(l, " │ ")
		if len(parts) >= 3 {
			lesson = max(lesson, ansi.StringWidth(strings.TrimRight(parts[1], " ")))
		}
	}
	if lesson == 0 || lesson > proseMax {
		t.Errorf("the lesson column is %d wide, want 1..%d:\n%s", lesson, proseMax, s)
	}
	h.quit()
}

// Resizing keeps the command the learner picked (the one y copies) in view,
// and at 80x24 the footer still offers ? help and quit.
func TestResizeKeepsTheChosenCommandInView(t *testing.T) {
	h := start(t, sandboxOptions(&store{}), 120, 40)
	h.waitFor("What and why", "cmd 1/")
	h.keys("]", "]", "]", "]", "]")
	s := h.waitFor("cmd 6/")
	h.tm.Send(tea.WindowSizeMsg{Width: 80, Height: 24})
	s = h.settle("cmd 6/", "? help", "quit")
	var line, off, hgt int
	h.inspect(func(m *Model) {
		line, off, hgt = m.lesson.current.CmdLines[5], m.lesson.vp.YOffset(), m.lesson.vp.Height()
	})
	if line < off || line >= off+hgt {
		t.Errorf("command 6 starts at line %d, the view shows %d-%d:\n%s", line, off, off+hgt, s)
	}
	h.golden("80x24", "cmd 6/", "? help", "quit")
	h.quit()
}
