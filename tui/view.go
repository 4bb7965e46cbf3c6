package tui

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/internal/safetext"
	"github.com/slab-lab/slab/steps"
)

// twoPaneMin is the width from which the step list sits beside the lesson;
// below it the lesson takes the width and a one-line picker the list's place.
const twoPaneMin = 100

const listWidth = 30

// proseMax is the widest the lesson's prose gets: past ≈100 columns lines
// are hard to read. From sideMin more columns on, the checks move beside
// the lesson and take the rest of the width.
const (
	proseMax = 100
	sideMin  = 36
)

type layout struct {
	width, height int
	twoPane       bool
	bodyH         int // between the header (2 lines) and the status line + footer
	listW         int
	rightW        int
	lessonW       int // the lesson's width: rightW, or proseMax beside the checks
	sideW         int // the checks column beside the lesson; 0 when they sit below it
	lessonH       int
	resultsH      int
}

func (m *Model) layout() layout {
	w, h := max(m.width, 20), max(m.height, 8)
	l := layout{width: w, height: h, twoPane: w >= twoPaneMin}
	l.bodyH = max(h-4, 3)
	l.rightW = w
	if l.twoPane {
		l.listW = listWidth
		l.rightW = w - l.listW - 3
	}
	inner := l.bodyH - 2 // lesson title, command bar
	if !l.twoPane {
		inner-- // step picker
	}
	l.lessonW = l.rightW
	if l.twoPane && l.rightW >= proseMax+3+sideMin {
		l.lessonW, l.sideW = proseMax, l.rightW-proseMax-3
		l.lessonH = max(inner, 1)
		return l
	}
	lines, _ := m.resultLines(l.rightW)
	l.resultsH = min(len(lines), max(inner/2, 3))
	l.lessonH = max(inner-l.resultsH, 1)
	return l
}

// View draws the screen.
func (m *Model) View() tea.View {
	var v tea.View
	v.AltScreen = true
	v.WindowTitle = fmt.Sprintf("slab: step %d/%d %s", m.sel+1, len(steps.All), m.step().ID)
	if !m.ready {
		v.SetContent("slab: starting…")
		return v
	}
	l := m.layout()
	if m.opts.FirstFrame != nil && !m.drawn {
		m.drawn = true
		m.opts.FirstFrame()
	}
	var body string
	if m.overlay != ovNone {
		body = m.viewOverlay(l)
	} else if l.twoPane {
		sep := strings.TrimRight(strings.Repeat(m.styles.Separator.Render(" │ ")+"\n", l.bodyH), "\n")
		body = lipgloss.JoinHorizontal(lipgloss.Top, fit(m.viewStepList(l), l.listW, l.bodyH), sep, fit(m.viewRight(l), l.rightW, l.bodyH))
	} else {
		body = fit(m.viewRight(l)+"\n"+m.viewPicker(l.width), l.width, l.bodyH)
	}
	out := strings.Join([]string{
		fit(m.viewHeader(l.width), l.width, 2),
		body,
		fit(m.viewStatus(), l.width, 1),
		fit(m.viewFooter(), l.width, 1),
	}, "\n")
	v.SetContent(out)
	return v
}

// ---- header, status, footer

func (m *Model) viewHeader(w int) string {
	s := m.styles
	brand := s.Brand.Render("slab")
	title := " Serverless Integration Patterns lab"
	tstyle := s.Target
	if m.opts.Target.IsAWS() {
		tstyle = s.TargetAWS
	}
	target := m.opts.Target.Describe
	if target == "" {
		target = strings.ToUpper(m.opts.Target.Kind)
	}
	left := brand + title
	if lipgloss.Width(left)+2+lipgloss.Width(target) > w {
		left = brand
	}
	line1 := spread(left, tstyle.Render(target), w)

	verified, score, maxScore, qr, qt := m.progress()
	parts := []string{fmt.Sprintf("%d/%d steps verified", verified, len(steps.All))}
	if maxScore > 0 {
		parts = append(parts, fmt.Sprintf("score %d/%d on checked steps", score, maxScore))
	}
	if qt > 0 {
		parts = append(parts, fmt.Sprintf("quiz %d/%d", qr, qt))
	}
	switch {
	case m.cleanedUp && !m.labExists():
		parts = append(parts, "cleaned up: nothing left to bill")
	case m.cost != nil && !m.labExists():
		parts = append(parts, fmt.Sprintf("est. %s/month once built and left running", dollars(m.cost.Total.PerMonth)))
	case m.cost != nil:
		parts = append(parts, fmt.Sprintf("est. %s/day, %s/month if left running", dollars(m.cost.Total.PerDay), dollars(m.cost.Total.PerMonth)))
	case m.hooks.Cost != nil && m.costErr == "":
		parts = append(parts, "est. cost …")
	}
	right := ""
	if n := m.runningCount(); n > 0 {
		right = m.spinner() + " " + fmt.Sprintf("%d running", n)
	}
	line2 := spread(s.Stats.Render(strings.Join(parts, " · ")), s.Running.Render(right), w)
	return line1 + "\n" + line2
}

