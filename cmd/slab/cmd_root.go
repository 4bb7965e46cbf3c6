package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/spf13/cobra"

	"github.com/slab-lab/slab/awscli"
	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/sandbox"
	"github.com/slab-lab/slab/state"
	"github.com/slab-lab/slab/steps"
	"github.com/slab-lab/slab/tui"
)

// runRoot opens the tutor on a terminal. When stdin or stdout is not a
// terminal (pipes, CI) it prints the lab outline and the command list.
func runRoot(cmd *cobra.Command, ios *IOStreams, g *globalOptions) error {
	if !ios.IsStdoutTTY() || !ios.IsStdinTTY() {
		s, err := openSession(cmd.Context(), ios, g, offline, "")
		if err != nil {
			return err
		}
		defer s.close()
		printOutline(ios, s)
		return nil
	}
	// Online: the tutor shows the account it talks to. On the sandbox target
	// this starts the sandbox in-process (unless `slab sandbox` already
	// serves the data directory); it lives as long as the tutor.
	s, err := openSession(cmd.Context(), ios, g, online, sandbox.DefaultAddr)
	if err != nil {
		return err
	}
	defer s.close()
	// npm's output would run over the tutor's screen; a failure still
	// reaches the learner as the function's start error.
	s.nodeSDK.O.Progress = io.Discard
	if err := s.ensureBucket(time.Now().Unix()); err != nil {
		return fmt.Errorf("save the bucket name: %w", err)
	}
	rc, err := s.renderContext()
	if err != nil {
		return err
	}
	opts := tui.Options{
		Target:     tui.TargetOf(s.env),
		State:      s.st,
		Render:     rc,
		Hooks:      tutorHooks(s),
		Accessible: g.Accessible,
	}
	if s.stateFile != nil {
		f := *s.stateFile
		opts.Save = func(st *state.State) error { return f.Save(st) }
	}
	if s.env.Target.Kind == awsenv.Sandbox {
		opts.SandboxExport = steps.SandboxExport(s.env.Target.Endpoint, s.env.Region)
	}
	if !ios.ColorEnabled() {
		opts.Profile = colorprofile.ASCII
	}
	if path := os.Getenv(firstFrameEnv); path != "" {
		opts.FirstFrame = func() { writeFirstFrame(path, time.Now()) }
	}
	return tui.Run(cmd.Context(), opts, tea.WithInput(ios.In), tea.WithOutput(ios.Out))
}

// firstFrameEnv names a file that receives the moment of the tutor's first
// full frame (Unix nanoseconds): BenchmarkStartupToFirstFrame reads it.
const firstFrameEnv = "SLAB_FIRST_FRAME_FILE"

func writeFirstFrame(path string, at time.Time) {
	_ = os.WriteFile(path, []byte(strconv.FormatInt(at.UnixNano(), 10)), 0o600)
}

// tutorHooks is where the tutor's features plug in as they land: checks and
// probes (issue #7), perform (#6), cleanup and cost (#8). A nil hook makes
// its key say that the feature is not in this build.
func tutorHooks(s *session) tui.Hooks {
	h := tui.Hooks{}
	addCheckHooks(s, &h)
	addPerformHooks(s, &h)
	addCleanupHooks(s, &h)
	addCostHooks(s, &h)
	h.AWSCLIVersion = awscli.Detect
	h.Copy = copyOut
	return h
}

func printOutline(ios *IOStreams, s *session) {
	w := ios.Out
	fmt.Fprintln(w, "Serverless Integration Patterns lab")
	fmt.Fprintln(w, "target: "+s.env.Describe())
	fmt.Fprintln(w)
	for _, st := range steps.All {
		status := s.st.Steps[st.ID].Status
		if status == "" {
			status = "not checked"
		}
		fmt.Fprintf(w, "  %d. %-16s %-45s [%s]\n", st.Number, st.ID, st.Title, status)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range [][2]string{
		{"slab", "on a terminal: the interactive tutor (--accessible: no animation, statuses in words)"},
		{"slab show STEP", "the lesson for a step (id or 1-8), commands rendered for this target"},
		{"slab show overview", "the architecture, costs and targets (also: troubleshooting, cleanup, exam-tips)"},
		{"slab do STEP | --all", "perform steps for you"},
		{"slab check [STEP]", "verify your resources"},
		{"slab cleanup", "delete everything the lab created"},
		{"slab sandbox", "serve the sandbox for the AWS CLI in another terminal"},
		{"slab target", "which account, region and endpoint slab talks to"},
	} {
		fmt.Fprintf(w, "  %-22s %s\n", c[0], c[1])
	}
}
