package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slab-lab/slab/steps"
)

// runRoot opens the tutor. Until the TUI lands, and whenever stdout is not
// a terminal, it prints the lab outline and the command list.
func runRoot(cmd *cobra.Command, ios *IOStreams, g *globalOptions) error {
	s, err := openSession(cmd.Context(), ios, g, offline, "")
	if err != nil {
		return err
	}
	defer s.close()
	printOutline(ios, s)
	return nil
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
