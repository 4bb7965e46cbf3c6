package tui

import (
	"fmt"
	"github.com/slab-lab/slab/internal/safetext"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/slab-lab/slab/steps"
)

// viewOverlay draws the open panel in the body's place.
func (m *Model) viewOverlay(l layout) string {
	var title string
	var lines []string
	w := l.width - 2
	switch m.overlay {
	case ovHelp:
		lines := m.helpLines(w)
		h := max(l.bodyH-1, 1)
		off := min(m.helpOff, max(len(lines)-h, 0))
		end := min(off+h, len(lines))
		title := "Keys"
		if len(lines) > h {
			title += m.styles.Muted.Render(fmt.Sprintf("  (%d-%d of %d lines, ↑/↓ scroll)", off+1, end, len(lines)))
		}
		return fit(m.styles.DialogTitle.Render("Keys")+strings.TrimPrefix(title, "Keys")+"\n"+strings.Join(lines[off:end], "\n"), l.width, l.bodyH)
	case ovPerform:
		title, lines = m.performLines(w)
	case ovCleanup:
		title, lines = m.cleanupLines(w)
	case ovCost:
		title, lines = "Cost", m.costLines(w)
	case ovQuiz:
		title, lines = m.quiz.View(m.styles, w)
	case ovDoc:
		d := m.doc
		head := m.styles.DialogTitle.Render(d.title)
		body := d.vp.View()
		if d.err != "" {
			body = strings.Join(wrapLines("Could not show it: "+d.err, w, m.styles.Problem), "\n")
		}
		return fit(head+"\n"+body, l.width, l.bodyH)
	}
	out := []string{m.styles.DialogTitle.Render(title), ""}
	for _, ln := range lines {
		out = append(out, " "+ln)
	}
	// Long lists (a big cleanup plan) keep their end in view: that is where
	// progress and the question are.
	if len(out) > l.bodyH {
		out = append(out[:1], out[len(out)-l.bodyH+1:]...)
	}
	return fit(strings.Join(out, "\n"), l.width, l.bodyH)
}

func (m *Model) helpLines(w int) []string {
	s := m.styles
	var blocks []string
	for _, g := range m.keys.HelpGroups() {
		kw := 0
		for _, b := range g.Keys {
			kw = max(kw, ansi.StringWidth(b.Help().Key))
		}
		rows := []string{s.Bold.Render(g.Title)}
		for _, b := range g.Keys {
			rows = append(rows, s.Key.Render(padRight(b.Help().Key, kw))+"  "+s.Info.Render(b.Help().Desc))
		}
		blocks = append(blocks, strings.Join(rows, "\n"))
	}
	// Lay the groups out in as many columns as fit.
	var lines []string
	for len(blocks) > 0 {
		row, width := []string{blocks[0]}, lipgloss.Width(blocks[0])
		blocks = blocks[1:]
		for len(blocks) > 0 && width+4+lipgloss.Width(blocks[0]) <= w {
			width += 4 + lipgloss.Width(blocks[0])
			row = append(row, "    ", blocks[0])
			blocks = blocks[1:]
		}
		lines = append(lines, strings.Split(lipgloss.JoinHorizontal(lipgloss.Top, row...), "\n")...)
		lines = append(lines, "")
	}
	notes := []string{
		s.Bold.Render("Quitting") + ": ctrl+c, ctrl+q or Q (capital). q is the quiz; esc never quits, it cancels work in flight or closes a panel.",
		s.Bold.Render("Focus") + ": tab moves between the step list, the lesson and the checks; ↑/↓ act on the focused one. pgdn/space, pgup/b, g/G scroll the lesson from anywhere.",
		s.Bold.Render("Copying") + ": [ and ] pick a command block of the lesson (the view jumps to it); y copies it with wl-copy, xclip or pbcopy, or saves it to a file it names, and sends OSC 52 too.",
		s.Bold.Render("Progress") + " is saved as you go; reopening slab resumes on the same step with the last results.",
	}
	if m.opts.SandboxExport != "" {
		notes = append(notes, s.Bold.Render("Sandbox")+": every command carries --endpoint-url; the first block of every lesson is the export line (credentials, region; its AWS_ENDPOINT_URL needs AWS CLI 2.13+).")
	}
	for _, n := range notes {
		lines = append(lines, wrapLines(n, w, s.Info)...)
	}
	return lines
}

