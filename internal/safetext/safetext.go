// Package safetext is the one sanitiser for text that students control
// (function environment values, DynamoDB ids, log lines, roster names, the
// policies they store) on its way to a person: a terminal, the tutor, a
// Markdown summary a CI page renders, a CSV a spreadsheet opens. A grader
// reads what students put in their accounts, so none of it may drive the
// grader's terminal (OSC titles, screen clears, OSC 8 links, a carriage
// return hiding the start of a line), inject HTML or Markdown into a
// rendered report, or run as a spreadsheet formula.
//
// Each function names its destination. Escapes are visible ("\x1b", "\r",
// "\u202e") so the reader sees that something was there.
package safetext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxItem is how much of one evidence item a person is shown; the JSON
// report carries the whole value when asked (--full-evidence).
const MaxItem = 2048

// Line makes s safe for one line of a terminal: every control character
// (C0 including newline and tab, DEL, C1), Unicode's bidirectional
// overrides and invalid UTF-8 become visible escapes.
func Line(s string) string { return escape(s, false) }

// Text is Line for text that may run over several lines: newlines and tabs
// are kept, every other control is escaped.
func Text(s string) string { return escape(s, true) }

func escape(s string, multiline bool) string {
	if clean(s, multiline) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case multiline && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafeRune reports the non-ASCII runes that change what a terminal shows
// without being shown: C1 controls (0x9b is a one-byte CSI to some
// terminals) and the bidirectional controls of "Trojan source".
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

func clean(s string, multiline bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			if multiline && (c == '\n' || c == '\t') {
				continue
			}
			return false
		}
		if c >= 0x80 {
			// Non-ASCII: decide rune by rune.
			for _, r := range s[i:] {
				if r == utf8.RuneError || unsafeRune(r) || r < 0x20 && !(multiline && (r == '\n' || r == '\t')) || r == 0x7f {
					return false
				}
			}
			return utf8.ValidString(s[i:])
		}
	}
	return true
}

// Truncate cuts s to at most max bytes on a rune boundary and says how much
// was left out.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf(" … (%d more bytes not shown; the JSON report has them with --full-evidence)", len(s)-cut)
}

// Evidence is one evidence item for a person: truncated to MaxItem, then
// escaped, keeping its lines.
func Evidence(s string) string { return Text(Truncate(s, MaxItem)) }

// markdownEscaper backslashes the characters that start Markdown inline
// syntax (emphasis, code, links and images, tables, strikethrough) and turns
// HTML's specials into entities, so no renderer sees a tag. Characters that
// matter only at the start of a line (#, -, +) need nothing: the text is
// always placed after something of ours.
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "|", `\|`, "~", `\~`,
	"<", "&lt;", ">", "&gt;", "&", "&amp;",
)

// Markdown makes s inert inline Markdown on one line (a table cell, a list
// item): controls escaped as Line does, Markdown's inline syntax
// backslashed, HTML's specials as entities.
func Markdown(s string) string { return markdownEscaper.Replace(Line(s)) }

var htmlEscaper = strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;")

// MarkdownAuthored is for text of ours that uses Markdown on purpose (a hint
// with `code`) but may quote a student's value: controls escaped and HTML
// made entities; Markdown is kept.
func MarkdownAuthored(s string) string { return htmlEscaper.Replace(Line(s)) }

// CodeBlock makes s safe inside a fenced code block (```): controls
// escaped, lines kept, and no line can close the fence. Inside a fence
// Markdown and HTML are shown, not rendered.
func CodeBlock(s string) string {
	return strings.ReplaceAll(Text(s), "```", "`\u200b``")
}

// CSVCell neutralises a cell a spreadsheet would run as a formula (OWASP's
// CSV injection advice: a leading =, +, -, @, tab or carriage return gets
// a single quote before it) and escapes controls, since a CSV is also read
// with cat.
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		s = "'" + s
	}
	return Line(s)
}

// JSON escapes, in an encoded JSON document, the characters encoding/json
// leaves raw that a terminal acts on (C1 controls, bidirectional overrides):
// as \uXXXX they mean the same to a parser and nothing to a terminal someone
// cats the report in. Structure is ASCII, so only strings are touched.
func JSON(doc []byte) []byte {
	s := string(doc)
	if clean(s, true) {
		return doc
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, r := range s {
		if unsafeRune(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return []byte(b.String())
}
