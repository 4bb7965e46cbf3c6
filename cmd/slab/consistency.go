package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/sandbox"
	"github.com/slab-lab/slab/steps"
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

// changedSomething reports whether a perform created, updated or did
// anything (AWS then needs a moment before every change is observable).
func changedSomething(out steps.Outcome) bool {
	for _, r := range out.Resources {
		switch r.Action {
		case steps.ActionCreated, steps.ActionUpdated, steps.ActionDone:
			return true
		}
	}
	return false
}

// checkTiming is what the checks need to tell "not yet" from "wrong": when
// slab last changed the lab (this process's perform, or the state file's),
// and how long to re-read a failure right after it. Real AWS gets the
// checks' default; a sandbox only when it applies AWS's timing.
func (s *session) checkTiming() (time.Time, time.Duration) {
	changed := s.changedAt
	if s.st != nil && s.st.ChangedAt.After(changed) {
		changed = s.st.ChangedAt
	}
	if s.env.IsAWS() {
		return changed, 0
	}
	c := s.consistency
	if c == "" {
		c = remoteConsistency(s.env.Target.Endpoint)
	}
	if c == sandbox.AWS {
		return changed, checks.DefaultSettle
	}
	return changed, -1
}

// remoteConsistency asks a sandbox served by another process for its
// timing; "" when the endpoint is not a slab sandbox or does not say.
func remoteConsistency(endpoint string) sandbox.Consistency {
	if endpoint == "" {
		return ""
	}
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(strings.TrimRight(endpoint, "/") + "/_slab/health")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var h struct {
		Consistency string `json:"consistency"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 4096)).Decode(&h) != nil {
		return ""
	}
	c, err := sandbox.ParseConsistency(h.Consistency)
	if err != nil || h.Consistency == "" {
		return ""
	}
	return c
}
