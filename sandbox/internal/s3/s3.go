// Package s3 emulates the slice of Amazon S3 the lab and its tools use, on
// the REST-XML wire protocol: buckets (global names, an owner account and a
// region each), versioning, tagging and event notification configuration,
// objects with their versions and delete markers, listings, and multipart
// uploads. Request bodies the SDKs and the CLI send as aws-chunked streams
// (with chunk signatures or trailing checksums) are decoded, and the
// x-amz-checksum-* values are verified, stored and returned so that the SDKs'
// response checksum validation passes. Object and part bodies are streamed
// into files of the data directory, never held whole in memory (bodies.go).
//
// Other services reach S3 through hooks: after each committed object
// creation or removal the "s3.events" hook (a func(Event)) is called outside
// the store lock, and NotificationConfig / NotificationConfiguration.Targets
// let the event engine route those events.
package s3

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// xmlns is the namespace of every S3 response document.
const xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"

// Hook names this package uses.
const (
	// HookEvents is called with each Event after the change committed.
	HookEvents = "s3.events"
	// HookValidateDestinations vets the Lambda destinations of a
	// notification configuration (the Lambda service checks its resource
	// policy lets s3.amazonaws.com invoke each function).
	HookValidateDestinations = "s3.validate-destinations"
	// HookNotificationConfig is registered by New with
	// Service.NotificationConfig, for consumers without the *Service.
	HookNotificationConfig = "s3.notification-config"
)

// ValidateDestinations is the type of the HookValidateDestinations hook: it
// reads what it needs in tx and returns the check to run after tx ends
// (the check evaluates stored policies, which must not hold the store).
type ValidateDestinations func(tx *core.Tx, scope core.Scope, bucket string, lambdaArns []string) func() error

// Service is the S3 emulator.
type Service struct {
	c        *core.Core
	buckets  *core.Table[Bucket]
	objects  *core.Table[Object]
	versions *core.Table[Version]
	blobs    *core.Table[Blob]
	uploads  *core.Table[Upload]
}

// Bucket is one bucket. Its table is keyed by the bucket name alone:
// bucket names are global across every account of the sandbox, as on AWS.
type Bucket struct {
	Name    string    `json:"name"`
	Account string    `json:"account"`
	Region  string    `json:"region"`
	Created time.Time `json:"created"`
	// Versioning is "" for a bucket never versioned, else "Enabled" or
	// "Suspended" (a bucket never returns to unversioned).
	Versioning string `json:"versioning,omitempty"`
	// MFADelete is "" until a PutBucketVersioning names it ("Disabled";
	// the sandbox refuses "Enabled", having no MFA devices).
	MFADelete    string                     `json:"mfa_delete,omitempty"`
	Notification *NotificationConfiguration `json:"notification,omitempty"`
	// NotificationBefore is the configuration events still follow until
	// NotificationAt: "after you create or change the bucket notification
	// configuration, it typically takes five minutes for the changes to
	// take effect" (S3 User Guide); see core.Timing.S3Notification.
	NotificationBefore *NotificationConfiguration `json:"notification_before,omitempty"`
	NotificationAt     time.Time                  `json:"notification_at,omitzero"`
	// Tags is nil when the bucket has no tag set (NoSuchTagSet).
	Tags []Tag `json:"tags,omitempty"`
	// LastSeq is the last sequencer handed out, so that sequencers of the
	// bucket's events strictly increase even if the clock does not.
	LastSeq int64 `json:"last_seq,omitempty"`
}

// Scope is the bucket's owner account and region.
func (b Bucket) Scope() core.Scope { return core.Scope{Account: b.Account, Region: b.Region} }

// Tag is one key/value tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Object is the head record of one key of a bucket, keyed bucket + "/" +
// key: it exists while the key has any version or delete marker. The
// versions themselves are records of the versions table (see store.go), and
// their bodies records of the blobs table, so that adding a version journals
// only what changed.
type Object struct {
	Bucket  string `json:"bucket"`
	Key     string `json:"key"`
	Current int64  `json:"current"`        // seq of the newest version
	Null    int64  `json:"null,omitempty"` // seq of the "null" version, 0 when none
	Count   int    `json:"count"`          // versions and delete markers
}

