package tui

import (
	"context"
	"fmt"
	"runtime/debug"

	tea "charm.land/bubbletea/v2"

	"github.com/slab-lab/slab/awscli"
	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/steps"
)

// Messages of the work the tutor starts. Each hook's answer comes back as
// one of these, never as a mutation from inside a command.
type (
	checkStartedMsg  struct{ StepID string }
	checkProgressMsg struct {
		StepID string
		Result checks.Result
	}
	checksDoneMsg struct {
		StepID  string
		Results []checks.Result
		Err     error
	}
	allChecksDoneMsg struct{ Err error }

	probeProgressMsg struct{ Result checks.Result }
	probeDoneMsg     struct {
		Results []checks.Result
		Err     error
	}

	planMsg struct {
		StepID string
		Plan   PerformPlan
		Err    error
	}
	performProgressMsg struct {
		StepID   string
		Progress ResourceProgress
	}
	performDoneMsg struct {
		StepID  string
		Outcome steps.Outcome
		Err     error
	}

	cleanupPlanMsg struct {
		Plan CleanupPlan
		Err  error
	}
	cleanupProgressMsg struct{ Progress ResourceProgress }
	cleanupDoneMsg     struct {
		Report CleanupReport
		Err    error
	}

	costMsg struct {
		Report CostReport
		Err    error
	}

	copiedMsg struct {
		What, How string
		Err       error
	}
	cliVersionMsg struct {
		Version awscli.Version
		OK      bool
	}
	lessonRenderedMsg struct {
		Lesson renderedLesson
		Err    error
	}
	docRenderedMsg struct {
		Key  lessonKey
		Text string
		Err  error
	}

	savedMsg struct {
		Gen uint64
		Err error
	}
	saveTickMsg   struct{ Gen uint64 }
	statusTimeout struct{ Seq int }
)

// jobEnvelope carries a job's messages: progress while it runs, and its
// final message (Last) when the hook has returned.
type jobEnvelope struct {
	Job  int
	Msg  tea.Msg
	Last bool
}

type jobKind int

const (
	jobChecks jobKind = iota
	jobCheckAll
	jobProbe
	jobPlan
	jobPerform
	jobCleanupPlan
	jobCleanup
	jobCost
)

// job is work in flight: its cancel func (esc) and the channel its messages
// arrive on.
type job struct {
	id     int
	kind   jobKind
	stepID string
	cancel context.CancelFunc
	ch     chan jobEnvelope
}

// startJob registers a job and returns the command that runs it. run gets
// a context esc can cancel and a send func for progress; its return value is
// the job's last message. Panics in hooks become errors rather than a
// terminal left in raw mode.
func (m *Model) startJob(kind jobKind, stepID string, run func(ctx context.Context, send func(tea.Msg)) tea.Msg) (int, tea.Cmd) {
	m.nextJob++
	id := m.nextJob
	ctx, cancel := context.WithCancel(m.ctx)
	ch := make(chan jobEnvelope, 32)
	m.jobs[id] = &job{id: id, kind: kind, stepID: stepID, cancel: cancel, ch: ch}
	root := m.ctx
	start := func() tea.Msg {
		go func() {
			send := func(msg tea.Msg) {
				select {
				case ch <- jobEnvelope{Job: id, Msg: msg}:
				case <-ctx.Done():
				}
			}
			final := run(ctx, send)
			select {
			case ch <- jobEnvelope{Job: id, Msg: final, Last: true}:
			case <-root.Done():
			}
		}()
		return receive(ch, root)
	}
	return id, start
}

func receive(ch chan jobEnvelope, root context.Context) tea.Msg {
	select {
	case e := <-ch:
		return e
	case <-root.Done():
		return nil
	}
}

func (m *Model) listen(id int) tea.Cmd {
	j, ok := m.jobs[id]
	if !ok {
		return nil
	}
	ch, root := j.ch, m.ctx
	return func() tea.Msg { return receive(ch, root) }
}

// guard runs a hook, turning a panic into an error.
func guard(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v\n%s", r, debug.Stack())
		}
	}()
	return fn()
}
