// Package tui is slab's interactive tutor: the eight steps, each lesson
// rendered for the learner's target, checks with their evidence and hints,
// perform, probe, cost and cleanup flows, and a quiz per step.
//
// One root model owns all state, focus and layout; the pieces it draws are
// dumb renderers. Everything with a side effect (AWS, the state file, the
// clipboard) happens in tea.Cmds through the hooks in Options, so the tutor
// never calls AWS itself and tests drive it with fakes.
package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/slab-lab/slab/internal/safetext"
	"sort"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/slab-lab/slab/awscli"
	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/state"
	"github.com/slab-lab/slab/steps"
)

// Messages for features whose hook is not wired in this build. They say so
// plainly instead of pretending.
const (
	msgNoChecks  = "checks land with issue #7: not in this build (the lesson's Verify commands check by hand)"
	msgNoPerform = "perform lands with issue #6: not in this build (copy the lesson's commands with y)"
	msgNoProbe   = "end-to-end probes land with issue #7: not in this build (step 8's commands test by hand)"
	msgNoCleanup = "cleanup lands with issue #8: not in this build (`slab show cleanup` has the commands)"
	msgNoCost    = "cost estimates land with issue #8: not in this build (the overview lesson lists prices)"
)

type focusArea int

const (
	focusSteps focusArea = iota
	focusLesson
	focusResults
)

type overlayKind int

const (
	ovNone overlayKind = iota
	ovHelp
	ovPerform
	ovCleanup
	ovCost
	ovQuiz
	ovDoc
)

type statusKind int

const (
	stInfo statusKind = iota
	stNotice
	stProblem
)

// stepView is what the tutor knows about one step's verification.
type stepView struct {
	results   []checks.Result
	status    string // pass, warn, skip, error, fail; "" when never checked
	checkedAt time.Time
	earlier   bool   // loaded from the state file, not checked in this session
	err       string // why the last run could not finish
	running   bool
	runKind   string // "checks" or "probe"
	job       int
	live      []checks.Result // results streaming in
}

// Model is the tutor's root model.
type Model struct {
	drawn  bool // the first full frame was drawn (Options.FirstFrame)
	opts   Options
	hooks  Hooks
	keys   KeyMap
	styles Styles
	help   help.Model
	spin   spinner.Model
	ctx    context.Context
	now    func() time.Time

	isDark  bool
	colour  bool
	profile colorprofile.Profile
	width   int
	height  int
	ready   bool

	st    *state.State
	saver *saver
	gen   uint64 // bumps on every state change; saves carry it

	sel       int
	focus     focusArea
	views     []stepView
	resultSel int

	lesson    lessonPane
	rendered  map[lessonKey]*renderedLesson
	rendering map[lessonKey]bool
	renderErr map[string]string
	offsets   map[string]int
	cmdSel    map[string]int
	cmdChosen map[string]bool // the learner picked a command with [ or ]

	jobs    map[int]*job
	nextJob int
	spinOn  bool

	status    string
	statusK   statusKind
	statusSeq int

	overlay overlayKind
	helpOff int
	perform *performState
	cleanup *cleanupState
	quiz    *quizModel
	doc     *docState
	cost    *CostReport
	costErr string
	costJob int
	// costStale asks for a new estimate when the one in flight finishes.
	costStale bool
	// cleanedUp is set by a verified cleanup, until something is built
	// again: the header then says nothing is left to bill.
	cleanedUp bool

	// exportNote says whether the learner's aws CLI honours the export
	// line's AWS_ENDPOINT_URL; "" until Hooks.AWSCLIVersion answers.
	exportNote string

	screenSeq       int  // numbers the overview/finish renderings
	pendingOverview bool // a fresh lab opens on the overview once sized

	quitting bool
}

// saver serialises state writes and drops stale snapshots, so a slow write
// never overwrites a newer one.
type saver struct {
	mu      sync.Mutex
	save    func(*state.State) error
	written uint64
}

func (s *saver) write(gen uint64, snap *state.State) error {
	if s.save == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen <= s.written {
		return nil
	}
	if err := s.save(snap); err != nil {
		return err
	}
	s.written = gen
	return nil
}

func (s *saver) upTo() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.written
}

