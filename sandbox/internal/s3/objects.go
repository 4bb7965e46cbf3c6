package s3

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

const maxKeyLength = 1024

var storageClasses = map[string]bool{
	"STANDARD": true, "REDUCED_REDUNDANCY": true, "STANDARD_IA": true, "ONEZONE_IA": true,
	"INTELLIGENT_TIERING": true, "GLACIER": true, "DEEP_ARCHIVE": true, "GLACIER_IR": true,
	"OUTPOSTS": true, "SNOW": true, "EXPRESS_ONEZONE": true,
}

func errKeyTooLong(key string) *core.Error {
	return &core.Error{Code: "KeyTooLongError", Message: "Your key is too long",
		Fields: map[string]string{"MaxSizeAllowed": strconv.Itoa(maxKeyLength), "Size": strconv.Itoa(len(key))}}
}

func errPrecondition(cond string) *core.Error {
	return &core.Error{Code: "PreconditionFailed", Status: 412, Message: "At least one of the pre-conditions you specified did not hold",
		Fields: map[string]string{"Condition": cond}}
}

// metaFromHeaders reads what a writer sets on an object besides its body.
func (c *call) metaFromHeaders() (Meta, error) {
	h := c.h
	m := Meta{
		ContentType:        h.Get("Content-Type"),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentLanguage:    h.Get("Content-Language"),
		CacheControl:       h.Get("Cache-Control"),
		Expires:            h.Get("Expires"),
	}
	if m.ContentType == "" {
		m.ContentType = "binary/octet-stream"
	}
	// aws-chunked is the transfer framing of this request, not an encoding
	// of the stored object.
	var encs []string
	for _, v := range h.Values("Content-Encoding") {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" && e != "aws-chunked" {
				encs = append(encs, e)
			}
		}
	}
	m.ContentEncoding = strings.Join(encs, ",")
	if sc := h.Get("x-amz-storage-class"); sc != "" {
		if !storageClasses[sc] {
			return Meta{}, &core.Error{Code: "InvalidStorageClass", Message: "The storage class you specified is not valid", Fields: map[string]string{"StorageClassRequested": sc}}
		}
		if sc != "STANDARD" {
			m.StorageClass = sc
		}
	}
	size := 0
	for k, vs := range h {
		lk := strings.ToLower(k)
		if name, ok := strings.CutPrefix(lk, "x-amz-meta-"); ok {
			if m.User == nil {
				m.User = map[string]string{}
			}
			v := strings.Join(vs, ",")
			m.User[name] = v
			size += len(name) + len(v)
		}
	}
	if size > 2048 {
		return Meta{}, &core.Error{Code: "MetadataTooLarge", Message: "Your metadata headers exceed the maximum allowed metadata size",
			Fields: map[string]string{"Size": strconv.Itoa(size), "MaxSizeAllowed": "2048"}}
	}
	return m, nil
}

// checkWritePreconditions applies If-None-Match: * and If-Match to a write.
func (c *call) checkWritePreconditions(tx *core.Tx, key string) error {
	cur, ok := c.s.current(tx, c.bucket, key)
	exists := ok && !cur.DeleteMarker
	if inm := c.h.Get("If-None-Match"); inm != "" {
		if inm != "*" {
			return core.ErrorStatus(501, "NotImplemented", "A header you provided implies functionality that is not implemented")
		}
		if exists {
			return errPrecondition("If-None-Match")
		}
	}
	if im := c.h.Get("If-Match"); im != "" {
		if !exists {
			return errNoSuchKey(key)
		}
		if !etagMatches(im, cur.ETag) {
			return errPrecondition("If-Match")
		}
	}
	return nil
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.Trim(t, `"`) == strings.Trim(etag, `"`) {
			return true
		}
	}
	return false
}

