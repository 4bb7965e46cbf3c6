package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/slab-lab/slab/steps"
)

type stepsOptions struct {
	Format string
}

type stepJSON struct {
	Number    int        `json:"number"`
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	Summary   string     `json:"summary"`
	Status    string     `json:"status"` // "" when never checked
	CheckedAt *time.Time `json:"checked_at,omitempty"`
}

func newStepsCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	o := &stepsOptions{}
	cmd := &cobra.Command{
		Use:   "steps",
		Short: "List the lab's steps with their last known status",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSteps(cmd, ios, g, o)
		},
	}
	cmd.Flags().StringVar(&o.Format, "format", "text", "output format: text or json")
	return cmd
}

func runSteps(cmd *cobra.Command, ios *IOStreams, g *globalOptions, o *stepsOptions) error {
	if o.Format != "text" && o.Format != "json" {
		return usageErr("--format %q: want text or json", o.Format)
	}
	s, err := openSession(cmd.Context(), ios, g, offline, "")
	if err != nil {
		return err
	}
	defer s.close()
	var list []stepJSON
	for _, st := range steps.All {
		rec := s.st.Steps[st.ID]
		j := stepJSON{Number: st.Number, ID: st.ID, Title: st.Title, Summary: st.Summary, Status: rec.Status}
		if !rec.CheckedAt.IsZero() {
			t := rec.CheckedAt
			j.CheckedAt = &t
		}
		list = append(list, j)
	}
	if o.Format == "json" {
		enc := json.NewEncoder(ios.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"target": targetJSON(s), "steps": list})
	}
	fmt.Fprintln(ios.Out, s.env.Describe())
	tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tSTEP\tTITLE\tSTATUS")
	for _, j := range list {
		status := j.Status
		if status == "" {
			status = "not checked"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", j.Number, j.ID, j.Title, status)
	}
	return tw.Flush()
}

type targetInfo struct {
	Kind     string `json:"kind"`
	Account  string `json:"account"`
	Region   string `json:"region"`
	Endpoint string `json:"endpoint,omitempty"`
}

func targetJSON(s *session) targetInfo {
	t := targetInfo{Kind: string(s.env.Target.Kind), Account: s.env.Account, Region: s.env.Region}
	if s.env.Target.Kind != "aws" {
		t.Endpoint = s.env.Target.Endpoint
	}
	return t
}
