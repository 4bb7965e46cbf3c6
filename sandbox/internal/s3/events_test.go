package s3_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/slab-lab/slab/sandbox/internal/core"
	s3svc "github.com/slab-lab/slab/sandbox/internal/s3"
)

// recorder collects events; it writes to the store from the hook, which
// would deadlock if the hook ran under the store lock.
type recorder struct {
	mu     sync.Mutex
	events []s3svc.Event
}

func (r *recorder) hook(c *core.Core) func(s3svc.Event) {
	return func(ev s3svc.Event) {
		done := make(chan struct{})
		go func() {
			_ = c.Store.Update(func(tx *core.Tx) error { return nil })
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			panic("s3.events hook called with the store locked")
		}
		r.mu.Lock()
		r.events = append(r.events, ev)
		r.mu.Unlock()
	}
}

func (r *recorder) take() []s3svc.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func TestEventsHook(t *testing.T) {
	e := start(t)
	rec := &recorder{}
	e.Core.SetHook(s3svc.HookEvents, rec.hook(e.Core))
	c := e.cli()
	mkBucket(t, c, "evented")

	p := put(t, c, "evented", "in/a b.json", `{"n":1}`)
	evs := rec.take()
	if len(evs) != 1 {
		t.Fatalf("put: %d events", len(evs))
	}
	ev := evs[0]
	if ev.Name != s3svc.EventPut || ev.Bucket != "evented" || ev.Key != "in/a b.json" || ev.Size != 7 || `"`+ev.ETag+`"` != aws.ToString(p.ETag) ||
		ev.VersionID != "" || ev.Scope != (core.Scope{Account: acctA, Region: "us-east-1"}) || ev.RequesterAccount != acctA ||
		len(ev.Sequencer) != 16 || time.Since(ev.Time) > time.Minute {
		t.Fatalf("put event %+v", ev)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("evented"), Key: aws.String("copy.json"), CopySource: aws.String("evented/in/a%20b.json")}); err != nil {
		t.Fatal(err)
	}
	create, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("evented"), Key: aws.String("mp.json")})
	part, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("evented"), Key: aws.String("mp.json"), UploadId: create.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("{}"))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("evented"), Key: aws.String("mp.json"), UploadId: create.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("evented"), Key: aws.String("copy.json")}); err != nil {
		t.Fatal(err)
	}
	// Deleting nothing is no event.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("evented"), Key: aws.String("never-there")}); err != nil {
		t.Fatal(err)
	}
	// A refused write is no event.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("evented"), Key: aws.String("x"), Body: strings.NewReader("x"), ChecksumCRC32: aws.String("AAAAAA==")})
	wantCode(t, err, "BadDigest")
	evs = rec.take()
	var names []string
	for _, ev := range evs {
		names = append(names, ev.Name+" "+ev.Key)
	}
	if strings.Join(names, ",") != "ObjectCreated:Copy copy.json,ObjectCreated:CompleteMultipartUpload mp.json,ObjectRemoved:Delete copy.json" {
		t.Fatalf("events: %v", names)
	}
	if evs[1].Size != 2 || !strings.HasSuffix(evs[1].ETag, "-1") || evs[2].Size != 0 || evs[2].ETag != "" {
		t.Fatalf("event details %+v", evs)
	}

	// Versioned: delete markers, version ids, and sequencers that grow.
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("evented"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	v := put(t, c, "evented", "v.json", "1")
	d, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("evented"), Key: aws.String("v.json")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("evented"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("v.json"), VersionId: v.VersionId}, {Key: aws.String("v.json"), VersionId: d.VersionId}}}}); err != nil {
		t.Fatal(err)
	}
	evs = rec.take()
	if len(evs) != 4 {
		t.Fatalf("versioned events: %+v", evs)
	}
	if evs[0].VersionID != aws.ToString(v.VersionId) || evs[1].Name != s3svc.EventDeleteMarkerCreated || evs[1].VersionID != aws.ToString(d.VersionId) ||
		evs[2].Name != s3svc.EventDelete || evs[2].VersionID != aws.ToString(v.VersionId) || evs[3].VersionID != aws.ToString(d.VersionId) {
		t.Fatalf("versioned events: %+v", evs)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Sequencer <= evs[i-1].Sequencer {
			t.Fatalf("sequencers do not increase: %s then %s", evs[i-1].Sequencer, evs[i].Sequencer)
		}
	}
}