func (c *call) putObject() {
	c.r.Operation = "PutObject"
	if len(c.key) > maxKeyLength {
		c.fail(errKeyTooLong(c.key))
		return
	}
	meta, err := c.metaFromHeaders()
	if err != nil {
		c.fail(err)
		return
	}
	tags, err := c.taggingHeader()
	if err != nil {
		c.fail(err)
		return
	}
	// The bucket and preconditions are checked before the body is read,
	// and again when the version is committed.
	if err := c.s.c.Store.View(func(tx *core.Tx) error {
		if _, err := c.ownedBucket(tx); err != nil {
			return err
		}
		return c.checkWritePreconditions(tx, c.key)
	}); err != nil {
		c.fail(err)
		return
	}
	defAlg := strings.ToUpper(c.h.Get("x-amz-checksum-algorithm"))
	if defAlg == "" || !validAlgorithm(defAlg) {
		defAlg = "CRC64NVME" // S3's default checksum for new objects
	}
	rc, err := c.receiveBody(c.bodyAlgorithms(defAlg))
	if err != nil {
		c.fail(err)
		return
	}
	sum, given, err := c.suppliedChecksumOf(rc.size > 0, func(alg string) (string, error) { return c.s.digest(&rc, alg) })
	if err == nil && !given {
		var v string
		v, err = c.s.digest(&rc, defAlg)
		sum = Checksum{Algorithm: defAlg, Value: v, Type: "FULL_OBJECT"}
	}
	if err != nil {
		c.s.removeFile(rc.file)
		c.fail(err)
		return
	}
	now := c.now()
	var v Version
	var b Bucket
	err = c.s.c.Store.Update(func(tx *core.Tx) error {
		var err error
		if b, err = c.ownedBucket(tx); err != nil {
			return err
		}
		if err := c.checkWritePreconditions(tx, c.key); err != nil {
			return err
		}
		v = c.s.putVersion(tx, &b, c.key, Version{Owner: c.r.Scope.Account, ETag: rc.etag(), Size: rc.size, Meta: meta, Checksum: sum, Tags: tags}, rc.blob(), now)
		return nil
	})
	if err != nil {
		c.s.removeFile(rc.file)
		c.fail(err)
		return
	}
	h := c.r.W.Header()
	h.Set("ETag", v.ETag)
	h.Set("x-amz-server-side-encryption", "AES256")
	if b.Versioning != "" {
		h.Set("x-amz-version-id", v.VersionID)
	}
	setChecksumHeaders(h, v.Checksum)
	c.empty(http.StatusOK)
	c.s.emit([]Event{c.createdEvent(EventPut, b, v)})
}

func (c *call) createdEvent(name string, b Bucket, v Version) Event {
	return Event{Name: name, Scope: b.Scope(), Bucket: b.Name, Key: c.key, VersionID: eventVersionID(b, v.VersionID),
		ETag: strings.Trim(v.ETag, `"`), Sequencer: v.Sequencer, Size: v.Size, Time: v.LastModified, RequesterAccount: c.r.Scope.Account}
}

// byteRange is an inclusive range of an object's body.
type byteRange struct{ start, end int64 }

// parseRange reads a single-range "bytes=" header. ok is false for a header
// to ignore (absent, malformed or multi-range: the whole object is sent),
// and satisfiable false for a range outside the object (416).
func parseRange(h string, size int64) (r byteRange, ok, satisfiable bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return byteRange{}, false, false
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return byteRange{}, false, false
	}
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return byteRange{}, false, false
		}
		if n == 0 || size == 0 {
			return byteRange{}, true, false
		}
		if n > size {
			n = size
		}
		return byteRange{size - n, size - 1}, true, true
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 {
		return byteRange{}, false, false
	}
	b := size - 1
	if last != "" {
		if b, err = strconv.ParseInt(last, 10, 64); err != nil || b < a {
			return byteRange{}, false, false
		}
	}
	if a >= size {
		return byteRange{}, true, false
	}
	if b >= size {
		b = size - 1
	}
	return byteRange{a, b}, true, true
}

