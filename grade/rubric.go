package grade

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/slab-lab/slab/checks"
)

// Rubric overrides check weights. A weight of 0 leaves a check out of the
// grade (it does not run).
type Rubric struct {
	Source  string         // file it came from, "" for the checks' own weights
	Weights map[string]int // check id -> weight
}

// LoadRubric reads a rubric: JSON {"weights": {"check-id": n}} or a CSV
// check_id,weight (header optional).
func LoadRubric(path string) (*Rubric, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rubric: %w", err)
	}
	r := &Rubric{Source: filepath.Base(path), Weights: map[string]int{}}
	trimmed := bytes.TrimSpace(b)
	if bytes.HasPrefix(trimmed, []byte("{")) {
		var doc struct {
			Weights map[string]int `json:"weights"`
		}
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("rubric %s: %v (expected {\"weights\": {\"check-id\": 2}})", path, err)
		}
		r.Weights = doc.Weights
	} else {
		rd := csv.NewReader(bytes.NewReader(trimmed))
		rd.TrimLeadingSpace = true
		rd.Comment = '#'
		for {
			rec, err := rd.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("rubric %s: %v", path, err)
			}
			line, _ := rd.FieldPos(0)
			if len(rec) != 2 {
				return nil, fmt.Errorf("rubric %s:%d: want check_id,weight", path, line)
			}
			id, ws := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
			if line == 1 && id == "check_id" {
				continue
			}
			w, err := strconv.Atoi(ws)
			if err != nil {
				return nil, fmt.Errorf("rubric %s:%d: weight %q is not a whole number", path, line, ws)
			}
			r.Weights[id] = w
		}
	}
	for id, w := range r.Weights {
		c, ok := checks.ByID(id)
		if !ok {
			return nil, fmt.Errorf("rubric %s: unknown check id %q (`slab check --format json` lists them)", path, id)
		}
		if c.Probe {
			return nil, fmt.Errorf("rubric %s: %q is an end-to-end probe, which grading never runs", path, id)
		}
		if w < 0 {
			return nil, fmt.Errorf("rubric %s: weight of %q is negative", path, id)
		}
	}
	return r, nil
}

// weight is a check's weight under the rubric (nil: the check's own).
func (r *Rubric) weight(c checks.Check) int {
	if r != nil {
		if w, ok := r.Weights[c.ID]; ok {
			return w
		}
	}
	if c.Weight <= 0 {
		return 1 // as checks.Aggregate counts it
	}
	return c.Weight
}

// Graded is the checks a grade runs, in lab order: every read-only check
// whose weight is not 0.
func (r *Rubric) Graded() []checks.Check {
	var out []checks.Check
	for _, c := range checks.Select(checks.Options{}) {
		if r.weight(c) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// Total is the most a student can score: the sum of the graded weights.
func (r *Rubric) Total() int {
	t := 0
	for _, c := range r.Graded() {
		t += r.weight(c)
	}
	return t
}

// Describe says where the weights come from, for reports.
func (r *Rubric) Describe() string {
	if r == nil || r.Source == "" {
		return "the checks' own weights"
	}
	return "rubric " + r.Source
}
