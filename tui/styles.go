package tui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// Styles is every style the tutor draws with, by meaning. Views use these and
// never build styles of their own, so light, dark and no-colour terminals
// change in one place.
type Styles struct {
	// Header
	Brand, Target, TargetAWS, Stats lipgloss.Style
	// Panes
	PaneTitle, PaneTitleFocused, Separator, Muted, Bold lipgloss.Style
	// Step list
	Step, StepSelected, StepSelectedBlurred lipgloss.Style
	// Statuses
	Pass, Warn, Fail, Error, Skip, NotChecked, Running lipgloss.Style
	// Results
	ResultSelected, Evidence, Hint, Link lipgloss.Style
	// Command bar
	CommandLabel, CommandTitle lipgloss.Style
	// Status line
	Info, Notice, Problem lipgloss.Style
	// Dialogs
	DialogTitle, Danger, Key, Input            lipgloss.Style
	Choice, ChoiceSelected, Correct, Incorrect lipgloss.Style
	// Help is the style of the help bubble (footer and full help).
	Help help.Styles
	// Spinner colours the running indicator.
	Spinner lipgloss.Style
	// Color is false on NO_COLOR, --no-color and ASCII terminals: emphasis
	// then uses bold, reverse and underline only.
	Color bool
}

// NewStyles builds the styles for a background and a colour capability.
func NewStyles(isDark, colour bool) Styles {
	base := lipgloss.NewStyle()
	bold := base.Bold(true)
	if !colour {
		s := Styles{
			Brand: bold.Reverse(true).Padding(0, 1), Target: bold, TargetAWS: bold.Underline(true), Stats: base,
			PaneTitle: bold, PaneTitleFocused: bold.Underline(true), Separator: base, Muted: base, Bold: bold,
			Step: base, StepSelected: base.Reverse(true), StepSelectedBlurred: bold,
			Pass: bold, Warn: bold, Fail: bold, Error: bold, Skip: base, NotChecked: base, Running: bold,
			ResultSelected: base.Reverse(true), Evidence: base, Hint: base, Link: base.Underline(true),
			CommandLabel: bold, CommandTitle: base,
			Info: base, Notice: bold, Problem: bold,
			DialogTitle: bold.Underline(true), Danger: bold.Underline(true), Key: bold, Input: base.Underline(true),
			Choice: base, ChoiceSelected: base.Reverse(true), Correct: bold, Incorrect: bold,
			Spinner: base,
		}
		s.Help = help.Styles{ShortKey: bold, ShortDesc: base, ShortSeparator: base, Ellipsis: base, FullKey: bold, FullDesc: base, FullSeparator: base}
		return s
	}
	ld := lipgloss.LightDark(isDark)
	c := func(light, dark string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(dark)) }
	var (
		fg      = c("#1F1F1F", "#E4E4E4")
		muted   = c("#6B6B6B", "#8A8A8A")
		faint   = c("#B8B8B8", "#4A4A4A")
		accent  = c("#5A3FD0", "#9D8CFF")
		green   = c("#187A2F", "#5FD37A")
		yellow  = c("#8A6100", "#E8C15A")
		red     = c("#B3261E", "#FF6B6B")
		orange  = c("#A04A00", "#FF9E4A")
		blue    = c("#0B57D0", "#7AB8FF")
		selBG   = c("#E4DEFF", "#3B3466")
		selBGFa = c("#EDEDED", "#2E2E2E")
	)
	s := Styles{
		Brand:     bold.Foreground(c("#FFFFFF", "#1A1A1A")).Background(accent).Padding(0, 1),
		Target:    bold.Foreground(blue),
		TargetAWS: bold.Foreground(orange),
		Stats:     base.Foreground(muted),

		PaneTitle:        bold.Foreground(muted),
		PaneTitleFocused: bold.Foreground(accent),
		Separator:        base.Foreground(faint),
		Muted:            base.Foreground(muted),
		Bold:             bold.Foreground(fg),

		Step:                base.Foreground(fg),
		StepSelected:        bold.Foreground(fg).Background(selBG),
		StepSelectedBlurred: bold.Foreground(fg).Background(selBGFa),

		Pass:       bold.Foreground(green),
		Warn:       bold.Foreground(yellow),
		Fail:       bold.Foreground(red),
		Error:      bold.Foreground(orange),
		Skip:       base.Foreground(muted),
		NotChecked: base.Foreground(muted),
		Running:    bold.Foreground(accent),

		ResultSelected: base.Background(selBG),
		Evidence:       base.Foreground(muted),
		Hint:           base.Foreground(fg),
		Link:           base.Foreground(blue).Underline(true),

		CommandLabel: bold.Foreground(accent),
		CommandTitle: base.Foreground(fg),

		Info:    base.Foreground(fg),
		Notice:  bold.Foreground(yellow),
		Problem: bold.Foreground(red),

		DialogTitle:    bold.Foreground(accent),
		Danger:         bold.Foreground(red),
		Key:            bold.Foreground(accent),
		Input:          base.Foreground(fg).Underline(true),
		Choice:         base.Foreground(fg),
		ChoiceSelected: bold.Foreground(fg).Background(selBG),
		Correct:        bold.Foreground(green),
		Incorrect:      bold.Foreground(red),

		Spinner: base.Foreground(accent),
		Color:   true,
	}
	s.Help = help.Styles{
		ShortKey: base.Foreground(accent), ShortDesc: base.Foreground(muted), ShortSeparator: base.Foreground(faint),
		Ellipsis: base.Foreground(faint), FullKey: bold.Foreground(accent), FullDesc: base.Foreground(fg), FullSeparator: base.Foreground(faint),
	}
	return s
}
