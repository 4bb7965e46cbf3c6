package grade_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/slab-lab/slab/grade"
	"github.com/slab-lab/slab/internal/safetext"
	"github.com/slab-lab/slab/report"
)

// The hostile set as roster names, account errors and check findings goes
// through the terminal table and every report file: nothing a terminal or a
// renderer acts on, and no CSV cell a spreadsheet runs.
func TestHostileValuesAreInertInEveryGradeFormat(t *testing.T) {
	var rows []grade.Row
	for i, h := range safetext.Hostile {
		r := grade.Row{Student: h, Status: "fail", Total: 1, Target: report.TargetJSON{Account: "000000000000", Region: h},
			Checks: []report.CheckJSON{{ID: "iam-role.exists", Step: "iam-role", Status: "fail", Summary: "saw " + h, Evidence: []string{h}, Hint: h}}}
		if i%2 == 1 {
			r.Status, r.Error, r.Checks = "error", h, nil
		}
		rows = append(rows, r)
	}
	c := grade.Class{Rows: rows, Rubric: &grade.Rubric{}, Target: "ENDPOINT \x1b]0;t\x07"}
	var table bytes.Buffer
	if err := grade.Table(&table, c); err != nil {
		t.Fatal(err)
	}
	outs := map[string][]byte{"table": table.Bytes()}
	for _, f := range grade.Formats {
		var buf bytes.Buffer
		if err := grade.Write(&buf, f, c); err != nil {
			t.Fatal(err)
		}
		outs[f] = buf.Bytes()
	}
	for name, b := range outs {
		if r, i := safetext.Unsafe(string(b)); i >= 0 {
			t.Errorf("%s: %U at byte %d: %q", name, r, i, b[max(0, i-40):min(len(b), i+40)])
		}
	}
	recs, err := csv.NewReader(bytes.NewReader(outs["csv"])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs[1:] {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("CSV cell %q would run as a formula", cell)
			}
		}
	}
	if strings.Contains(string(outs["markdown"]), "<img") {
		t.Errorf("markdown carries HTML:\n%s", outs["markdown"])
	}
	if err := xml.Unmarshal(outs["junit"], new(grade.JUnitSuites)); err != nil {
		t.Errorf("junit: %v", err)
	}
	var doc grade.ClassDocument
	if err := json.Unmarshal(outs["json"], &doc); err != nil || doc.Students[0].Student == "" {
		t.Errorf("json: %v", err)
	}
}
