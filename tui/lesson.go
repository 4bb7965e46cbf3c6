package tui

import (
	"fmt"
	"regexp"
	"strings"

	"charm.land/bubbles/v2/viewport"
	"charm.land/glamour/v2"
	gansi "charm.land/glamour/v2/ansi"
	gstyles "charm.land/glamour/v2/styles"
	"github.com/charmbracelet/x/ansi"

	"github.com/slab-lab/slab/awscli"
	"github.com/slab-lab/slab/content"
	"github.com/slab-lab/slab/steps"
)

// lessonKey identifies one rendering of a document: glamour output depends on
// the width and the style, so a resize or a light background renders anew.
type lessonKey struct {
	Name  string // step id, or "trouble:<ids>"
	Width int
	Style string
	// Note is the export line's note (awscli.ExportNote): it changes once
	// the learner's aws --version is known.
	Note string
}

// renderedLesson is a lesson ready for the viewport.
type renderedLesson struct {
	Key      lessonKey
	Text     string          // styled, wrapped to Key.Width
	Commands []steps.Command // copyable blocks, in order
	CmdLines []int           // the line where each command starts in Text (-1: not found)
	Trouble  []string        // troubleshooting ids the lesson links to
	Changed  int             // the line of "Changed since the original guide" (-1: none)
}

// glamourStyle picks the glamour style for a background and colour support.
func glamourStyle(isDark, colour bool) string {
	switch {
	case !colour:
		return plainStyle
	case isDark:
		return "dark"
	default:
		return "light"
	}
}

// plainStyle is glamour's ASCII style with bold and italic instead of
// markdown's ** and * markers: NO_COLOR forbids colour, not emphasis.
const plainStyle = "plain"

func plainStyleConfig() gansi.StyleConfig {
	c := gstyles.ASCIIStyleConfig
	yes := true
	c.Strong = gansi.StylePrimitive{Bold: &yes}
	c.Emph = gansi.StylePrimitive{Italic: &yes}
	c.Heading.Bold = &yes
	return c
}

// composeLesson is the markdown a step shows: its lesson, with the sandbox's
// export line right under the title so the real aws CLI can follow along in
// another terminal.
func composeLesson(stepID string, rc steps.Context, export, note string) (string, error) {
	md, err := steps.RenderLesson(stepID, rc)
	if err != nil {
		return "", err
	}
	if export != "" {
		if note == "" {
			note = awscli.ExportNote(awscli.Version{}, false)
		}
		callout := "**Sandbox:** every command carries --endpoint-url and reaches the sandbox as pasted. Paste this export line first (test credentials, region); " + note + ".\n\n```bash\n" + export + "\n```\n\n"
		if title, rest, ok := strings.Cut(md, "\n"); ok && strings.HasPrefix(title, "# ") {
			md = title + "\n\n" + callout + strings.TrimLeft(rest, "\n")
		} else {
			md = callout + md
		}
	}
	return md, nil
}

// renderMarkdown renders markdown with glamour for a width, hard-wrapping what
// glamour leaves wider (code blocks) so the viewport never cuts a command.
func renderMarkdown(md string, width int, style string) (string, error) {
	// Glamour wraps a quote's text to the width, then adds its "│ "
	// prefix; leave room for it.
	wrap := width - 3
	if wrap < 20 {
		wrap = 20
	}
	opt := glamour.WithStandardStyle(style)
	if style == plainStyle {
		opt = glamour.WithStyles(plainStyleConfig())
	}
	r, err := glamour.NewTermRenderer(opt, glamour.WithWordWrap(wrap))
	if err != nil {
		return "", err
	}
	// Glamour word-wraps code 7 columns short of its wrap width (margins),
	// breaking an ARN at a hyphen as if it were prose; wrap it here first,
	// with a visible continuation mark.
	out, err := r.Render(wrapCode(unwrapMarkdown(md), width-11))
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.Trim(out, "\n"), "\n")
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		if ansi.StringWidth(l) > width {
			// Glamour pads lines to its wrap width with spaces; drop the
			// padding before deciding a line is really too wide.
			l = strings.TrimRight(l, " ")
			if ansi.StringWidth(l) > width {
				l = ansi.Hardwrap(l, width, true)
			}
		}
		b.WriteString(l)
	}
	return b.String(), nil
}