// partRange is the byte range of part n of an object; an object not
// uploaded in parts is its own single part.
func partRange(v Version, n string) (byteRange, error) {
	num, err := strconv.Atoi(n)
	if err != nil || num < 1 || num > 10000 {
		return byteRange{}, errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", n)
	}
	sizes := v.PartSizes
	if len(sizes) == 0 {
		sizes = []int64{v.Size}
	}
	if num > len(sizes) || sizes[num-1] == 0 {
		return byteRange{}, &core.Error{Code: "InvalidPartNumber", Status: 416, Message: "The requested partnumber is not satisfiable",
			Fields: map[string]string{"PartNumberRequested": n, "ActualPartCount": strconv.Itoa(len(sizes))}}
	}
	var start int64
	for _, sz := range sizes[:num-1] {
		start += sz
	}
	return byteRange{start, start + sizes[num-1] - 1}, nil
}

// readPreconditions applies If-Match, If-Unmodified-Since, If-None-Match
// and If-Modified-Since to a read, in RFC 7232's order. It returns 304 for
// "not modified", or an error.
func (c *call) readPreconditions(v Version) (int, error) {
	lm := v.LastModified.Truncate(time.Second)
	im := c.h.Get("If-Match")
	if im != "" && !etagMatches(im, v.ETag) {
		return 0, errPrecondition("If-Match")
	}
	if ius := c.h.Get("If-Unmodified-Since"); im == "" && ius != "" {
		if t, err := http.ParseTime(ius); err == nil && lm.After(t) {
			return 0, errPrecondition("If-Unmodified-Since")
		}
	}
	inm := c.h.Get("If-None-Match")
	if inm != "" && etagMatches(inm, v.ETag) {
		return http.StatusNotModified, nil
	}
	if ims := c.h.Get("If-Modified-Since"); inm == "" && ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !lm.After(t) {
			return http.StatusNotModified, nil
		}
	}
	return 0, nil
}

