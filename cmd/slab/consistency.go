package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/slab-lab/slab/sandbox"
)

// The sandbox's timing (see docs/timing.md) is chosen, first match wins, by
// `slab sandbox --consistency`, the environment, the --config file's
// "sandbox" object, and else defaultConsistency.
const (
	envConsistency = "SLAB_SANDBOX_CONSISTENCY"
	envTimingScale = "SLAB_SANDBOX_TIMING_SCALE"
)

// defaultConsistency is AWS's timing: the sandbox is where a learner
// rehearses for AWS, and the delays it teaches (a new role that Lambda
// cannot assume for seconds, a queue policy that takes effect later) are
// the failures the guide's readers meet most on a real account. Meeting
// them where they cost nothing, with slab showing what it waits for, is
// the lesson; the price is some seconds of waiting in `slab do`.
const defaultConsistency = sandbox.AWS

// sandboxConfig is the --config file's "sandbox" object.
type sandboxConfig struct {
	Consistency string  `json:"consistency,omitempty"`
	TimingScale float64 `json:"timing_scale,omitempty"`
}

// sandboxTiming resolves the consistency mode and scale of a sandbox this
// process starts. flag and flagScale are `slab sandbox`'s flags ("" and 0
// when not given).
func (g *globalOptions) sandboxTiming(flag string, flagScale float64) (sandbox.Consistency, float64, error) {
	cfg, err := g.readConfig()
	if err != nil {
		return "", 0, err
	}
	mode, from := string(defaultConsistency), ""
	switch {
	case flag != "":
		mode, from = flag, "--consistency"
	case os.Getenv(envConsistency) != "":
		mode, from = os.Getenv(envConsistency), envConsistency
	case cfg.Sandbox.Consistency != "":
		mode, from = cfg.Sandbox.Consistency, "--config "+g.Config
	}
	c, err := sandbox.ParseConsistency(mode)
	if err != nil {
		return "", 0, usageErr("%s: %v", from, err)
	}
	scale := 1.0
	switch {
	case flagScale != 0:
		scale, from = flagScale, "--timing-scale"
	case os.Getenv(envTimingScale) != "":
		v, err := strconv.ParseFloat(os.Getenv(envTimingScale), 64)
		if err != nil {
			return "", 0, usageErr("%s: %v", envTimingScale, err)
		}
		scale, from = v, envTimingScale
	case cfg.Sandbox.TimingScale != 0:
		scale, from = cfg.Sandbox.TimingScale, "--config "+g.Config
	}
	if scale <= 0 {
		return "", 0, usageErr("%s: the timing scale must be positive (1 is AWS's own delays)", from)
	}
	return c, scale, nil
}

// describeTiming is the sandbox banner's line about its timing.
func describeTiming(c sandbox.Consistency, scale float64) string {
	if c == sandbox.Instant {
		return "instant (every change takes effect at once)"
	}
	t := sandbox.TimingFor(c, scale)
	s := fmt.Sprintf("aws (changes propagate as on AWS: a new role is assumable by Lambda after %s", t.RoleAssumable)
	if scale != 1 {
		s += fmt.Sprintf(", delays scaled by %g", scale)
	}
	return s + ")"
}
