// Package state keeps what slab remembers per target (the sandbox, or an
// account and region): the learner's names, the bucket chosen once, step
// statuses with their last results, quiz scores and where the learner was.
//
// Files are written atomically (temporary file, fsync, rename) with mode
// 0600, so a crash leaves the old or the new state, never a torn one. A file
// that cannot be parsed is moved aside and a fresh state begins: the learner
// loses remembered statuses, never their AWS resources (slab re-derives
// those from AWS).
package state

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/slab-lab/slab/internal/atomicfile"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Version is the schema version written to new files.
const Version = 1

// State is one target's memory.
type State struct {
	Version int `json:"version"`
	// ID is a short random id, written into resource tags so cleanup can
	// tell this learner's resources from a classmate's in a shared account.
	ID     string            `json:"id"`
	Target string            `json:"target"`
	Names  map[string]string `json:"names,omitempty"` // overrides and the chosen bucket
	// Current is the step the learner was on.
	Current string                `json:"current,omitempty"`
	Steps   map[string]StepRecord `json:"steps,omitempty"`
	Quiz    map[string]QuizRecord `json:"quiz,omitempty"`
	// Resources records what perform created, so an interrupted run can
	// say what exists.
	Resources map[string]string `json:"resources,omitempty"`
	// StartedAt is when the learner first opened the lab in the tutor; the
	// finish screen counts the time taken from it.
	StartedAt time.Time `json:"started_at,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	// ChangedAt is when slab last changed the lab's resources (a perform
	// that created or updated something): checks soon after it allow for
	// AWS's propagation before calling a failure.
	ChangedAt time.Time `json:"changed_at,omitzero"`
}

// StepRecord is the last verification of a step.
type StepRecord struct {
	Status    string          `json:"status"` // pass, warn, fail, error, skip, or "" when never checked
	Score     int             `json:"score"`
	MaxScore  int             `json:"max_score"`
	CheckedAt time.Time       `json:"checked_at"`
	Results   json.RawMessage `json:"results,omitempty"`
}

// QuizRecord is the best quiz result of a step.
type QuizRecord struct {
	Correct    int       `json:"correct"`
	Total      int       `json:"total"`
	AnsweredAt time.Time `json:"answered_at"`
	// Missed are the ids of the questions the last attempt got wrong: the
	// next attempt asks them first.
	Missed []string `json:"missed,omitempty"`
}

// File is a state file on disk.
type File struct {
	Path string
}

// Dir returns the default state directory: $XDG_CONFIG_HOME/slab or the
// platform's user config dir.
func Dir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user config directory (set --state-dir): %w", err)
	}
	return filepath.Join(d, "slab"), nil
}

var unsafe = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// ForTarget names the state file of a target key such as "sandbox" or
// "aws-123456789012-eu-west-1".
func ForTarget(dir, key string) File {
	return File{Path: filepath.Join(dir, "state-"+unsafe.ReplaceAllString(key, "_")+".json")}
}

// New returns a fresh state for a target.
func New(target string) *State {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &State{Version: Version, ID: hex.EncodeToString(b[:]), Target: target, Names: map[string]string{}, Steps: map[string]StepRecord{}, Quiz: map[string]QuizRecord{}, Resources: map[string]string{}}
}

// Load reads the state. A missing file yields a fresh state. A corrupt file
// is renamed to <path>.corrupt-<time> and a fresh state is returned with a
// notice describing what happened (err stays nil: the command goes on).
func (f File) Load(target string) (st *State, notice string, err error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return New(target), "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read state %s: %w", f.Path, err)
	}
	st = &State{}
	perr := json.Unmarshal(b, st)
	if perr == nil && st.Version > Version {
		perr = fmt.Errorf("written by a newer slab (schema %d, this slab reads %d)", st.Version, Version)
	}
	if perr == nil && st.ID == "" {
		perr = errors.New("no state id")
	}
	if perr != nil {
		aside := f.Path + ".corrupt-" + time.Now().UTC().Format("20060102T150405Z")
		if rerr := os.Rename(f.Path, aside); rerr != nil {
			return nil, "", fmt.Errorf("state %s is unreadable (%v) and could not be moved aside: %w", f.Path, perr, rerr)
		}
		return New(target), fmt.Sprintf("state file %s was unreadable (%v); moved it to %s and started a fresh state (your AWS resources are untouched)", f.Path, perr, aside), nil
	}
	if st.Names == nil {
		st.Names = map[string]string{}
	}
	if st.Steps == nil {
		st.Steps = map[string]StepRecord{}
	}
	if st.Quiz == nil {
		st.Quiz = map[string]QuizRecord{}
	}
	if st.Resources == nil {
		st.Resources = map[string]string{}
	}
	return st, "", nil
}

// Save writes the state atomically with mode 0600.
func (f File) Save(st *State) error {
	st.Version = Version
	st.UpdatedAt = time.Now().UTC()
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return atomicfile.Write(f.Path, append(b, '\n'), 0o600)
}

// TargetKey is the file key of a target: "sandbox", "aws-<account>-<region>",
// or "endpoint-<host>-<account>-<region>".
func TargetKey(kind, endpoint, account, region string) string {
	switch kind {
	case "sandbox":
		if region != "" && region != "us-east-1" {
			return "sandbox-" + region
		}
		return "sandbox"
	case "aws":
		return "aws-" + account + "-" + region
	default:
		host := endpoint
		if i := strings.Index(host, "://"); i >= 0 {
			host = host[i+3:]
		}
		return "endpoint-" + host + "-" + account + "-" + region
	}
}