// renderStepLesson does the whole job for one step, off the update loop.
func renderStepLesson(key lessonKey, rc steps.Context, export string) (renderedLesson, error) {
	md, err := composeLesson(key.Name, rc, export, key.Note)
	if err != nil {
		return renderedLesson{Key: key}, err
	}
	text, err := renderMarkdown(md, key.Width, key.Style)
	if err != nil {
		return renderedLesson{Key: key}, fmt.Errorf("render lesson %s: %w", key.Name, err)
	}
	cmds := steps.Commands(md)
	for i := range cmds {
		cmds[i].Title = strings.NewReplacer("**", "", "`", "").Replace(cmds[i].Title)
		if i == 0 && export != "" && cmds[i].Text == export {
			cmds[i].Title = "the export line: test credentials and region for the aws CLI in another terminal (its AWS_ENDPOINT_URL needs CLI 2.13+)"
		}
	}
	return renderedLesson{Key: key, Text: text, Commands: cmds, CmdLines: commandLines(text, cmds), Trouble: troubleLinks(md), Changed: lineOf(text, changedHeading)}, nil
}

// changedHeading is the section every step lesson has on where the original
// guide is wrong today.
const changedHeading = "Changed since the original guide"

// lineOf is the first line of the rendered text containing s, or -1.
func lineOf(text, s string) int {
	for i, l := range strings.Split(ansi.Strip(text), "\n") {
		if strings.Contains(l, s) {
			return i
		}
	}
	return -1
}

// commandLines finds where each command starts in the rendered text, in
// order, by its first line.
func commandLines(text string, cmds []steps.Command) []int {
	lines := strings.Split(ansi.Strip(text), "\n")
	out := make([]int, len(cmds))
	from := 0
	for i, c := range cmds {
		out[i] = -1
		first, _, _ := strings.Cut(strings.TrimSpace(c.Text), "\n")
		first = strings.TrimSpace(first)
		if len(first) > 30 {
			first = first[:30]
		}
		if first == "" {
			continue
		}
		for j := from; j < len(lines); j++ {
			if strings.Contains(lines[j], first) {
				out[i] = j
				from = j + 1
				break
			}
		}
	}
	return out
}

var listMarker = regexp.MustCompile(`^(?:[-*+]|\d+[.)])\s`)

// unwrapMarkdown prepares a lesson for glamour at any width. The lessons are
// wrapped at ~90 columns for their authors, and glamour keeps those breaks
// inside list items, which leaves ragged lines in a narrower pane; so the
// lines of paragraphs and list items are joined. Quotes lose their "> ":
// glamour drops words where it wraps a quote's text (glamour v2.0.1), and a
// lesson must never lose words. Code, tables, headings and comments are left
// alone.
func unwrapMarkdown(md string) string {
	lines := strings.Split(md, "\n")
	out := make([]string, 0, len(lines))
	inFence, quotedFence := false, false
	for _, l := range lines {
		t := strings.TrimSpace(l)
		quoted := strings.HasPrefix(t, ">") && (!inFence || quotedFence)
		if quoted {
			l = strings.TrimPrefix(strings.TrimPrefix(t, ">"), " ")
			t = strings.TrimSpace(l)
		}
		if strings.HasPrefix(t, "```") {
			inFence = !inFence
			quotedFence = inFence && quoted
			out = append(out, l)
			continue
		}
		if inFence {
			out = append(out, l)
			continue
		}
		if len(out) == 0 || t == "" || listMarker.MatchString(t) || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "|") ||
			strings.HasPrefix(t, "<!--") || strings.HasPrefix(t, "```") || !joinable(out[len(out)-1]) {
			out = append(out, l)
			continue
		}
		out[len(out)-1] = strings.TrimRight(out[len(out)-1], " ") + " " + t
	}
	return strings.Join(out, "\n")
}

