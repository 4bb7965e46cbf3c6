package core

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/slab-lab/slab/internal/atomicfile"
)

// journal persists the store as snapshot.json plus journal.jsonl in dir.
//
// Why a journal and not bbolt: the sandbox's working set is small and always
// in memory (services scan whole tables), so a log of committed transactions
// fsynced before the response gives crash safety without a second copy of
// the data model on disk or an mmap'd database file that is awkward to
// inspect. On every open the snapshot is rewritten and the journal truncated
// (compaction), and again whenever the journal passes compactAt.
//
// A record is one line: eight hex digits of the CRC-32C of the JSON that
// follows, a space, and the JSON array of the transaction's entries. JSON
// escapes newlines inside strings, so a newline always ends a record. On
// replay a bad FINAL record is a write cut short by a crash (its fsync never
// completed, so it was never acknowledged): it is dropped with a notice. A
// bad record anywhere else is damage, and the sandbox refuses to start
// rather than silently lose every later transaction; Repair drops exactly
// the damaged records. Lines without the checksum (starting with '[') are
// the records of sandboxes before checksums, read the same way.
type journal struct {
	dir string
	f   *os.File

	mu   sync.Mutex
	cond *sync.Cond
	// pending holds encoded records not yet written; seq numbers the last
	// record queued and durable the last one fsynced.
	pending []byte
	spare   []byte
	seq     uint64
	written uint64 // the last record written (not necessarily synced)
	durable uint64
	// writing marks a write in progress; inflight counts flushes between
	// their write and the end of their sync.
	writing  bool
	inflight int
	// err is sticky: after a failed write or fsync nothing more is
	// acknowledged, since the file's tail is unknown.
	err  error
	size int64
}

const (
	snapshotFile = "snapshot.json"
	journalFile  = "journal.jsonl"
	compactAt    = 64 << 20
)

// testHookFlush, when set by a test, runs in each flush before its write.
var testHookFlush func()

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type snapshot struct {
	Version int                                   `json:"version"`
	Tables  map[string]map[string]json.RawMessage `json:"tables"`
}

// CorruptError says the state in a data directory is damaged in a way that
// replay must not paper over. Offset is the byte offset of the damaged
// record in Path, or -1 when the damage is a missing file.
type CorruptError struct {
	Path   string
	Offset int64
	Reason string
}

func (e *CorruptError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("sandbox state: %s: %s", e.Path, e.Reason)
	}
	return fmt.Sprintf("sandbox state: %s is damaged at byte %d: %s", e.Path, e.Offset, e.Reason)
}

// encodeRecord renders one transaction as a journal line.
func encodeRecord(entries []journalEntry) ([]byte, error) {
	for i := range entries {
		if entries[i].Op == "put" {
			b, err := json.Marshal(entries[i].value)
			if err != nil {
				return nil, err
			}
			entries[i].Value = b
		}
	}
	body, err := json.Marshal(entries)
	if err != nil {
		return nil, err
	}
	line := make([]byte, 0, len(body)+10)
	line = fmt.Appendf(line, "%08x ", crc32.Checksum(body, crcTable))
	line = append(line, body...)
	return append(line, '\n'), nil
}

// decodeRecord parses one journal line (without its newline).
func decodeRecord(line []byte) ([]journalEntry, error) {
	var body []byte
	switch {
	case len(line) > 0 && line[0] == '[':
		body = line // a record from before checksums
	case len(line) < 10 || line[8] != ' ':
		return nil, errors.New("not a journal record")
	default:
		var want [4]byte
		if _, err := hex.Decode(want[:], line[:8]); err != nil {
			return nil, errors.New("not a journal record")
		}
		body = line[9:]
		got := crc32.Checksum(body, crcTable)
		if got != uint32(want[0])<<24|uint32(want[1])<<16|uint32(want[2])<<8|uint32(want[3]) {
			return nil, errors.New("checksum mismatch")
		}
	}
	var entries []journalEntry
	if err := json.Unmarshal(body, &entries); err != nil {
		return nil, fmt.Errorf("unreadable record: %v", err)
	}
	return entries, nil
}

