package s3

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// minPartSize is the smallest part S3 accepts except the last one.
const minPartSize = 5 << 20

// Upload is an in-progress multipart upload, keyed bucket + "/" + upload id.
type Upload struct {
	ID        string    `json:"id"`
	Bucket    string    `json:"bucket"`
	Key       string    `json:"key"`
	Owner     string    `json:"owner"`
	Initiated time.Time `json:"initiated"`
	Meta      Meta      `json:"meta"`
	// ChecksumAlgorithm and ChecksumType come from CreateMultipartUpload;
	// empty when the upload asked for no checksum.
	ChecksumAlgorithm string       `json:"checksum_algorithm,omitempty"`
	ChecksumType      string       `json:"checksum_type,omitempty"`
	Parts             map[int]Part `json:"parts,omitempty"`
	Tags              []Tag        `json:"tags,omitempty"`
}

// Part is one uploaded part; its body is in the blobs table.
type Part struct {
	Number       int       `json:"number"`
	ETag         string    `json:"etag"`
	Size         int64     `json:"size"`
	LastModified time.Time `json:"last_modified"`
	Checksum     Checksum  `json:"checksum"`
	DataKey      string    `json:"data_key"`
}

func errNoSuchUpload(id string) *core.Error {
	return &core.Error{Code: "NoSuchUpload", Status: 404,
		Message: "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
		Fields:  map[string]string{"UploadId": id}}
}