func dollars(f float64) string {
	if f > 0 && f < 0.01 {
		return "<$0.01"
	}
	return fmt.Sprintf("$%.2f", f)
}

func (m *Model) runningCount() int {
	n := 0
	for _, v := range m.views {
		if v.running {
			n++
		}
	}
	for _, j := range m.jobs {
		if j.kind == jobPerform || j.kind == jobCleanup {
			n++
		}
	}
	return n
}

func (m *Model) spinner() string {
	if m.opts.Accessible {
		return "[busy]"
	}
	return m.spin.View()
}

func (m *Model) viewStatus() string {
	if m.status == "" {
		return ""
	}
	switch m.statusK {
	case stProblem:
		return m.styles.Problem.Render("✗ ") + m.status
	case stNotice:
		return m.styles.Notice.Render("! ") + m.status
	}
	return m.styles.Info.Render(m.status)
}

func (m *Model) viewFooter() string {
	k := m.keys
	var b []key.Binding
	switch m.overlay {
	case ovNone:
		return m.footerKeepingHelpAndQuit(k.ShortHelp())
	case ovHelp:
		b = []key.Binding{k.Help, k.Cancel, k.Quit}
	case ovCost:
		b = []key.Binding{k.Cancel}
	case ovDoc:
		b = []key.Binding{k.Down, k.PageDown, k.Cancel}
	case ovQuiz:
		return m.help.ShortHelpView(m.quiz.ShortHelp())
	case ovPerform, ovCleanup:
		return m.help.ShortHelpView(m.dialogKeys())
	}
	return m.help.ShortHelpView(b)
}

// footerKeepingHelpAndQuit is the short help with `? help` and quit always
// at its end: when the width runs short the other keys give way (help
// truncates from the right, which would drop those two first).
func (m *Model) footerKeepingHelpAndQuit(bs []key.Binding) string {
	k := m.keys
	var main []key.Binding
	for _, b := range bs {
		if b.Help().Key != k.Help.Help().Key && b.Help().Key != k.Quit.Help().Key {
			main = append(main, b)
		}
	}
	h := m.help
	h.SetWidth(0)
	tail := h.ShortHelpView([]key.Binding{k.Help, k.Quit})
	sep := h.Styles.ShortSeparator.Inline(true).Render(h.ShortSeparator)
	room := m.width - lipgloss.Width(tail) - lipgloss.Width(sep)
	if room < 8 {
		return tail
	}
	h.SetWidth(room)
	head := h.ShortHelpView(main)
	if head == "" {
		return tail
	}
	return head + sep + tail
}

// hint is a footer entry for keys a panel handles itself.
func hint(keys, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(keys), key.WithHelp(keys, desc))
}

func (m *Model) dialogKeys() []key.Binding {
	k := m.keys
	closeB := hint("enter/esc", "close")
	cancelRun := hint("esc", "cancel safely")
	if m.overlay == ovPerform && m.perform != nil {
		switch m.perform.phase {
		case pfConfirm:
			if HasRoads(m.perform.stepID) && len(m.perform.missing) == 0 {
				return []key.Binding{hint("y/enter", "perform"), k.RoadLeast, k.RoadGuide, k.Deny}
			}
			return []key.Binding{hint("y/enter", "perform"), k.Deny}
		case pfRunning:
			return []key.Binding{cancelRun}
		case pfDone:
			return []key.Binding{closeB}
		}
		return []key.Binding{hint("esc", "back")}
	}
	if m.overlay == ovCleanup && m.cleanup != nil {
		switch m.cleanup.phase {
		case clConfirm:
			if m.opts.Target.IsAWS() {
				return []key.Binding{hint("enter", "delete (after typing the account id)"), hint("esc", "keep everything")}
			}
			return []key.Binding{hint("y/enter", "delete"), hint("n/esc", "keep everything")}
		case clRunning:
			return []key.Binding{cancelRun}
		case clDone:
			return []key.Binding{closeB}
		}
		return []key.Binding{hint("esc", "back")}
	}
	return nil
}