// New builds the tutor. ctx is the program's root context: every hook's
// context derives from it.
func New(ctx context.Context, o Options) *Model {
	if o.State == nil {
		o.State = state.New(o.Target.Kind)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Model{
		opts: o, hooks: o.Hooks, keys: DefaultKeyMap(), help: help.New(), ctx: ctx, now: o.Now,
		isDark: true, profile: o.Profile, st: o.State, saver: &saver{save: o.Save},
		lesson: newLessonPane(), rendered: map[lessonKey]*renderedLesson{}, rendering: map[lessonKey]bool{},
		renderErr: map[string]string{}, offsets: map[string]int{}, cmdSel: map[string]int{}, cmdChosen: map[string]bool{}, jobs: map[int]*job{},
		views: make([]stepView, len(steps.All)), cost: o.Cost,
	}
	m.colour = o.Profile == colorprofile.Unknown || o.Profile > colorprofile.ASCII
	m.styles = NewStyles(m.isDark, m.colour)
	m.help.Styles = m.styles.Help
	m.spin = spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(m.styles.Spinner))
	if s := steps.ByID(o.State.Current); s != nil {
		m.sel = s.Number - 1
	}
	for i, s := range steps.All {
		rec, ok := o.State.Steps[s.ID]
		if !ok {
			continue
		}
		v := &m.views[i]
		v.status, v.checkedAt, v.earlier = rec.Status, rec.CheckedAt, true
		if len(rec.Results) > 0 {
			var rs []checks.Result
			if json.Unmarshal(rec.Results, &rs) == nil {
				v.results = rs
			}
		}
	}
	m.resultSel = m.firstInteresting()
	m.pendingOverview = freshLab(m)
	if m.st.StartedAt.IsZero() {
		m.st.StartedAt = o.Now().UTC()
	}
	return m
}

// Init asks the terminal for its background and, when a cost hook exists,
// starts the first estimate. Nothing here blocks the first frame.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{tea.RequestBackgroundColor}
	if m.hooks.Cost != nil {
		cmds = append(cmds, m.startCost())
	}
	if m.hooks.AWSCLIVersion != nil && m.opts.SandboxExport != "" {
		detect, ctx := m.hooks.AWSCLIVersion, m.ctx
		cmds = append(cmds, func() tea.Msg {
			v, ok := detect(ctx)
			return cliVersionMsg{Version: v, OK: ok}
		})
	}
	return tea.Batch(cmds...)
}

func (m *Model) step() *steps.Step { return steps.All[m.sel] }

func (m *Model) view() *stepView { return &m.views[m.sel] }

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height, m.ready = msg.Width, msg.Height, true
		m.help.SetWidth(msg.Width)
		if m.pendingOverview {
			m.pendingOverview = false
			return m, tea.Batch(m.relayout(), m.openOverview())
		}
		return m, m.relayout()
	case tea.ColorProfileMsg:
		if m.opts.Profile != colorprofile.Unknown {
			return m, nil // Run already decided (NO_COLOR, --no-color)
		}
		m.profile = msg.Profile
		return m, m.restyle(m.isDark, msg.Profile > colorprofile.ASCII)
	case tea.BackgroundColorMsg:
		return m, m.restyle(msg.IsDark(), m.colour)
	case spinner.TickMsg:
		if !m.busy() || m.opts.Accessible {
			m.spinOn = false
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case jobEnvelope:
		cmd := m.handleJob(msg.Msg)
		if msg.Last {
			delete(m.jobs, msg.Job)
			return m, cmd
		}
		return m, tea.Batch(cmd, m.listen(msg.Job))
	case copiedMsg:
		return m, m.copied(msg)
	case cliVersionMsg:
		m.exportNote = awscli.ExportNote(msg.Version, msg.OK)
		return m, m.showLesson()
	case lessonRenderedMsg:
		return m, m.lessonRendered(msg)
	case docRenderedMsg:
		if m.doc != nil && m.doc.key == msg.Key {
			m.doc.loading = false
			if msg.Err != nil {
				m.doc.err = safetext.Text(msg.Err.Error())
			} else {
				m.doc.vp.SetContent(msg.Text)
			}
		}
		return m, nil
	case savedMsg:
		if msg.Err != nil {
			return m, m.setStatus(stProblem, "could not save your progress: "+msg.Err.Error())
		}
		return m, nil
	case saveTickMsg:
		if msg.Gen == m.gen {
			return m, m.saveCmd()
		}
		return m, nil
	case statusTimeout:
		if msg.Seq == m.statusSeq {
			m.status = ""
		}
		return m, nil
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	}
	return m, nil
}

// relayout sizes the lesson and renders it for the new width if needed.
func (m *Model) relayout() tea.Cmd {
	l := m.layout()
	m.lesson.SetSize(l.lessonW, l.lessonH)
	if m.doc != nil {
		m.doc.vp.SetWidth(l.width)
		m.doc.vp.SetHeight(l.bodyH - 2)
	}
	return m.showLesson()
}

