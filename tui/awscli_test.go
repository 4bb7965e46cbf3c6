package tui

import (
	"context"
	"testing"

	"github.com/slab-lab/slab/awscli"
)

// The sandbox note names the learner's CLI version once `aws --version`
// answers: before 2.13 the export's AWS_ENDPOINT_URL does nothing.
func TestExportNoteFollowsTheDetectedCLI(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    awscli.Version
		ok   bool
		want string
	}{
		{"debian", awscli.Version{Major: 2, Minor: 9, Patch: 19}, true, "your aws-cli/2.9.19 ignores its"},
		{"recent", awscli.Version{Major: 2, Minor: 22, Patch: 4}, true, "your aws-cli/2.22.4 reads its"},
		{"none", awscli.Version{}, false, "needs AWS CLI 2.13+"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := sandboxOptions(&store{})
			o.Hooks.AWSCLIVersion = func(context.Context) (awscli.Version, bool) { return tc.v, tc.ok }
			h := start(t, o, 160, 40)
			h.settle("Sandbox:", tc.want)
		})
	}
}
