package core

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/slab-lab/slab/internal/atomicfile"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Store is the single state container of the sandbox. Every service keeps its
// resources in named tables of JSON-serialisable records, so that one
// persistence mechanism (an fsynced append-only journal plus a snapshot,
// see journal below) serves all services and a transaction can span services
// (Lambda reading IAM roles, SNS delivering into SQS) with one lock.
//
// Transactions are serialised by one RWMutex: the sandbox serves one learner
// or a test suite, so simplicity and a consistent view beat write throughput.
type Store struct {
	mu     sync.RWMutex
	tables map[string]*table
	j      *journal
}

type table struct {
	name   string
	rows   map[string]any
	decode func([]byte) (any, error)
}

// Table is a typed view of one named table. Values are stored by value;
// callers that mutate maps or slices inside a value they got must Put it back
// inside the same Update, and should copy before mutating if they may still
// return an error afterwards (rollback restores the stored value, which is the
// one they mutated).
type Table[T any] struct {
	s *Store
	t *table
}

// NewStore returns an in-memory store. Call Open to attach persistence after
// every service has registered its tables.
func NewStore() *Store {
	return &Store{tables: map[string]*table{}}
}

// Register declares a table. Tables must be registered before Open so that
// replay can decode records into their Go types.
func Register[T any](s *Store, name string) *Table[T] {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.tables[name]; dup {
		panic("core: table registered twice: " + name)
	}
	t := &table{name: name, rows: map[string]any{}, decode: func(b []byte) (any, error) {
		var v T
		err := json.Unmarshal(b, &v)
		return v, err
	}}
	s.tables[name] = t
	return &Table[T]{s: s, t: t}
}

// Tx is a transaction: read-only inside View, writable inside Update.
type Tx struct {
	s        *Store
	writable bool
	undo     []undoEntry
	log      []journalEntry
}

type undoEntry struct {
	t       *table
	key     string
	prev    any
	existed bool
}

type journalEntry struct {
	Op    string          `json:"op"` // "put" or "del"
	Table string          `json:"t"`
	Key   string          `json:"k"`
	Value json.RawMessage `json:"v,omitempty"`
	value any
}