func (c *call) getObject(head bool) {
	c.r.Operation = "GetObject"
	if head {
		c.r.Operation = "HeadObject"
	}
	versionID := c.q.Get("versionId")
	if c.q.Has("versionId") && !validVersionID(versionID) {
		c.fail(errInvalidVersionID(versionID))
		return
	}
	var b Bucket
	var v Version
	var found bool
	var body io.ReadSeekCloser
	err := c.s.c.Store.View(func(tx *core.Tx) error {
		var err error
		if b, err = c.ownedBucket(tx); err != nil {
			return err
		}
		v, found = c.s.findVersion(tx, c.bucket, c.key, versionID)
		if found && !v.DeleteMarker && !head {
			// Opened inside the transaction: a deletion that commits
			// later removes the file only after it is open.
			blob, _ := c.s.blobs.Get(tx, v.DataKey)
			body, err = c.s.openBlob(blob)
		}
		return err
	})
	if body != nil {
		defer body.Close()
	}
	if err != nil {
		c.fail(err)
		return
	}
	h := c.r.W.Header()
	switch {
	case !found && versionID != "":
		c.fail(errNoSuchVersion(c.key, versionID))
		return
	case !found:
		c.fail(errNoSuchKey(c.key))
		return
	case v.DeleteMarker:
		h.Set("x-amz-delete-marker", "true")
		h.Set("x-amz-version-id", v.VersionID)
		if versionID == "" {
			c.fail(errNoSuchKey(c.key))
			return
		}
		h.Set("Last-Modified", httpTime(v.LastModified))
		h.Set("Allow", "DELETE")
		c.fail(&core.Error{Code: "MethodNotAllowed", Status: 405, Message: "The specified method is not allowed against this resource.",
			Fields: map[string]string{"Method": c.r.HTTP.Method, "ResourceType": "DeleteMarker"}})
		return
	}
	h.Set("ETag", v.ETag)
	h.Set("Last-Modified", httpTime(v.LastModified))
	if status, err := c.readPreconditions(v); err != nil {
		c.fail(err)
		return
	} else if status == http.StatusNotModified {
		c.r.Status = status
		c.r.W.WriteHeader(status)
		return
	}
	h.Set("Accept-Ranges", "bytes")
	h.Set("x-amz-server-side-encryption", "AES256")
	if b.Versioning != "" || v.VersionID != "null" {
		h.Set("x-amz-version-id", v.VersionID)
	}
	if v.Meta.StorageClass != "" {
		h.Set("x-amz-storage-class", v.Meta.StorageClass)
	}
	for k, val := range v.Meta.User {
		h.Set("x-amz-meta-"+k, val)
	}
	if len(v.Tags) > 0 {
		h.Set("x-amz-tagging-count", strconv.Itoa(len(v.Tags)))
	}
	ct := v.Meta.ContentType
	setOpt := func(name, stored, override string) {
		val := stored
		if !head && c.q.Get(override) != "" {
			val = c.q.Get(override)
		}
		if val != "" {
			h.Set(name, val)
		}
	}
	setOpt("Content-Encoding", v.Meta.ContentEncoding, "response-content-encoding")
	setOpt("Content-Disposition", v.Meta.ContentDisposition, "response-content-disposition")
	setOpt("Content-Language", v.Meta.ContentLanguage, "response-content-language")
	setOpt("Cache-Control", v.Meta.CacheControl, "response-cache-control")
	setOpt("Expires", v.Meta.Expires, "response-expires")
	if !head && c.q.Get("response-content-type") != "" {
		ct = c.q.Get("response-content-type")
	}
	h.Set("Content-Type", ct)
	status := http.StatusOK
	start, length := int64(0), v.Size
	if c.q.Has("partNumber") {
		if c.h.Get("Range") != "" {
			c.fail(core.Errorf("InvalidRequest", "Cannot specify both Range header and partNumber query parameter"))
			return
		}
		rg, err := partRange(v, c.q.Get("partNumber"))
		if err != nil {
			c.fail(err)
			return
		}
		status = http.StatusPartialContent
		start, length = rg.start, rg.end-rg.start+1
		h.Set("Content-Range", "bytes "+strconv.FormatInt(rg.start, 10)+"-"+strconv.FormatInt(rg.end, 10)+"/"+strconv.FormatInt(v.Size, 10))
		if v.PartsCount > 0 {
			h.Set("x-amz-mp-parts-count", strconv.Itoa(v.PartsCount))
		}
	} else if rh := c.h.Get("Range"); rh != "" {
		rg, ok, satisfiable := parseRange(rh, v.Size)
		if ok && !satisfiable {
			h.Del("ETag")
			h.Del("Last-Modified")
			c.fail(&core.Error{Code: "InvalidRange", Status: 416, Message: "The requested range is not satisfiable",
				Fields: map[string]string{"ActualObjectSize": strconv.FormatInt(v.Size, 10), "RangeRequested": rh}})
			return
		}
		if ok {
			status = http.StatusPartialContent
			start, length = rg.start, rg.end-rg.start+1
			h.Set("Content-Range", "bytes "+strconv.FormatInt(rg.start, 10)+"-"+strconv.FormatInt(rg.end, 10)+"/"+strconv.FormatInt(v.Size, 10))
		}
	}
	// The SDKs validate a returned checksum against the bytes received, so
	// it is sent only with the whole object.
	if strings.EqualFold(c.h.Get("x-amz-checksum-mode"), "ENABLED") && length == v.Size {
		setChecksumHeaders(h, v.Checksum)
	}
	var r io.Reader = http.NoBody
	if body != nil {
		r = io.NewSectionReader(readerAt{body}, start, length)
	}
	core.WriteStream(c.r, status, ct, length, r)
}