func newUploadID() string {
	var b [48]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// upload loads the caller's upload named by ?uploadId for the request's key.
func (c *call) upload(tx *core.Tx) (Bucket, Upload, error) {
	b, err := c.ownedBucket(tx)
	if err != nil {
		return Bucket{}, Upload{}, err
	}
	id := c.q.Get("uploadId")
	u, ok := c.s.uploads.Get(tx, c.bucket+"/"+id)
	if !ok || u.Key != c.key {
		return Bucket{}, Upload{}, errNoSuchUpload(id)
	}
	return b, u, nil
}

type initiateResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

func (c *call) createMultipartUpload() {
	c.r.Operation = "CreateMultipartUpload"
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
	alg := strings.ToUpper(c.h.Get("x-amz-checksum-algorithm"))
	typ := strings.ToUpper(c.h.Get("x-amz-checksum-type"))
	if alg != "" && !validAlgorithm(alg) {
		c.fail(errInvalidArgument("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]", "x-amz-checksum-algorithm", alg))
		return
	}
	switch typ {
	case "", "COMPOSITE", "FULL_OBJECT":
	default:
		c.fail(errInvalidArgument("Value for x-amz-checksum-type header is invalid.", "x-amz-checksum-type", typ))
		return
	}
	if typ != "" && alg == "" {
		c.fail(core.Errorf("InvalidRequest", "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."))
		return
	}
	if alg != "" && typ == "" {
		typ = "COMPOSITE"
		if alg == "CRC64NVME" {
			typ = "FULL_OBJECT"
		}
	}
	if typ == "FULL_OBJECT" && strings.HasPrefix(alg, "SHA") || typ == "COMPOSITE" && alg == "CRC64NVME" {
		c.fail(core.Errorf("InvalidRequest", "The %s checksum type cannot be used with the %s checksum algorithm.", typ, strings.ToLower(alg)))
		return
	}
	u := Upload{ID: newUploadID(), Bucket: c.bucket, Key: c.key, Owner: c.r.Scope.Account, Initiated: c.now(), Meta: meta,
		ChecksumAlgorithm: alg, ChecksumType: typ, Tags: tags}
	err = c.s.c.Store.Update(func(tx *core.Tx) error {
		if _, err := c.ownedBucket(tx); err != nil {
			return err
		}
		c.s.uploads.Put(tx, c.bucket+"/"+u.ID, u)
		return nil
	})
	if err != nil {
		c.fail(err)
		return
	}
	if alg != "" {
		c.r.W.Header().Set("x-amz-checksum-algorithm", alg)
		c.r.W.Header().Set("x-amz-checksum-type", typ)
	}
	c.r.W.Header().Set("x-amz-server-side-encryption", "AES256")
	c.ok(initiateResult{Bucket: c.bucket, Key: c.key, UploadID: u.ID})
}

func partNumber(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 10000 {
		return 0, errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", v)
	}
	return n, nil
}

func (c *call) uploadPart() {
	c.r.Operation = "UploadPart"
	if !c.q.Has("uploadId") {
		c.fail(errNoSuchUpload(""))
		return
	}
	n, err := partNumber(c.q.Get("partNumber"))
	if err != nil {
		c.fail(err)
		return
	}
	// The upload (and its checksum algorithm) is looked up before the body
	// is read, and again when the part is committed.
	var alg string
	if err := c.s.c.Store.View(func(tx *core.Tx) error {
		_, u, err := c.upload(tx)
		alg = u.ChecksumAlgorithm
		return err
	}); err != nil {
		c.fail(err)
		return
	}
	var extra []string
	if alg != "" {
		extra = []string{alg}
	}
	rc, err := c.receiveBody(c.bodyAlgorithms(extra...))
	if err != nil {
		c.fail(err)
		return
	}
	sum, given, err := c.suppliedChecksumOf(rc.size > 0, func(a string) (string, error) { return c.s.digest(&rc, a) })
	if err != nil {
		c.s.removeFile(rc.file)
		c.fail(err)
		return
	}
	var p Part
	err = c.s.c.Store.Update(func(tx *core.Tx) error {
		_, u, err := c.upload(tx)
		if err != nil {
			return err
		}
		if u.ChecksumAlgorithm != "" {
			if given && sum.Algorithm != u.ChecksumAlgorithm {
				return core.Errorf("InvalidRequest", "Checksum Type mismatch occurred, expected checksum Type: %s, actual checksum Type: %s",
					strings.ToLower(u.ChecksumAlgorithm), strings.ToLower(sum.Algorithm))
			}
			if !given {
				raw, ok := rc.sums[u.ChecksumAlgorithm]
				if !ok {
					return core.ErrorStatus(500, "InternalError", "the part's checksum was not computed")
				}
				sum = Checksum{Algorithm: u.ChecksumAlgorithm, Value: base64.StdEncoding.EncodeToString(raw), Type: "FULL_OBJECT"}
			}
		}
		p = Part{Number: n, ETag: rc.etag(), Size: rc.size, LastModified: c.now(), Checksum: sum, DataKey: newBlobKey(c.bucket)}
		parts := make(map[int]Part, len(u.Parts)+1)
		for k, v := range u.Parts {
			parts[k] = v
		}
		if old, ok := parts[n]; ok {
			c.s.dropBlob(tx, old.DataKey)
		}
		parts[n] = p
		u.Parts = parts
		c.s.blobs.Put(tx, p.DataKey, rc.blob())
		c.s.uploads.Put(tx, c.bucket+"/"+u.ID, u)
		return nil
	})
	if err != nil {
		c.s.removeFile(rc.file)
		c.fail(err)
		return
	}
	h := c.r.W.Header()
	h.Set("ETag", p.ETag)
	h.Set("x-amz-server-side-encryption", "AES256")
	if p.Checksum.Algorithm != "" {
		h.Set(checksumHeader(p.Checksum.Algorithm), p.Checksum.Value)
	}
	c.empty(http.StatusOK)
}

type completeRequest struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber        int    `xml:"PartNumber"`
		ETag              string `xml:"ETag"`
		ChecksumCRC32     string `xml:"ChecksumCRC32"`
		ChecksumCRC32C    string `xml:"ChecksumCRC32C"`
		ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME"`
		ChecksumSHA1      string `xml:"ChecksumSHA1"`
		ChecksumSHA256    string `xml:"ChecksumSHA256"`
	} `xml:"Part"`
}

type completeResult struct {
	XMLName           xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
	Location          string   `xml:"Location"`
	Bucket            string   `xml:"Bucket"`
	Key               string   `xml:"Key"`
	ETag              string   `xml:"ETag"`
	ChecksumCRC32     string   `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string   `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string   `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string   `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string   `xml:"ChecksumSHA256,omitempty"`
	ChecksumType      string   `xml:"ChecksumType,omitempty"`
}