// Version is one object version or delete marker.
type Version struct {
	Seq int64 `json:"seq"`
	// Older and Newer link the key's versions (seqs, 0 at either end).
	Older        int64     `json:"older,omitempty"`
	Newer        int64     `json:"newer,omitempty"`
	VersionID    string    `json:"version_id"` // "null" when created unversioned or suspended
	DeleteMarker bool      `json:"delete_marker,omitempty"`
	LastModified time.Time `json:"last_modified"`
	Owner        string    `json:"owner"` // account that wrote it
	Sequencer    string    `json:"sequencer"`
	ETag         string    `json:"etag,omitempty"` // quoted
	Size         int64     `json:"size,omitempty"`
	Meta         Meta      `json:"meta"`
	Checksum     Checksum  `json:"checksum"`
	PartsCount   int       `json:"parts_count,omitempty"`
	// PartSizes are the part sizes of a multipart object, for GetObject
	// and HeadObject with partNumber.
	PartSizes []int64 `json:"part_sizes,omitempty"`
	Tags      []Tag   `json:"tags,omitempty"`
	DataKey   string  `json:"data_key,omitempty"`
}

// Meta is what a writer may set on an object besides its body.
type Meta struct {
	ContentType        string            `json:"content_type,omitempty"`
	ContentEncoding    string            `json:"content_encoding,omitempty"`
	ContentDisposition string            `json:"content_disposition,omitempty"`
	ContentLanguage    string            `json:"content_language,omitempty"`
	CacheControl       string            `json:"cache_control,omitempty"`
	Expires            string            `json:"expires,omitempty"`
	StorageClass       string            `json:"storage_class,omitempty"`
	User               map[string]string `json:"user,omitempty"` // x-amz-meta-*, names lower-cased
}

// Checksum is an object's additional checksum. Value carries the "-N"
// suffix for a composite multipart checksum.
type Checksum struct {
	Algorithm string `json:"algorithm,omitempty"` // CRC32, CRC32C, CRC64NVME, SHA1, SHA256
	Value     string `json:"value,omitempty"`
	Type      string `json:"type,omitempty"` // FULL_OBJECT or COMPOSITE
}

// New registers the service's tables and its Go hooks.
func New(c *core.Core) *Service {
	s := &Service{
		c:        c,
		buckets:  core.Register[Bucket](c.Store, "s3.buckets"),
		objects:  core.Register[Object](c.Store, "s3.objects"),
		versions: core.Register[Version](c.Store, "s3.versions"),
		blobs:    core.Register[Blob](c.Store, "s3.blobs"),
		uploads:  core.Register[Upload](c.Store, "s3.uploads"),
	}
	c.SetHook(HookNotificationConfig, s.NotificationConfig)
	c.Store.OnLoad(s.reconcileBlobs)
	return s
}

// StreamsBody implements core.Streamer: object and part uploads (a PUT to
// a key that is not a copy or a tagging call) are streamed to files.
func (s *Service) StreamsBody(hr *http.Request) bool {
	if hr.Method != http.MethodPut || hr.Header.Get("x-amz-copy-source") != "" {
		return false
	}
	q := hr.URL.Query()
	for _, sub := range unsupported {
		if q.Has(sub) {
			return false
		}
	}
	if q.Has("tagging") {
		return false
	}
	_, key := address(hr)
	return key != ""
}

// Name implements core.Service.
func (s *Service) Name() string { return "s3" }

// call is one request with its addressing resolved.
type call struct {
	s      *Service
	r      *core.Request
	bucket string
	key    string
	q      url.Values
	h      http.Header
	// trailer holds the trailing headers of an aws-chunked body (of a
	// streamed body, once receiveBody has read it).
	trailer http.Header
	// chunked marks a streamed body still framed as aws-chunked.
	chunked bool
}

