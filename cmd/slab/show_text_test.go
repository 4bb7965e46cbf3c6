package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/slab-lab/slab/steps"
)

// Every command block of every lesson must reach the text form byte for
// byte: a wrapped or styled command fails when pasted.
func TestShowTextKeepsCommandsIntactAndPlain(t *testing.T) {
	dir := isolate(t)
	for _, name := range append(append([]string{}, "1", "2", "3", "4", "5", "6", "7", "8"), extraLessons...) {
		md, errOut, code := runSlab(t, "--state-dir", dir, "show", name, "--format", "markdown")
		if code != 0 {
			t.Fatalf("show %s --format markdown: exit %d: %s", name, code, errOut)
		}
		blocks := steps.Commands(md)
		for _, mode := range []struct {
			name string
			tty  bool
			args []string
		}{{"pipe", false, nil}, {"tty --no-color", true, []string{"--no-color"}}, {"tty colour", true, nil}} {
			args := append([]string{"--state-dir", dir}, mode.args...)
			out, errOut, code := runSlabIO(t, "", mode.tty, append(args, "show", name, "--format", "text")...)
			if code != 0 {
				t.Fatalf("show %s (%s): exit %d: %s", name, mode.name, code, errOut)
			}
			for _, b := range blocks {
				if !strings.Contains(out, "\n"+b.Text+"\n") {
					t.Errorf("show %s (%s): the block %q is not intact in the text form", name, mode.name, b.Title)
				}
			}
			if mode.name == "tty colour" {
				continue
			}
			if strings.ContainsRune(out, '\x1b') {
				t.Errorf("show %s (%s): escape sequences in plain output: %q", name, mode.name, firstEscape(out))
			}
			prose := out
			for _, b := range blocks {
				prose = strings.Replace(prose, b.Text, "", 1)
			}
			prose = regexp.MustCompile("`[^`\n]*`").ReplaceAllString(prose, "")
			for _, lit := range []string{"**", "](#", "<!--"} {
				if strings.Contains(prose, lit) {
					t.Errorf("show %s (%s): literal markdown %q left in the text", name, mode.name, lit)
				}
			}
		}
	}
}

func firstEscape(s string) string {
	i := strings.IndexRune(s, '\x1b')
	return s[max(0, i-20):min(len(s), i+40)]
}

func TestPlainMarkdown(t *testing.T) {
	md := "# Title\n\n**Key:** see [the fix](#fix) and [AWS](https://aws.amazon.com/x), *really* `a **b**`\n\n> a quote\n\n```bash\ncat <<'EOF'\n  **not emphasis** [x](#y)\nEOF\n```\n"
	want := "Title\n=====\n\nKey: see the fix and AWS (https://aws.amazon.com/x), really `a **b**`\n\n  a quote\n\ncat <<'EOF'\n  **not emphasis** [x](#y)\nEOF\n"
	if got := plainMarkdown(md); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