// readerAt reads a body file (or an inline body) at an offset.
type readerAt struct{ rs io.ReadSeekCloser }

func (r readerAt) ReadAt(p []byte, off int64) (int, error) {
	if ra, ok := r.rs.(io.ReaderAt); ok {
		return ra.ReadAt(p, off)
	}
	return 0, errors.New("s3: body is not seekable")
}

// parseCopySource parses x-amz-copy-source: [/]bucket/key[?versionId=id], URL-encoded.
func parseCopySource(v string) (bucket, key, versionID string, err error) {
	bad := errInvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey", "x-amz-copy-source", v)
	path, query, _ := strings.Cut(v, "?")
	if query != "" {
		qv, qerr := url.ParseQuery(query)
		if qerr != nil {
			return "", "", "", bad
		}
		versionID = qv.Get("versionId")
		if qv.Has("versionId") && !validVersionID(versionID) {
			return "", "", "", errInvalidVersionID(versionID)
		}
	}
	dec, derr := url.PathUnescape(strings.TrimPrefix(path, "/"))
	if derr != nil {
		return "", "", "", bad
	}
	bucket, key, ok := strings.Cut(dec, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", "", bad
	}
	return bucket, key, versionID, nil
}

type copyObjectResult struct {
	XMLName           xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CopyObjectResult"`
	ETag              string   `xml:"ETag"`
	LastModified      string   `xml:"LastModified"`
	ChecksumType      string   `xml:"ChecksumType,omitempty"`
	ChecksumCRC32     string   `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string   `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string   `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string   `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string   `xml:"ChecksumSHA256,omitempty"`
}

// checksumFields fills the Checksum* elements of a result document.
func checksumFields(sum Checksum, crc32, crc32c, crc64, sha1, sha256 *string) {
	switch sum.Algorithm {
	case "CRC32":
		*crc32 = sum.Value
	case "CRC32C":
		*crc32c = sum.Value
	case "CRC64NVME":
		*crc64 = sum.Value
	case "SHA1":
		*sha1 = sum.Value
	case "SHA256":
		*sha256 = sum.Value
	}
}

// copyPreconditions applies the x-amz-copy-source-if-* headers.
func (c *call) copyPreconditions(src Version) error {
	lm := src.LastModified.Truncate(time.Second)
	im := c.h.Get("x-amz-copy-source-if-match")
	if im != "" && !etagMatches(im, src.ETag) {
		return errPrecondition("x-amz-copy-source-If-Match")
	}
	if v := c.h.Get("x-amz-copy-source-if-unmodified-since"); im == "" && v != "" {
		if t, err := http.ParseTime(v); err == nil && lm.After(t) {
			return errPrecondition("x-amz-copy-source-If-Unmodified-Since")
		}
	}
	inm := c.h.Get("x-amz-copy-source-if-none-match")
	if inm != "" && etagMatches(inm, src.ETag) {
		return errPrecondition("x-amz-copy-source-If-None-Match")
	}
	if v := c.h.Get("x-amz-copy-source-if-modified-since"); inm == "" && v != "" {
		if t, err := http.ParseTime(v); err == nil && !lm.After(t) {
			return errPrecondition("x-amz-copy-source-If-Modified-Since")
		}
	}
	return nil
}