// View runs fn with a read-only transaction.
func (s *Store) View(fn func(tx *Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn(&Tx{s: s})
}

// ErrReadOnly is returned by a write attempted inside View.
var ErrReadOnly = errors.New("core: write in a read-only transaction")

// Update runs fn with a writable transaction. If fn returns an error every
// change is rolled back. On success with a journal attached, the changes are
// written and fsynced before Update returns, so an acknowledged write
// survives a crash.
func (s *Store) Update(fn func(tx *Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := &Tx{s: s, writable: true}
	if err := fn(tx); err != nil {
		tx.rollback()
		return err
	}
	if s.j != nil && len(tx.log) > 0 {
		if err := s.j.append(tx.log); err != nil {
			tx.rollback()
			return fmt.Errorf("sandbox state: journal write: %w", err)
		}
		s.maybeCompact()
	}
	return nil
}

func (tx *Tx) rollback() {
	for i := len(tx.undo) - 1; i >= 0; i-- {
		u := tx.undo[i]
		if u.existed {
			u.t.rows[u.key] = u.prev
		} else {
			delete(u.t.rows, u.key)
		}
	}
}

func (tx *Tx) record(t *table, key string) {
	prev, ok := t.rows[key]
	tx.undo = append(tx.undo, undoEntry{t: t, key: key, prev: prev, existed: ok})
}

// Get returns the record stored under key.
func (tb *Table[T]) Get(tx *Tx, key string) (T, bool) {
	v, ok := tb.t.rows[key]
	if !ok {
		var zero T
		return zero, false
	}
	return v.(T), true
}

// Has reports whether key exists.
func (tb *Table[T]) Has(tx *Tx, key string) bool {
	_, ok := tb.t.rows[key]
	return ok
}

// Put stores v under key.
func (tb *Table[T]) Put(tx *Tx, key string, v T) {
	if !tx.writable {
		panic(ErrReadOnly)
	}
	tx.record(tb.t, key)
	tb.t.rows[key] = v
	if tx.s.j != nil {
		tx.log = append(tx.log, journalEntry{Op: "put", Table: tb.t.name, Key: key, value: v})
	}
}

// Delete removes key; deleting a missing key is a no-op.
func (tb *Table[T]) Delete(tx *Tx, key string) {
	if !tx.writable {
		panic(ErrReadOnly)
	}
	if _, ok := tb.t.rows[key]; !ok {
		return
	}
	tx.record(tb.t, key)
	delete(tb.t.rows, key)
	if tx.s.j != nil {
		tx.log = append(tx.log, journalEntry{Op: "del", Table: tb.t.name, Key: key})
	}
}

// Keys returns the keys with the given prefix, sorted.
func (tb *Table[T]) Keys(tx *Tx, prefix string) []string {
	var keys []string
	for k := range tb.t.rows {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Scan calls fn for each record whose key has prefix, in key order, until fn
// returns false.
func (tb *Table[T]) Scan(tx *Tx, prefix string, fn func(key string, v T) bool) {
	for _, k := range tb.Keys(tx, prefix) {
		if !fn(k, tb.t.rows[k].(T)) {
			return
		}
	}
}

// Len returns the number of records with the given prefix.
func (tb *Table[T]) Len(tx *Tx, prefix string) int {
	n := 0
	for k := range tb.t.rows {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// journal persists the store as snapshot.json plus journal.jsonl in dir.
//
// Why a journal and not bbolt: the sandbox's working set is small and always
// in memory (services scan whole tables), so a log of committed transactions,
// one JSON line each and fsynced before the response, gives crash safety
// without a second copy of the data model on disk or a cgo-free-but-mmap'd
// database file that is awkward to inspect. A torn last line (power loss or
// SIGKILL mid-write) is never acknowledged, so replay ignores it. On every
// open the snapshot is rewritten and the journal truncated (compaction).
type journal struct {
	dir  string
	f    *os.File
	size int64
}

const (
	snapshotFile = "snapshot.json"
	journalFile  = "journal.jsonl"
	compactAt    = 64 << 20
)

type snapshot struct {
	Version int                                   `json:"version"`
	Tables  map[string]map[string]json.RawMessage `json:"tables"`
}

// Open attaches persistence in dir: it loads the snapshot, replays the journal,
// compacts both into a fresh snapshot, and from then on journals every Update.
func (s *Store) Open(dir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("sandbox state: %w", err)
	}
	if err := s.loadSnapshot(filepath.Join(dir, snapshotFile)); err != nil {
		return err
	}
	if err := s.replay(filepath.Join(dir, journalFile)); err != nil {
		return err
	}
	if err := s.writeSnapshot(dir); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, journalFile), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("sandbox state: %w", err)
	}
	s.j = &journal{dir: dir, f: f}
	return nil
}

// Close compacts and detaches the journal.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.j == nil {
		return nil
	}
	err := s.writeSnapshot(s.j.dir)
	if err == nil {
		err = s.j.f.Truncate(0)
	}
	if cerr := s.j.f.Close(); err == nil {
		err = cerr
	}
	s.j = nil
	return err
}

func (s *Store) loadSnapshot(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sandbox state: %w", err)
	}
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return fmt.Errorf("sandbox state: %s is corrupt: %w", path, err)
	}
	for name, rows := range snap.Tables {
		t, ok := s.tables[name]
		if !ok {
			continue // a table of a newer or older sandbox: ignore
		}
		for k, raw := range rows {
			v, err := t.decode(raw)
			if err != nil {
				return fmt.Errorf("sandbox state: table %s key %s: %w", name, k, err)
			}
			t.rows[k] = v
		}
	}
	return nil
}

func (s *Store) replay(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sandbox state: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			return nil // a line without its newline was never acknowledged
		}
		if err != nil {
			return fmt.Errorf("sandbox state: %w", err)
		}
		var entries []journalEntry
		if json.Unmarshal(line, &entries) != nil {
			return nil // torn write: stop at the last whole transaction
		}
		for _, e := range entries {
			t, ok := s.tables[e.Table]
			if !ok {
				continue
			}
			switch e.Op {
			case "put":
				v, err := t.decode(e.Value)
				if err != nil {
					return fmt.Errorf("sandbox state: journal: %w", err)
				}
				t.rows[e.Key] = v
			case "del":
				delete(t.rows, e.Key)
			}
		}
	}
}

func (s *Store) writeSnapshot(dir string) error {
	snap := snapshot{Version: 1, Tables: map[string]map[string]json.RawMessage{}}
	for name, t := range s.tables {
		rows := make(map[string]json.RawMessage, len(t.rows))
		for k, v := range t.rows {
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("sandbox state: encode %s/%s: %w", name, k, err)
			}
			rows[k] = b
		}
		snap.Tables[name] = rows
	}
	b, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, snapshotFile), b, 0o600)
}

func (j *journal) append(entries []journalEntry) error {
	for i := range entries {
		if entries[i].Op == "put" {
			b, err := json.Marshal(entries[i].value)
			if err != nil {
				return err
			}
			entries[i].Value = b
		}
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(entries); err != nil {
		return err
	}
	n, err := j.f.Write(buf.Bytes())
	j.size += int64(n)
	if err != nil {
		return err
	}
	return j.f.Sync()
}

// maybeCompact rewrites the snapshot when the journal has grown large.
// Called with the write lock held, after a successful append.
func (s *Store) maybeCompact() {
	if s.j == nil || s.j.size < compactAt {
		return
	}
	if s.writeSnapshot(s.j.dir) == nil && s.j.f.Truncate(0) == nil {
		_, _ = s.j.f.Seek(0, io.SeekStart)
		s.j.size = 0
	}
}