func (m *Model) progressLines(ps []ResourceProgress, w int) []string {
	s := m.styles
	var out []string
	for _, p := range ps {
		var icon string
		switch p.State {
		case Started:
			icon = m.spinner()
		case Done:
			icon = s.Pass.Render("✓")
		case Failed:
			icon = s.Fail.Render("✗")
		default:
			icon = s.Skip.Render("-")
		}
		line := icon + " " + safetext.Line(p.Resource)
		if p.Action != "" {
			line += s.Muted.Render(" · " + safetext.Line(p.Action))
		}
		if p.Detail != "" {
			line += s.Muted.Render(" · " + safetext.Line(p.Detail))
		}
		out = append(out, truncate(line, w))
	}
	return out
}

// joinNumbers is "2, 3" for step ids.
func joinNumbers(ids []string) string {
	var out []string
	for _, id := range ids {
		out = append(out, fmt.Sprint(steps.ByID(id).Number))
	}
	return strings.Join(out, ", ")
}

func (m *Model) performLines(w int) (string, []string) {
	s, p := m.styles, m.perform
	st := steps.ByID(p.stepID)
	title := fmt.Sprintf("Perform step %d: %s", st.Number, st.Title)
	var lines []string
	switch p.phase {
	case pfPlanning:
		lines = append(lines, m.spinner()+" working out what this step would create or change…")
	case pfConfirm:
		if len(p.missing) > 0 {
			var names []string
			for _, id := range p.missing {
				names = append(names, fmt.Sprintf("%d (%s)", steps.ByID(id).Number, id))
			}
			lines = append(lines, wrapLines(fmt.Sprintf("Step %d needs step %s first: %s not exist yet.", st.Number, strings.Join(names, ", "), map[bool]string{true: "it does", false: "they do"}[len(names) == 1]), w, s.Notice)...)
			lines = append(lines, "")
			for _, it := range p.plan {
				lines = append(lines, wrapLines("• "+safetext.Line(it), w, s.Info)...)
			}
			lines = append(lines, "", s.Bold.Render(fmt.Sprintf("Perform step %s first, then step %d?", joinNumbers(p.missing), st.Number))+" "+s.Key.Render("y")+" yes  "+s.Key.Render("n")+" no")
			break
		}
		if HasRoads(p.stepID) {
			least, guide := "  ", "  "
			if p.choice.LeastPrivilege {
				least = s.Pass.Render("❯ ")
			} else {
				guide = s.Pass.Render("❯ ")
			}
			road := func(mark, k, text string) []string {
				out := wrapLines(text, w-4, s.Info)
				for i := range out {
					if i == 0 {
						out[i] = mark + s.Key.Render(k) + " " + out[i]
					} else {
						out[i] = "    " + out[i]
					}
				}
				return out
			}
			lines = append(lines, "The lesson teaches two roads for the role's permissions:")
			lines = append(lines, road(least, "l", "least privilege: an inline policy scoped to the lab's table, bucket, topic and queue (what the exam expects)")...)
			lines = append(lines, road(guide, "m", "the guide's road: attach the AWS managed FullAccess policies for S3, DynamoDB, SNS and SQS")...)
			lines = append(lines, "")
		}
		lines = append(lines, "slab will do this step for you through the AWS SDK, against "+s.Bold.Render(m.opts.Target.Describe)+":", "")
		switch {
		case p.planErr != "":
			lines = append(lines, wrapLines("Could not list the changes beforehand: "+safetext.Text(p.planErr), w, s.Problem)...)
			lines = append(lines, "It creates what is missing and fixes what differs; it is safe to repeat.")
		case len(p.plan) == 0:
			lines = append(lines, "It creates what is missing and fixes what differs; it is safe to repeat.")
		default:
			for _, it := range p.plan {
				lines = append(lines, wrapLines("• "+safetext.Line(it), w, s.Info)...)
			}
		}
		if m.opts.Target.IsAWS() {
			lines = append(lines, "")
			lines = append(lines, s.Danger.Render("This is real AWS: these resources cost money until you clean up (x)."))
			if m.cost != nil {
				for _, c := range m.cost.Lines {
					if c.Step == p.stepID {
						lines = append(lines, fmt.Sprintf("  %s: %s once, %s/day, %s/month", c.Item, dollars(c.Once), dollars(c.PerDay), dollars(c.PerMonth)))
					}
				}
				lines = append(lines, fmt.Sprintf("  whole lab left running: %s/day, %s/month (prices as of %s)", dollars(m.cost.Total.PerDay), dollars(m.cost.Total.PerMonth), m.cost.PricesAsOf))
			}
		}
		lines = append(lines, "", s.Bold.Render("Perform it now?")+" "+s.Key.Render("y")+" yes  "+s.Key.Render("n")+" no")
	case pfRunning, pfDone:
		// Once the step succeeded its outcome (below) names every resource
		// with the final word; the progress lines would repeat them.
		if p.phase == pfRunning || p.err != nil || len(p.outcome.Resources) == 0 {
			lines = append(lines, m.progressLines(p.progress, w)...)
		}
		if p.phase == pfRunning {
			if p.cancelling {
				lines = append(lines, "", s.Notice.Render("cancelling… the call in flight finishes or stops; perform is safe to run again"))
			} else if len(p.progress) == 0 {
				lines = append(lines, m.spinner()+" starting…")
			}
			break
		}
		lines = append(lines, "")
		switch {
		case p.err != nil && strings.Contains(p.err.Error(), "context canceled"):
			lines = append(lines, s.Notice.Render("Cancelled. What was done is listed above; p runs the step again and finishes it."))
		case p.err != nil:
			lines = append(lines, wrapLines("Failed: "+safetext.Text(p.err.Error()), w, s.Problem)...)
		default:
			for _, r := range p.outcome.Resources {
				line := s.Pass.Render("✓") + " " + safetext.Line(r.Resource) + s.Muted.Render(" · "+safetext.Line(r.Action))
				if r.Detail != "" {
					line += s.Muted.Render(" · " + safetext.Line(r.Detail))
				}
				lines = append(lines, truncate(line, w))
			}
			if len(p.done) > 0 {
				lines = append(lines, "", fmt.Sprintf("Performed first: step %s (their checks run too).", joinNumbers(p.done)))
			}
			lines = append(lines, "", s.Pass.Render("Done."))
		}
		if m.hooks.RunChecks != nil {
			lines = append(lines, "The step's checks run now; their results appear under the lesson.")
		}
	}
	return title, lines
}

