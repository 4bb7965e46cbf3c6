package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/internal/safetext"
	"github.com/slab-lab/slab/lab"
)

// sgr matches the colour codes the text format itself writes.
var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// fenced matches a fenced code block of the Markdown format.
var fenced = regexp.MustCompile("(?s)```\n.*?\n  ```")

// hostileReport has one failing check per hostile string, in its summary,
// evidence and hint, plus one 6 MB evidence item (a student's queue policy).
func hostileReport() checks.Report {
	rep := checks.Report{Target: checks.Target{Kind: "endpoint", Account: "000000000000", Region: "us-east-1", Endpoint: "http://127.0.0.1:1"}}
	var rs []checks.Result
	for _, h := range safetext.Hostile {
		rs = append(rs, checks.Result{CheckID: "sns-sqs.queue-policy", Step: lab.StepSNSSQS, Status: checks.Fail, Weight: 1,
			Summary: "saw " + h, Evidence: []string{"value: " + h, h + "\n" + h}, Hint: "fix " + h})
	}
	rs = append(rs, checks.Result{CheckID: "sns-sqs.queue-policy", Step: lab.StepSNSSQS, Status: checks.Error, Weight: 1,
		Summary: "huge", Evidence: []string{strings.Repeat("\x1b[2J", 6<<20/4)}})
	rep.Results = rs
	st, score, max := checks.Aggregate(rs)
	rep.Steps = []checks.StepReport{{ID: lab.StepSNSSQS, Status: st, Score: score, MaxScore: max, Results: rs}}
	rep.Summary.Fail = len(rs) - 1
	rep.Summary.Error = 1
	return rep
}

// The hostile set goes through every `slab check` format: what a person
// reads (text, Markdown, JUnit) carries nothing a terminal or renderer acts
// on and no item over 2 KB; JSON escapes controls by its grammar and cuts
// evidence unless asked for all of it.
func TestHostileValuesAreInertInEveryFormat(t *testing.T) {
	rep := hostileReport()
	for _, format := range Formats {
		for _, color := range []bool{false, true} {
			if color && format != "text" {
				continue
			}
			var buf bytes.Buffer
			if err := Write(&buf, format, rep, Options{Color: color}); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if color {
				// Our own colours are the only escapes, each an SGR.
				out = sgr.ReplaceAllString(out, "")
			}
			if r, i := safetext.Unsafe(out); i >= 0 {
				t.Errorf("%s: %U at byte %d: %q", format, r, i, out[max(0, i-40):min(len(out), i+40)])
			}
			if buf.Len() > 1<<20 {
				t.Errorf("%s: %d bytes; the 6 MB item was not cut", format, buf.Len())
			}
			switch format {
			case "markdown":
				// Inside a fenced block HTML is shown, not rendered;
				// everywhere else it must be entities.
				if outside := fenced.ReplaceAllString(out, ""); strings.Contains(outside, "<img") {
					t.Errorf("markdown carries HTML outside code blocks:\n%s", outside)
				}
			case "junit":
				var doc junitSuites
				if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
					t.Errorf("junit does not parse: %v", err)
				}
				var text []string
				for _, s := range doc.Suites {
					for _, c := range s.Cases {
						if c.Failure != nil {
							text = append(text, c.Failure.Message, c.Failure.Text)
						}
					}
				}
				if r, i := safetext.Unsafe(strings.Join(text, "\n")); i >= 0 {
					t.Errorf("junit decodes to %U", r)
				}
			case "json":
				var doc Document
				if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
					t.Fatal(err)
				}
				if doc.Checks[0].Summary != "saw "+safetext.Hostile[0] {
					t.Errorf("JSON must carry values as they are (escaped by JSON): %q", doc.Checks[0].Summary)
				}
				if ev := doc.Checks[len(doc.Checks)-1].Evidence[0]; len(ev) > safetext.MaxItem+200 || !strings.Contains(ev, "--full-evidence") {
					t.Errorf("JSON evidence of %d bytes without a note", len(ev))
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := JSON(&buf, rep, Options{FullEvidence: true}); err != nil {
		t.Fatal(err)
	}
	var doc Document
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil || len(doc.Checks[len(doc.Checks)-1].Evidence[0]) != 6<<20 {
		t.Errorf("--full-evidence must keep the whole item: %v", err)
	}
}
