package s3

import (
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"time"

	"crypto/rand"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// The version store. Each version (or delete marker) is its own record,
// linked to its newer and older neighbours, and each key has a small head
// record naming its newest version and its "null" version. Every write,
// delete and lookup is then O(1) whatever a key's history, and the journal
// records only the few records a call touched.
//
// A version's seq is the bucket's sequencer value when it was created; the
// version id embeds it (8 bytes of seq, 16 random bytes, base64url: 32
// characters), so a lookup by version id is a direct Get.

func versionKey(bucket, key string, seq int64) string {
	return bucket + "/" + key + "\x00" + strconv.FormatInt(seq, 10)
}

// newVersionID returns a random, URL-safe, 32-character version id that
// carries seq.
func newVersionID(seq int64) string {
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], uint64(seq))
	_, _ = rand.Read(b[8:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// versionSeq extracts the seq of a version id newVersionID made.
func versionSeq(id string) (int64, bool) {
	if len(id) != 32 {
		return 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) != 24 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(b[:8])), true
}

// validVersionID reports whether v has the shape of a version id; anything
// else is InvalidArgument rather than NoSuchVersion.
func validVersionID(v string) bool {
	if v == "null" {
		return true
	}
	_, ok := versionSeq(v)
	return ok
}

// nextSeq returns the bucket's next seq: the clock in nanoseconds, forced to
// increase. The caller must Put b back.
func nextSeq(b *Bucket, now time.Time) int64 {
	seq := now.UnixNano()
	if seq <= b.LastSeq {
		seq = b.LastSeq + 1
	}
	b.LastSeq = seq
	return seq
}

// sequencer renders a seq as an event sequencer: upper-case hex, fixed
// width, so that string order is numeric order as S3 documents.
func sequencer(seq int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(seq))
	const digits = "0123456789ABCDEF"
	out := make([]byte, 16)
	for i, x := range b {
		out[2*i], out[2*i+1] = digits[x>>4], digits[x&15]
	}
	return string(out)
}

func (s *Service) head(tx *core.Tx, bucket, key string) (Object, bool) {
	return s.objects.Get(tx, objectKey(bucket, key))
}

func (s *Service) version(tx *core.Tx, bucket, key string, seq int64) (Version, bool) {
	if seq == 0 {
		return Version{}, false
	}
	return s.versions.Get(tx, versionKey(bucket, key, seq))
}

// current returns the newest version of key (possibly a delete marker).
func (s *Service) current(tx *core.Tx, bucket, key string) (Version, bool) {
	h, ok := s.head(tx, bucket, key)
	if !ok {
		return Version{}, false
	}
	return s.version(tx, bucket, key, h.Current)
}

// findVersion returns the version of key with the given id ("" = current).
func (s *Service) findVersion(tx *core.Tx, bucket, key, versionID string) (Version, bool) {
	if versionID == "" {
		return s.current(tx, bucket, key)
	}
	var seq int64
	if versionID == "null" {
		h, ok := s.head(tx, bucket, key)
		if !ok {
			return Version{}, false
		}
		seq = h.Null
	} else {
		var ok bool
		if seq, ok = versionSeq(versionID); !ok {
			return Version{}, false
		}
	}
	v, ok := s.version(tx, bucket, key, seq)
	if !ok || v.VersionID != versionID {
		return Version{}, false
	}
	return v, true
}

// eachVersion calls fn with key's versions, newest first, from the version
// with seq from (0: the current one), until fn returns false.
func (s *Service) eachVersion(tx *core.Tx, bucket, key string, from int64, fn func(Version) bool) {
	if from == 0 {
		h, ok := s.head(tx, bucket, key)
		if !ok {
			return
		}
		from = h.Current
	}
	for seq := from; seq != 0; {
		v, ok := s.version(tx, bucket, key, seq)
		if !ok || !fn(v) {
			return
		}
		seq = v.Older
	}
}

// putVersion makes v the current version of key under the bucket's
// versioning state, storing body (a file already written) as its body (unless v is a delete
// marker), and returns it with its seq, version id, sequencer and links
// set. In an unversioned or suspended bucket it replaces the "null"
// version. The bucket (its sequencer) is written back too.
func (s *Service) putVersion(tx *core.Tx, b *Bucket, key string, v Version, body Blob, now time.Time) Version {
	v.Seq = nextSeq(b, now)
	v.Sequencer = sequencer(v.Seq)
	v.LastModified = now
	v.VersionID = "null"
	if b.Versioning == "Enabled" {
		v.VersionID = newVersionID(v.Seq)
	}
	if !v.DeleteMarker {
		v.DataKey = newBlobKey(b.Name)
		s.blobs.Put(tx, v.DataKey, body)
	}
	h, _ := s.head(tx, b.Name, key)
	h.Bucket, h.Key = b.Name, key
	if v.VersionID == "null" && h.Null != 0 {
		if old, ok := s.version(tx, b.Name, key, h.Null); ok {
			s.unlink(tx, &h, old)
		}
	}
	if top, ok := s.version(tx, b.Name, key, h.Current); ok {
		top.Newer = v.Seq
		s.versions.Put(tx, versionKey(b.Name, key, top.Seq), top)
		v.Older = top.Seq
	}
	s.versions.Put(tx, versionKey(b.Name, key, v.Seq), v)
	h.Current = v.Seq
	h.Count++
	if v.VersionID == "null" {
		h.Null = v.Seq
	}
	s.objects.Put(tx, objectKey(b.Name, key), h)
	s.buckets.Put(tx, b.Name, *b)
	return v
}

// unlink removes v from its key's chain, deleting its record and body and
// updating h, which the caller writes back (or deletes when h.Count is 0).
func (s *Service) unlink(tx *core.Tx, h *Object, v Version) {
	if newer, ok := s.version(tx, h.Bucket, h.Key, v.Newer); ok {
		newer.Older = v.Older
		s.versions.Put(tx, versionKey(h.Bucket, h.Key, newer.Seq), newer)
	}
	if older, ok := s.version(tx, h.Bucket, h.Key, v.Older); ok {
		older.Newer = v.Newer
		s.versions.Put(tx, versionKey(h.Bucket, h.Key, older.Seq), older)
	}
	if h.Current == v.Seq {
		h.Current = v.Older
	}
	if h.Null == v.Seq {
		h.Null = 0
	}
	h.Count--
	if v.DataKey != "" {
		s.dropBlob(tx, v.DataKey)
	}
	s.versions.Delete(tx, versionKey(h.Bucket, h.Key, v.Seq))
}

// removeVersion permanently deletes one version of key.
func (s *Service) removeVersion(tx *core.Tx, bucket, key, versionID string) (Version, bool) {
	v, ok := s.findVersion(tx, bucket, key, versionID)
	if !ok {
		return Version{}, false
	}
	h, _ := s.head(tx, bucket, key)
	s.unlink(tx, &h, v)
	s.saveHead(tx, h)
	return v, true
}

func (s *Service) saveHead(tx *core.Tx, h Object) {
	if h.Count <= 0 {
		s.objects.Delete(tx, objectKey(h.Bucket, h.Key))
		return
	}
	s.objects.Put(tx, objectKey(h.Bucket, h.Key), h)
}
