package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLineHasNoControls(t *testing.T) {
	for _, h := range Hostile {
		got := Line(h)
		if !utf8.ValidString(got) {
			t.Errorf("Line(%q) = %q: invalid UTF-8", h, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || unsafeRune(r) {
				t.Errorf("Line(%q) = %q keeps %U", h, got, r)
			}
		}
	}
	if got := Line("\x1b]0;t\x07"); got != `\x1b]0;t\x07` {
		t.Errorf("escapes are not visible: %q", got)
	}
	if got := Line("a\r\nb\tc"); got != `a\r\nb\tc` {
		t.Errorf("Line(a\\r\\nb\\tc) = %q", got)
	}
	if got := Text("a\r\nb\tc\x1b"); got != "a\\r\nb\tc\\x1b" {
		t.Errorf("Text keeps lines and tabs only: %q", got)
	}
	for _, ok := range []string{"plain", "naïve café ✅", "line\nbreak"} {
		if Text(ok) != ok {
			t.Errorf("Text(%q) changed harmless text to %q", ok, Text(ok))
		}
	}
}

func TestMarkdownIsInert(t *testing.T) {
	got := Markdown("<img src=x onerror=alert(1)> [link](http://x) `code` | cell *b*\n")
	for _, bad := range []string{"<", ">", " [", "`code`", " | ", " *b*", "\n"} {
		if strings.Contains(got, bad) {
			t.Errorf("Markdown left %q in %q", bad, got)
		}
	}
	if got := CodeBlock("x\n```\n<b>"); strings.Contains(got, "```") {
		t.Errorf("CodeBlock lets the fence close: %q", got)
	}
}

func TestCSVCellNeutralisesFormulas(t *testing.T) {
	for _, h := range []string{"=1+1", "+1", "-1", "@x", "\tx", "\rx"} {
		got := CSVCell(h)
		if !strings.HasPrefix(got, "'") {
			t.Errorf("CSVCell(%q) = %q, want a leading quote", h, got)
		}
	}
	if CSVCell("alice") != "alice" || CSVCell("o'brien") != "o'brien" {
		t.Error("CSVCell changed a harmless cell")
	}
}

func TestTruncate(t *testing.T) {
	s := strings.Repeat("é", 2000) // 4,000 bytes
	got := Truncate(s, MaxItem)
	if !utf8.ValidString(got) || !strings.Contains(got, "more bytes not shown") || len(got) > MaxItem+200 {
		t.Errorf("Truncate: %d bytes, %q...", len(got), got[len(got)-80:])
	}
	if Truncate("short", MaxItem) != "short" {
		t.Error("Truncate changed a short string")
	}
}