func (c *call) copyObject() {
	c.r.Operation = "CopyObject"
	if len(c.key) > maxKeyLength {
		c.fail(errKeyTooLong(c.key))
		return
	}
	srcBucket, srcKey, srcVersion, err := parseCopySource(c.h.Get("x-amz-copy-source"))
	if err != nil {
		c.fail(err)
		return
	}
	directive := c.h.Get("x-amz-metadata-directive")
	if directive == "" {
		directive = "COPY"
	}
	if directive != "COPY" && directive != "REPLACE" {
		c.fail(errInvalidArgument("Unknown metadata directive.", "MetadataDirective", directive))
		return
	}
	newMeta, err := c.metaFromHeaders()
	if err != nil {
		c.fail(err)
		return
	}
	tagDirective := c.h.Get("x-amz-tagging-directive")
	if tagDirective == "" {
		tagDirective = "COPY"
	}
	if tagDirective != "COPY" && tagDirective != "REPLACE" {
		c.fail(errInvalidArgument("Unknown tagging directive.", "x-amz-tagging-directive", tagDirective))
		return
	}
	newTags, err := c.taggingHeader()
	if err != nil {
		c.fail(err)
		return
	}
	alg := strings.ToUpper(c.h.Get("x-amz-checksum-algorithm"))
	if alg != "" && !validAlgorithm(alg) {
		c.fail(errInvalidArgument("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]", "x-amz-checksum-algorithm", alg))
		return
	}
	now := c.now()
	var b, sb Bucket
	var src, v Version
	// resolve checks the copy and finds its source; it runs before the body
	// is copied (outside any transaction) and again when the copy commits.
	resolve := func(tx *core.Tx) error {
		var err error
		if b, err = c.ownedBucket(tx); err != nil {
			return err
		}
		var ok bool
		if sb, ok = c.s.buckets.Get(tx, srcBucket); !ok {
			return errNoSuchBucket(srcBucket)
		}
		if want := c.h.Get("x-amz-source-expected-bucket-owner"); sb.Account != c.r.Scope.Account || want != "" && want != sb.Account {
			return errAccessDenied()
		}
		src, ok = c.s.findVersion(tx, srcBucket, srcKey, srcVersion)
		switch {
		case !ok && srcVersion != "":
			return errNoSuchVersion(srcKey, srcVersion)
		case !ok || src.DeleteMarker && srcVersion == "":
			return errNoSuchKey(srcKey)
		case src.DeleteMarker:
			return core.Errorf("InvalidRequest", "The source of a copy request may not specifically refer to a delete marker by version id.")
		}
		if err := c.copyPreconditions(src); err != nil {
			return err
		}
		cur, _ := c.s.current(tx, srcBucket, srcKey)
		if srcBucket == c.bucket && srcKey == c.key && directive == "COPY" && cur.VersionID == src.VersionID &&
			c.h.Get("x-amz-storage-class") == "" && alg == "" {
			return core.Errorf("InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
		}
		return c.checkWritePreconditions(tx, c.key)
	}
	var srcBlob Blob
	var srcFile io.ReadSeekCloser
	err = c.s.c.Store.View(func(tx *core.Tx) error {
		if err := resolve(tx); err != nil {
			return err
		}
		srcBlob, _ = c.s.blobs.Get(tx, src.DataKey)
		var err error
		srcFile, err = c.s.openBlob(srcBlob)
		return err
	})
	if err != nil {
		c.fail(err)
		return
	}
	sum := src.Checksum
	want := alg
	if want == "" {
		want = sum.Algorithm
	}
	if want == "" {
		want = "CRC64NVME"
	}
	var algs []string
	if sum.Algorithm != want || sum.Type != "FULL_OBJECT" {
		algs = []string{want}
	}
	rc, err := c.s.writeBlob(srcFile, algs)
	srcFile.Close()
	if err != nil {
		c.fail(err)
		return
	}
	if len(algs) > 0 {
		sum = Checksum{Algorithm: want, Value: base64.StdEncoding.EncodeToString(rc.sums[want]), Type: "FULL_OBJECT"}
	}
	err = c.s.c.Store.Update(func(tx *core.Tx) error {
		if err := resolve(tx); err != nil {
			return err
		}
		meta := newMeta
		if directive == "COPY" {
			meta = src.Meta
			if c.h.Get("x-amz-storage-class") != "" {
				meta.StorageClass = newMeta.StorageClass
			}
		}
		tags := newTags
		if tagDirective == "COPY" {
			tags = src.Tags
		}
		v = c.s.putVersion(tx, &b, c.key, Version{Owner: c.r.Scope.Account, ETag: rc.etag(), Size: rc.size, Meta: meta, Checksum: sum, Tags: tags}, rc.blob(), now)
		return nil
	})
	if err != nil {
		c.s.removeFile(rc.file)
		c.fail(err)
		return
	}
	h := c.r.W.Header()
	if b.Versioning != "" {
		h.Set("x-amz-version-id", v.VersionID)
	}
	if sb.Versioning != "" {
		h.Set("x-amz-copy-source-version-id", src.VersionID)
	}
	h.Set("x-amz-server-side-encryption", "AES256")
	res := copyObjectResult{ETag: v.ETag, LastModified: isoTime(v.LastModified), ChecksumType: v.Checksum.Type}
	checksumFields(v.Checksum, &res.ChecksumCRC32, &res.ChecksumCRC32C, &res.ChecksumCRC64NVME, &res.ChecksumSHA1, &res.ChecksumSHA256)
	c.ok(res)
	c.s.emit([]Event{c.createdEvent(EventCopy, b, v)})
}

// deletion is the outcome of deleting one key or version.
type deletion struct {
	Key                   string
	VersionID             string // the version deleted, or the marker created
	DeleteMarker          bool
	DeleteMarkerVersionID string
	event                 *Event
}

// deleteOne deletes key (versionID "") or one version of it, as
// DeleteObject and DeleteObjects do; b's sequencer advances when an event
// results, and the caller must Put b back.
func (s *Service) deleteOne(tx *core.Tx, b *Bucket, key, versionID, requester string, now time.Time) deletion {
	d := deletion{Key: key}
	event := func(name, vid string) *Event {
		return &Event{Name: name, Scope: b.Scope(), Bucket: b.Name, Key: key, VersionID: eventVersionID(*b, vid),
			Sequencer: sequencer(nextSeq(b, now)), Time: now, RequesterAccount: requester}
	}
	if versionID != "" {
		d.VersionID = versionID
		if v, ok := s.removeVersion(tx, b.Name, key, versionID); ok {
			if v.DeleteMarker {
				d.DeleteMarker = true
				d.DeleteMarkerVersionID = v.VersionID
			}
			d.event = event(EventDelete, v.VersionID)
		}
		return d
	}
	if b.Versioning == "" {
		if _, ok := s.removeVersion(tx, b.Name, key, "null"); ok {
			d.event = event(EventDelete, "null")
		}
		return d
	}
	marker := s.putVersion(tx, b, key, Version{DeleteMarker: true, Owner: requester}, Blob{}, now)
	d.VersionID = marker.VersionID
	d.DeleteMarker = true
	d.DeleteMarkerVersionID = marker.VersionID
	d.event = &Event{Name: EventDeleteMarkerCreated, Scope: b.Scope(), Bucket: b.Name, Key: key, VersionID: marker.VersionID,
		Sequencer: marker.Sequencer, Time: now, RequesterAccount: requester}
	return d
}

func (c *call) deleteObject() {
	c.r.Operation = "DeleteObject"
	versionID := c.q.Get("versionId")
	if c.q.Has("versionId") && !validVersionID(versionID) {
		c.fail(errInvalidVersionID(versionID))
		return
	}
	now := c.now()
	var d deletion
	var b Bucket
	err := c.s.c.Store.Update(func(tx *core.Tx) error {
		var err error
		if b, err = c.ownedBucket(tx); err != nil {
			return err
		}
		if im := c.h.Get("If-Match"); im != "" {
			cur, ok := c.s.current(tx, c.bucket, c.key)
			if !ok || cur.DeleteMarker {
				return errNoSuchKey(c.key)
			}
			if !etagMatches(im, cur.ETag) {
				return errPrecondition("If-Match")
			}
		}
		d = c.s.deleteOne(tx, &b, c.key, versionID, c.r.Scope.Account, now)
		if d.event != nil {
			c.s.buckets.Put(tx, b.Name, b)
		}
		return nil
	})
	if err != nil {
		c.fail(err)
		return
	}
	h := c.r.W.Header()
	if d.DeleteMarker {
		h.Set("x-amz-delete-marker", "true")
	}
	if d.VersionID != "" {
		h.Set("x-amz-version-id", d.VersionID)
	}
	c.empty(http.StatusNoContent)
	if d.event != nil {
		c.s.emit([]Event{*d.event})
	}
}

type deleteRequest struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   bool     `xml:"Quiet"`
	Objects []struct {
		Key       *string `xml:"Key"`
		VersionID string  `xml:"VersionId"`
	} `xml:"Object"`
}

