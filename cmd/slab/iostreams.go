package main

import (
	"io"
	"os"

	"github.com/charmbracelet/x/term"
)

// IOStreams is the command's terminal, after gh: tests swap the writers and
// set the TTY flags instead of touching the process's real streams.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY, stdoutTTY bool
	noColor             bool
	// Width of the terminal, 0 when unknown.
	Width int
}

// System returns the process's streams.
func System() *IOStreams {
	ios := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	ios.stdinTTY = term.IsTerminal(os.Stdin.Fd())
	ios.stdoutTTY = term.IsTerminal(os.Stdout.Fd())
	if ios.stdoutTTY {
		if w, _, err := term.GetSize(os.Stdout.Fd()); err == nil {
			ios.Width = w
		}
	}
	_, ios.noColor = os.LookupEnv("NO_COLOR")
	return ios
}

// IsStdoutTTY reports whether output goes to a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStdinTTY reports whether input comes from a terminal (confirmations).
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// ColorEnabled is true on a terminal without NO_COLOR or --no-color.
func (s *IOStreams) ColorEnabled() bool { return s.stdoutTTY && !s.noColor }

// SetTTY sets both TTY flags (tests).
func (s *IOStreams) SetTTY(stdin, stdout bool) { s.stdinTTY, s.stdoutTTY = stdin, stdout }
