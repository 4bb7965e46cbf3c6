package core

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

type row struct {
	N   int    `json:"n"`
	Pad string `json:"pad"`
}

func openRows(t testing.TB, dir string) (*Store, *Table[row], error) {
	t.Helper()
	s := NewStore()
	tb := Register[row](s, "rows")
	return s, tb, s.Open(dir)
}

// writeJournal makes dir hold an empty snapshot and a journal of n
// one-item transactions, as a sandbox killed after n acknowledged writes
// leaves it, and returns the journal's path.
func writeJournal(t *testing.T, dir string, n int) string {
	t.Helper()
	s, _, err := openRows(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var b []byte
	for i := range n {
		rec, err := encodeRecord([]journalEntry{{Op: "put", Table: "rows", Key: fmt.Sprintf("k%06d", i), value: row{N: i, Pad: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}})
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, rec...)
	}
	path := filepath.Join(dir, journalFile)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func count(s *Store, tb *Table[row]) int {
	n := 0
	_ = s.View(func(tx *Tx) error { n = tb.Len(tx, ""); return nil })
	return n
}

// The numbers of the hardening issue: garbage written 2 MB into the
// journal of a sandbox holding 28,941 items used to be taken for a torn
// tail, dropping every later transaction in silence (27,583 items left).
func TestGarbageInsideTheJournalRefusesToStartAndRepairDropsOnlyIt(t *testing.T) {
	const items = 28941
	dir := t.TempDir()
	path := writeJournal(t, dir, items)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	const at = 2 << 20
	garbage := []byte("\x00garbage\xff{]")
	clean, _ := os.ReadFile(path)
	// The transactions whose records the garbage overwrites (one, or two
	// when it covers a record's end).
	lost := strings.Count(string(clean[at:at+len(garbage)]), "\n") + 1
	if _, err := f.WriteAt(garbage, at); err != nil {
		t.Fatal(err)
	}
	f.Close()
	orig, _ := os.ReadFile(path)
	recStart := int64(strings.LastIndexByte(string(orig[:at]), '\n') + 1)

	_, _, err = openRows(t, dir)
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("Open of a journal damaged in the middle: %v, want a *CorruptError", err)
	}
	if ce.Path != path || ce.Offset != recStart {
		t.Fatalf("damage reported at %s byte %d, want %s byte %d", ce.Path, ce.Offset, path, recStart)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), fmt.Sprint(recStart)) {
		t.Fatalf("message %q names neither file nor offset", err)
	}

	s := NewStore()
	tb := Register[row](s, "rows")
	rep, err := s.Repair(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Dropped) != 1 || !strings.Contains(rep.Dropped[0], fmt.Sprintf("at byte %d", recStart)) {
		t.Fatalf("repair dropped %q, want exactly the record at byte %d", rep.Dropped, recStart)
	}
	if rep.Kept != items-lost {
		t.Fatalf("repair kept %d records, want %d", rep.Kept, items-lost)
	}
	if kept, _ := os.ReadFile(filepath.Join(rep.Backup, journalFile)); string(kept) != string(orig) {
		t.Fatal("repair did not keep a byte-for-byte copy of the original journal")
	}
	s2, tb2, err := openRows(t, dir)
	if err != nil {
		t.Fatalf("Open after repair: %v", err)
	}
	defer s2.Close()
	if n := count(s2, tb2); n != items-lost {
		t.Fatalf("%d items after repair, want %d (only the damaged transactions lost)", n, items-lost)
	}
	_ = tb
}

func TestTornFinalRecordIsDroppedWithANotice(t *testing.T) {
	dir := t.TempDir()
	path := writeJournal(t, dir, 100)
	b, _ := os.ReadFile(path)
	rec, _ := encodeRecord([]journalEntry{{Op: "put", Table: "rows", Key: "torn", value: row{N: -1}}})
	torn := rec[:len(rec)/2]
	if err := os.WriteFile(path, append(b, torn...), 0o600); err != nil {
		t.Fatal(err)
	}
	s, tb, err := openRows(t, dir)
	if err != nil {
		t.Fatalf("a torn final record must not stop the sandbox: %v", err)
	}
	defer s.Close()
	if n := count(s, tb); n != 100 {
		t.Fatalf("%d items, want the 100 whole records", n)
	}
	notes := s.Notices()
	if len(notes) != 1 || !strings.Contains(notes[0], fmt.Sprintf("%d bytes at byte %d", len(torn), len(b))) {
		t.Fatalf("notices %q, want one naming the %d torn bytes at byte %d", notes, len(torn), len(b))
	}
}