// Serve implements core.Service.
func (s *Service) Serve(r *core.Request) {
	r.W.Header().Set("x-amz-request-id", r.RequestID)
	r.W.Header().Set("x-amz-id-2", base64.StdEncoding.EncodeToString([]byte(r.RequestID)))
	c := &call{s: s, r: r, h: r.HTTP.Header, q: r.HTTP.URL.Query()}
	c.bucket, c.key = address(r.HTTP)
	if err := c.decodeBody(); err != nil {
		c.fail(err)
		return
	}
	c.dispatch()
}

// address splits a request into bucket and key. A Host of
// <bucket>.localhost[:port] is virtual-hosted style; anything else is
// path style, /bucket/key.
func address(hr *http.Request) (bucket, key string) {
	host := hr.Host
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	host = strings.ToLower(host)
	path := hr.URL.Path
	if b, ok := strings.CutSuffix(host, ".localhost"); ok && b != "" {
		return b, strings.TrimPrefix(path, "/")
	}
	path = strings.TrimPrefix(path, "/")
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key
}

// subresources the sandbox does not emulate: S3 answers NotImplemented for
// features it does not support, and so does the sandbox, rather than
// mistaking them for plain bucket or object calls.
var unsupported = []string{
	"accelerate", "acl", "analytics", "attributes", "cors", "encryption", "intelligent-tiering",
	"inventory", "legal-hold", "lifecycle", "logging", "metadataConfiguration", "metadataTable",
	"metrics", "object-lock", "ownershipControls", "policy", "policyStatus", "publicAccessBlock",
	"replication", "requestPayment", "restore", "retention", "select", "session", "torrent", "website",
	"annotations",
}

func (c *call) dispatch() {
	q, m := c.q, c.r.HTTP.Method
	for _, sub := range unsupported {
		if q.Has(sub) {
			c.fail(core.ErrorStatus(501, "NotImplemented", "A header you provided implies functionality that is not implemented"))
			return
		}
	}
	switch {
	case c.bucket == "":
		if m == http.MethodGet {
			c.listBuckets()
			return
		}
	case c.key == "":
		switch m {
		case http.MethodPut:
			switch {
			case q.Has("versioning"):
				c.putBucketVersioning()
			case q.Has("notification"):
				c.putBucketNotification()
			case q.Has("tagging"):
				c.putBucketTagging()
			default:
				c.createBucket()
			}
			return
		case http.MethodGet:
			switch {
			case q.Has("location"):
				c.getBucketLocation()
			case q.Has("versioning"):
				c.getBucketVersioning()
			case q.Has("notification"):
				c.getBucketNotification()
			case q.Has("tagging"):
				c.getBucketTagging()
			case q.Has("versions"):
				c.listObjectVersions()
			case q.Has("uploads"):
				c.listMultipartUploads()
			case q.Get("list-type") == "2":
				c.listObjects(2)
			default:
				c.listObjects(1)
			}
			return
		case http.MethodHead:
			c.headBucket()
			return
		case http.MethodDelete:
			if q.Has("tagging") {
				c.deleteBucketTagging()
			} else {
				c.deleteBucket()
			}
			return
		case http.MethodPost:
			if q.Has("delete") {
				c.deleteObjects()
				return
			}
		}
	case q.Has("tagging"):
		switch m {
		case http.MethodGet:
			c.getObjectTagging()
			return
		case http.MethodPut:
			c.putObjectTagging()
			return
		case http.MethodDelete:
			c.deleteObjectTagging()
			return
		}
	default:
		switch m {
		case http.MethodPut:
			switch {
			case q.Has("uploadId") || q.Has("partNumber"):
				if c.h.Get("x-amz-copy-source") != "" {
					c.r.Operation = "UploadPartCopy"
					c.fail(core.ErrorStatus(501, "NotImplemented", "A header you provided implies functionality that is not implemented"))
					return
				}
				c.uploadPart()
			case c.h.Get("x-amz-copy-source") != "":
				c.copyObject()
			default:
				c.putObject()
			}
			return
		case http.MethodGet, http.MethodHead:
			if q.Has("uploadId") && m == http.MethodGet {
				c.listParts()
				return
			}
			c.getObject(m == http.MethodHead)
			return
		case http.MethodDelete:
			if q.Has("uploadId") {
				c.abortMultipartUpload()
			} else {
				c.deleteObject()
			}
			return
		case http.MethodPost:
			switch {
			case q.Has("uploads"):
				c.createMultipartUpload()
				return
			case q.Has("uploadId"):
				c.completeMultipartUpload()
				return
			}
		}
	}
	c.fail(&core.Error{Code: "MethodNotAllowed", Status: 405, Message: "The specified method is not allowed against this resource.",
		Fields: map[string]string{"Method": m, "ResourceType": resourceType(c.bucket, c.key)}})
}