// ---- step list (two panes) and picker (one pane)

func (m *Model) statusIcon(i int) string {
	v := m.views[i]
	s := m.styles
	if v.running {
		if m.opts.Accessible {
			return s.Running.Render("RUN ")
		}
		return m.spin.View()
	}
	words := m.opts.Accessible
	pick := func(icon, word string, st lipgloss.Style) string {
		if words {
			return st.Render(word)
		}
		return st.Render(icon)
	}
	switch v.status {
	case "pass":
		return pick("✓", "PASS", s.Pass)
	case "warn":
		return pick("!", "WARN", s.Warn)
	case "fail":
		return pick("✗", "FAIL", s.Fail)
	case "error":
		return pick("?", "ERR ", s.Error)
	case "skip":
		return pick("-", "SKIP", s.Skip)
	}
	return pick("·", "TODO", s.NotChecked)
}

func (m *Model) viewStepList(l layout) string {
	s := m.styles
	title := s.PaneTitle
	if m.focus == focusSteps {
		title = s.PaneTitleFocused
	}
	lines := []string{title.Render("Steps")}
	for i, st := range steps.All {
		quiz := ""
		if q, ok := m.st.Quiz[st.ID]; ok && q.Total > 0 {
			quiz = fmt.Sprintf("q %d/%d", q.Correct, q.Total)
		}
		cursor, text := " ", s.Step
		if i == m.sel {
			cursor, text = "❯", s.StepSelectedBlurred
			if m.opts.Accessible {
				cursor = ">"
			}
			if m.focus == focusSteps {
				text = s.StepSelected
			}
		}
		quizW := ansi.StringWidth(quiz)
		icon := m.statusIcon(i)
		label := padRight(fmt.Sprintf(" %d %s", st.Number, st.ID), l.listW-3-ansi.StringWidth(icon)-quizW)
		row := text.Render(cursor+" ") + icon + text.Render(label) + s.Muted.Render(quiz)
		lines = append(lines, row)
	}
	st := m.step()
	lines = append(lines, "", s.Bold.Render(fmt.Sprintf("Step %d", st.Number)))
	lines = append(lines, wrapLines(st.Summary, l.listW-1, s.Muted)...)
	v := m.view()
	if !v.checkedAt.IsZero() {
		lines = append(lines, "", s.Muted.Render("checked "+m.when(v.checkedAt)))
		if v.earlier {
			lines = append(lines, s.Muted.Render("(from earlier; c re-checks)"))
		}
	}
	if q, ok := m.st.Quiz[st.ID]; ok && q.Total > 0 {
		lines = append(lines, s.Muted.Render(fmt.Sprintf("quiz best %d/%d", q.Correct, q.Total)))
	}
	return strings.Join(lines, "\n")
}

func (m *Model) viewPicker(w int) string {
	s := m.styles
	var parts []string
	for i := range steps.All {
		cell := fmt.Sprintf("%d%s", i+1, m.statusIcon(i))
		if i == m.sel {
			st := s.StepSelectedBlurred
			if m.focus == focusSteps {
				st = s.StepSelected
			}
			cell = st.Render(fmt.Sprintf("%d", i+1)) + m.statusIcon(i)
			cell = st.Render("[") + cell + st.Render("]")
		} else {
			cell = " " + cell + " "
		}
		parts = append(parts, cell)
	}
	return strings.Join(parts, "") + s.Muted.Render("  ←/→ steps")
}

// when formats a check time: the clock today, else the date too.
func (m *Model) when(t time.Time) string {
	lt, now := t.Local(), m.now().Local()
	if lt.Year() == now.Year() && lt.YearDay() == now.YearDay() {
		return lt.Format("15:04")
	}
	return lt.Format("2 Jan 15:04")
}

// ---- right pane: lesson, results, command bar