func (m *Model) restyle(isDark, colour bool) tea.Cmd {
	if isDark == m.isDark && colour == m.colour {
		return nil
	}
	m.isDark, m.colour = isDark, colour
	m.styles = NewStyles(isDark, colour)
	m.help.Styles = m.styles.Help
	m.spin.Style = m.styles.Spinner
	return m.showLesson()
}

func (m *Model) style() string { return glamourStyle(m.isDark, m.colour) }

// lessonKeyFor is the rendering the layout needs for a step.
func (m *Model) lessonKeyFor(i int) lessonKey {
	return lessonKey{Name: steps.All[i].ID, Width: m.layout().lessonW, Style: m.style(), Note: m.exportNote}
}

// showLesson puts the current step's lesson in the viewport, starting a
// render when it is not cached. A stale rendering (other width or style)
// stays visible until the fresh one arrives.
func (m *Model) showLesson() tea.Cmd {
	if !m.ready {
		return nil
	}
	k := m.lessonKeyFor(m.sel)
	if r, ok := m.rendered[k]; ok {
		if m.lesson.current != r {
			m.lesson.Show(r, "", m.offsets[k.Name])
		}
		return nil
	}
	if cur := m.lesson.current; cur == nil || cur.Key.Name != k.Name {
		placeholder := "Rendering the lesson…"
		if e := m.renderErr[k.Name]; e != "" {
			placeholder = "The lesson could not be rendered: " + e
		}
		m.lesson.Show(nil, placeholder, 0)
	}
	return m.renderCmd(k)
}

func (m *Model) renderCmd(k lessonKey) tea.Cmd {
	if m.rendering[k] {
		return nil
	}
	m.rendering[k] = true
	rc, export := m.opts.Render, m.opts.SandboxExport
	return func() tea.Msg {
		var r renderedLesson
		err := guard(func() error {
			var err error
			r, err = renderStepLesson(k, rc, export)
			return err
		})
		r.Key = k
		return lessonRenderedMsg{Lesson: r, Err: err}
	}
}

func (m *Model) lessonRendered(msg lessonRenderedMsg) tea.Cmd {
	k := msg.Lesson.Key
	delete(m.rendering, k)
	if msg.Err != nil {
		m.renderErr[k.Name] = msg.Err.Error()
		if k.Name == m.step().ID {
			m.lesson.Show(nil, "The lesson could not be rendered: "+msg.Err.Error(), 0)
		}
		return nil
	}
	cur := m.lessonKeyFor(m.sel)
	if k.Width != cur.Width || k.Style != cur.Style || k.Note != cur.Note {
		return nil // rendered for a size or style that is gone
	}
	for old := range m.rendered {
		if old.Width != k.Width || old.Style != k.Style || old.Note != k.Note {
			delete(m.rendered, old)
		}
	}
	r := msg.Lesson
	m.rendered[k] = &r
	if k.Name != m.step().ID {
		return nil
	}
	m.lesson.Show(&r, "", m.keepPlace(&r))
	// Warm the neighbours so moving between steps shows text at once.
	var cmds []tea.Cmd
	for _, i := range []int{m.sel + 1, m.sel - 1} {
		if i >= 0 && i < len(steps.All) {
			if _, ok := m.rendered[m.lessonKeyFor(i)]; !ok {
				cmds = append(cmds, m.renderCmd(m.lessonKeyFor(i)))
			}
		}
	}
	return tea.Batch(cmds...)
}