// enqueue queues a record and returns its sequence number. Called with the
// store's write lock held, so records queue in commit order.
func (j *journal) enqueue(rec []byte) uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.pending = append(j.pending, rec...)
	j.seq++
	return j.seq
}

// sync returns once record seq is durable. A waiter whose record is still
// queued, when no write is in progress and fewer than two flushes are in
// flight, leads: it writes everything queued so far and syncs once for all
// of it. Two flushes overlap (the next batch is written while the previous
// one's sync runs) so that writers arriving during a sync do not wait for
// it to end before theirs starts. Writes stay in commit order, and a sync
// that returns covers every write before it, so durable only grows.
func (j *journal) sync(seq uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.durable < seq {
		if j.err != nil {
			return j.err
		}
		if j.writing || j.inflight >= 2 || j.written >= seq {
			j.cond.Wait()
			continue
		}
		j.writing = true
		j.inflight++
		buf, upto := j.pending, j.seq
		j.pending, j.spare = j.spare[:0], nil
		j.mu.Unlock()
		if testHookFlush != nil {
			testHookFlush()
		}
		_, err := j.f.Write(buf)
		j.mu.Lock()
		j.writing = false
		j.spare = buf[:0]
		if err == nil {
			j.written = upto
			j.size += int64(len(buf))
		}
		j.cond.Broadcast()
		j.mu.Unlock()
		if err == nil {
			err = syncData(j.f)
		}
		j.mu.Lock()
		j.inflight--
		if err != nil {
			j.err = err
		} else if upto > j.durable {
			j.durable = upto
		}
		j.cond.Broadcast()
	}
	return nil
}

func (j *journal) needsCompaction() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.size >= compactAt && j.err == nil
}

// Open attaches persistence in dir: it loads the snapshot, replays the journal,
// compacts both into a fresh snapshot, and from then on journals every Update.
// Damage it cannot safely skip is a *CorruptError; what it skipped safely
// (a torn final record) is in Notices.
func (s *Store) Open(dir string) error {
	if err := s.open(dir); err != nil {
		return err
	}
	for _, fn := range s.onLoad {
		if err := fn(); err != nil {
			return err
		}
	}
	return nil
}

// OnLoad registers fn to run at the end of Open, outside the lock, once the
// state is loaded (a service reconciling its files with its records).
func (s *Store) OnLoad(fn func() error) { s.onLoad = append(s.onLoad, fn) }

// FileDir returns the directory where a service keeps files beside the
// store's records (S3 object bodies), creating it: name inside the data
// directory once Open has attached one, else a temporary directory that
// Close removes. A service asks for it when it writes, not at
// registration, since Open comes after.
func (s *Store) FileDir(name string) (string, error) {
	s.mu.RLock()
	var base string
	if s.j != nil {
		base = s.j.dir
	}
	s.mu.RUnlock()
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	if d, ok := s.files[name]; ok {
		return d, nil
	}
	var d string
	if base != "" {
		d = filepath.Join(base, name)
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", fmt.Errorf("sandbox state: %w", err)
		}
	} else {
		t, err := os.MkdirTemp("", "slab-sandbox-"+name+"-")
		if err != nil {
			return "", fmt.Errorf("sandbox state: %w", err)
		}
		d = t
		s.tempDirs = append(s.tempDirs, t)
	}
	if s.files == nil {
		s.files = map[string]string{}
	}
	s.files[name] = d
	return d, nil
}

func (s *Store) removeTempDirs() {
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	for _, d := range s.tempDirs {
		_ = os.RemoveAll(d)
		for n, fd := range s.files {
			if fd == d {
				delete(s.files, n)
			}
		}
	}
	s.tempDirs = nil
}

