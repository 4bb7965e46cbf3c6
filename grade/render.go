package grade

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/internal/safetext"
	"github.com/slab-lab/slab/report"
)

// Formats are the file formats Write accepts.
var Formats = []string{"csv", "json", "junit", "markdown"}

// SchemaVersion is the version of the class JSON document.
const SchemaVersion = 1

// Class is a finished (or resumed) class run, what every renderer reads.
type Class struct {
	Rows        []Row // sorted by student
	Rubric      *Rubric
	Target      string // the grader's target, one line
	Version     string
	GeneratedAt time.Time
	Duration    time.Duration
}

// CheckIDs are the graded checks, in lab order: the report's columns.
func (c Class) CheckIDs() []string {
	var ids []string
	for _, ch := range c.Rubric.Graded() {
		ids = append(ids, ch.ID)
	}
	return ids
}

// Counts are the class's totals.
type Counts struct {
	Students int `json:"students"`
	Passed   int `json:"passed"`  // every check passed or warned
	Failed   int `json:"failed"`  // at least one check failed
	Errored  int `json:"errored"` // could not be graded, or a check could not tell
}

// Counts sums the rows.
func (c Class) Counts() Counts {
	n := Counts{Students: len(c.Rows)}
	for _, r := range c.Rows {
		switch {
		case r.Error != "" || r.Summary.Error > 0 && r.Summary.Fail == 0:
			n.Errored++
		case r.Summary.Fail > 0:
			n.Failed++
		default:
			n.Passed++
		}
	}
	return n
}