func resourceType(bucket, key string) string {
	switch {
	case bucket == "":
		return "SERVICE"
	case key == "":
		return "BUCKET"
	}
	return "OBJECT"
}

// fail writes err as S3's error document (headers only for HEAD).
func (c *call) fail(err error) { core.WriteRESTXMLError(c.r, err) }

// ok writes a response document.
func (c *call) ok(v any) { core.WriteXML(c.r, http.StatusOK, v) }

// empty writes a status with no body.
func (c *call) empty(status int) { core.WriteRaw(c.r, status, "application/xml", nil) }

// now is the sandbox clock truncated to the millisecond, S3's timestamp
// resolution in listings, so that every read of a time agrees.
func (c *call) now() time.Time { return c.r.Now().UTC().Truncate(time.Millisecond) }

// --- errors ---

func errNoSuchBucket(bucket string) *core.Error {
	return &core.Error{Code: "NoSuchBucket", Status: 404, Message: "The specified bucket does not exist", Fields: map[string]string{"BucketName": bucket}}
}

func errNoSuchKey(key string) *core.Error {
	return &core.Error{Code: "NoSuchKey", Status: 404, Message: "The specified key does not exist.", Fields: map[string]string{"Key": key}}
}

func errAccessDenied() *core.Error {
	return core.ErrorStatus(403, "AccessDenied", "Access Denied")
}

func errMalformedXML() *core.Error {
	return core.Errorf("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
}

func errInvalidArgument(msg, name, value string) *core.Error {
	return &core.Error{Code: "InvalidArgument", Message: msg, Fields: map[string]string{"ArgumentName": name, "ArgumentValue": value}}
}

func errInvalidVersionID(v string) *core.Error {
	return errInvalidArgument("Invalid version id specified", "versionId", v)
}

func errNoSuchVersion(key, v string) *core.Error {
	return &core.Error{Code: "NoSuchVersion", Status: 404, Message: "The specified version does not exist.", Fields: map[string]string{"Key": key, "VersionId": v}}
}

// --- small helpers ---

// ownedBucket loads the named bucket for the caller: NoSuchBucket when it
// does not exist, AccessDenied when another account owns it (the sandbox
// has no bucket policies or ACLs granting cross-account access).
func (c *call) ownedBucket(tx *core.Tx) (Bucket, error) {
	b, ok := c.s.buckets.Get(tx, c.bucket)
	if !ok {
		return Bucket{}, errNoSuchBucket(c.bucket)
	}
	if b.Account != c.r.Scope.Account {
		return Bucket{}, errAccessDenied()
	}
	if want := c.h.Get("x-amz-expected-bucket-owner"); want != "" && want != b.Account {
		return Bucket{}, errAccessDenied()
	}
	return b, nil
}

// canonicalID is the account's S3 canonical user id (64 hex digits).
func canonicalID(account string) string {
	sum := sha256.Sum256([]byte("slab-s3-canonical-user/" + account))
	return hex.EncodeToString(sum[:])
}

func objectKey(bucket, key string) string { return bucket + "/" + key }

func newBlobKey(bucket string) string { return bucket + "/" + core.RandomHex(16) }

const timeFormat = "2006-01-02T15:04:05.000Z"

func isoTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func httpTime(t time.Time) string { return t.UTC().Format(http.TimeFormat) }
