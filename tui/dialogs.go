package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/slab-lab/slab/state"
	"github.com/slab-lab/slab/steps"
)

// ---- perform

type performPhase int

const (
	pfPlanning performPhase = iota
	pfConfirm
	pfRunning
	pfDone
)

type performState struct {
	phase      performPhase
	stepID     string // the step shown (and, last in queue, the one asked for)
	job        int
	choice     PerformChoice
	plan       []string
	missing    []string // prerequisite steps that do not exist yet
	queue      []string // steps still to perform, in order, the asked one last
	done       []string // steps performed in this run
	planErr    string
	progress   []ResourceProgress // one per resource, latest state, first-seen order
	outcome    steps.Outcome
	err        error
	cancelling bool
}

func (m *Model) openPerform() tea.Cmd {
	if m.hooks.Perform == nil {
		return m.setStatus(stNotice, msgNoPerform)
	}
	stepID := m.step().ID
	// Least privilege first: it is what the lesson and the exam expect.
	p := &performState{stepID: stepID, phase: pfConfirm, choice: PerformChoice{LeastPrivilege: HasRoads(stepID)}}
	m.perform, m.overlay = p, ovPerform
	return m.planPerform()
}

// planPerform asks for the plan of the perform's step on its current road.
func (m *Model) planPerform() tea.Cmd {
	p := m.perform
	if m.hooks.PlanPerform == nil {
		p.phase = pfConfirm
		return nil
	}
	p.phase, p.plan, p.missing, p.planErr = pfPlanning, nil, nil, ""
	hook, stepID, choice := m.hooks.PlanPerform, p.stepID, p.choice
	id, cmd := m.startJob(jobPlan, stepID, func(ctx context.Context, send func(tea.Msg)) tea.Msg {
		var plan PerformPlan
		err := guard(func() error {
			var err error
			plan, err = hook(ctx, stepID, choice)
			return err
		})
		return planMsg{StepID: stepID, Plan: plan, Err: err}
	})
	p.job = id
	return tea.Batch(cmd, m.spinCmd())
}

// runPerform performs the queue's next step: the missing prerequisites
// first (when the learner accepted them), then the step asked for.
func (m *Model) runPerform() tea.Cmd {
	p := m.perform
	hook := m.hooks.Perform
	if len(p.queue) == 0 {
		p.queue = append(append([]string{}, p.missing...), p.stepID)
	}
	stepID := p.queue[0]
	p.queue = p.queue[1:]
	// Only the step asked for has two roads; prerequisites take their
	// lesson's single one.
	choice := PerformChoice{}
	if len(p.queue) == 0 {
		choice = p.choice
	}
	id, cmd := m.startJob(jobPerform, stepID, func(ctx context.Context, send func(tea.Msg)) tea.Msg {
		var out steps.Outcome
		err := guard(func() error {
			var err error
			out, err = hook(ctx, stepID, choice, func(r ResourceProgress) { send(performProgressMsg{StepID: stepID, Progress: r}) })
			return err
		})
		return performDoneMsg{StepID: stepID, Outcome: out, Err: err}
	})
	p.job, p.phase = id, pfRunning
	return tea.Batch(cmd, m.spinCmd())
}