// ---- keys

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	typing := m.overlay == ovCleanup && m.cleanup != nil && m.cleanup.phase == clConfirm && m.opts.Target.IsAWS()
	if key.Matches(msg, k.Quit) && !(typing && msg.String() == "Q") {
		return m.quit()
	}
	if m.overlay != ovNone {
		return m.overlayKey(msg)
	}
	switch {
	case key.Matches(msg, k.Help):
		m.overlay = ovHelp
	case key.Matches(msg, k.Overview):
		return m.openOverview()
	case key.Matches(msg, k.Cancel):
		return m.cancelWork()
	case key.Matches(msg, k.FocusNext):
		m.cycleFocus(1)
	case key.Matches(msg, k.FocusPrev):
		m.cycleFocus(-1)
	case key.Matches(msg, k.Up):
		return m.moveFocused(-1)
	case key.Matches(msg, k.Down):
		return m.moveFocused(1)
	case key.Matches(msg, k.PrevStep):
		return m.selectStep(m.sel - 1)
	case key.Matches(msg, k.NextStep):
		return m.selectStep(m.sel + 1)
	case key.Matches(msg, k.JumpStep):
		return m.selectStep(int(msg.String()[0] - '1'))
	case key.Matches(msg, k.PageDown):
		m.lesson.vp.PageDown()
	case key.Matches(msg, k.PageUp):
		m.lesson.vp.PageUp()
	case key.Matches(msg, k.HalfDown):
		m.lesson.vp.HalfPageDown()
	case key.Matches(msg, k.HalfUp):
		m.lesson.vp.HalfPageUp()
	case key.Matches(msg, k.Top):
		m.lesson.vp.GotoTop()
	case key.Matches(msg, k.Bottom):
		m.lesson.vp.GotoBottom()
	case key.Matches(msg, k.Changed):
		if r := m.lesson.current; r != nil && r.Changed >= 0 {
			m.lesson.vp.SetYOffset(r.Changed)
			return nil
		}
		return m.setStatus(stNotice, "this lesson has no \""+changedHeading+"\" section")
	case key.Matches(msg, k.NextCmd):
		return m.cycleCommand(1)
	case key.Matches(msg, k.PrevCmd):
		return m.cycleCommand(-1)
	case key.Matches(msg, k.Copy):
		return m.copyCommand()
	case key.Matches(msg, k.Check):
		return m.startChecks(m.step().ID)
	case key.Matches(msg, k.CheckAll):
		return m.startCheckAll()
	case key.Matches(msg, k.Probe):
		return m.startProbe()
	case key.Matches(msg, k.Perform):
		return m.openPerform()
	case key.Matches(msg, k.Cost):
		return m.openCost()
	case key.Matches(msg, k.Cleanup):
		return m.openCleanup()
	case key.Matches(msg, k.Quiz):
		return m.openQuiz()
	case key.Matches(msg, k.Troubleshoot):
		return m.openTrouble()
	}
	return nil
}

func (m *Model) quit() tea.Cmd {
	m.quitting = true
	for _, j := range m.jobs {
		j.cancel()
	}
	if m.gen > m.saver.upTo() && m.opts.Save != nil {
		return tea.Sequence(m.saveCmd(), tea.Quit)
	}
	return tea.Quit
}

// cancelWork is esc at the top level: it cancels what runs in the
// background (checks, probes). It never quits.
func (m *Model) cancelWork() tea.Cmd {
	n := 0
	for _, j := range m.jobs {
		if j.kind == jobChecks || j.kind == jobCheckAll || j.kind == jobProbe {
			j.cancel()
			n++
		}
	}
	if n == 0 {
		m.status = ""
		return nil
	}
	return m.setStatus(stNotice, "cancelling: earlier results are kept")
}

func (m *Model) cycleFocus(d int) {
	areas := []focusArea{focusSteps, focusLesson}
	if len(m.shownResults()) > 0 {
		areas = append(areas, focusResults)
	}
	i := 0
	for j, a := range areas {
		if a == m.focus {
			i = j
		}
	}
	m.focus = areas[(i+d+len(areas))%len(areas)]
}

func (m *Model) moveFocused(d int) tea.Cmd {
	switch m.focus {
	case focusLesson:
		if d < 0 {
			m.lesson.vp.ScrollUp(1)
		} else {
			m.lesson.vp.ScrollDown(1)
		}
	case focusResults:
		n := len(m.shownResults())
		if n > 0 {
			m.resultSel = min(max(m.resultSel+d, 0), n-1)
		}
	default:
		return m.selectStep(m.sel + d)
	}
	return nil
}

// selectStep moves to a step. It only touches memory and starts a render
// command, so holding a key down never blocks.
func (m *Model) selectStep(i int) tea.Cmd {
	if i < 0 || i >= len(steps.All) || i == m.sel {
		return nil
	}
	if cur := m.lesson.current; cur != nil {
		m.offsets[cur.Key.Name] = m.lesson.vp.YOffset()
	}
	m.sel = i
	m.resultSel = m.firstInteresting()
	if m.focus == focusResults && len(m.shownResults()) == 0 {
		m.focus = focusSteps
	}
	m.st.Current = m.step().ID
	m.gen++
	gen := m.gen
	debounce := tea.Tick(400*time.Millisecond, func(time.Time) tea.Msg { return saveTickMsg{Gen: gen} })
	return tea.Batch(m.relayout(), debounce)
}

// firstInteresting picks the result to focus first: the worst one.
func (m *Model) firstInteresting() int {
	rs := m.shownResults()
	best, idx := checks.Pass, 0
	for i, r := range rs {
		if r.Status > best && r.Status != checks.Skip {
			best, idx = r.Status, i
		}
	}
	return idx
}

// shownResults are the results under the lesson: live ones while a run
// streams in, else the last ones.
func (m *Model) shownResults() []checks.Result {
	v := m.view()
	if v.running && len(v.live) > 0 {
		return v.live
	}
	return v.results
}