func (s *Store) open(dir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("sandbox state: %w", err)
	}
	snapPath, jPath := filepath.Join(dir, snapshotFile), filepath.Join(dir, journalFile)
	found, err := s.loadSnapshot(snapPath)
	if err != nil {
		return err
	}
	if !found {
		if fi, err := os.Stat(jPath); err == nil && fi.Size() > 0 {
			return &CorruptError{Path: snapPath, Offset: -1, Reason: fmt.Sprintf(
				"missing, while %s holds %d bytes of transactions made after it; starting empty would lose everything before them", jPath, fi.Size())}
		}
	}
	applied, torn, err := s.replay(jPath, nil)
	if err != nil {
		return err
	}
	if torn != nil {
		s.notices = append(s.notices, fmt.Sprintf("sandbox state: dropped a torn final record of %d bytes at byte %d of %s (a write cut short by a crash, never acknowledged)",
			torn.Length, torn.Offset, jPath))
	}
	// A snapshot with nothing after it is the state already: rewriting it
	// would cost every command (slab check opens and closes the store) two
	// fsyncs for nothing.
	return s.attach(dir, !found || applied > 0 || torn != nil)
}

// attach compacts the loaded state into a fresh snapshot when asked and
// starts an empty journal. Called with the write lock held.
func (s *Store) attach(dir string, compact bool) error {
	if compact {
		if err := s.writeSnapshot(dir); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, journalFile), os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("sandbox state: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // the journal's directory entry, before anything is acknowledged
		d.Close()
	}
	j := &journal{dir: dir, f: f}
	j.cond = sync.NewCond(&j.mu)
	s.j = j
	return nil
}

// Notices returns what Open dropped safely and said so.
func (s *Store) Notices() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]string(nil), s.notices...)
}

// Close flushes and compacts, then detaches the journal. The temporary
// file directories of a store without one are removed.
func (s *Store) Close() error {
	defer s.removeTempDirs()
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.j
	if j == nil {
		return nil
	}
	s.j = nil
	j.mu.Lock()
	last := j.seq
	j.mu.Unlock()
	err := j.sync(last)
	// Nothing journaled since Open: the snapshot on disk is the state, and a
	// read-only command exits without writing it again.
	if err == nil && last > 0 {
		err = s.writeSnapshot(j.dir)
		if err == nil {
			err = j.f.Truncate(0)
		}
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// compact rewrites the snapshot and empties the journal. It holds the read
// lock, so commits wait but readers do not.
func (s *Store) compact(j *journal) {
	if !s.compacting.TryLock() {
		return
	}
	defer s.compacting.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.j != j || !j.needsCompaction() {
		return
	}
	j.mu.Lock()
	last := j.seq
	j.mu.Unlock()
	if j.sync(last) != nil || s.writeSnapshot(j.dir) != nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.writing && j.inflight == 0 && len(j.pending) == 0 && j.f.Truncate(0) == nil {
		j.size = 0
	}
}

// loadSnapshot reports whether the snapshot exists.
func (s *Store) loadSnapshot(path string) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sandbox state: %w", err)
	}
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		var se *json.SyntaxError
		off := int64(0)
		if errors.As(err, &se) {
			off = se.Offset
		}
		return true, &CorruptError{Path: path, Offset: off, Reason: err.Error()}
	}
	for name, rows := range snap.Tables {
		t, ok := s.tables[name]
		if !ok {
			continue // a table of a newer or older sandbox: ignore
		}
		for k, raw := range rows {
			v, err := t.decode(raw)
			if err != nil {
				return true, fmt.Errorf("sandbox state: %s: table %s key %s: %w", path, name, k, err)
			}
			t.rows[k] = v
		}
	}
	return true, nil
}

// badRecord is a journal record replay could not use.
type badRecord struct {
	Offset int64
	Length int
	Reason string
	// Keys are the table/key pairs a record whose JSON still parses
	// would have written ("" when unreadable).
	Keys []string
}