func (m *Model) performMsg(msg tea.Msg) tea.Cmd {
	p := m.perform
	switch msg := msg.(type) {
	case planMsg:
		if p == nil || p.stepID != msg.StepID || p.phase != pfPlanning {
			return nil
		}
		if errors.Is(msg.Err, context.Canceled) {
			m.perform, m.overlay = nil, ovNone
			return nil
		}
		p.phase, p.plan, p.missing = pfConfirm, msg.Plan.Items, msg.Plan.Missing
		if msg.Err != nil {
			p.planErr = msg.Err.Error()
		}
	case performProgressMsg:
		if p == nil || p.phase != pfRunning {
			return nil
		}
		p.progress = upsertProgress(p.progress, msg.Progress)
	case performDoneMsg:
		if p == nil || p.phase != pfRunning {
			return nil
		}
		n := steps.ByID(msg.StepID).Number
		if msg.Err == nil && len(p.queue) > 0 {
			// A prerequisite is done: keep what it made, check it, and go
			// on with the next step of the queue.
			p.done = append(p.done, msg.StepID)
			cmds := []tea.Cmd{m.setStatus(stInfo, fmt.Sprintf("step %d performed; going on with step %d", n, steps.ByID(p.queue[0]).Number))}
			if m.recordOutcome(msg.Outcome) {
				cmds = append(cmds, m.saveCmd())
			}
			if m.hooks.RunChecks != nil {
				cmds = append(cmds, m.startChecks(msg.StepID))
			}
			return tea.Batch(append(cmds, m.runPerform())...)
		}
		p.phase, p.outcome, p.err, p.cancelling = pfDone, msg.Outcome, msg.Err, false
		p.queue = nil
		var cmds []tea.Cmd
		// What was made is worth keeping even when a later part failed
		// (as `slab do` keeps it): the state file says what exists.
		if m.recordOutcome(msg.Outcome) {
			cmds = append(cmds, m.saveCmd())
		}
		switch {
		case errors.Is(msg.Err, context.Canceled):
			cmds = append(cmds, m.setStatus(stNotice, fmt.Sprintf("perform of step %d cancelled; p again finishes it (it is safe to repeat)", n)))
		case msg.Err != nil:
			cmds = append(cmds, m.setStatus(stProblem, fmt.Sprintf("perform of step %d failed: %v", n, msg.Err)))
		default:
			cmds = append(cmds, m.setStatus(stInfo, fmt.Sprintf("step %d performed; checking it now", n)))
		}
		// Whatever happened, the truth is in AWS: check it.
		if m.hooks.RunChecks != nil {
			cmds = append(cmds, m.startChecks(msg.StepID))
		}
		if m.hooks.Cost != nil {
			cmds = append(cmds, m.startCost())
		}
		return tea.Batch(cmds...)
	}
	return nil
}

// recordOutcome keeps each resource a perform created or found under its
// key in the state, and the bucket it chose; it reports whether anything
// changed.
func (m *Model) recordOutcome(out steps.Outcome) bool {
	changed := false
	if m.st.Resources == nil {
		m.st.Resources = map[string]string{}
	}
	for _, r := range out.Resources {
		if r.Key != "" && r.ID != "" && m.st.Resources[r.Key] != r.ID {
			m.st.Resources[r.Key] = r.ID
			changed = true
		}
	}
	if out.Bucket != "" && m.st.Names["bucket"] == "" {
		if m.st.Names == nil {
			m.st.Names = map[string]string{}
		}
		m.st.Names["bucket"] = out.Bucket
		changed = true
	}
	return changed
}

func upsertProgress(ps []ResourceProgress, r ResourceProgress) []ResourceProgress {
	for i := range ps {
		if ps[i].Resource == r.Resource {
			ps[i] = r
			return ps
		}
	}
	return append(ps, r)
}

func (m *Model) performKey(msg tea.KeyPressMsg) tea.Cmd {
	p, k := m.perform, m.keys
	switch p.phase {
	case pfPlanning:
		if key.Matches(msg, k.Cancel) {
			if j := m.jobs[p.job]; j != nil {
				j.cancel()
			}
			m.perform, m.overlay = nil, ovNone
		}
	case pfConfirm:
		switch {
		case HasRoads(p.stepID) && key.Matches(msg, k.RoadLeast) && !p.choice.LeastPrivilege:
			p.choice.LeastPrivilege = true
			return m.planPerform()
		case HasRoads(p.stepID) && key.Matches(msg, k.RoadGuide) && p.choice.LeastPrivilege:
			p.choice.LeastPrivilege = false
			return m.planPerform()
		case key.Matches(msg, k.Confirm):
			return m.runPerform()
		case key.Matches(msg, k.Deny):
			m.perform, m.overlay = nil, ovNone
			return m.setStatus(stInfo, "nothing performed")
		}
	case pfRunning:
		if key.Matches(msg, k.Cancel) && !p.cancelling {
			if j := m.jobs[p.job]; j != nil {
				j.cancel()
			}
			p.cancelling = true
			return m.setStatus(stNotice, "cancelling: the call in flight finishes or stops, nothing half-made is left unreported")
		}
	case pfDone:
		if key.Matches(msg, k.Cancel) || key.Matches(msg, k.Enter) {
			m.perform, m.overlay = nil, ovNone
		}
	}
	return nil
}

