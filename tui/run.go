package tui

import (
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"context"
	"github.com/charmbracelet/colorprofile"
)

// Run runs the tutor until the learner quits, then writes any state change
// not yet on disk. Extra program options let the caller pick the terminal's
// streams.
func Run(ctx context.Context, o Options, extra ...tea.ProgramOption) error {
	if o.Profile == colorprofile.Unknown {
		// lipgloss detected the profile of stdout when it initialised;
		// detecting again costs a `tmux info` process inside tmux.
		o.Profile = lipgloss.Writer.Profile
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := New(ctx, o)
	opts := append([]tea.ProgramOption{tea.WithContext(ctx), tea.WithColorProfile(o.Profile)}, extra...)
	_, err := tea.NewProgram(m, opts...).Run()
	// Hooks still running see their context end here.
	cancel()
	if ferr := m.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	return err
}
