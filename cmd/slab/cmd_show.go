package main

import (
	"fmt"
	"strings"
	"time"

	"charm.land/glamour/v2"
	"github.com/spf13/cobra"

	"github.com/slab-lab/slab/steps"
	"github.com/slab-lab/slab/tui"
)

type showOptions struct {
	Format string
}

var extraLessons = []string{"overview", "troubleshooting", "cleanup", "exam-tips"}

func newShowCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	o := &showOptions{}
	cmd := &cobra.Command{
		Use:   "show STEP",
		Short: "Print the lesson of one step, commands rendered for this target",
		Long: "Print the lesson of one step (an id or a number 1-8), or one of: " + strings.Join(extraLessons, ", ") +
			".\nCommands are rendered with your resource names, region and endpoint.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runShow(cmd, ios, g, o, args[0])
		},
	}
	cmd.Flags().StringVar(&o.Format, "format", "text", "output format: text (rendered for the terminal) or markdown")
	return cmd
}

func runShow(cmd *cobra.Command, ios *IOStreams, g *globalOptions, o *showOptions, arg string) error {
	if o.Format != "text" && o.Format != "markdown" {
		return usageErr("--format %q: want text or markdown", o.Format)
	}
	name := arg
	isExtra := false
	for _, e := range extraLessons {
		if e == arg {
			isExtra = true
		}
	}
	if !isExtra {
		st, err := steps.Find(arg)
		if err != nil {
			return usageErr("%v (or one of: %s)", err, strings.Join(extraLessons, ", "))
		}
		name = st.ID
	}
	s, err := openSession(cmd.Context(), ios, g, offline, "")
	if err != nil {
		return err
	}
	defer s.close()
	if s.identityErr != nil {
		fmt.Fprintf(ios.ErrOut, "slab: the account id is unknown (%v); commands show %s\n", s.identityErr, steps.AccountPlaceholder)
	}
	if err := s.ensureBucket(time.Now().Unix()); err != nil {
		return fmt.Errorf("save the bucket name: %w", err)
	}
	rc, err := s.renderContext()
	if err != nil {
		return err
	}
	md, err := steps.RenderLesson(name, rc)
	if err != nil {
		return err
	}
	if o.Format == "markdown" {
		_, err = fmt.Fprint(ios.Out, md)
		return err
	}
	out, err := renderMarkdown(md, ios)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(ios.Out, out)
	return err
}

// renderMarkdown renders for the terminal. Without colour (a pipe,
// NO_COLOR, --no-color) it is plain text with no escape sequence at all. On
// a colour terminal glamour styles the prose, and the code blocks are
// printed as they are: never wrapped, never styled, so they paste intact.
func renderMarkdown(md string, ios *IOStreams) (string, error) {
	if !ios.ColorEnabled() {
		return plainMarkdown(md), nil
	}
	width := ios.Width
	if width <= 0 || width > 120 {
		width = 100
	}
	r, err := glamour.NewTermRenderer(glamour.WithStandardStyle("dark"), glamour.WithWordWrap(width))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, seg := range splitFences(tui.UnwrapMarkdown(md)) {
		if seg.code {
			b.WriteString("\n" + codeBody(seg.text) + "\n")
			continue
		}
		// Relative links ("#section", "troubleshooting.md") lead nowhere
		// in a terminal: keep their text only.
		prose := mdLink.ReplaceAllStringFunc(seg.text, func(m string) string {
			p := mdLink.FindStringSubmatch(m)
			if strings.HasPrefix(p[2], "http://") || strings.HasPrefix(p[2], "https://") {
				return m
			}
			return p[1]
		})
		if strings.TrimSpace(prose) == "" {
			continue
		}
		out, err := r.Render(prose)
		if err != nil {
			return "", err
		}
		// Glamour pads every line to the wrap width; a copy should not
		// carry that padding.
		lines := strings.Split(strings.Trim(out, "\n"), "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " ")
		}
		b.WriteString(strings.Join(lines, "\n") + "\n")
	}
	return b.String(), nil
}