// ---- cleanup

type cleanupPhase int

const (
	clPlanning cleanupPhase = iota
	clConfirm
	clRunning
	clDone
)

type cleanupState struct {
	phase      cleanupPhase
	job        int
	plan       CleanupPlan
	typed      string
	mismatch   bool
	progress   []ResourceProgress
	report     CleanupReport
	err        error
	cancelling bool
}

func (m *Model) openCleanup() tea.Cmd {
	if m.hooks.CleanupPlan == nil || m.hooks.Cleanup == nil {
		return m.setStatus(stNotice, msgNoCleanup)
	}
	c := &cleanupState{phase: clPlanning}
	m.cleanup, m.overlay = c, ovCleanup
	hook := m.hooks.CleanupPlan
	id, cmd := m.startJob(jobCleanupPlan, "", func(ctx context.Context, send func(tea.Msg)) tea.Msg {
		var plan CleanupPlan
		err := guard(func() error {
			var err error
			plan, err = hook(ctx)
			return err
		})
		return cleanupPlanMsg{Plan: plan, Err: err}
	})
	c.job = id
	return tea.Batch(cmd, m.spinCmd())
}

func (m *Model) cleanupMsg(msg tea.Msg) tea.Cmd {
	c := m.cleanup
	if c == nil {
		return nil
	}
	switch msg := msg.(type) {
	case cleanupPlanMsg:
		if errors.Is(msg.Err, context.Canceled) {
			m.cleanup, m.overlay = nil, ovNone
			return nil
		}
		if msg.Err != nil {
			c.phase, c.err = clDone, msg.Err
			return nil
		}
		c.plan = msg.Plan
		if msg.Plan.Count() == 0 {
			c.phase, c.report = clDone, CleanupReport{Verified: true}
			return nil
		}
		c.phase = clConfirm
	case cleanupProgressMsg:
		c.progress = upsertProgress(c.progress, msg.Progress)
	case cleanupDoneMsg:
		c.phase, c.report, c.err, c.cancelling = clDone, msg.Report, msg.Err, false
		var cmds []tea.Cmd
		switch {
		case errors.Is(msg.Err, context.Canceled):
			cmds = append(cmds, m.setStatus(stNotice, "cleanup cancelled; x again finishes it (it is safe to repeat)"))
		case msg.Err != nil:
			cmds = append(cmds, m.setStatus(stProblem, "cleanup failed: "+msg.Err.Error()))
		case msg.Report.Verified:
			cmds = append(cmds, m.setStatus(stInfo, "cleanup verified: nothing of the lab is left"), m.forgetLab())
		default:
			cmds = append(cmds, m.setStatus(stProblem, fmt.Sprintf("cleanup left %d resource(s); the panel lists commands to remove them", len(msg.Report.Leftovers))))
		}
		if m.hooks.Cost != nil {
			cmds = append(cmds, m.startCost())
		}
		return tea.Batch(cmds...)
	}
	return nil
}

func (m *Model) runCleanup() tea.Cmd {
	c := m.cleanup
	hook := m.hooks.Cleanup
	plan := c.plan
	id, cmd := m.startJob(jobCleanup, "", func(ctx context.Context, send func(tea.Msg)) tea.Msg {
		var r CleanupReport
		err := guard(func() error {
			var err error
			r, err = hook(ctx, plan, func(p ResourceProgress) { send(cleanupProgressMsg{Progress: p}) })
			return err
		})
		return cleanupDoneMsg{Report: r, Err: err}
	})
	c.job, c.phase = id, clRunning
	return tea.Batch(cmd, m.spinCmd())
}

