package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key the tutor answers, with its help text.
//
// q is the quiz (as the lab's issue asks), so quitting is ctrl+c, ctrl+q or
// Q; esc never quits, it cancels work in flight or closes a panel, so
// pressing it twice cannot lose a running perform.
type KeyMap struct {
	Up, Down          key.Binding
	PrevStep          key.Binding
	NextStep          key.Binding
	JumpStep          key.Binding
	FocusNext         key.Binding
	FocusPrev         key.Binding
	PageUp, PageDown  key.Binding
	HalfUp, HalfDown  key.Binding
	Top, Bottom       key.Binding
	Copy              key.Binding
	PrevCmd, NextCmd  key.Binding
	Check, CheckAll   key.Binding
	Perform           key.Binding
	Probe             key.Binding
	Cost              key.Binding
	Cleanup           key.Binding
	Quiz              key.Binding
	Troubleshoot      key.Binding
	Changed           key.Binding
	Help              key.Binding
	Cancel            key.Binding
	Quit              key.Binding
	Confirm, Deny     key.Binding
	Overview          key.Binding
	RoadLeast         key.Binding
	RoadGuide         key.Binding
	Enter             key.Binding
	ChoiceUp, ChoiceD key.Binding
}

// DefaultKeyMap is the tutor's key map.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:           key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up (in the focused pane)")),
		Down:         key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PrevStep:     key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "previous step")),
		NextStep:     key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "next step")),
		JumpStep:     key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8"), key.WithHelp("1-8", "go to step")),
		FocusNext:    key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "focus next pane")),
		FocusPrev:    key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "focus previous pane")),
		PageUp:       key.NewBinding(key.WithKeys("pgup", "b"), key.WithHelp("pgup/b", "page up")),
		PageDown:     key.NewBinding(key.WithKeys("pgdown", "space"), key.WithHelp("pgdn/space", "page down")),
		HalfUp:       key.NewBinding(key.WithKeys("ctrl+u"), key.WithHelp("ctrl+u", "half page up")),
		HalfDown:     key.NewBinding(key.WithKeys("ctrl+d"), key.WithHelp("ctrl+d", "half page down")),
		Top:          key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "top of lesson")),
		Bottom:       key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "bottom of lesson")),
		Copy:         key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy command")),
		PrevCmd:      key.NewBinding(key.WithKeys("["), key.WithHelp("[", "previous command")),
		NextCmd:      key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "next command")),
		Check:        key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "check step")),
		CheckAll:     key.NewBinding(key.WithKeys("C"), key.WithHelp("C", "check all steps")),
		Perform:      key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "perform step for me")),
		Probe:        key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "probe the chain (step 8)")),
		Cost:         key.NewBinding(key.WithKeys("$"), key.WithHelp("$", "cost")),
		Cleanup:      key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "clean up everything")),
		Quiz:         key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quiz on this step")),
		Troubleshoot: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "how to fix it")),
		Changed:      key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "what changed since the guide")),
		Help:         key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Overview:     key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "overview: chain, progress, exam tips, troubleshooting")),
		Cancel:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel work / close")),
		Quit:         key.NewBinding(key.WithKeys("ctrl+c", "ctrl+q", "Q"), key.WithHelp("ctrl+c/Q", "quit")),
		Confirm:      key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "yes")),
		Deny:         key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "no")),
		Enter:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue")),
		RoadLeast:    key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "least-privilege inline policy")),
		RoadGuide:    key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "the guide's managed policies")),
		ChoiceUp:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/↓", "choose")),
		ChoiceD:      key.NewBinding(key.WithKeys("down", "j")),
	}
}

// ShortHelp is the footer.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.NextStep, k.Check, k.Perform, k.Copy, k.Quiz, k.Help, k.Quit}
}

// HelpGroup is one titled group of the help screen.
type HelpGroup struct {
	Title string
	Keys  []key.Binding
}

// HelpGroups is the help screen: what the learner can do first.
func (k KeyMap) HelpGroups() []HelpGroup {
	return []HelpGroup{
		{"Do", []key.Binding{k.Check, k.CheckAll, k.Troubleshoot, k.Perform, k.Probe, k.Cost, k.Cleanup, k.Quiz}},
		{"Move", []key.Binding{k.Up, k.Down, k.PrevStep, k.NextStep, k.JumpStep, k.FocusNext, k.FocusPrev}},
		{"Read and copy", []key.Binding{k.PageDown, k.PageUp, k.HalfDown, k.HalfUp, k.Top, k.Bottom, k.Changed, k.NextCmd, k.PrevCmd, k.Copy}},
		{"General", []key.Binding{k.Overview, k.Help, k.Cancel, k.Quit}},
	}
}

// FullHelp is the help screen, one column per group.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PrevStep, k.NextStep, k.JumpStep, k.FocusNext, k.FocusPrev},
		{k.PageDown, k.PageUp, k.HalfDown, k.HalfUp, k.Top, k.Bottom, k.Changed, k.NextCmd, k.PrevCmd, k.Copy},
		{k.Check, k.CheckAll, k.Troubleshoot, k.Perform, k.Probe, k.Cost, k.Cleanup, k.Quiz},
		{k.Overview, k.Help, k.Cancel, k.Quit},
	}
}