type deleteResult struct {
	XMLName xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ DeleteResult"`
	Deleted []deletedEntry `xml:"Deleted"`
	Errors  []deleteError  `xml:"Error"`
}

type deletedEntry struct {
	Key                   string `xml:"Key"`
	VersionID             string `xml:"VersionId,omitempty"`
	DeleteMarker          bool   `xml:"DeleteMarker,omitempty"`
	DeleteMarkerVersionID string `xml:"DeleteMarkerVersionId,omitempty"`
}

type deleteError struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId,omitempty"`
	Code      string `xml:"Code"`
	Message   string `xml:"Message"`
}

func (c *call) deleteObjects() {
	c.r.Operation = "DeleteObjects"
	// S3 insists on an integrity check of this body.
	if c.h.Get("Content-MD5") == "" {
		found := false
		for _, alg := range checksumAlgorithms {
			if c.h.Get(checksumHeader(alg)) != "" || c.trailer.Get(checksumHeader(alg)) != "" {
				found = true
			}
		}
		if !found {
			c.fail(core.Errorf("InvalidRequest", "Missing required header for this request: Content-MD5"))
			return
		}
	}
	if err := c.checkContentMD5(c.r.Body); err != nil {
		c.fail(err)
		return
	}
	if _, _, err := c.suppliedChecksum(c.r.Body); err != nil {
		c.fail(err)
		return
	}
	var in deleteRequest
	if xml.Unmarshal(c.r.Body, &in) != nil || len(in.Objects) == 0 || len(in.Objects) > 1000 {
		c.fail(errMalformedXML())
		return
	}
	for _, o := range in.Objects {
		if o.Key == nil {
			c.fail(errMalformedXML())
			return
		}
	}
	now := c.now()
	res := deleteResult{}
	var events []Event
	err := c.s.c.Store.Update(func(tx *core.Tx) error {
		b, err := c.ownedBucket(tx)
		if err != nil {
			return err
		}
		for _, o := range in.Objects {
			key := *o.Key
			switch {
			case len(key) > maxKeyLength:
				res.Errors = append(res.Errors, deleteError{Key: key, VersionID: o.VersionID, Code: "KeyTooLongError", Message: "Your key is too long"})
				continue
			case o.VersionID != "" && !validVersionID(o.VersionID):
				res.Errors = append(res.Errors, deleteError{Key: key, VersionID: o.VersionID, Code: "NoSuchVersion", Message: "The specified version does not exist."})
				continue
			}
			d := c.s.deleteOne(tx, &b, key, o.VersionID, c.r.Scope.Account, now)
			if d.event != nil {
				events = append(events, *d.event)
			}
			if !in.Quiet {
				res.Deleted = append(res.Deleted, deletedEntry{Key: key, VersionID: o.VersionID, DeleteMarker: d.DeleteMarker, DeleteMarkerVersionID: d.DeleteMarkerVersionID})
			}
		}
		c.s.buckets.Put(tx, b.Name, b)
		return nil
	})
	if err != nil {
		c.fail(err)
		return
	}
	c.ok(res)
	c.s.emit(events)
}
