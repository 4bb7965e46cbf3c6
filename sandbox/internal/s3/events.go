package s3

import (
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// Event names, as S3 puts them in event records after "s3:" is dropped
// (a record's eventName is "ObjectCreated:Put").
const (
	EventPut                 = "ObjectCreated:Put"
	EventCopy                = "ObjectCreated:Copy"
	EventCompleteMultipart   = "ObjectCreated:CompleteMultipartUpload"
	EventDelete              = "ObjectRemoved:Delete"
	EventDeleteMarkerCreated = "ObjectRemoved:DeleteMarkerCreated"
)

// Event is one committed object creation or removal, handed to the
// "s3.events" hook (a func(Event)) after the store lock is released.
type Event struct {
	Name  string     // EventPut, EventCopy, ...
	Scope core.Scope // the bucket's owner account and region
	// Bucket and Key are raw (not URL-encoded); S3 event records carry the
	// key form-encoded (url.QueryEscape), which is the consumer's job.
	Bucket    string
	Key       string
	VersionID string // "" for a bucket that was never versioned
	ETag      string // unquoted, as in event records; "" for removals
	Sequencer string
	Size      int64 // 0 for removals
	Time      time.Time
	// RequesterAccount is the account whose call caused the event.
	RequesterAccount string
}

// emit hands committed events to the event engine, if one is wired.
func (s *Service) emit(events []Event) {
	if len(events) == 0 {
		return
	}
	h, ok := s.c.Hook(HookEvents).(func(Event))
	if !ok {
		return
	}
	for _, e := range events {
		h(e)
	}
}

// eventVersionID is the version id S3 reports in an event: none for a
// bucket that has never had versioning configured.
func eventVersionID(b Bucket, v string) string {
	if b.Versioning == "" {
		return ""
	}
	return v
}
