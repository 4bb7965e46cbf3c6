package grade

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// PartialPath is where rows are appended as students finish, beside out.
func PartialPath(out string) string { return out + ".partial.jsonl" }

// Partial appends rows, one JSON line each, synced as written, so a crash
// or Ctrl-C keeps every student already graded.
type Partial struct {
	mu sync.Mutex
	f  *os.File
}

// OpenPartial opens the partial file: appending when resuming, else anew.
func OpenPartial(path string, resume bool) (*Partial, error) {
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if !resume {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return nil, err
	}
	return &Partial{f: f}, nil
}

// Append writes one row.
func (p *Partial) Append(r Row) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.f.Write(append(b, '\n')); err != nil {
		return err
	}
	return p.f.Sync()
}

// Close closes the file.
func (p *Partial) Close() error { return p.f.Close() }

// ReadPartial reads the rows of a partial file (none when it does not
// exist). A torn last line (the crash came mid-write) is ignored; a later
// row for a student replaces an earlier one.
func ReadPartial(path string) ([]Row, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	byName := map[string]int{}
	var rows []Row
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	line := 0
	var bad error
	for sc.Scan() {
		line++
		if bad != nil {
			return nil, bad // a bad line that was not the last
		}
		var r Row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.Student == "" {
			bad = fmt.Errorf("%s:%d: not a graded row", path, line)
			continue
		}
		if i, ok := byName[r.Student]; ok {
			rows[i] = r
			continue
		}
		byName[r.Student] = len(rows)
		rows = append(rows, r)
	}
	return rows, sc.Err()
}