// keepPlace is where a fresh rendering of the current step opens. A new
// width re-wraps the lesson, so the old line number means nothing: keep the
// same share of the text above the view, and keep the command the learner
// picked (the one y copies) in view.
func (m *Model) keepPlace(r *renderedLesson) int {
	prev := m.lesson.current
	if prev == nil || prev.Key.Name != r.Key.Name {
		return m.offsets[r.Key.Name]
	}
	oldTotal := max(strings.Count(prev.Text, "\n")+1, 1)
	newTotal := strings.Count(r.Text, "\n") + 1
	off := m.lesson.vp.YOffset() * newTotal / oldTotal
	i, h := m.cmdSel[r.Key.Name], m.lesson.vp.Height()
	if m.cmdChosen[r.Key.Name] && i < len(r.CmdLines) && r.CmdLines[i] >= 0 {
		if line := r.CmdLines[i]; line < off || line >= off+max(h-3, 1) {
			off = max(line-2, 0)
		}
	}
	return off
}

// ---- commands (copy)

func (m *Model) commands() []steps.Command {
	if r := m.lesson.current; r != nil && r.Key.Name == m.step().ID {
		return r.Commands
	}
	return nil
}

func (m *Model) cycleCommand(d int) tea.Cmd {
	cmds := m.commands()
	if len(cmds) == 0 {
		return m.setStatus(stNotice, "the lesson is still rendering")
	}
	id := m.step().ID
	i := (m.cmdSel[id] + d + len(cmds)) % len(cmds)
	m.cmdSel[id] = i
	m.cmdChosen[id] = true
	if r := m.lesson.current; r != nil && i < len(r.CmdLines) && r.CmdLines[i] >= 0 {
		m.lesson.vp.SetYOffset(max(r.CmdLines[i]-2, 0))
	}
	return nil
}

func (m *Model) copyCommand() tea.Cmd {
	cmds := m.commands()
	if len(cmds) == 0 {
		return m.setStatus(stNotice, "the lesson is still rendering; nothing to copy yet")
	}
	i := m.cmdSel[m.step().ID]
	if i >= len(cmds) {
		i = 0
	}
	c := cmds[i]
	n := strings.Count(c.Text, "\n") + 1
	what := fmt.Sprintf("cmd %d/%d (%d line%s)", i+1, len(cmds), n, plural(n))
	if m.hooks.Copy == nil {
		return tea.Batch(tea.SetClipboard(c.Text), m.setStatus(stInfo, "copied "+what+" by OSC 52 (tmux drops it unless set-clipboard is on)"))
	}
	hook, ctx, text := m.hooks.Copy, m.ctx, c.Text
	return tea.Batch(tea.SetClipboard(text), func() tea.Msg {
		how, err := hook(ctx, text)
		return copiedMsg{What: what, How: how, Err: err}
	})
}