func (m *Model) cleanupLines(w int) (string, []string) {
	s, c := m.styles, m.cleanup
	title := "Clean up the lab"
	var lines []string
	switch c.phase {
	case clPlanning:
		lines = append(lines, m.spinner()+" finding the lab's resources in "+m.opts.Target.Describe+"…")
	case clConfirm:
		lines = append(lines, fmt.Sprintf("These %d resources will be deleted from %s, in this order:", c.plan.Count(), s.Bold.Render(m.opts.Target.Describe)), "")
		for _, g := range c.plan.Groups {
			lines = append(lines, s.Bold.Render(g.Title))
			for i, it := range g.Items {
				branch := "├─ "
				if i == len(g.Items)-1 {
					branch = "└─ "
				}
				line := branch + safetext.Line(it.Resource)
				if it.Detail != "" {
					line += s.Muted.Render(" · " + safetext.Line(it.Detail))
				}
				lines = append(lines, truncate(line, w))
			}
		}
		for _, n := range c.plan.Notes {
			lines = append(lines, wrapLines(safetext.Text(n), w, s.Muted)...)
		}
		lines = append(lines, "")
		if m.opts.Target.IsAWS() {
			lines = append(lines, s.Danger.Render("This deletes real resources in AWS account "+m.opts.Target.Account+"."))
			lines = append(lines, "Type the account id to confirm, then enter (esc keeps everything):")
			lines = append(lines, "> "+s.Input.Render(c.typed+"_"))
			if c.mismatch {
				lines = append(lines, s.Problem.Render("That is not the account id "+m.opts.Target.Account+"."))
			}
		} else {
			lines = append(lines, s.Bold.Render("Delete them now?")+" "+s.Key.Render("y")+" yes  "+s.Key.Render("n")+" no")
		}
	case clRunning, clDone:
		lines = append(lines, m.progressLines(c.progress, w)...)
		if c.phase == clRunning {
			if c.cancelling {
				lines = append(lines, "", s.Notice.Render("cancelling after the deletion in flight…"))
			} else if len(c.progress) == 0 {
				lines = append(lines, m.spinner()+" starting…")
			}
			break
		}
		lines = append(lines, "")
		switch {
		case c.err != nil && strings.Contains(c.err.Error(), "context canceled"):
			lines = append(lines, s.Notice.Render("Cancelled. x runs the cleanup again; it is safe to repeat."))
		case c.err != nil:
			lines = append(lines, wrapLines("Cleanup failed: "+safetext.Text(c.err.Error()), w, s.Problem)...)
		case c.plan.Count() == 0 && len(c.progress) == 0:
			lines = append(lines, s.Pass.Render("Nothing of the lab was found: there is nothing to clean up."))
		case c.report.Verified:
			lines = append(lines, s.Pass.Render(fmt.Sprintf("Verified: %d deleted, nothing of the lab is left.", len(c.report.Deleted))))
		default:
			lines = append(lines, s.Problem.Render(fmt.Sprintf("%d deleted, but these are still there:", len(c.report.Deleted))))
			for _, lo := range c.report.Leftovers {
				lines = append(lines, "• "+safetext.Line(lo.Resource)+s.Muted.Render(" · "+safetext.Line(lo.Reason)))
				if lo.Command != "" {
					lines = append(lines, wrapLines("    "+safetext.Line(lo.Command), w, s.CommandTitle)...)
				}
			}
		}
	}
	return title, lines
}