func (m *Model) viewRight(l layout) string {
	s := m.styles
	st := m.step()
	title := s.PaneTitle
	if m.focus == focusLesson {
		title = s.PaneTitleFocused
	}
	pct := ""
	if m.lesson.current != nil && m.lesson.vp.TotalLineCount() > m.lesson.vp.Height() {
		pct = s.Muted.Render(fmt.Sprintf("%3.0f%%", m.lesson.vp.ScrollPercent()*100))
	}
	head := spread(title.Render(fmt.Sprintf("Step %d/%d · %s", st.Number, len(steps.All), st.Title)), pct, l.lessonW)
	vp := m.lesson.vp
	vp.SetWidth(l.lessonW)
	vp.SetHeight(l.lessonH)
	if l.sideW > 0 {
		left := strings.Join([]string{head, vp.View(), m.viewCommandBar(l.lessonW)}, "\n")
		lines, selLine := m.resultLines(l.sideW)
		side := strings.Join(window(lines, selLine, l.bodyH), "\n")
		sep := strings.TrimRight(strings.Repeat(m.styles.Separator.Render(" │ ")+"\n", l.bodyH), "\n")
		return lipgloss.JoinHorizontal(lipgloss.Top, fit(left, l.lessonW, l.bodyH), sep, fit(side, l.sideW, l.bodyH))
	}
	parts := []string{head, vp.View()}
	if l.resultsH > 0 {
		lines, selLine := m.resultLines(l.rightW)
		parts = append(parts, strings.Join(window(lines, selLine, l.resultsH), "\n"))
	}
	parts = append(parts, m.viewCommandBar(l.rightW))
	return strings.Join(parts, "\n")
}

func (m *Model) viewCommandBar(w int) string {
	s := m.styles
	cmds := m.commands()
	if len(cmds) == 0 {
		return s.Muted.Render("commands: rendering…")
	}
	i := m.cmdSel[m.step().ID]
	if i >= len(cmds) {
		i = 0
	}
	t := cmds[i].Title
	if t == "" {
		t = strings.SplitN(cmds[i].Text, "\n", 2)[0]
	}
	return s.CommandLabel.Render(fmt.Sprintf("cmd %d/%d", i+1, len(cmds))) + s.Muted.Render(" y copy, [ ] cycle · ") + s.CommandTitle.Render(t)
}

// resultLines draws the checks box under the lesson; selLine is the line of
// the selected result, to keep it in view.
func (m *Model) resultLines(w int) (lines []string, selLine int) {
	s := m.styles
	v := m.view()
	rs := m.shownResults()
	switch {
	case v.running:
		what := "checking"
		if v.runKind == "probe" {
			what = "probing the chain"
		}
		lines = append(lines, m.spinner()+" "+s.Running.Render(fmt.Sprintf("%s step %d… esc cancels", what, m.sel+1)))
	case len(rs) == 0 && v.err == "":
		if v.status == "" && v.checkedAt.IsZero() {
			return []string{s.Muted.Render("Not checked yet. c checks this step, p performs it, q quizzes you on it.")}, 0
		}
		lines = append(lines, s.Muted.Render("Checked "+m.when(v.checkedAt)+": no checks ran."))
	default:
		head := "Checks"
		if len(rs) > 0 {
			head += " · " + countStatuses(rs)
		}
		if !v.checkedAt.IsZero() {
			head += " · " + m.when(v.checkedAt)
			if v.earlier {
				head += " (from earlier; c re-checks)"
			}
		}
		if m.focus != focusResults && len(rs) > 0 {
			head += " · tab: details"
		}
		lines = append(lines, s.Bold.Render(head))
		if v.err != "" {
			lines = append(lines, wrapLines("last run failed: "+safetext.Line(v.err), w, s.Problem)...)
		}
	}
	selLine = len(lines)
	for i, r := range rs {
		icon := m.resultIcon(r.Status)
		// The check's title says what is expected, the summary what was
		// found; a result without a known title shows its id.
		title := checkTitle(r.CheckID)
		// Summaries, evidence and hints quote what students stored: they
		// reach the terminal only through the sanitiser.
		summary := safetext.Line(safetext.Truncate(r.Summary, safetext.MaxItem))
		row := icon + " " + title + s.Muted.Render(" · ") + summary
		if title == "" {
			row = icon + " " + summary + s.Muted.Render("  "+r.CheckID)
		}
		if i == m.resultSel && m.focus == focusResults {
			selLine = len(lines)
			if title != "" {
				lines = append(lines, s.ResultSelected.Render(ansi.Strip(truncate(icon+" "+title, w))))
				lines = append(lines, hanging("  found: ", summary, w, s.Info)...)
			} else {
				lines = append(lines, s.ResultSelected.Render(ansi.Strip(truncate(row, w))))
			}
			for _, e := range r.Evidence {
				lines = append(lines, hanging("  saw: ", safetext.Evidence(e), w, s.Evidence)...)
			}
			if r.Hint != "" {
				lines = append(lines, hanging("  fix: ", m.tutorHint(safetext.Text(r.Hint)), w, s.Hint)...)
			}
			if id := hintTrouble(r.Hint); id != "" {
				lines = append(lines, s.Link.Render("  f: troubleshooting › "+id))
			}
			continue
		}
		lines = append(lines, truncate(row, w))
	}
	return lines, selLine
}