// copied says how a copy went: OSC 52 always goes out, and the hook's way
// is the one that does not depend on the terminal.
func (m *Model) copied(msg copiedMsg) tea.Cmd {
	switch {
	case msg.Err != nil:
		return m.setStatus(stProblem, "sent "+msg.What+" by OSC 52 only: "+msg.Err.Error())
	case strings.HasPrefix(msg.How, "file "):
		return m.setStatus(stNotice, msg.What+" saved to "+strings.TrimPrefix(msg.How, "file ")+" (no wl-copy/xclip/pbcopy; OSC 52 sent too)")
	default:
		return m.setStatus(stInfo, "copied "+msg.What+" with "+msg.How+" (and OSC 52)")
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ---- status line

func (m *Model) setStatus(k statusKind, s string) tea.Cmd {
	// Status text often carries an AWS error, which can quote what a
	// student stored: it reaches the terminal escaped, like check results.
	m.status, m.statusK = safetext.Line(s), k
	m.statusSeq++
	seq := m.statusSeq
	d := 8 * time.Second
	if k == stProblem {
		d = 20 * time.Second
	}
	return tea.Tick(d, func(time.Time) tea.Msg { return statusTimeout{Seq: seq} })
}

// ---- state

func cloneState(st *state.State) *state.State {
	c := *st
	c.Names = cloneMap(st.Names)
	c.Resources = cloneMap(st.Resources)
	c.Steps = make(map[string]state.StepRecord, len(st.Steps))
	for k, v := range st.Steps {
		c.Steps[k] = v
	}
	c.Quiz = make(map[string]state.QuizRecord, len(st.Quiz))
	for k, v := range st.Quiz {
		c.Quiz[k] = v
	}
	return &c
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// saveCmd writes a snapshot of the state as it is now.
func (m *Model) saveCmd() tea.Cmd {
	if m.opts.Save == nil {
		return nil
	}
	gen, snap, sv := m.gen, cloneState(m.st), m.saver
	return func() tea.Msg { return savedMsg{Gen: gen, Err: sv.write(gen, snap)} }
}

// Flush saves the state if the last change is not on disk yet; Run calls it
// after the program ends.
func (m *Model) Flush() error {
	if m.gen > m.saver.upTo() {
		return m.saver.write(m.gen, cloneState(m.st))
	}
	return nil
}

// State is the tutor's current state (tests, and Run's caller).
func (m *Model) State() *state.State { return m.st }

func (m *Model) busy() bool {
	if len(m.jobs) > 0 {
		return true
	}
	for _, v := range m.views {
		if v.running {
			return true
		}
	}
	return false
}

// spinCmd starts the spinner if it is not ticking already.
func (m *Model) spinCmd() tea.Cmd {
	if m.spinOn || m.opts.Accessible {
		return nil
	}
	m.spinOn = true
	return m.spin.Tick
}

// ---- checks

// aggregate is a step's status and score from its results, by the one
// rule every report uses (checks.Aggregate: an Error counts neither for
// nor against); "" when there is nothing to record.
func aggregate(rs []checks.Result) (status string, score, maxScore int) {
	if len(rs) == 0 {
		return "", 0, 0
	}
	st, score, maxScore := checks.Aggregate(rs)
	return st.String(), score, maxScore
}

func (m *Model) startChecks(stepID string) tea.Cmd {
	if m.hooks.RunChecks == nil {
		return m.setStatus(stNotice, msgNoChecks)
	}
	i := steps.ByID(stepID).Number - 1
	v := &m.views[i]
	if v.running {
		return m.setStatus(stNotice, fmt.Sprintf("step %d is being checked already (esc cancels)", i+1))
	}
	hook := m.hooks.RunChecks
	id, cmd := m.startJob(jobChecks, stepID, func(ctx context.Context, send func(tea.Msg)) tea.Msg {
		var rs []checks.Result
		err := guard(func() error {
			var err error
			rs, err = hook(ctx, stepID, func(r checks.Result) { send(checkProgressMsg{StepID: stepID, Result: r}) })
			return err
		})
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		return checksDoneMsg{StepID: stepID, Results: rs, Err: err}
	})
	v.running, v.runKind, v.job, v.live, v.err = true, "checks", id, nil, ""
	return tea.Batch(cmd, m.spinCmd(), m.setStatus(stInfo, fmt.Sprintf("checking step %d (%s)… esc cancels", i+1, stepID)))
}

func (m *Model) startCheckAll() tea.Cmd {
	if m.hooks.RunChecks == nil {
		return m.setStatus(stNotice, msgNoChecks)
	}
	for _, j := range m.jobs {
		if j.kind == jobCheckAll {
			return m.setStatus(stNotice, "all steps are being checked already (esc cancels)")
		}
	}
	hook := m.hooks.RunChecks
	var ids []string
	for i, s := range steps.All {
		if !m.views[i].running {
			ids = append(ids, s.ID)
		}
	}
	id, cmd := m.startJob(jobCheckAll, "", func(ctx context.Context, send func(tea.Msg)) tea.Msg {
		for _, sid := range ids {
			if ctx.Err() != nil {
				return allChecksDoneMsg{Err: ctx.Err()}
			}
			send(checkStartedMsg{StepID: sid})
			var rs []checks.Result
			err := guard(func() error {
				var err error
				rs, err = hook(ctx, sid, func(r checks.Result) { send(checkProgressMsg{StepID: sid, Result: r}) })
				return err
			})
			if err == nil && ctx.Err() != nil {
				err = ctx.Err()
			}
			send(checksDoneMsg{StepID: sid, Results: rs, Err: err})
		}
		return allChecksDoneMsg{Err: ctx.Err()}
	})
	for _, sid := range ids {
		v := &m.views[steps.ByID(sid).Number-1]
		v.job, v.err = id, ""
	}
	return tea.Batch(cmd, m.spinCmd(), m.setStatus(stInfo, "checking all eight steps… esc cancels"))
}

func (m *Model) startProbe() tea.Cmd {
	if m.step().ID != lab.StepEndToEnd {
		return m.setStatus(stNotice, "probes test the whole chain from step 8 (end-to-end): press 8, then t")
	}
	if m.hooks.Probe == nil {
		return m.setStatus(stNotice, msgNoProbe)
	}
	v := m.view()
	if v.running {
		return m.setStatus(stNotice, "step 8 is busy already (esc cancels)")
	}
	hook := m.hooks.Probe
	id, cmd := m.startJob(jobProbe, lab.StepEndToEnd, func(ctx context.Context, send func(tea.Msg)) tea.Msg {
		var rs []checks.Result
		err := guard(func() error {
			var err error
			rs, err = hook(ctx, func(r checks.Result) { send(probeProgressMsg{Result: r}) })
			return err
		})
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		return probeDoneMsg{Results: rs, Err: err}
	})
	v.running, v.runKind, v.job, v.live, v.err = true, "probe", id, nil, ""
	return tea.Batch(cmd, m.spinCmd(), m.setStatus(stInfo, "probing the chain end to end (it writes test data and removes it)… esc cancels"))
}

// handleJob handles the typed message a job delivered.
func (m *Model) handleJob(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case checkStartedMsg:
		v := &m.views[steps.ByID(msg.StepID).Number-1]
		v.running, v.runKind, v.live = true, "checks", nil
		return m.spinCmd()
	case checkProgressMsg:
		v := &m.views[steps.ByID(msg.StepID).Number-1]
		v.live = append(v.live, msg.Result)
	case probeProgressMsg:
		v := &m.views[len(steps.All)-1]
		v.live = append(v.live, msg.Result)
	case checksDoneMsg:
		v := m.views[steps.ByID(msg.StepID).Number-1]
		if j := m.jobs[v.job]; j != nil && j.kind == jobCheckAll {
			// Checking all steps reports once, at the end, unless a step
			// could not be checked.
			keep, seq := m.status, m.statusSeq
			cmd := m.checksDone(msg.StepID, msg.Results, msg.Err, false)
			if m.statusK != stProblem {
				m.status, m.statusSeq, m.statusK = keep, seq, stInfo
			}
			return cmd
		}
		return m.checksDone(msg.StepID, msg.Results, msg.Err, false)
	case probeDoneMsg:
		return m.checksDone(lab.StepEndToEnd, msg.Results, msg.Err, true)
	case allChecksDoneMsg:
		verified := 0
		for i := range m.views {
			v := &m.views[i]
			if v.running && v.runKind == "checks" && m.jobs[v.job] != nil && m.jobs[v.job].kind == jobCheckAll {
				v.running, v.live = false, nil
			}
			if v.status == "pass" || v.status == "warn" {
				verified++
			}
		}
		if errors.Is(msg.Err, context.Canceled) {
			return m.setStatus(stNotice, "checking all steps cancelled; results so far are kept")
		}
		return m.setStatus(stInfo, fmt.Sprintf("all steps checked: %d of %d verified", verified, len(steps.All)))
	case planMsg, performProgressMsg, performDoneMsg:
		return m.performMsg(msg)
	case cleanupPlanMsg, cleanupProgressMsg, cleanupDoneMsg:
		return m.cleanupMsg(msg)
	case costMsg:
		m.costJob = 0
		if m.costStale {
			// The lab changed while this estimate ran (a cleanup, a
			// perform): it describes a lab that is gone; ask again.
			m.costStale = false
			return m.startCost()
		}
		if msg.Err != nil {
			if !errors.Is(msg.Err, context.Canceled) {
				m.costErr = safetext.Line(msg.Err.Error())
			}
			return nil
		}
		r := msg.Report
		m.cost, m.costErr = &r, ""
	}
	return nil
}

// checksDone records a step's results (in memory and in the state file).
func (m *Model) checksDone(stepID string, rs []checks.Result, err error, probe bool) tea.Cmd {
	s := steps.ByID(stepID)
	v := &m.views[s.Number-1]
	v.running, v.live = false, nil
	what := "checks"
	if probe {
		what = "probe"
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return m.setStatus(stNotice, fmt.Sprintf("%s of step %d cancelled; earlier results are kept", what, s.Number))
		}
		v.err = err.Error()
		return m.setStatus(stProblem, fmt.Sprintf("could not run the %s of step %d: %v", what, s.Number, err))
	}
	wasVerified := v.status == "pass" || v.status == "warn"
	wasAll := m.allVerified()
	if probe {
		rs = mergeResults(v.results, rs)
	} else {
		// A new check run keeps the last probe results: they are only
		// refreshed when asked (t).
		rs = mergeResults(probeOnly(v.results, s), rs)
	}
	for i := range rs {
		if rs[i].Step == "" {
			rs[i].Step = stepID
		}
	}
	v.results, v.checkedAt, v.earlier, v.err = rs, m.now(), false, ""
	status, score, maxScore := aggregate(rs)
	v.status = status
	raw, _ := json.Marshal(rs)
	m.st.Steps[stepID] = state.StepRecord{Status: status, Score: score, MaxScore: maxScore, CheckedAt: v.checkedAt.UTC(), Results: raw}
	m.gen++
	if s.Number-1 == m.sel {
		m.resultSel = m.firstInteresting()
	}
	cmds := []tea.Cmd{m.saveCmd()}
	counts := countStatuses(rs)
	line := fmt.Sprintf("step %d %s: %s", s.Number, what, counts)
	if len(rs) == 0 {
		line = fmt.Sprintf("step %d: no checks ran", s.Number)
	}
	verified := status == "pass" || status == "warn"
	if verified && !wasVerified {
		if q, ok := m.st.Quiz[stepID]; !ok || q.Total == 0 {
			line = fmt.Sprintf("step %d verified (%s). Press q for a %d-question quiz on it", s.Number, counts, len(Quiz(stepID)))
		} else {
			line = fmt.Sprintf("step %d verified (%s)", s.Number, counts)
		}
	}
	k := stInfo
	if status == "fail" || status == "error" {
		k = stProblem
	}
	cmds = append(cmds, m.setStatus(k, line), m.maybeFinish(wasAll))
	return tea.Batch(cmds...)
}

// probeOnly keeps the results that came from probes (their check ids are
// not among the step's regular checks).
func probeOnly(rs []checks.Result, s *steps.Step) []checks.Result {
	regular := map[string]bool{}
	for _, c := range s.Checks {
		if !c.Probe {
			regular[c.ID] = true
		}
	}
	probes := map[string]bool{}
	for _, c := range s.Checks {
		if c.Probe {
			probes[c.ID] = true
		}
	}
	var out []checks.Result
	for _, r := range rs {
		if probes[r.CheckID] && !regular[r.CheckID] {
			out = append(out, r)
		}
	}
	return out
}

// mergeResults replaces results with the same check id and appends new ones.
func mergeResults(old, fresh []checks.Result) []checks.Result {
	idx := map[string]int{}
	out := make([]checks.Result, 0, len(old)+len(fresh))
	for _, r := range old {
		idx[r.CheckID] = len(out)
		out = append(out, r)
	}
	for _, r := range fresh {
		if i, ok := idx[r.CheckID]; ok {
			out[i] = r
			continue
		}
		idx[r.CheckID] = len(out)
		out = append(out, r)
	}
	return out
}

func countStatuses(rs []checks.Result) string {
	n := map[checks.Status]int{}
	later := map[int]int{}
	for _, r := range rs {
		if r.Deferred() {
			later[r.VerifiedIn]++
			continue
		}
		n[r.Status]++
	}
	var parts []string
	for _, s := range []checks.Status{checks.Pass, checks.Warn, checks.Fail, checks.Error, checks.Skip} {
		if n[s] > 0 {
			word := map[checks.Status]string{checks.Pass: "passed", checks.Warn: "warned", checks.Fail: "failed", checks.Error: "could not tell", checks.Skip: "skipped"}[s]
			parts = append(parts, fmt.Sprintf("%d %s", n[s], word))
		}
	}
	for step := 1; step <= len(steps.All); step++ {
		if later[step] > 0 {
			parts = append(parts, fmt.Sprintf("%d verified in step %d", later[step], step))
		}
	}
	if len(parts) == 0 {
		return "no results"
	}
	return strings.Join(parts, ", ")
}

// progress is the header's summary: steps verified, the weighted score of
// the steps checked so far, and the quiz.
func (m *Model) progress() (verified int, score, maxScore int, quizRight, quizTotal int) {
	for i, s := range steps.All {
		v := m.views[i]
		if v.status == "pass" || v.status == "warn" {
			verified++
		}
		if rec, ok := m.st.Steps[s.ID]; ok {
			score += rec.Score
			maxScore += rec.MaxScore
		}
	}
	ids := make([]string, 0, len(m.st.Quiz))
	for id := range m.st.Quiz {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		quizRight += m.st.Quiz[id].Correct
		quizTotal += m.st.Quiz[id].Total
	}
	return
}

// ---- cost

func (m *Model) startCost() tea.Cmd {
	if m.costJob != 0 {
		m.costStale = true
		return nil
	}
	hook := m.hooks.Cost
	id, cmd := m.startJob(jobCost, "", func(ctx context.Context, send func(tea.Msg)) tea.Msg {
		var r CostReport
		err := guard(func() error {
			var err error
			r, err = hook(ctx)
			return err
		})
		return costMsg{Report: r, Err: err}
	})
	m.costJob = id
	return cmd
}

func (m *Model) openCost() tea.Cmd {
	if m.hooks.Cost == nil && m.cost == nil {
		return m.setStatus(stNotice, msgNoCost)
	}
	m.overlay = ovCost
	if m.hooks.Cost != nil {
		return tea.Batch(m.startCost(), m.spinCmd())
	}
	return nil
}
