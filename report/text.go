package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/internal/safetext"
)

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiMag    = "\x1b[35m"
)

var statusColor = map[checks.Status]string{
	checks.Pass: ansiGreen, checks.Warn: ansiYellow, checks.Fail: ansiRed, checks.Error: ansiMag, checks.Skip: ansiBlue,
}

type painter bool

func (p painter) paint(code, s string) string {
	if !p || code == "" {
		return s
	}
	return code + s + ansiReset
}

func label(st checks.Status) string { return strings.ToUpper(st.String()) }

// Text writes the report for people: the target, then each step with its
// status and score, each check on a line, and for what did not pass the
// evidence and the hint.
func Text(w io.Writer, rep checks.Report, o Options) error {
	p := painter(o.Color)
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, p.paint(ansiBold, safetext.Line(TargetLine(rep.Target))))
	width := 0
	for _, r := range rep.Results {
		if len(r.CheckID) > width {
			width = len(r.CheckID)
		}
	}
	for _, s := range rep.Steps {
		fmt.Fprintln(bw)
		head := fmt.Sprintf("Step %d  %s", stepNumber(s.ID), s.ID)
		fmt.Fprintf(bw, "%s  %s  %d/%d\n", p.paint(ansiBold, head), p.paint(statusColor[s.Status], label(s.Status)), s.Score, s.MaxScore)
		for _, r := range s.Results {
			fmt.Fprintf(bw, "  %s  %-*s  %s\n", p.paint(statusColor[r.Status], fmt.Sprintf("%-5s", label(r.Status))), width, r.CheckID, safetext.Line(safetext.Truncate(r.Summary, safetext.MaxItem)))
			if r.Status == checks.Pass {
				continue
			}
			for _, e := range r.Evidence {
				fmt.Fprintf(bw, "         %s %s\n", p.paint(ansiDim, "saw:"), p.paint(ansiDim, indentLines(safetext.Evidence(e), "              ")))
			}
			if r.Hint != "" {
				fmt.Fprintf(bw, "         %s %s\n", p.paint(ansiBold, "fix:"), indentLines(safetext.Text(r.Hint), "              "))
			}
		}
	}
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, p.paint(statusColor[overall(rep)], counts(rep.Summary)))
	if rep.Probe {
		fmt.Fprintln(bw, "The probes wrote test data and removed it again (see their evidence).")
	}
	return bw.Flush()
}

func indentLines(s, indent string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+indent)
}
