package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/internal/safetext"
)

var statusMark = map[checks.Status]string{
	checks.Pass: "✅ pass", checks.Warn: "⚠️ warn", checks.Fail: "❌ fail", checks.Error: "❓ error", checks.Skip: "⏭️ skip",
}

// cell makes text safe for a Markdown table cell or list item: one line,
// no Markdown or HTML a renderer would act on.
func cell(s string) string { return safetext.Markdown(safetext.Truncate(s, safetext.MaxItem)) }

// Markdown writes the report as a CI step summary (GitHub's
// $GITHUB_STEP_SUMMARY, GitLab's job summaries): the target, the counts, a
// table of every check, then what to fix.
func Markdown(w io.Writer, rep checks.Report, o Options) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "## slab check: %s\n\n", cell(TargetLine(rep.Target)))
	fmt.Fprintf(bw, "**%s**: %s\n\n", statusMark[overall(rep)], counts(rep.Summary))
	fmt.Fprintln(bw, "| Step | Status | Score | Check | Result | Summary |")
	fmt.Fprintln(bw, "|---|---|---|---|---|---|")
	for _, s := range rep.Steps {
		for i, r := range s.Results {
			step, st, score := "", "", ""
			if i == 0 {
				step = fmt.Sprintf("%d %s", stepNumber(s.ID), s.ID)
				st = statusMark[s.Status]
				score = fmt.Sprintf("%d/%d", s.Score, s.MaxScore)
			}
			fmt.Fprintf(bw, "| %s | %s | %s | `%s` | %s | %s |\n", step, st, score, r.CheckID, statusMark[r.Status], cell(r.Summary))
		}
	}
	var notPassed []checks.Result
	for _, r := range rep.Results {
		if r.Status == checks.Fail || r.Status == checks.Error || r.Status == checks.Warn {
			notPassed = append(notPassed, r)
		}
	}
	if len(notPassed) > 0 {
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "### What to look at")
		fmt.Fprintln(bw)
		for _, r := range notPassed {
			fmt.Fprintf(bw, "- %s `%s`: %s\n", statusMark[r.Status], r.CheckID, cell(r.Summary))
			if r.Hint != "" {
				fmt.Fprintf(bw, "  - fix: %s\n", safetext.MarkdownAuthored(r.Hint))
			}
			if len(r.Evidence) > 0 {
				fmt.Fprintln(bw, "  <details><summary>evidence</summary>")
				fmt.Fprintln(bw)
				fmt.Fprintln(bw, "  ```")
				for _, e := range r.Evidence {
					fmt.Fprintln(bw, "  "+strings.ReplaceAll(safetext.CodeBlock(safetext.Truncate(e, safetext.MaxItem)), "\n", "\n  "))
				}
				fmt.Fprintln(bw, "  ```")
				fmt.Fprintln(bw, "  </details>")
			}
		}
	}
	return bw.Flush()
}
