package core

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Store is the single state container of the sandbox. Every service keeps its
// resources in named tables of JSON-serialisable records, so that one
// persistence mechanism (an fsynced append-only journal plus a snapshot,
// see journal.go) serves all services and a transaction can span services
// (Lambda reading IAM roles, SNS delivering into SQS).
//
// Concurrency: one RWMutex guards the tables, and a writer holds it only
// while its transaction runs in memory and its journal record is encoded,
// never across disk I/O. The record is queued in commit order and the writer
// then waits, outside the lock, for a group commit: whichever waiter finds no
// flush in progress writes every queued record and fsyncs once for all of
// them. So readers (View) never wait for an fsync, and N concurrent writers
// share one. The journal is a prefix of the commit order, so a crash always
// leaves a state some sequence of acknowledged and unacknowledged commits
// produced; a reader may see a write whose fsync is still in flight (it is
// acknowledged to its writer only once durable).
//
// Nothing slow may run inside View or Update (no policy evaluation, no body
// I/O): every transaction holds up writers, and a waiting writer holds up
// new readers.
type Store struct {
	mu     sync.RWMutex
	tables map[string]*table
	j      *journal
	// compacting keeps one compaction at a time.
	compacting sync.Mutex
	// notices are what Open had to say (a torn final record dropped).
	notices []string
	// files are the directories services keep files in (FileDir), and
	// onLoad what they do once the state is loaded (Open).
	filesMu  sync.Mutex
	files    map[string]string
	tempDirs []string
	onLoad   []func() error
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
	s           *Store
	writable    bool
	undo        []undoEntry
	log         []journalEntry
	afterCommit []func()
}

// AfterCommit runs fn once the transaction's changes are durable (or, in a
// store without a journal, committed), outside the lock; never when it
// rolls back. For what must not happen before the commit is safe, such as
// removing the file of a deleted object body.
func (tx *Tx) AfterCommit(fn func()) {
	if !tx.writable {
		panic(ErrReadOnly)
	}
	tx.afterCommit = append(tx.afterCommit, fn)
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
// survives a crash; concurrent Updates share the fsync.
func (s *Store) Update(fn func(tx *Tx) error) error {
	return s.update(fn, true)
}

// UpdateUnsynced is Update without waiting for the fsync: the changes are
// journalled in commit order and made durable by the next group commit.
// It is for changes whose loss in a crash AWS's own semantics already allow
// (a ReceiveMessage whose new visibility is lost only makes the message
// visible again, as after a timeout); any later synced Update makes it
// durable first.
func (s *Store) UpdateUnsynced(fn func(tx *Tx) error) error {
	return s.update(fn, false)
}

func (s *Store) update(fn func(tx *Tx) error, wait bool) error {
	s.mu.Lock()
	tx := &Tx{s: s, writable: true}
	if err := fn(tx); err != nil {
		tx.rollback()
		s.mu.Unlock()
		return err
	}
	j := s.j
	var seq uint64
	if j != nil && len(tx.log) > 0 {
		// Encode under the lock: records are stored by value but may share
		// maps and slices with later transactions.
		rec, err := encodeRecord(tx.log)
		if err != nil {
			tx.rollback()
			s.mu.Unlock()
			return fmt.Errorf("sandbox state: journal record: %w", err)
		}
		seq = j.enqueue(rec)
	}
	s.mu.Unlock()
	if seq != 0 && (wait || len(tx.afterCommit) > 0) {
		if err := j.sync(seq); err != nil {
			return fmt.Errorf("sandbox state: journal write: %w", err)
		}
		if j.needsCompaction() {
			s.compact(j)
		}
	}
	for _, fn := range tx.afterCommit {
		fn()
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