func (m *Model) cleanupKey(msg tea.KeyPressMsg) tea.Cmd {
	c, k := m.cleanup, m.keys
	switch c.phase {
	case clPlanning:
		if key.Matches(msg, k.Cancel) {
			if j := m.jobs[c.job]; j != nil {
				j.cancel()
			}
			m.cleanup, m.overlay = nil, ovNone
		}
	case clConfirm:
		if m.opts.Target.IsAWS() {
			// Real money and real resources: the learner types the account id.
			switch msg.String() {
			case "esc":
				m.cleanup, m.overlay = nil, ovNone
				return m.setStatus(stInfo, "nothing deleted")
			case "enter":
				if c.typed == m.opts.Target.Account {
					return m.runCleanup()
				}
				c.mismatch = true
			case "backspace":
				if c.typed != "" {
					c.typed = c.typed[:len(c.typed)-1]
				}
				c.mismatch = false
			default:
				if t := msg.Text; t != "" && len(c.typed) < 32 {
					c.typed += t
					c.mismatch = false
				}
			}
			return nil
		}
		switch {
		case key.Matches(msg, k.Confirm):
			return m.runCleanup()
		case key.Matches(msg, k.Deny):
			m.cleanup, m.overlay = nil, ovNone
			return m.setStatus(stInfo, "nothing deleted")
		}
	case clRunning:
		if key.Matches(msg, k.Cancel) && !c.cancelling {
			if j := m.jobs[c.job]; j != nil {
				j.cancel()
			}
			c.cancelling = true
			return m.setStatus(stNotice, "cancelling the cleanup after the deletion in flight")
		}
	case clDone:
		if key.Matches(msg, k.Cancel) || key.Matches(msg, k.Enter) {
			m.cleanup, m.overlay = nil, ovNone
		}
	}
	return nil
}

// ---- quiz

func (m *Model) openQuiz() tea.Cmd { return m.openQuizOn(m.step().ID) }

// openQuizOn starts the quiz on a step, or on the whole chain (ChainQuiz),
// with the questions missed last time first.
func (m *Model) openQuizOn(id string) tea.Cmd {
	if len(Quiz(id)) == 0 {
		return m.setStatus(stNotice, "no quiz for this step")
	}
	m.quiz, m.overlay = newQuizModel(id, m.st.Quiz[id].Missed), ovQuiz
	return nil
}

// quizKey routes a key to the quiz model and acts on what it reports: the
// root only closes the overlay and records the result.
func (m *Model) quizKey(msg tea.KeyPressMsg) tea.Cmd {
	switch out := m.quiz.Update(msg); out {
	case quizClosed:
		done := m.quiz.done
		m.quiz, m.overlay = nil, ovNone
		if !done {
			return m.setStatus(stInfo, "quiz closed; nothing recorded")
		}
	case quizFinished:
		return m.recordQuiz()
	}
	return nil
}

// recordQuiz keeps the best result in the state, and this attempt's misses.
func (m *Model) recordQuiz() tea.Cmd {
	q := m.quiz
	prev, had := m.st.Quiz[q.stepID]
	rec := state.QuizRecord{Correct: q.correct, Total: len(q.qs), AnsweredAt: m.now().UTC(), Missed: q.missed}
	if !had || prev.Total == 0 || q.correct >= prev.Correct {
		m.st.Quiz[q.stepID] = rec
		q.best, q.improved = rec, true
	} else {
		// The best score stays; what was missed is always this attempt's.
		prev.Missed = q.missed
		m.st.Quiz[q.stepID] = prev
		q.best = prev
	}
	m.gen++
	return tea.Batch(m.saveCmd(), m.setStatus(stInfo, fmt.Sprintf("quiz on %s: %d of %d right", quizName(q.stepID), q.correct, len(q.qs))))
}

// ---- troubleshooting document

type docState struct {
	title   string
	key     lessonKey
	vp      viewport.Model
	loading bool
	err     string
}

