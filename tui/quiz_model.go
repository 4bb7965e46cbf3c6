package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/slab-lab/slab/state"
)

// quizModel is the quiz overlay as a model of its own, as crush and
// soft-serve build their dialogs: its state, its key map and its Update.
// It knows nothing of the state file; Update reports when the learner
// closes it or finishes, and the root records the result.
type quizModel struct {
	keys     quizKeyMap
	stepID   string
	qs       []Question
	idx      int
	choice   int
	answered bool
	picked   int
	correct  int
	done     bool
	best     state.QuizRecord
	improved bool
	// missedFirst is how many of qs were missed last time (they lead).
	missedFirst int
	missed      []string // ids got wrong in this attempt
}

// quizKeyMap is the quiz's own keys.
type quizKeyMap struct {
	Up, Down, Answer, Next, Leave key.Binding
}

func defaultQuizKeys() quizKeyMap {
	return quizKeyMap{
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/↓", "choose")),
		Down:   key.NewBinding(key.WithKeys("down", "j")),
		Answer: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "answer")),
		Next:   key.NewBinding(key.WithKeys("enter", "space"), key.WithHelp("enter", "next")),
		Leave:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "leave quiz")),
	}
}

// ShortHelp is the quiz's footer for where the learner is in it.
func (q *quizModel) ShortHelp() []key.Binding {
	switch {
	case q.done:
		return []key.Binding{hint("enter/esc", "close")}
	case q.answered:
		return []key.Binding{q.keys.Next, q.keys.Leave}
	default:
		return []key.Binding{hint("a-d", "answer"), q.keys.Up, q.keys.Answer, q.keys.Leave}
	}
}

func newQuizModel(stepID string, missed []string) *quizModel {
	qs := QuizMissedFirst(stepID, missed)
	was := map[string]bool{}
	for _, id := range missed {
		was[id] = true
	}
	n := 0
	for _, q := range qs {
		if was[q.ID] {
			n++
		}
	}
	return &quizModel{keys: defaultQuizKeys(), stepID: stepID, qs: qs, missedFirst: n}
}

// quizOutcome is what a key did to the quiz, for the root.
type quizOutcome int

const (
	quizContinues quizOutcome = iota
	quizClosed                // leave the overlay
	quizFinished              // the last question answered: record it
)

// Update handles one key.
func (q *quizModel) Update(msg tea.KeyPressMsg) quizOutcome {
	k := q.keys
	if key.Matches(msg, k.Leave) {
		return quizClosed
	}
	if q.done {
		if key.Matches(msg, k.Next) {
			return quizClosed
		}
		return quizContinues
	}
	cur := q.qs[q.idx]
	if q.answered {
		if key.Matches(msg, k.Next) {
			q.idx++
			q.answered, q.choice = false, 0
			if q.idx == len(q.qs) {
				q.done = true
				return quizFinished
			}
		}
		return quizContinues
	}
	s := msg.String()
	switch {
	case key.Matches(msg, k.Up):
		q.choice = (q.choice - 1 + len(cur.Choices)) % len(cur.Choices)
	case key.Matches(msg, k.Down):
		q.choice = (q.choice + 1) % len(cur.Choices)
	case len(s) == 1 && s[0] >= 'a' && int(s[0]-'a') < len(cur.Choices):
		q.choice = int(s[0] - 'a')
		q.answer()
	case len(s) == 1 && s[0] >= '1' && int(s[0]-'1') < len(cur.Choices):
		q.choice = int(s[0] - '1')
		q.answer()
	case key.Matches(msg, k.Answer):
		q.answer()
	}
	return quizContinues
}

func (q *quizModel) answer() {
	q.answered, q.picked = true, q.choice
	if q.choice == q.qs[q.idx].Answer {
		q.correct++
	} else {
		q.missed = append(q.missed, q.qs[q.idx].ID)
	}
}