// replay applies the journal at path. Without skip, a bad record that is
// not the last is a *CorruptError and a bad last record is returned as
// torn. With skip (Repair), every bad record is passed to skip and
// replay goes on with the next line.
func (s *Store) replay(path string, skip func(badRecord)) (applied int, torn *badRecord, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("sandbox state: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var off int64
	for {
		line, rerr := r.ReadBytes('\n')
		if rerr != nil && rerr != io.EOF {
			return applied, nil, fmt.Errorf("sandbox state: %s: %w", path, rerr)
		}
		if len(line) == 0 {
			return applied, nil, nil
		}
		start := off
		off += int64(len(line))
		complete := line[len(line)-1] == '\n'
		var entries []journalEntry
		var derr error
		if complete {
			entries, derr = decodeRecord(line[:len(line)-1])
		} else {
			derr = errors.New("record without its end (a write cut short)")
		}
		if derr == nil {
			if err := s.apply(path, start, entries); err != nil {
				return applied, nil, err
			}
			applied++
			continue
		}
		bad := badRecord{Offset: start, Length: len(line), Reason: derr.Error(), Keys: recordKeys(line)}
		if skip != nil {
			skip(bad)
			continue
		}
		if _, perr := r.Peek(1); perr == io.EOF {
			return applied, &bad, nil
		}
		return applied, nil, &CorruptError{Path: path, Offset: start, Reason: fmt.Sprintf("%s (a %d-byte record followed by more records)", derr, len(line))}
	}
}

// recordKeys lists what a damaged line would have written, when its JSON
// (past a checksum prefix) still parses.
func recordKeys(line []byte) []string {
	line = bytes.TrimSuffix(line, []byte("\n"))
	if len(line) > 9 && line[8] == ' ' {
		line = line[9:]
	}
	var entries []journalEntry
	if json.Unmarshal(line, &entries) != nil {
		return nil
	}
	keys := make([]string, 0, len(entries))
	for _, e := range entries {
		keys = append(keys, e.Op+" "+e.Table+" "+e.Key)
	}
	return keys
}

func (s *Store) apply(path string, off int64, entries []journalEntry) error {
	for _, e := range entries {
		t, ok := s.tables[e.Table]
		if !ok {
			continue
		}
		switch e.Op {
		case "put":
			v, err := t.decode(e.Value)
			if err != nil {
				return fmt.Errorf("sandbox state: %s: record at byte %d: table %s key %s: %w", path, off, e.Table, e.Key, err)
			}
			t.rows[e.Key] = v
		case "del":
			delete(t.rows, e.Key)
		}
	}
	return nil
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

// RepairReport says what Repair kept and dropped.
type RepairReport struct {
	// Backup is the directory holding the original snapshot and journal.
	Backup string
	// Dropped describes each record left out, one line each.
	Dropped []string
	// Kept counts the journal records replayed.
	Kept int
	// NoSnapshot is set when the state was rebuilt from the journal alone.
	NoSnapshot bool
}

// Repair makes a damaged data directory usable again: it copies the
// snapshot and journal into a backup directory beside them, replays the
// journal skipping every damaged record (later records are kept), and
// writes the result as a fresh snapshot with an empty journal. A missing
// snapshot is rebuilt from the journal alone. It does not attach the
// journal; call Open afterwards to serve.
func (s *Store) Repair(dir string) (RepairReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rep RepairReport
	snapPath, jPath := filepath.Join(dir, snapshotFile), filepath.Join(dir, journalFile)
	backup, err := os.MkdirTemp(dir, "repair-"+time.Now().UTC().Format("20060102T150405Z")+"-")
	if err != nil {
		return rep, fmt.Errorf("sandbox repair: %w", err)
	}
	rep.Backup = backup
	for _, p := range []string{snapPath, jPath} {
		if err := copyFile(p, filepath.Join(rep.Backup, filepath.Base(p))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return rep, fmt.Errorf("sandbox repair: keep a copy of %s: %w", p, err)
		}
	}
	found, err := s.loadSnapshot(snapPath)
	if err != nil {
		return rep, err
	}
	rep.NoSnapshot = !found
	rep.Kept, _, err = s.replay(jPath, func(b badRecord) {
		what := "unreadable, so what it wrote is unknown"
		if len(b.Keys) > 0 {
			what = fmt.Sprintf("it wrote %v", b.Keys)
		}
		rep.Dropped = append(rep.Dropped, fmt.Sprintf("%s: %d bytes at byte %d (%s): %s", jPath, b.Length, b.Offset, b.Reason, what))
	})
	if err != nil {
		return rep, err
	}
	if err := s.writeSnapshot(dir); err != nil {
		return rep, err
	}
	if err := os.Truncate(jPath, 0); err != nil && !errors.Is(err, os.ErrNotExist) {
		return rep, fmt.Errorf("sandbox repair: %w", err)
	}
	return rep, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