// openTrouble shows how to fix what failed: the section the focused check
// links to, else every section the step's lesson links to.
func (m *Model) openTrouble() tea.Cmd {
	var ids []string
	rs := m.shownResults()
	if len(rs) > 0 && m.resultSel < len(rs) {
		if id := hintTrouble(rs[m.resultSel].Hint); id != "" {
			ids = []string{id}
		}
	}
	if len(ids) == 0 {
		for _, r := range rs {
			if id := hintTrouble(r.Hint); id != "" && r.Status != 0 {
				ids = []string{id}
				break
			}
		}
	}
	title := "Troubleshooting"
	if len(ids) == 0 {
		if cur := m.lesson.current; cur != nil && cur.Key.Name == m.step().ID {
			ids = cur.Trouble
			title = fmt.Sprintf("Troubleshooting step %d", m.sel+1)
		}
	}
	if len(ids) == 0 {
		return m.setStatus(stNotice, "no troubleshooting section is linked here; `slab show troubleshooting` has them all")
	}
	l := m.layout()
	vp := viewport.New()
	vp.KeyMap = viewport.KeyMap{}
	vp.SetWidth(l.width)
	vp.SetHeight(max(l.bodyH-2, 1))
	vp.SetContent("Rendering…")
	k := lessonKey{Name: "trouble:" + strings.Join(ids, ","), Width: l.width, Style: m.style()}
	m.doc, m.overlay = &docState{title: title, key: k, vp: vp, loading: true}, ovDoc
	rc := m.opts.Render
	return func() tea.Msg {
		var text string
		err := guard(func() error {
			md, err := troubleSections(rc, ids)
			if err != nil {
				return err
			}
			text, err = renderMarkdown(md, k.Width, k.Style)
			return err
		})
		return docRenderedMsg{Key: k, Text: text, Err: err}
	}
}

func (m *Model) docKey(msg tea.KeyPressMsg) tea.Cmd {
	d, k := m.doc, m.keys
	switch {
	case msg.String() == "q" && strings.HasPrefix(d.key.Name, "overview:"):
		m.doc, m.overlay = nil, ovNone
		return m.openQuizOn(ChainQuiz)
	case key.Matches(msg, k.Cancel), key.Matches(msg, k.Troubleshoot), msg.String() == "q":
		m.doc, m.overlay = nil, ovNone
	case key.Matches(msg, k.Up):
		d.vp.ScrollUp(1)
	case key.Matches(msg, k.Down):
		d.vp.ScrollDown(1)
	case key.Matches(msg, k.PageDown):
		d.vp.PageDown()
	case key.Matches(msg, k.PageUp):
		d.vp.PageUp()
	case key.Matches(msg, k.HalfDown):
		d.vp.HalfPageDown()
	case key.Matches(msg, k.HalfUp):
		d.vp.HalfPageUp()
	case key.Matches(msg, k.Top):
		d.vp.GotoTop()
	case key.Matches(msg, k.Bottom):
		d.vp.GotoBottom()
	}
	return nil
}

// overlayKey routes keys to the open panel.
func (m *Model) overlayKey(msg tea.KeyPressMsg) tea.Cmd {
	switch m.overlay {
	case ovHelp:
		switch {
		case key.Matches(msg, m.keys.Help), key.Matches(msg, m.keys.Cancel), msg.String() == "q":
			m.overlay, m.helpOff = ovNone, 0
		case key.Matches(msg, m.keys.Down):
			m.helpOff++
		case key.Matches(msg, m.keys.Up):
			m.helpOff = max(m.helpOff-1, 0)
		case key.Matches(msg, m.keys.PageDown):
			m.helpOff += m.layout().bodyH - 2
		case key.Matches(msg, m.keys.PageUp):
			m.helpOff = max(m.helpOff-(m.layout().bodyH-2), 0)
		}
		l := m.layout()
		m.helpOff = min(m.helpOff, max(len(m.helpLines(l.width-2))-(l.bodyH-1), 0))
	case ovCost:
		if key.Matches(msg, m.keys.Cost) || key.Matches(msg, m.keys.Cancel) || msg.String() == "q" {
			if j := m.jobs[m.costJob]; j != nil && key.Matches(msg, m.keys.Cancel) {
				j.cancel()
			}
			m.overlay = ovNone
		}
	case ovPerform:
		return m.performKey(msg)
	case ovCleanup:
		return m.cleanupKey(msg)
	case ovQuiz:
		return m.quizKey(msg)
	case ovDoc:
		return m.docKey(msg)
	}
	return nil
}

// forgetLab clears what the state remembers of the deleted lab (statuses,
// results, resources, the bucket name) here, on the update loop: the
// cleanup hook runs in the background and must not touch the state.
func (m *Model) forgetLab() tea.Cmd {
	m.cleanedUp = true
	m.st.Resources = map[string]string{}
	m.st.Steps = map[string]state.StepRecord{}
	delete(m.st.Names, "bucket")
	for i := range m.views {
		if !m.views[i].running {
			m.views[i] = stepView{}
		}
	}
	m.gen++
	return m.saveCmd()
}
