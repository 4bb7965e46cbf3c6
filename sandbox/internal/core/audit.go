package core

import (
	"sync"
	"time"
)

// AuditEntry is one API call the sandbox served.
type AuditEntry struct {
	Time      time.Time `json:"time"`
	Account   string    `json:"account"`
	Region    string    `json:"region"`
	Service   string    `json:"service"`
	Operation string    `json:"operation"`
	Mutating  bool      `json:"mutating"`
	Status    int       `json:"status"`
	// Internal marks calls the sandbox made on its own behalf (event
	// delivery, Lambda functions' own SDK calls are not internal: they come
	// over HTTP like any client).
	Internal bool `json:"internal,omitempty"`
}

// Audit is a bounded in-memory log of served calls, so tests can prove that
// a command made no mutating call.
type Audit struct {
	mu      sync.Mutex
	entries []AuditEntry
	max     int
	seq     uint64
}

// NewAudit returns an audit log keeping the last 100,000 calls.
func NewAudit() *Audit { return &Audit{max: 100000} }

// Add records an entry.
func (a *Audit) Add(e AuditEntry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq++
	if len(a.entries) >= a.max {
		copy(a.entries, a.entries[len(a.entries)/2:])
		a.entries = a.entries[:len(a.entries)-len(a.entries)/2]
	}
	a.entries = append(a.entries, e)
}

// Mark returns a position; Since(mark) returns the entries recorded after it.
func (a *Audit) Mark() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seq
}

// Since returns the entries recorded after mark (or as many as are kept).
func (a *Audit) Since(mark uint64) []AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := int(a.seq - mark)
	if n > len(a.entries) {
		n = len(a.entries)
	}
	out := make([]AuditEntry, n)
	copy(out, a.entries[len(a.entries)-n:])
	return out
}

// Entries returns every kept entry.
func (a *Audit) Entries() []AuditEntry { return a.Since(0) }

// Mutating filters entries to the mutating ones.
func Mutating(entries []AuditEntry) []AuditEntry {
	var out []AuditEntry
	for _, e := range entries {
		if e.Mutating && !e.Internal {
			out = append(out, e)
		}
	}
	return out
}
