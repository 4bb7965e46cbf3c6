package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/internal/safetext"
)

// The JUnit document: <testsuites> with one <testsuite> per step and one
// <testcase> per check (classname = step). A Fail is a <failure>, an Error
// an <error> (CI tells "tests failed" from "could not run"), a Skip a
// <skipped>; a Warn passes with its finding in <system-out>. Attributes and
// nesting follow the junit-10 schema of Jenkins' xUnit plugin, which GitLab
// and most CI systems read as well.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

type JUnitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties *JUnitProps     `xml:"properties,omitempty"`
	Cases      []JUnitTestcase `xml:"testcase"`
}

type JUnitProps struct {
	Props []JUnitProp `xml:"property"`
}

type JUnitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type JUnitTestcase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitProblem `xml:"failure,omitempty"`
	Error     *JUnitProblem `xml:"error,omitempty"`
	Skipped   *JUnitProblem `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type JUnitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// CleanXML makes s safe for a JUnit document that CI pages render and
// people read in logs: controls escaped visibly (safetext.Text), and the
// characters XML 1.0 cannot carry dropped.
func CleanXML(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return -1
		}
		return r
	}, safetext.Text(s))
}

func details(r checks.Result) string { return FindingText(r.Summary, r.Evidence, r.Hint) }

// FindingText is a check's finding as one text block (summary, then what
// was seen, then the fix), for JUnit failure bodies here and in grading.
func FindingText(summary string, evidence []string, hint string) string {
	var b strings.Builder
	b.WriteString(summary)
	for _, e := range evidence {
		b.WriteString("\nsaw: " + safetext.Truncate(e, safetext.MaxItem))
	}
	if hint != "" {
		b.WriteString("\nfix: " + hint)
	}
	return CleanXML(b.String())
}

// JUnit writes the report as JUnit XML.
func JUnit(w io.Writer, rep checks.Report, o Options) error {
	ts := o.generated(rep).Format("2006-01-02T15:04:05")
	props := &JUnitProps{Props: []JUnitProp{
		{"target", CleanXML(TargetLine(rep.Target))},
		{"target.kind", rep.Target.Kind},
		{"target.account", CleanXML(rep.Target.Account)},
		{"target.region", CleanXML(rep.Target.Region)},
		{"target.endpoint", CleanXML(rep.Target.Endpoint)},
		{"slab.version", o.Version},
	}}
	doc := junitSuites{Name: CleanXML("slab check: " + TargetLine(rep.Target)), Time: seconds(rep.Duration)}
	for _, s := range rep.Steps {
		suite := JUnitSuite{Name: s.ID, Timestamp: ts, Properties: props}
		var total time.Duration
		for _, r := range s.Results {
			tc := JUnitTestcase{Name: r.CheckID, Classname: s.ID, Time: seconds(r.Duration)}
			total += r.Duration
			switch r.Status {
			case checks.Fail:
				tc.Failure = &JUnitProblem{Message: CleanXML(r.Summary), Type: "fail", Text: details(r)}
				suite.Failures++
			case checks.Error:
				tc.Error = &JUnitProblem{Message: CleanXML(r.Summary), Type: "error", Text: details(r)}
				suite.Errors++
			case checks.Skip:
				tc.Skipped = &JUnitProblem{Message: CleanXML(r.Summary), Type: "skip"}
				suite.Skipped++
			case checks.Warn:
				tc.SystemOut = "WARN: " + details(r)
			default:
				tc.SystemOut = details(r)
			}
			suite.Cases = append(suite.Cases, tc)
		}
		suite.Tests = len(s.Results)
		suite.Time = seconds(total)
		doc.Tests += suite.Tests
		doc.Failures += suite.Failures
		doc.Errors += suite.Errors
		doc.Suites = append(doc.Suites, suite)
	}
	return WriteXML(w, doc)
}

// WriteXML writes v as an indented XML document with its header, the way
// every JUnit report slab writes is laid out.
func WriteXML(w io.Writer, v any) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