func TestBadChecksumOnTheFinalRecordIsTornButAnEarlierOneIsDamage(t *testing.T) {
	dir := t.TempDir()
	path := writeJournal(t, dir, 3)
	b, _ := os.ReadFile(path)
	last := strings.LastIndexByte(string(b[:len(b)-1]), '\n') + 1
	flip := append([]byte(nil), b...)
	flip[len(flip)-3] ^= 1 // inside the last record's JSON
	_ = os.WriteFile(path, flip, 0o600)
	s, tb, err := openRows(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(s, tb); n != 2 || len(s.Notices()) != 1 {
		t.Fatalf("%d items and notices %q, want 2 and one notice", n, s.Notices())
	}
	s.Close()

	path = writeJournal(t, dir, 3)
	b, _ = os.ReadFile(path)
	b[12] ^= 1 // inside the first record
	_ = os.WriteFile(path, b, 0o600)
	_, _, err = openRows(t, dir)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Offset != 0 || !strings.Contains(ce.Reason, "checksum") {
		t.Fatalf("got %v, want a checksum *CorruptError at byte 0", err)
	}
	_ = last
}

func TestMissingSnapshotWithAJournalIsAnError(t *testing.T) {
	dir := t.TempDir()
	writeJournal(t, dir, 10)
	if err := os.Remove(filepath.Join(dir, snapshotFile)); err != nil {
		t.Fatal(err)
	}
	_, _, err := openRows(t, dir)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Offset != -1 || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("got %v, want a *CorruptError saying the snapshot is missing", err)
	}
	s := NewStore()
	Register[row](s, "rows")
	rep, err := s.Repair(dir)
	if err != nil || !rep.NoSnapshot || rep.Kept != 10 {
		t.Fatalf("repair: %+v %v, want the journal's 10 records replayed onto nothing", rep, err)
	}
	s2, tb2, err := openRows(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if n := count(s2, tb2); n != 10 {
		t.Fatalf("%d items after repair, want 10", n)
	}
}

func TestRecordsWithoutChecksumsFromOlderSandboxesStillReplay(t *testing.T) {
	dir := t.TempDir()
	path := writeJournal(t, dir, 0)
	legacy := `[{"op":"put","t":"rows","k":"a","v":{"n":1,"pad":""}}]` + "\n" + `[{"op":"put","t":"rows","k":"b","v":{"n":2,"pad":""}}]` + "\n"
	_ = os.WriteFile(path, []byte(legacy), 0o600)
	s, tb, err := openRows(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := count(s, tb); n != 2 {
		t.Fatalf("%d items from an older journal, want 2", n)
	}
}

// While one writer's fsync is in flight, readers go on and later writers
// queue behind it; the next flush then writes all of them with one fsync.
func TestGroupCommitReadersNeverWaitForAnFsync(t *testing.T) {
	dir := t.TempDir()
	s, tb, err := openRows(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hold := make(chan struct{})
	entered := make(chan struct{}, 1)
	flushes := 0
	testHookFlush = func() {
		flushes++
		if flushes == 1 {
			entered <- struct{}{}
			<-hold
		}
	}
	defer func() { testHookFlush = nil }()

	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Update(func(tx *Tx) error { tb.Put(tx, "first", row{N: 1}); return nil }); err != nil {
			t.Error(err)
		}
	})
	<-entered // the first writer is now inside its flush
	const more = 15
	for i := range more {
		wg.Go(func() {
			if err := s.Update(func(tx *Tx) error { tb.Put(tx, fmt.Sprint("w", i), row{N: i}); return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	// All of them commit in memory and queue, none waiting for the held flush.
	for {
		s.j.mu.Lock()
		q := s.j.seq
		s.j.mu.Unlock()
		if q == 1+more {
			break
		}
		runtime.Gosched()
	}
	// A reader sees the committed state while the fsync is still held.
	if n := count(s, tb); n != 1+more {
		t.Fatalf("reader saw %d rows during the held fsync, want %d", n, 1+more)
	}
	close(hold)
	wg.Wait()
	if flushes != 2 {
		t.Fatalf("%d flushes for 16 writers, want 2 (the held one and one shared by the 15 queued behind it)", flushes)
	}
	// And what they acknowledged is on disk.
	s2 := NewStore()
	tb2 := Register[row](s2, "rows")
	if _, _, err := s2.replay(filepath.Join(dir, journalFile), nil); err != nil {
		t.Fatal(err)
	}
	if n := count(s2, tb2); n != 1+more {
		t.Fatalf("journal holds %d rows, want %d", n, 1+more)
	}
}

// A session that changes nothing (slab check, a tutor only read) leaves the
// snapshot as it found it: no rewrite, no fsync, at open or at close. One
// that writes compacts as before, and a reopen sees its write.
func TestReadOnlySessionLeavesTheSnapshotAlone(t *testing.T) {
	dir := t.TempDir()
	s, tb, err := openRows(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *Tx) error { tb.Put(tx, "a", row{N: 1}); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, snapshotFile)
	before, err := os.Stat(snap)
	if err != nil {
		t.Fatal(err)
	}
	s, tb, err = openRows(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(s, tb); n != 1 {
		t.Fatalf("%d rows after reopening", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if after, err := os.Stat(snap); err != nil || !os.SameFile(before, after) {
		t.Fatalf("a session without writes replaced the snapshot (%v)", err)
	}

	s, tb, err = openRows(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *Tx) error { tb.Put(tx, "b", row{N: 2}); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if after, err := os.Stat(snap); err != nil || os.SameFile(before, after) {
		t.Fatalf("a session with a write kept the old snapshot (%v)", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, journalFile)); err != nil || fi.Size() != 0 {
		t.Fatalf("journal after close: %v %v", fi, err)
	}
	s, tb, err = openRows(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := count(s, tb); n != 2 {
		t.Fatalf("%d rows after the write, want 2", n)
	}
}
