package safetext

import "unicode/utf8"

// Hostile is the set of strings an adversarial run put into student
// accounts. The output tests of every format (check, grade, the tutor)
// feed it through and require what comes out to be inert.
var Hostile = []string{
	"\x1b]0;pwned title\x07", // OSC: set the window title
	"\x1b[2J\x1b[H",          // clear the screen, cursor home
	"\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\", // OSC 8 hyperlink
	"all good\rFAIL",                             // carriage return hides the start
	"<img src=x onerror=alert(1)>",               // HTML in a rendered report
	"=HYPERLINK(\"https://evil.example\",\"x\")", // spreadsheet formulas
	"+1+cmd|' /C calc'!A0",
	"-2+3",
	"@SUM(1+1)",
	"\tleading tab",
	"\u009b31mC1 CSI",
	"abc\u202edcba", // right-to-left override
	"bad utf8 \xff\xfe",
}

// Unsafe returns the first character of out that a terminal or a renderer
// would act on (a control other than newline and tab, a C1 control, a
// bidirectional override, invalid UTF-8) with its byte offset, or -1. Tests
// of every output use it on what they render from Hostile.
func Unsafe(out string) (rune, int) {
	for i := 0; i < len(out); {
		r, n := utf8.DecodeRuneInString(out[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return r, i
		case r == '\n' || r == '\t':
		case r < 0x20 || r == 0x7f || unsafeRune(r):
			return r, i
		}
		i += n
	}
	return 0, -1
}
