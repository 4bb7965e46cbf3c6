package tui

import (
	"fmt"
	"github.com/slab-lab/slab/internal/safetext"
	"regexp"
	"strings"
	"time"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/content"
	"github.com/slab-lab/slab/steps"
)

// The overview and finish screens open and close the lab. Both are
// markdown built from the tutor's state on the update loop (no I/O) and
// rendered in a command, shown in the document panel.

// chainDiagram is the lab's architecture, the chain the eight steps build.
const chainDiagram = `S3 bucket (versioned) --*.json--> s3-to-dynamodb-processor --PutItem--> DynamoDB table
EventBridge rate(5 minutes) --> event-to-sns-processor --Scan + Publish--> SNS topic
SNS topic --(subscription, queue policy)--> SQS queue (+ DLQ) --(batch 10)--> sqs-processor --PutItem summary-*--> DynamoDB table
all three functions run as the IAM role and log to /aws/lambda/<name>`

var troubleID = regexp.MustCompile(`^<!--\s*id:\s*([a-z0-9][a-z0-9-]*)\s*-->$`)

// troubleIndex lists the troubleshooting sections (title and id) under
// their groups, from the lesson itself.
func troubleIndex() (string, error) {
	src, err := content.Lesson(content.TroubleshootingLesson)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	lines := strings.Split(src, "\n")
	for i, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "## "):
			fmt.Fprintf(&b, "\n**%s**\n\n", strings.TrimPrefix(t, "## "))
		case troubleID.MatchString(t) && i+1 < len(lines):
			title := strings.TrimPrefix(strings.TrimSpace(lines[i+1]), "### ")
			fmt.Fprintf(&b, "- %s (%s)\n", title, troubleID.FindStringSubmatch(t)[1])
		}
	}
	return b.String(), nil
}

// withoutTitle drops a lesson's first "# " heading.
func withoutTitle(md string) string {
	if first, rest, ok := strings.Cut(md, "\n"); ok && strings.HasPrefix(first, "# ") {
		return strings.TrimLeft(rest, "\n")
	}
	return md
}

// shiftHeadings makes a lesson's headings one level deeper, to sit under
// a section of the screen.
func shiftHeadings(md string) string {
	lines := strings.Split(md, "\n")
	inCode := false
	for i, l := range lines {
		if strings.HasPrefix(l, "```") {
			inCode = !inCode
		}
		if !inCode && strings.HasPrefix(l, "#") {
			lines[i] = "#" + l
		}
	}
	return strings.Join(lines, "\n")
}

func (m *Model) progressMarkdown() string {
	var b strings.Builder
	for i, s := range steps.All {
		v := m.views[i]
		mark := "·"
		word := "not checked yet"
		switch v.status {
		case "pass":
			mark, word = "✓", "verified"
		case "warn":
			mark, word = "✓", "verified, with warnings"
		case "fail":
			mark, word = "✗", "failing"
		case "error":
			mark, word = "?", "could not tell"
		case "skip":
			mark, word = "·", "waiting for an earlier step"
		}
		fmt.Fprintf(&b, "- %s %d %s: %s (%s)\n", mark, s.Number, s.ID, s.Title, word)
	}
	return b.String()
}

// overviewMarkdown is the lab at a glance: the chain, the target, where the
// learner is, the exam tips and the troubleshooting index.
func (m *Model) overviewMarkdown() func() (string, error) {
	target, progress := m.opts.Target.Describe, m.progressMarkdown()
	verified, _, _, _, _ := m.progress()
	rc := m.opts.Render
	return func() (string, error) {
		tips, err := steps.RenderLesson("exam-tips", rc)
		if err != nil {
			return "", err
		}
		index, err := troubleIndex()
		if err != nil {
			return "", err
		}
		var b strings.Builder
		b.WriteString("# The lab at a glance\n\n")
		fmt.Fprintf(&b, "**Target:** %s\n\n", target)
		b.WriteString("## The chain you build\n\n```text\n" + chainDiagram + "\n```\n\n")
		fmt.Fprintf(&b, "## Your progress: %d/%d steps verified\n\n%s\n", verified, len(steps.All), progress)
		b.WriteString("Each step: read the lesson, run its commands in another terminal (y copies one), then c checks it. p does a step for you; q quizzes you on it.\n\n")
		b.WriteString("## Quiz on the whole chain\n\nq here starts 12 questions across the six DOP-C02 domains; q on a step quizzes that step.\n\n")
		b.WriteString("## Troubleshooting index\n\nf on a failing check opens its section.\n" + index + "\n")
		b.WriteString("## Exam tips (DOP-C02)\n\n" + shiftHeadings(withoutTitle(tips)) + "\n")
		return b.String(), nil
	}
}

