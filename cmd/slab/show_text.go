package main

import (
	"regexp"
	"strconv"
	"strings"
)

// A lesson is markdown whose code blocks are commands a learner pastes. The
// text form must keep every block byte for byte: glamour wraps code at its
// word-wrap width (a pasted command then breaks in two) and, even in its
// "notty" style, writes OSC 8 hyperlinks. So `slab show --format text`
// splits the lesson into prose and code, prints code verbatim, and renders
// prose either with glamour (a colour terminal) or as plain text here.

// segment is a run of prose or one fenced code block (with its fences).
type segment struct {
	code bool
	text string
}

var fenceOpen = regexp.MustCompile("^\\s*(```+|~~~+)")

// splitFences cuts markdown into prose and fenced code blocks.
func splitFences(md string) []segment {
	var out []segment
	var cur []string
	inCode, fence := false, ""
	flush := func(code bool) {
		if len(cur) > 0 {
			out = append(out, segment{code: code, text: strings.Join(cur, "\n")})
		}
		cur = nil
	}
	for _, line := range strings.Split(md, "\n") {
		switch {
		case !inCode && fenceOpen.MatchString(line):
			flush(false)
			inCode, fence = true, strings.TrimSpace(fenceOpen.FindStringSubmatch(line)[1])
			cur = append(cur, line)
		case inCode && strings.HasPrefix(strings.TrimSpace(line), fence) && strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), fence[:1])) == "":
			cur = append(cur, line)
			flush(true)
			inCode = false
		default:
			cur = append(cur, line)
		}
	}
	flush(inCode)
	return out
}

// codeBody is a fenced block without its fences.
func codeBody(block string) string {
	lines := strings.Split(block, "\n")
	if len(lines) >= 2 && fenceOpen.MatchString(lines[len(lines)-1]) {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines[1:], "\n")
}

var (
	mdLink     = regexp.MustCompile(`\[([^\]]+)\]\(([^)\s]+)\)`)
	mdStrong   = regexp.MustCompile(`\*\*([^*\n]+)\*\*|__([^_\n]+)__`)
	mdEmph     = regexp.MustCompile(`(^|[\s(])[*_]([^*_\s][^*_\n]*?)[*_]([\s).,:;!?]|$)`)
	mdHeading  = regexp.MustCompile(`^(#{1,6})\s+(.*)$`)
	mdComment  = regexp.MustCompile(`(?s)<!--.*?-->`)
	inlineCode = regexp.MustCompile("`[^`\n]*`")
)

// plainInline removes emphasis and turns links into their text (absolute
// URLs kept in parentheses), leaving `inline code` untouched, even inside
// bold text.
func plainInline(s string) string {
	var spans []string
	masked := inlineCode.ReplaceAllStringFunc(s, func(m string) string {
		spans = append(spans, m)
		return "\x00" + strconv.Itoa(len(spans)-1) + "\x00"
	})
	out := plainProse(masked)
	return codeMark.ReplaceAllStringFunc(out, func(m string) string {
		i, _ := strconv.Atoi(strings.Trim(m, "\x00"))
		return spans[i]
	})
}

var codeMark = regexp.MustCompile("\x00[0-9]+\x00")

func plainProse(s string) string {
	s = mdLink.ReplaceAllStringFunc(s, func(m string) string {
		p := mdLink.FindStringSubmatch(m)
		if strings.HasPrefix(p[2], "http://") || strings.HasPrefix(p[2], "https://") {
			if p[1] == p[2] {
				return p[2]
			}
			return p[1] + " (" + p[2] + ")"
		}
		return p[1]
	})
	s = mdStrong.ReplaceAllString(s, "$1$2")
	s = mdEmph.ReplaceAllString(s, "$1$2$3")
	return s
}

// plainMarkdown renders a lesson as plain text: no escape sequences, code
// blocks verbatim and unindented (heredocs keep working), headings
// underlined, emphasis removed, prose with its own line breaks.
func plainMarkdown(md string) string {
	md = mdComment.ReplaceAllString(md, "")
	var b strings.Builder
	for _, seg := range splitFences(md) {
		if seg.code {
			b.WriteString(codeBody(seg.text))
			b.WriteString("\n")
			continue
		}
		for _, line := range strings.Split(seg.text, "\n") {
			if m := mdHeading.FindStringSubmatch(line); m != nil {
				title := plainInline(m[2])
				b.WriteString(title + "\n")
				under := "-"
				if len(m[1]) == 1 {
					under = "="
				}
				if len(m[1]) <= 2 {
					b.WriteString(strings.Repeat(under, len([]rune(title))) + "\n")
				}
				continue
			}
			trimmed := strings.TrimLeft(line, " ")
			indent := line[:len(line)-len(trimmed)]
			switch {
			case strings.HasPrefix(trimmed, "> "), trimmed == ">":
				line = indent + "  " + strings.TrimPrefix(strings.TrimPrefix(trimmed, ">"), " ")
			case strings.HasPrefix(trimmed, "* "):
				line = indent + "- " + trimmed[2:]
			}
			b.WriteString(plainInline(line) + "\n")
		}
	}
	out := b.String()
	// At most one blank line in a row.
	for strings.Contains(out, "\n\n\n") {
		out = strings.ReplaceAll(out, "\n\n\n", "\n\n")
	}
	return strings.Trim(out, "\n") + "\n"
}
