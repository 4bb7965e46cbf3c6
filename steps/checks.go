package steps

import "github.com/slab-lab/slab/checks"

// Each step carries its checks; the ids are fixed by checks.ForStep.
func init() {
	for _, s := range All {
		s.Checks = checks.ForStep(s.ID)
	}
}
