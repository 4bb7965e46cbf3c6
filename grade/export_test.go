package grade

import (
	"context"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
)

// WithRun replaces checks.Run for a test.
func WithRun(o Options, run func(context.Context, *awsenv.Env, lab.Names, checks.Options) checks.Report) Options {
	o.run = run
	return o
}