// joinable reports whether the next line may continue this one.
func joinable(prev string) bool {
	t := strings.TrimSpace(prev)
	if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "|") || strings.HasPrefix(t, "```") || strings.HasPrefix(t, "<!--") {
		return false
	}
	return !strings.HasSuffix(prev, "  ") && !strings.HasSuffix(prev, `\`)
}

// codeCont marks a code line that continues the one above on screen. Copying
// (y) always takes the lesson's own text, never these lines.
const codeCont = "↪ "

// wrapCode breaks the lines of fenced code blocks longer than limit, at a
// space when one is near the end, and marks each continuation.
func wrapCode(md string, limit int) string {
	if limit < 20 {
		limit = 20
	}
	lines := strings.Split(md, "\n")
	out := make([]string, 0, len(lines))
	inFence := false
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inFence = !inFence
			out = append(out, l)
			continue
		}
		if !inFence || ansi.StringWidth(l) <= limit {
			out = append(out, l)
			continue
		}
		rest, first := []rune(l), true
		for len(rest) > 0 {
			room := limit
			if !first {
				room = limit - len([]rune(codeCont))
			}
			if len(rest) <= room {
				if first {
					out = append(out, string(rest))
				} else {
					out = append(out, codeCont+string(rest))
				}
				break
			}
			cut := breakAt(rest, room)
			part := string(rest[:cut])
			if !first {
				part = codeCont + part
			}
			out = append(out, part)
			rest, first = rest[cut:], false
		}
	}
	return strings.Join(out, "\n")
}

// breakAt picks where to break a code line of at most room runes: before a
// space near the end (the continuation keeps it, so rejoining the lines
// restores the text), else after punctuation, else anywhere.
func breakAt(r []rune, room int) int {
	for i := room; i > room/2; i-- {
		if r[i] == ' ' {
			return i
		}
	}
	for i := room; i > room/3; i-- {
		if strings.ContainsRune(",:/=&;|", r[i-1]) {
			return i
		}
	}
	return room
}

var (
	lessonTroubleLink = regexp.MustCompile(`troubleshooting(?:\.md)?#([a-z0-9][a-z0-9-]*)`)
	// Hints name a section as troubleshooting.md#id, "troubleshooting: id",
	// "see `slab show troubleshooting` → id" or #id; only real ids count.
	hintTroubleLink = regexp.MustCompile(`(?:troubleshooting(?:\.md)?[^a-z0-9]{1,6}|#)([a-z0-9][a-z0-9-]*)`)
)

// troubleLinks lists the troubleshooting sections a lesson links to.
func troubleLinks(md string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range lessonTroubleLink.FindAllStringSubmatch(md, -1) {
		if !seen[m[1]] && isTroubleID(m[1]) {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// hintTrouble finds the troubleshooting section a check's hint links to.
func hintTrouble(hint string) string {
	for _, m := range hintTroubleLink.FindAllStringSubmatch(hint, -1) {
		if isTroubleID(m[1]) {
			return m[1]
		}
	}
	return ""
}

func isTroubleID(id string) bool {
	for _, t := range content.TroubleshootingIDs() {
		if t == id {
			return true
		}
	}
	return false
}

// troubleSections cuts the named sections out of the rendered
// troubleshooting lesson: from a section's id marker to the next marker or
// chapter heading.
func troubleSections(rc steps.Context, ids []string) (string, error) {
	md, err := steps.RenderLesson(content.TroubleshootingLesson, rc)
	if err != nil {
		return "", err
	}
	sections := map[string]string{}
	var cur string
	var b strings.Builder
	flush := func() {
		if cur != "" {
			sections[cur] = strings.TrimSpace(b.String())
		}
		b.Reset()
	}
	marker := regexp.MustCompile(`^<!--\s*id:\s*([a-z0-9][a-z0-9-]*)\s*-->$`)
	for _, l := range strings.Split(md, "\n") {
		t := strings.TrimSpace(l)
		if m := marker.FindStringSubmatch(t); m != nil {
			flush()
			cur = m[1]
			continue
		}
		if strings.HasPrefix(t, "## ") {
			flush()
			cur = ""
			continue
		}
		if cur != "" {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	flush()
	var parts []string
	for _, id := range ids {
		if s, ok := sections[id]; ok {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("no troubleshooting section %s", strings.Join(ids, ", "))
	}
	return strings.Join(parts, "\n\n---\n\n"), nil
}

// lessonPane is the scrollable lesson: a viewport plus the rendering it
// shows. It is dumb: the root model tells it its size and content.
type lessonPane struct {
	vp      viewport.Model
	current *renderedLesson
}

func newLessonPane() lessonPane {
	vp := viewport.New()
	vp.MouseWheelEnabled = false
	vp.KeyMap = viewport.KeyMap{} // the root model routes keys
	return lessonPane{vp: vp}
}

func (p *lessonPane) SetSize(w, h int) {
	p.vp.SetWidth(w)
	p.vp.SetHeight(h)
}

// Show puts a rendering (or a placeholder) in the viewport at an offset.
func (p *lessonPane) Show(r *renderedLesson, placeholder string, yoff int) {
	p.current = r
	if r == nil {
		p.vp.SetContent(placeholder)
		p.vp.SetYOffset(0)
		return
	}
	p.vp.SetContent(r.Text)
	p.vp.SetYOffset(yoff)
}

func (p *lessonPane) View() string { return p.vp.View() }

// UnwrapMarkdown is unwrapMarkdown for other glamour renderers (`slab show`),
// so a lesson printed outside the tutor does not lose words in its quotes
// either.
func UnwrapMarkdown(md string) string { return unwrapMarkdown(md) }