// Write renders the class in a file format.
func Write(w io.Writer, format string, c Class) error {
	switch format {
	case "csv":
		return CSV(w, c)
	case "json":
		return JSON(w, c)
	case "junit":
		return JUnit(w, c)
	case "markdown", "md":
		return Markdown(w, c)
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

func (c Class) rubricLine() string {
	return fmt.Sprintf("scored out of %d (%s)", c.Rubric.Total(), c.Rubric.Describe())
}

// Table is the terminal summary: one line per student, the failing checks named.
func Table(w io.Writer, c Class) error {
	name, acct := len("STUDENT"), len("ACCOUNT")
	for _, r := range c.Rows {
		name = max(name, len(safetext.Line(r.Student)))
		acct = max(acct, len(safetext.Line(r.Target.Account)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d students, %s\n\n", safetext.Line(c.Target), len(c.Rows), c.rubricLine())
	fmt.Fprintf(&b, "%-*s  %-*s  %9s  %-6s  %s\n", name, "STUDENT", acct, "ACCOUNT", "SCORE", "STATUS", "FAILING")
	for _, r := range c.Rows {
		score := fmt.Sprintf("%d/%d", r.Score, r.Total)
		var what []string
		failed, errored := r.Failing()
		if len(failed) > 0 {
			what = append(what, strings.Join(failed, ", "))
		}
		if len(errored) > 0 {
			what = append(what, "could not tell: "+strings.Join(errored, ", "))
		}
		if r.Error != "" {
			what = append(what, safetext.Line(safetext.Truncate(r.Error, safetext.MaxItem)))
		}
		fmt.Fprintf(&b, "%-*s  %-*s  %9s  %-6s  %s\n", name, safetext.Line(r.Student), acct, orDash(safetext.Line(r.Target.Account)), score, r.Status, strings.Join(what, "; "))
	}
	n := c.Counts()
	fmt.Fprintf(&b, "\n%d passed, %d failed, %d could not be graded fully\n", n.Passed, n.Failed, n.Errored)
	_, err := io.WriteString(w, b.String())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// CSV writes one row per student, a column per check id.
func CSV(w io.Writer, c Class) error {
	cw := csv.NewWriter(w)
	ids := c.CheckIDs()
	header := append([]string{"student", "account", "region"}, ids...)
	header = append(header, "score", "max_score", "rubric_total", "status", "error")
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range c.Rows {
		// The student's cells are neutralised (OWASP CSV injection);
		// ours (statuses, numbers) are written as they are.
		rec := []string{safetext.CSVCell(r.Student), safetext.CSVCell(r.Target.Account), safetext.CSVCell(r.Target.Region)}
		for _, id := range ids {
			rec = append(rec, r.StatusOf(id))
		}
		rec = append(rec, strconv.Itoa(r.Score), strconv.Itoa(r.MaxScore), strconv.Itoa(r.Total), r.Status, safetext.CSVCell(r.Error))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ClassDocument is the JSON report: every student with the full evidence,
// each check in the schema of `slab check --format json`.
type ClassDocument struct {
	SchemaVersion int        `json:"schema_version"`
	SlabVersion   string     `json:"slab_version"`
	GeneratedAt   time.Time  `json:"generated_at"`
	Target        string     `json:"target"`
	Rubric        RubricJSON `json:"rubric"`
	Counts        Counts     `json:"counts"`
	Students      []Row      `json:"students"`
}

// RubricJSON states the weights every score is out of.
type RubricJSON struct {
	Source  string         `json:"source"`
	Total   int            `json:"total"`
	Weights map[string]int `json:"weights"`
}

func (c Class) rubricJSON() RubricJSON {
	rj := RubricJSON{Source: c.Rubric.Describe(), Total: c.Rubric.Total(), Weights: map[string]int{}}
	for _, ch := range c.Rubric.Graded() {
		rj.Weights[ch.ID] = c.Rubric.weight(ch)
	}
	return rj
}

// JSON writes the class document.
func JSON(w io.Writer, c Class) error {
	rows := c.Rows
	if rows == nil {
		rows = []Row{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ClassDocument{SchemaVersion: SchemaVersion, SlabVersion: c.Version, GeneratedAt: c.GeneratedAt.UTC(),
		Target: c.Target, Rubric: c.rubricJSON(), Counts: c.Counts(), Students: rows}); err != nil {
		return err
	}
	_, err := w.Write(safetext.JSON(buf.Bytes()))
	return err
}

// JUnit documents: one <testsuite> per student, one <testcase> per check
// (classname student.step); Fail is <failure>, Error <error>, Skip
// <skipped>; a student who could not be graded is one <error> testcase.

// JUnitSuites is the document root.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// The per-student suite and below are the same shapes `slab check
// --format junit` writes.
type (
	// JUnitSuite is one student.
	JUnitSuite = report.JUnitSuite
	// JUnitProps are a suite's properties.
	JUnitProps = report.JUnitProps
	// JUnitProp is one property.
	JUnitProp = report.JUnitProp
	// JUnitTestcase is one check of one student.
	JUnitTestcase = report.JUnitTestcase
	// JUnitProblem is a failure, error or skip.
	JUnitProblem = report.JUnitProblem
)

func secs(ms int64) string { return fmt.Sprintf("%.3f", float64(ms)/1000) }

func clean(s string) string { return report.CleanXML(s) }

func checkDetails(c report.CheckJSON) string {
	return report.FindingText(c.Summary, c.Evidence, c.Hint)
}

// JUnit writes the class as JUnit XML.
func JUnit(w io.Writer, c Class) error {
	doc := JUnitSuites{Name: clean("slab grade: " + c.Target + "; " + c.rubricLine()), Time: fmt.Sprintf("%.3f", c.Duration.Seconds())}
	for _, r := range c.Rows {
		s := JUnitSuite{Name: clean(r.Student), Timestamp: r.GradedAt.UTC().Format("2006-01-02T15:04:05"), Time: secs(r.DurationMS),
			Properties: &JUnitProps{Props: []JUnitProp{
				{Name: "student", Value: clean(r.Student)}, {Name: "account", Value: clean(r.Target.Account)}, {Name: "region", Value: clean(r.Target.Region)},
				{Name: "score", Value: strconv.Itoa(r.Score)}, {Name: "max_score", Value: strconv.Itoa(r.MaxScore)}, {Name: "rubric_total", Value: strconv.Itoa(r.Total)},
				{Name: "status", Value: r.Status},
			}}}
		cls := func(step string) string { return clean(r.Student) + "." + step }
		if len(r.Checks) == 0 && r.Error != "" {
			s.Cases = append(s.Cases, JUnitTestcase{Name: "account-access", Classname: cls("account"), Time: secs(r.DurationMS),
				Error: &JUnitProblem{Message: clean(r.Error), Type: "error", Text: clean(r.Error)}})
			s.Errors++
		}
		for _, ch := range r.Checks {
			tc := JUnitTestcase{Name: ch.ID, Classname: cls(ch.Step), Time: secs(ch.DurationMS)}
			switch ch.Status {
			case checks.Fail.String():
				tc.Failure = &JUnitProblem{Message: clean(ch.Summary), Type: "fail", Text: checkDetails(ch)}
				s.Failures++
			case checks.Error.String():
				tc.Error = &JUnitProblem{Message: clean(ch.Summary), Type: "error", Text: checkDetails(ch)}
				s.Errors++
			case checks.Skip.String():
				tc.Skipped = &JUnitProblem{Message: clean(ch.Summary), Type: "skip"}
				s.Skipped++
			case checks.Warn.String():
				tc.SystemOut = "WARN: " + checkDetails(ch)
			default:
				tc.SystemOut = checkDetails(ch)
			}
			s.Cases = append(s.Cases, tc)
		}
		s.Tests = len(s.Cases)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	return report.WriteXML(w, doc)
}

// Markdown writes a CI summary: the class table and the rubric's total.
func Markdown(w io.Writer, c Class) error {
	var b strings.Builder
	n := c.Counts()
	fmt.Fprintf(&b, "## slab grade\n\n%s; %d students: %d passed, %d failed, %d could not be graded fully; %s.\n\n",
		mdEscape(c.Target), n.Students, n.Passed, n.Failed, n.Errored, c.rubricLine())
	b.WriteString("| student | account | score | status | failing checks |\n| --- | --- | ---: | --- | --- |\n")
	for _, r := range c.Rows {
		var what []string
		failed, errored := r.Failing()
		for _, id := range failed {
			what = append(what, "`"+id+"`")
		}
		for _, id := range errored {
			what = append(what, "`"+id+"` (error)")
		}
		if r.Error != "" {
			what = append(what, mdEscape(r.Error))
		}
		fmt.Fprintf(&b, "| %s | %s | %d/%d | %s | %s |\n", mdEscape(r.Student), orDash(mdEscape(r.Target.Account)), r.Score, r.Total, r.Status, strings.Join(what, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string { return safetext.Markdown(safetext.Truncate(s, safetext.MaxItem)) }
