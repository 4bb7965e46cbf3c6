package report

import (
	"bytes"
	"encoding/json"
	"io"
	"time"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/internal/safetext"
)

// SchemaVersion is the version of the JSON document; it changes only when a
// field changes meaning or disappears (adding fields does not).
const SchemaVersion = 1

// Document is the JSON report (README: "slab check --format json").
type Document struct {
	Target        TargetJSON  `json:"target"`
	Summary       SummaryJSON `json:"summary"`
	Checks        []CheckJSON `json:"checks"`
	Steps         []StepJSON  `json:"steps"`
	Probe         bool        `json:"probe"`
	GeneratedAt   time.Time   `json:"generated_at"`
	SlabVersion   string      `json:"slab_version"`
	SchemaVersion int         `json:"schema_version"`
}

// TargetJSON says where the checks ran.
type TargetJSON struct {
	Kind     string `json:"kind"`     // sandbox, aws or endpoint
	Account  string `json:"account"`  // 12 digits
	Region   string `json:"region"`   // e.g. us-east-1
	Endpoint string `json:"endpoint"` // "" for aws
}

// SummaryJSON counts the checks.
type SummaryJSON struct {
	Status   string `json:"status"` // the worst status: pass < warn < skip < error < fail
	Pass     int    `json:"pass"`
	Fail     int    `json:"fail"`
	Warn     int    `json:"warn"`
	Error    int    `json:"error"`
	Skip     int    `json:"skip"`
	Score    int    `json:"score"`
	MaxScore int    `json:"max_score"`
}

// StepJSON is one step's outcome.
type StepJSON struct {
	ID       string `json:"id"`
	Number   int    `json:"number"`
	Status   string `json:"status"`
	Score    int    `json:"score"`
	MaxScore int    `json:"max_score"`
}

// CheckJSON is one check's result.
type CheckJSON struct {
	ID         string   `json:"id"`
	Step       string   `json:"step"`
	Status     string   `json:"status"`
	Summary    string   `json:"summary"`
	Evidence   []string `json:"evidence"`
	Hint       string   `json:"hint"`
	Weight     int      `json:"weight"`
	DurationMS int64    `json:"duration_ms"`
}

// NewDocument builds the JSON document of a report.
func NewDocument(rep checks.Report, o Options) Document {
	s := rep.Summary
	d := Document{
		SchemaVersion: SchemaVersion,
		SlabVersion:   o.Version,
		GeneratedAt:   o.generated(rep),
		Target:        TargetJSON{Kind: rep.Target.Kind, Account: rep.Target.Account, Region: rep.Target.Region, Endpoint: rep.Target.Endpoint},
		Probe:         rep.Probe,
		Summary: SummaryJSON{Status: overall(rep).String(), Pass: s.Pass, Fail: s.Fail, Warn: s.Warn, Error: s.Error, Skip: s.Skip,
			Score: s.Score, MaxScore: s.MaxScore},
		Steps:  []StepJSON{},
		Checks: []CheckJSON{},
	}
	for _, st := range rep.Steps {
		d.Steps = append(d.Steps, StepJSON{ID: st.ID, Number: stepNumber(st.ID), Status: st.Status.String(), Score: st.Score, MaxScore: st.MaxScore})
	}
	for _, r := range rep.Results {
		ev := make([]string, 0, len(r.Evidence))
		for _, e := range r.Evidence {
			if !o.FullEvidence {
				e = safetext.Truncate(e, safetext.MaxItem)
			}
			ev = append(ev, e)
		}
		d.Checks = append(d.Checks, CheckJSON{ID: r.CheckID, Step: r.Step, Status: r.Status.String(), Summary: r.Summary,
			Evidence: ev, Hint: r.Hint, Weight: r.Weight, DurationMS: r.Duration.Milliseconds()})
	}
	return d
}

// JSON writes the report as an indented JSON document.
func JSON(w io.Writer, rep checks.Report, o Options) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(NewDocument(rep, o)); err != nil {
		return err
	}
	_, err := w.Write(safetext.JSON(buf.Bytes()))
	return err
}