func (m *Model) costLines(w int) []string {
	s := m.styles
	var lines []string
	if m.costJob != 0 {
		lines = append(lines, m.spinner()+" estimating…")
	}
	if m.costErr != "" {
		lines = append(lines, wrapLines("Could not estimate: "+m.costErr, w, s.Problem)...)
	}
	c := m.cost
	if c == nil {
		return lines
	}
	itemW := max(w-40, 16)
	row := func(item, once, day, month string) string {
		return padRight(truncate(item, itemW), itemW) + fmt.Sprintf("%10s %10s %12s", once, day, month)
	}
	lines = append(lines, s.Bold.Render(row("resource", "once", "per day", "per month")))
	for _, l := range c.Lines {
		lines = append(lines, row(l.Item, dollars(l.Once), dollars(l.PerDay), dollars(l.PerMonth)))
	}
	lines = append(lines, s.Bold.Render(row("total if left running", dollars(c.Total.Once), dollars(c.Total.PerDay), dollars(c.Total.PerMonth))))
	if c.PricesAsOf != "" {
		lines = append(lines, "", s.Muted.Render("list prices as of "+c.PricesAsOf+"; always-free allowances only"))
	}
	for _, n := range c.Notes {
		lines = append(lines, wrapLines(safetext.Text(n), w, s.Muted)...)
	}
	return lines
}

// View draws the quiz for a width; the root frames it like every panel.
func (q *quizModel) View(s Styles, w int) (string, []string) {
	st := steps.ByID(q.stepID)
	title := "Quiz: the whole chain, 12 questions across the DOP-C02 domains"
	lessonRef := "the exam tips (o, the overview)"
	if st != nil {
		title = fmt.Sprintf("Quiz: step %d, %s", st.Number, st.Title)
		lessonRef = fmt.Sprintf("step %d", st.Number)
	}
	var lines []string
	if q.done {
		lines = append(lines, s.Bold.Render(fmt.Sprintf("You got %d of %d right.", q.correct, len(q.qs))))
		if q.improved {
			lines = append(lines, "Saved as your best for this step.")
		} else {
			lines = append(lines, fmt.Sprintf("Your best stays %d of %d.", q.best.Correct, q.best.Total))
		}
		if len(q.missed) > 0 {
			lines = append(lines, "", fmt.Sprintf("Missed: %d; the next quiz on this step asks them first.", len(q.missed)))
		}
		lines = append(lines, "", s.Muted.Render("enter closes; q on any step starts its quiz"))
		return title, lines
	}
	cur := q.qs[q.idx]
	lines = append(lines, s.Muted.Render(fmt.Sprintf("Question %d of %d · DOP-C02 %s · %d right so far", q.idx+1, len(q.qs), cur.DomainLabel(), q.correct)), "")
	if q.idx < q.missedFirst {
		lines = append(lines, s.Notice.Render("You missed this one last time."), "")
	}
	lines = append(lines, wrapLines(cur.Prompt, w, s.Bold)...)
	lines = append(lines, "")
	for i, c := range cur.Choices {
		label := fmt.Sprintf("%c) ", 'a'+i)
		style := s.Choice
		mark := "  "
		switch {
		case q.answered && i == cur.Answer:
			style, mark = s.Correct, "✓ "
		case q.answered && i == q.picked:
			style, mark = s.Incorrect, "✗ "
		case !q.answered && i == q.choice:
			style, mark = s.ChoiceSelected, "❯ "
		}
		for j, l := range wrapLines(label+c, w-4, style) {
			if j == 0 {
				lines = append(lines, mark+l)
			} else {
				lines = append(lines, "     "+l)
			}
		}
	}
	if q.answered {
		lines = append(lines, "")
		if q.picked == cur.Answer {
			lines = append(lines, s.Correct.Render("Right."))
		} else {
			lines = append(lines, s.Incorrect.Render(fmt.Sprintf("Not quite: the answer is %c.", 'a'+cur.Answer)))
		}
		lines = append(lines, wrapLines(cur.Explain, w, s.Info)...)
		lines = append(lines, s.Link.Render(fmt.Sprintf("lesson: %s › %s (esc, then read it)", lessonRef, cur.Section)))
		lines = append(lines, "", s.Muted.Render("enter: next"))
	}
	return title, lines
}