func (c *call) completeMultipartUpload() {
	c.r.Operation = "CompleteMultipartUpload"
	var in completeRequest
	if xml.Unmarshal(c.r.Body, &in) != nil || len(in.Parts) == 0 {
		c.fail(errMalformedXML())
		return
	}
	id := c.q.Get("uploadId")
	invalidPart := func(n int, etag string) *core.Error {
		return &core.Error{Code: "InvalidPart",
			Message: "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
			Fields:  map[string]string{"UploadId": id, "PartNumber": strconv.Itoa(n), "ETag": etag}}
	}
	now := c.now()
	var b Bucket
	var u Upload
	// check validates the request against the upload; it runs before the
	// parts are joined (outside any transaction) and again at the commit,
	// which also makes sure the parts joined are still the upload's.
	check := func(tx *core.Tx) error {
		var err error
		if b, u, err = c.upload(tx); err != nil {
			return err
		}
		if err := c.checkWritePreconditions(tx, c.key); err != nil {
			return err
		}
		for i, ip := range in.Parts {
			if i > 0 && ip.PartNumber <= in.Parts[i-1].PartNumber {
				return &core.Error{Code: "InvalidPartOrder", Message: "The list of parts was not in ascending order. Parts must be ordered by part number.",
					Fields: map[string]string{"UploadId": id}}
			}
			p, ok := u.Parts[ip.PartNumber]
			if !ok || strings.Trim(ip.ETag, `" `) != strings.Trim(p.ETag, `"`) {
				return invalidPart(ip.PartNumber, ip.ETag)
			}
			// A part checksum named in the request must be the one stored.
			claims := map[string]string{"CRC32": ip.ChecksumCRC32, "CRC32C": ip.ChecksumCRC32C, "CRC64NVME": ip.ChecksumCRC64NVME,
				"SHA1": ip.ChecksumSHA1, "SHA256": ip.ChecksumSHA256}
			for alg, val := range claims {
				if val != "" && (alg != p.Checksum.Algorithm || val != p.Checksum.Value) {
					return invalidPart(ip.PartNumber, ip.ETag)
				}
			}
		}
		// Sizes are checked once every part is known to exist.
		for i, ip := range in.Parts {
			p := u.Parts[ip.PartNumber]
			if i < len(in.Parts)-1 && p.Size < minPartSize {
				return &core.Error{Code: "EntityTooSmall", Message: "Your proposed upload is smaller than the minimum allowed size",
					Fields: map[string]string{"ProposedSize": strconv.FormatInt(p.Size, 10), "MinSizeAllowed": strconv.Itoa(minPartSize),
						"PartNumber": strconv.Itoa(p.Number), "ETag": p.ETag}}
			}
		}
		return nil
	}
	var blobs []Blob
	var keys []string
	if err := c.s.c.Store.View(func(tx *core.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		for _, ip := range in.Parts {
			p := u.Parts[ip.PartNumber]
			bl, _ := c.s.blobs.Get(tx, p.DataKey)
			blobs = append(blobs, bl)
			keys = append(keys, p.DataKey)
		}
		return nil
	}); err != nil {
		c.fail(err)
		return
	}
	var md5s, sums []byte
	var sizes []int64
	var size int64
	for _, ip := range in.Parts {
		p := u.Parts[ip.PartNumber]
		sizes = append(sizes, p.Size)
		size += p.Size
		raw, _ := hex.DecodeString(strings.Trim(p.ETag, `"`))
		md5s = append(md5s, raw...)
		if u.ChecksumAlgorithm != "" {
			rawSum, _ := base64.StdEncoding.DecodeString(p.Checksum.Value)
			sums = append(sums, rawSum...)
		}
	}
	etagSum := md5.Sum(md5s)
	etag := `"` + hex.EncodeToString(etagSum[:]) + "-" + strconv.Itoa(len(in.Parts)) + `"`
	var sum Checksum
	var fullAlg string
	switch {
	case u.ChecksumAlgorithm == "":
		fullAlg = "CRC64NVME"
	case u.ChecksumType == "FULL_OBJECT":
		fullAlg = u.ChecksumAlgorithm
	default:
		sum = Checksum{Algorithm: u.ChecksumAlgorithm, Type: "COMPOSITE",
			Value: base64.StdEncoding.EncodeToString(rawChecksum(u.ChecksumAlgorithm, sums)) + "-" + strconv.Itoa(len(in.Parts))}
	}
	var algs []string
	if fullAlg != "" {
		algs = []string{fullAlg}
	}
	// The parts are joined into the object's own file, streamed.
	rc, err := c.s.copyBlobs(blobs, algs)
	if err != nil {
		c.fail(err)
		return
	}
	if fullAlg != "" {
		sum = Checksum{Algorithm: fullAlg, Value: base64.StdEncoding.EncodeToString(rc.sums[fullAlg]), Type: "FULL_OBJECT"}
	}
	var v Version
	err = c.s.c.Store.Update(func(tx *core.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		for i, ip := range in.Parts {
			if u.Parts[ip.PartNumber].DataKey != keys[i] {
				return invalidPart(ip.PartNumber, ip.ETag) // replaced while joining
			}
		}
		for _, p := range u.Parts {
			c.s.dropBlob(tx, p.DataKey)
		}
		c.s.uploads.Delete(tx, c.bucket+"/"+u.ID)
		v = c.s.putVersion(tx, &b, c.key, Version{Owner: c.r.Scope.Account, ETag: etag, Size: size, Meta: u.Meta,
			Checksum: sum, PartsCount: len(in.Parts), PartSizes: sizes, Tags: u.Tags}, rc.blob(), now)
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
	h.Set("x-amz-server-side-encryption", "AES256")
	res := completeResult{Location: c.s.c.Endpoint + "/" + c.bucket + "/" + c.key, Bucket: c.bucket, Key: c.key, ETag: v.ETag, ChecksumType: v.Checksum.Type}
	checksumFields(v.Checksum, &res.ChecksumCRC32, &res.ChecksumCRC32C, &res.ChecksumCRC64NVME, &res.ChecksumSHA1, &res.ChecksumSHA256)
	c.ok(res)
	c.s.emit([]Event{c.createdEvent(EventCompleteMultipart, b, v)})
}

func (c *call) abortMultipartUpload() {
	c.r.Operation = "AbortMultipartUpload"
	err := c.s.c.Store.Update(func(tx *core.Tx) error {
		_, u, err := c.upload(tx)
		if err != nil {
			return err
		}
		for _, p := range u.Parts {
			c.s.dropBlob(tx, p.DataKey)
		}
		c.s.uploads.Delete(tx, c.bucket+"/"+u.ID)
		return nil
	})
	if err != nil {
		c.fail(err)
		return
	}
	c.empty(http.StatusNoContent)
}

type partEntry struct {
	PartNumber        int    `xml:"PartNumber"`
	LastModified      string `xml:"LastModified"`
	ETag              string `xml:"ETag"`
	Size              int64  `xml:"Size"`
	ChecksumCRC32     string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string `xml:"ChecksumSHA256,omitempty"`
}

type listPartsResult struct {
	XMLName              xml.Name    `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListPartsResult"`
	Bucket               string      `xml:"Bucket"`
	Key                  string      `xml:"Key"`
	UploadID             string      `xml:"UploadId"`
	PartNumberMarker     int         `xml:"PartNumberMarker"`
	NextPartNumberMarker int         `xml:"NextPartNumberMarker,omitempty"`
	MaxParts             int         `xml:"MaxParts"`
	IsTruncated          bool        `xml:"IsTruncated"`
	Parts                []partEntry `xml:"Part"`
	Initiator            owner       `xml:"Initiator"`
	Owner                owner       `xml:"Owner"`
	StorageClass         string      `xml:"StorageClass"`
	ChecksumAlgorithm    string      `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType         string      `xml:"ChecksumType,omitempty"`
}

func (c *call) listParts() {
	c.r.Operation = "ListParts"
	maxParts, marker := 1000, 0
	if v := c.q.Get("max-parts"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			c.fail(errInvalidArgument("Provided max-parts not an integer or within integer range", "max-parts", v))
			return
		}
		maxParts = min(n, 1000)
	}
	if v := c.q.Get("part-number-marker"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			c.fail(errInvalidArgument("Provided part-number-marker not an integer or within integer range", "part-number-marker", v))
			return
		}
		marker = n
	}
	var u Upload
	err := c.s.c.Store.View(func(tx *core.Tx) error {
		var err error
		_, u, err = c.upload(tx)
		return err
	})
	if err != nil {
		c.fail(err)
		return
	}
	nums := make([]int, 0, len(u.Parts))
	for n := range u.Parts {
		if n > marker {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	res := listPartsResult{Bucket: c.bucket, Key: c.key, UploadID: u.ID, PartNumberMarker: marker, MaxParts: maxParts,
		Initiator: owner{ID: canonicalID(u.Owner)}, Owner: owner{ID: canonicalID(u.Owner)}, StorageClass: storageClass(Version{Meta: u.Meta}),
		ChecksumAlgorithm: u.ChecksumAlgorithm, ChecksumType: u.ChecksumType}
	if len(nums) > maxParts {
		nums = nums[:maxParts]
		res.IsTruncated = true
	}
	for _, n := range nums {
		p := u.Parts[n]
		e := partEntry{PartNumber: n, LastModified: isoTime(p.LastModified), ETag: p.ETag, Size: p.Size}
		checksumFields(p.Checksum, &e.ChecksumCRC32, &e.ChecksumCRC32C, &e.ChecksumCRC64NVME, &e.ChecksumSHA1, &e.ChecksumSHA256)
		res.Parts = append(res.Parts, e)
		res.NextPartNumberMarker = n
	}
	c.ok(res)
}

type uploadEntry struct {
	Key               string `xml:"Key"`
	UploadID          string `xml:"UploadId"`
	Initiator         owner  `xml:"Initiator"`
	Owner             owner  `xml:"Owner"`
	StorageClass      string `xml:"StorageClass"`
	Initiated         string `xml:"Initiated"`
	ChecksumAlgorithm string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string `xml:"ChecksumType,omitempty"`
}

type listUploadsResult struct {
	XMLName            xml.Name      `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListMultipartUploadsResult"`
	Bucket             string        `xml:"Bucket"`
	KeyMarker          string        `xml:"KeyMarker"`
	UploadIDMarker     string        `xml:"UploadIdMarker"`
	NextKeyMarker      string        `xml:"NextKeyMarker,omitempty"`
	NextUploadIDMarker string        `xml:"NextUploadIdMarker,omitempty"`
	Prefix             string        `xml:"Prefix"`
	Delimiter          string        `xml:"Delimiter,omitempty"`
	MaxUploads         int           `xml:"MaxUploads"`
	IsTruncated        bool          `xml:"IsTruncated"`
	Uploads            []uploadEntry `xml:"Upload"`
	CommonPrefixes     []prefixEntry `xml:"CommonPrefixes"`
}

// listMultipartUploads lists in-progress uploads by key, then initiation.
func (c *call) listMultipartUploads() {
	c.r.Operation = "ListMultipartUploads"
	p := listParams{prefix: c.q.Get("prefix"), delimiter: c.q.Get("delimiter"), maxKeys: 1000}
	if v := c.q.Get("max-uploads"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			c.fail(errInvalidArgument("Provided max-uploads not an integer or within integer range", "max-uploads", v))
			return
		}
		p.maxKeys = min(n, 1000)
	}
	keyMarker, idMarker := c.q.Get("key-marker"), c.q.Get("upload-id-marker")
	var ups []Upload
	err := c.s.c.Store.View(func(tx *core.Tx) error {
		if _, err := c.ownedBucket(tx); err != nil {
			return err
		}
		c.s.uploads.Scan(tx, c.bucket+"/", func(_ string, u Upload) bool {
			if strings.HasPrefix(u.Key, p.prefix) {
				ups = append(ups, u)
			}
			return true
		})
		return nil
	})
	if err != nil {
		c.fail(err)
		return
	}
	sort.Slice(ups, func(i, j int) bool {
		if ups[i].Key != ups[j].Key {
			return ups[i].Key < ups[j].Key
		}
		if !ups[i].Initiated.Equal(ups[j].Initiated) {
			return ups[i].Initiated.Before(ups[j].Initiated)
		}
		return ups[i].ID < ups[j].ID
	})
	res := listUploadsResult{Bucket: c.bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker, Prefix: p.prefix, Delimiter: p.delimiter, MaxUploads: p.maxKeys}
	skipping := idMarker != ""
	count, lastPrefix := 0, ""
	var lastKey, lastID string
	for _, u := range ups {
		if u.Key == keyMarker && skipping {
			if u.ID == idMarker {
				skipping = false
			}
			continue
		}
		if !p.pastMarker(u.Key, keyMarker) && !(u.Key == keyMarker && idMarker != "") {
			continue
		}
		cp := p.commonPrefix(u.Key)
		if cp != "" && cp == lastPrefix {
			continue
		}
		if count == p.maxKeys {
			res.IsTruncated = true
			break
		}
		count++
		if cp != "" {
			lastPrefix, lastKey, lastID = cp, cp, ""
			res.CommonPrefixes = append(res.CommonPrefixes, prefixEntry{Prefix: cp})
			continue
		}
		lastKey, lastID = u.Key, u.ID
		res.Uploads = append(res.Uploads, uploadEntry{Key: u.Key, UploadID: u.ID, Initiator: owner{ID: canonicalID(u.Owner)}, Owner: owner{ID: canonicalID(u.Owner)},
			StorageClass: storageClass(Version{Meta: u.Meta}), Initiated: isoTime(u.Initiated), ChecksumAlgorithm: u.ChecksumAlgorithm, ChecksumType: u.ChecksumType})
	}
	if res.IsTruncated {
		res.NextKeyMarker, res.NextUploadIDMarker = lastKey, lastID
	}
	c.ok(res)
}