// finishMarkdown is the lab's last screen: the chain's evidence (the
// end-to-end rows), the score, the time taken, and what is left to clean
// up with its cost if left running.
func (m *Model) finishMarkdown() func() (string, error) {
	var b strings.Builder
	b.WriteString("# The chain works: all 8 steps verified\n\n")
	_, score, maxScore, qr, qt := m.progress()
	fmt.Fprintf(&b, "**Score:** %d/%d on the checks", score, maxScore)
	if qt > 0 {
		fmt.Fprintf(&b, " · quiz %d/%d", qr, qt)
	}
	b.WriteString("\n\n")
	if took, ok := m.timeTaken(); ok {
		fmt.Fprintf(&b, "**Time taken:** %s, from the first check to the last step verified.\n\n", roundDuration(took))
	}
	b.WriteString("## The evidence\n\n")
	end := m.views[len(steps.All)-1]
	for _, r := range end.results {
		if r.Status == checks.Pass || r.Status == checks.Warn {
			// Summaries and evidence quote rows a student wrote: escaped
			// for Markdown and the terminal before glamour sees them.
			fmt.Fprintf(&b, "- %s\n", safetext.Markdown(r.Summary))
			for _, e := range r.Evidence {
				fmt.Fprintf(&b, "  - `%s`\n", strings.ReplaceAll(safetext.Line(safetext.Truncate(e, safetext.MaxItem)), "`", "'"))
			}
		}
	}
	b.WriteString("\n## Every step\n\n" + m.progressMarkdown() + "\n")
	b.WriteString("## Clean up\n\n")
	if m.cost != nil {
		fmt.Fprintf(&b, "Left running, the lab costs about %s a day, %s a month on real AWS (list prices as of %s): the schedule runs 288 times a day and the bucket, table and logs keep what they store.\n\n",
			dollars(m.cost.Total.PerDay), dollars(m.cost.Total.PerMonth), m.cost.PricesAsOf)
	}
	b.WriteString("esc, then x, deletes every resource of the lab, in dependency order, and verifies nothing is left (`slab cleanup` does the same from the command line).\n")
	md := b.String()
	return func() (string, error) { return md, nil }
}

// timeTaken is from the first check recorded to the last step verified.
func (m *Model) timeTaken() (time.Duration, bool) {
	var first, last time.Time
	for _, rec := range m.st.Steps {
		if rec.CheckedAt.IsZero() {
			continue
		}
		if first.IsZero() || rec.CheckedAt.Before(first) {
			first = rec.CheckedAt
		}
		if rec.CheckedAt.After(last) {
			last = rec.CheckedAt
		}
	}
	if !m.st.StartedAt.IsZero() && (first.IsZero() || m.st.StartedAt.Before(first)) {
		first = m.st.StartedAt
	}
	if first.IsZero() || !last.After(first) {
		return 0, false
	}
	return last.Sub(first), true
}

func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return d.Round(time.Second).String()
	}
}

// openScreen shows markdown built by build in the document panel.
func (m *Model) openScreen(title, name string, build func() (string, error)) tea.Cmd {
	l := m.layout()
	vp := viewport.New()
	vp.KeyMap = viewport.KeyMap{}
	vp.SetWidth(l.width)
	vp.SetHeight(max(l.bodyH-2, 1))
	vp.SetContent("Rendering…")
	m.screenSeq++
	k := lessonKey{Name: fmt.Sprintf("%s:%d", name, m.screenSeq), Width: min(l.width, proseMax), Style: m.style()}
	m.doc, m.overlay = &docState{title: title, key: k, vp: vp, loading: true}, ovDoc
	return func() tea.Msg {
		var text string
		err := guard(func() error {
			md, err := build()
			if err != nil {
				return err
			}
			text, err = renderMarkdown(md, k.Width, k.Style)
			return err
		})
		return docRenderedMsg{Key: k, Text: text, Err: err}
	}
}

func (m *Model) openOverview() tea.Cmd {
	return m.openScreen("Overview · esc returns to the steps", "overview", m.overviewMarkdown())
}

// freshLab is a lab the learner has not started: nothing checked, no step
// chosen, nothing built.
func freshLab(m *Model) bool {
	return len(m.st.Steps) == 0 && m.st.Current == "" && len(m.st.Resources) == 0
}

// allVerified reports whether every step passed (with or without warnings).
func (m *Model) allVerified() bool {
	verified, _, _, _, _ := m.progress()
	return verified == len(steps.All)
}

// maybeFinish opens the finish screen the moment the last step verifies.
func (m *Model) maybeFinish(wasAll bool) tea.Cmd {
	if wasAll || !m.allVerified() || m.overlay != ovNone {
		return nil
	}
	return m.openScreen("Finished · esc returns to the steps", "finish", m.finishMarkdown())
}