// checkTitle is the title of a registered check, "" for an unknown id.
func checkTitle(id string) string {
	titlesOnce.Do(func() {
		titles = map[string]string{}
		for _, st := range steps.All {
			for _, c := range st.Checks {
				titles[c.ID] = c.Title
			}
		}
	})
	return titles[id]
}

var (
	titlesOnce sync.Once
	titles     map[string]string
)

func (m *Model) resultIcon(st checks.Status) string {
	s := m.styles
	if m.opts.Accessible {
		switch st {
		case checks.Pass:
			return s.Pass.Render("PASS")
		case checks.Warn:
			return s.Warn.Render("WARN")
		case checks.Fail:
			return s.Fail.Render("FAIL")
		case checks.Error:
			return s.Error.Render("ERR ")
		}
		return s.Skip.Render("SKIP")
	}
	switch st {
	case checks.Pass:
		return s.Pass.Render("✓")
	case checks.Warn:
		return s.Warn.Render("!")
	case checks.Fail:
		return s.Fail.Render("✗")
	case checks.Error:
		return s.Error.Render("?")
	}
	return s.Skip.Render("-")
}

// ---- layout helpers

// fit crops or pads s to exactly w columns and h lines, so panes never
// push each other around.
func fit(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = padRight(truncate(l, w), w)
	}
	return strings.Join(lines, "\n")
}

func truncate(s string, w int) string {
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

func padRight(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// spread puts left and right on one line of width w.
func spread(left, right string, w int) string {
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 1 {
		return truncate(left, w)
	}
	return left + strings.Repeat(" ", gap) + right
}

func wrapLines(s string, w int, st lipgloss.Style) []string {
	if w < 10 {
		w = 10
	}
	var out []string
	for _, l := range strings.Split(ansi.Wrap(s, w, ""), "\n") {
		out = append(out, st.Render(l))
	}
	return out
}

// hanging wraps text after a prefix, indenting the continuation lines under
// the text.
func hanging(prefix, text string, w int, st lipgloss.Style) []string {
	ind := ansi.StringWidth(prefix)
	lines := strings.Split(ansi.Wrap(text, max(w-ind, 10), ""), "\n")
	out := make([]string, len(lines))
	for i, l := range lines {
		p := strings.Repeat(" ", ind)
		if i == 0 {
			p = prefix
		}
		out[i] = st.Render(p + l)
	}
	return out
}

// window shows h lines of lines, keeping line sel in view.
func window(lines []string, sel, h int) []string {
	if len(lines) <= h {
		return lines
	}
	start := 0
	if sel >= h {
		start = min(sel-1, len(lines)-h)
	}
	return lines[start : start+h]
}

// labExists says whether anything of the lab is known to exist: a resource
// a perform recorded, or a check that saw one (a lab built by hand).
func (m *Model) labExists() bool {
	if len(m.st.Resources) > 0 {
		return true
	}
	for _, v := range m.views {
		for _, r := range v.results {
			if r.Status == checks.Pass {
				return true
			}
		}
	}
	return false
}

var (
	hintShow = regexp.MustCompile("(?:the commands of )?`slab show ([a-z0-9-]+)`")
	hintDo   = regexp.MustCompile("`slab do ([a-z0-9-]+)(?: --least-privilege)?`")
	hintSee  = regexp.MustCompile("see `slab show troubleshooting` → ([a-z0-9-]+)")
)

// tutorHint words a check's hint for the learner in the tutor: the hints
// are written for the command line ("run the commands of `slab show
// iam-role` (or `slab do iam-role`)"), but here the lesson is on screen and
// p performs the step.
func (m *Model) tutorHint(h string) string {
	h = hintSee.ReplaceAllString(h, "see troubleshooting › $1 (f opens it)")
	h = hintDo.ReplaceAllStringFunc(h, func(s string) string {
		st := steps.ByID(hintDo.FindStringSubmatch(s)[1])
		if st == nil {
			return s
		}
		return fmt.Sprintf("p on step %d", st.Number)
	})
	return hintShow.ReplaceAllStringFunc(h, func(s string) string {
		id := hintShow.FindStringSubmatch(s)[1]
		st := steps.ByID(id)
		switch {
		case st == nil:
			return s
		case st.Number-1 == m.sel:
			return "the commands of this lesson"
		default:
			return fmt.Sprintf("the commands of step %d's lesson (%d shows it)", st.Number, st.Number)
		}
	})
}
