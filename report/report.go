// Package report renders a checks.Report as text (for people, colours only
// when asked), JSON (a stable, documented schema for scripts and graders),
// JUnit XML (CI test reports; valid against the JUnit schema Jenkins and
// GitLab read) and Markdown (a CI step summary). Every format leads with the
// target the checks ran against.
package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
)

// Formats are the names Write accepts.
var Formats = []string{"text", "json", "junit", "markdown"}

// Options tune rendering.
type Options struct {
	// Color adds ANSI colours to the text format (terminal, no NO_COLOR).
	Color bool
	// Version is slab's version, recorded in JSON and JUnit.
	Version string
	// Now is the generation time (default: the report's start).
	Now time.Time
	// FullEvidence keeps every evidence item whole in the JSON document;
	// otherwise each is cut at safetext.MaxItem with a note, as in every
	// format meant for people (a student's 6 MB policy made a 6.3 MB report).
	FullEvidence bool
}

// Write renders rep in format.
func Write(w io.Writer, format string, rep checks.Report, o Options) error {
	switch format {
	case "text", "":
		return Text(w, rep, o)
	case "json":
		return JSON(w, rep, o)
	case "junit":
		return JUnit(w, rep, o)
	case "markdown", "md":
		return Markdown(w, rep, o)
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

func (o Options) generated(rep checks.Report) time.Time {
	if !o.Now.IsZero() {
		return o.Now.UTC()
	}
	if !rep.Started.IsZero() {
		return rep.Started.UTC()
	}
	return time.Now().UTC()
}

// TargetLine is the one-line description of the target.
func TargetLine(t checks.Target) string {
	if t.Description != "" {
		return t.Description
	}
	acct := t.Account
	if acct == "" {
		acct = "account unknown"
	}
	switch t.Kind {
	case "sandbox":
		return fmt.Sprintf("SANDBOX %s %s (%s)", acct, t.Region, t.Endpoint)
	case "endpoint":
		return fmt.Sprintf("ENDPOINT %s account %s %s", t.Endpoint, acct, t.Region)
	}
	return fmt.Sprintf("AWS account %s %s", acct, t.Region)
}

// stepNumber is the step's 1-based place in the lab.
func stepNumber(id string) int {
	for i, s := range lab.StepIDs {
		if s == id {
			return i + 1
		}
	}
	return 0
}

// overall is the worst status of the run.
func overall(rep checks.Report) checks.Status {
	st, _, _ := checks.Aggregate(rep.Results)
	return st
}

// counts is the summary line shared by text and Markdown.
func counts(s checks.Summary) string {
	n := s.Pass + s.Fail + s.Warn + s.Error + s.Skip
	return fmt.Sprintf("%s: %d passed, %d failed, %s, %s, %d skipped; score %d/%d",
		plural(n, "check"), s.Pass, s.Fail, plural(s.Warn, "warning"), plural(s.Error, "error"), s.Skip, s.Score, s.MaxScore)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
