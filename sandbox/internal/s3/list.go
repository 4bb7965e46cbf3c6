package s3

import (
	"encoding/base64"
	"encoding/xml"
	"net/url"
	"strconv"
	"strings"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// listParams are the parameters every listing shares.
type listParams struct {
	prefix, delimiter string
	maxKeys           int
	urlEncode         bool
}

func (c *call) listParams() (listParams, error) {
	p := listParams{prefix: c.q.Get("prefix"), delimiter: c.q.Get("delimiter"), maxKeys: 1000}
	if v := c.q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, errInvalidArgument("Provided max-keys not an integer or within integer range", "max-keys", v)
		}
		if n < p.maxKeys {
			p.maxKeys = n
		}
	}
	switch e := c.q.Get("encoding-type"); e {
	case "":
	case "url":
		p.urlEncode = true
	default:
		return p, errInvalidArgument("Invalid Encoding Method specified in Request", "encoding-type", e)
	}
	return p, nil
}

// enc applies encoding-type=url: S3 form-encodes keys but leaves '/' alone.
func (p listParams) enc(s string) string {
	if !p.urlEncode {
		return s
	}
	return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
}

// commonPrefix returns the common prefix key rolls up into, or "".
func (p listParams) commonPrefix(key string) string {
	if p.delimiter == "" {
		return ""
	}
	rest := key[len(p.prefix):]
	if i := strings.Index(rest, p.delimiter); i >= 0 {
		return p.prefix + rest[:i+len(p.delimiter)]
	}
	return ""
}

// pastMarker reports whether key lies after marker in a listing that
// resumes there. A marker that is a common prefix (the last item of the
// previous page) skips every key under it, so no prefix is listed twice.
func (p listParams) pastMarker(key, marker string) bool {
	if marker == "" {
		return true
	}
	if key <= marker {
		return false
	}
	if p.delimiter != "" && strings.HasPrefix(marker, p.prefix) && strings.HasPrefix(key, marker) {
		rest := marker[len(p.prefix):]
		if i := strings.Index(rest, p.delimiter); i >= 0 && i+len(p.delimiter) == len(rest) {
			return false
		}
	}
	return true
}

// objectKeys returns the bucket's object keys under prefix, sorted.
func (s *Service) objectKeys(tx *core.Tx, bucket, prefix string) []string {
	keys := s.objects.Keys(tx, bucket+"/"+prefix)
	for i, k := range keys {
		keys[i] = k[len(bucket)+1:]
	}
	return keys
}

type contentsEntry struct {
	Key               string `xml:"Key"`
	LastModified      string `xml:"LastModified"`
	ETag              string `xml:"ETag"`
	ChecksumAlgorithm string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string `xml:"ChecksumType,omitempty"`
	Size              int64  `xml:"Size"`
	Owner             *owner `xml:"Owner,omitempty"`
	StorageClass      string `xml:"StorageClass"`
}

type prefixEntry struct {
	Prefix string `xml:"Prefix"`
}

type listBucketResult struct {
	XMLName               xml.Name        `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string          `xml:"Name"`
	Prefix                string          `xml:"Prefix"`
	Marker                *string         `xml:"Marker"`
	NextMarker            string          `xml:"NextMarker,omitempty"`
	ContinuationToken     string          `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string          `xml:"NextContinuationToken,omitempty"`
	StartAfter            string          `xml:"StartAfter,omitempty"`
	KeyCount              *int            `xml:"KeyCount"`
	MaxKeys               int             `xml:"MaxKeys"`
	Delimiter             string          `xml:"Delimiter,omitempty"`
	EncodingType          string          `xml:"EncodingType,omitempty"`
	IsTruncated           bool            `xml:"IsTruncated"`
	Contents              []contentsEntry `xml:"Contents"`
	CommonPrefixes        []prefixEntry   `xml:"CommonPrefixes"`
}

// listObjects serves ListObjects (version 1, marker) and ListObjectsV2
// (continuation-token, start-after).
func (c *call) listObjects(version int) {
	c.r.Operation = "ListObjects"
	if version == 2 {
		c.r.Operation = "ListObjectsV2"
	}
	p, err := c.listParams()
	if err != nil {
		c.fail(err)
		return
	}
	res := listBucketResult{Name: c.bucket, Prefix: p.enc(p.prefix), MaxKeys: p.maxKeys, Delimiter: p.enc(p.delimiter)}
	if p.urlEncode {
		res.EncodingType = "url"
	}
	var marker string
	if version == 2 {
		res.StartAfter = p.enc(c.q.Get("start-after"))
		marker = c.q.Get("start-after")
		if tok := c.q.Get("continuation-token"); c.q.Has("continuation-token") {
			raw, derr := base64.RawURLEncoding.DecodeString(tok)
			if derr != nil || tok == "" {
				c.fail(errInvalidArgument("The continuation token provided is incorrect", "continuation-token", tok))
				return
			}
			res.ContinuationToken = tok
			marker = string(raw)
		}
	} else {
		marker = c.q.Get("marker")
		m := p.enc(marker)
		res.Marker = &m
	}
	fetchOwner := version == 1 || c.q.Get("fetch-owner") == "true"
	var last string
	err = c.s.c.Store.View(func(tx *core.Tx) error {
		if _, err := c.ownedBucket(tx); err != nil {
			return err
		}
		lastPrefix := ""
		count := 0
		for _, key := range c.s.objectKeys(tx, c.bucket, p.prefix) {
			if !p.pastMarker(key, marker) {
				continue
			}
			cur, ok := c.s.current(tx, c.bucket, key)
			if !ok || cur.DeleteMarker {
				continue
			}
			cp := p.commonPrefix(key)
			if cp != "" && cp == lastPrefix {
				continue
			}
			if count == p.maxKeys {
				res.IsTruncated = true
				break
			}
			count++
			if cp != "" {
				lastPrefix = cp
				last = cp
				res.CommonPrefixes = append(res.CommonPrefixes, prefixEntry{Prefix: p.enc(cp)})
				continue
			}
			last = key
			e := contentsEntry{Key: p.enc(key), LastModified: isoTime(cur.LastModified), ETag: cur.ETag, Size: cur.Size, StorageClass: storageClass(cur)}
			if cur.Checksum.Algorithm != "" {
				e.ChecksumAlgorithm, e.ChecksumType = cur.Checksum.Algorithm, cur.Checksum.Type
			}
			if fetchOwner {
				e.Owner = &owner{ID: canonicalID(cur.Owner)}
			}
			res.Contents = append(res.Contents, e)
		}
		return nil
	})
	if err != nil {
		c.fail(err)
		return
	}
	if version == 2 {
		n := len(res.Contents) + len(res.CommonPrefixes)
		res.KeyCount = &n
		if res.IsTruncated {
			res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(last))
		}
	} else if res.IsTruncated && p.delimiter != "" {
		// Version 1 names the next marker only with a delimiter; without
		// one clients resume from the last key listed.
		res.NextMarker = p.enc(last)
	}
	c.ok(res)
}

func storageClass(v Version) string {
	if v.Meta.StorageClass == "" {
		return "STANDARD"
	}
	return v.Meta.StorageClass
}

type versionEntry struct {
	XMLName           xml.Name
	Key               string `xml:"Key"`
	VersionID         string `xml:"VersionId"`
	IsLatest          bool   `xml:"IsLatest"`
	LastModified      string `xml:"LastModified"`
	ETag              string `xml:"ETag,omitempty"`
	ChecksumAlgorithm string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string `xml:"ChecksumType,omitempty"`
	Size              *int64 `xml:"Size"`
	StorageClass      string `xml:"StorageClass,omitempty"`
	Owner             owner  `xml:"Owner"`
}

type listVersionsResult struct {
	XMLName             xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListVersionsResult"`
	Name                string         `xml:"Name"`
	Prefix              string         `xml:"Prefix"`
	KeyMarker           string         `xml:"KeyMarker"`
	VersionIDMarker     string         `xml:"VersionIdMarker"`
	NextKeyMarker       string         `xml:"NextKeyMarker,omitempty"`
	NextVersionIDMarker string         `xml:"NextVersionIdMarker,omitempty"`
	MaxKeys             int            `xml:"MaxKeys"`
	Delimiter           string         `xml:"Delimiter,omitempty"`
	EncodingType        string         `xml:"EncodingType,omitempty"`
	IsTruncated         bool           `xml:"IsTruncated"`
	Entries             []versionEntry // <Version> and <DeleteMarker>, interleaved in order
	CommonPrefixes      []prefixEntry  `xml:"CommonPrefixes"`
}

func (c *call) listObjectVersions() {
	c.r.Operation = "ListObjectVersions"
	p, err := c.listParams()
	if err != nil {
		c.fail(err)
		return
	}
	keyMarker, vidMarker := c.q.Get("key-marker"), c.q.Get("version-id-marker")
	if vidMarker != "" && keyMarker == "" {
		c.fail(errInvalidArgument("A version-id marker cannot be specified without a key marker.", "version-id-marker", vidMarker))
		return
	}
	if vidMarker != "" && !validVersionID(vidMarker) {
		c.fail(errInvalidVersionID(vidMarker))
		return
	}
	res := listVersionsResult{Name: c.bucket, Prefix: p.enc(p.prefix), KeyMarker: p.enc(keyMarker), VersionIDMarker: vidMarker,
		MaxKeys: p.maxKeys, Delimiter: p.enc(p.delimiter)}
	if p.urlEncode {
		res.EncodingType = "url"
	}
	var lastKey, lastVersion string
	err = c.s.c.Store.View(func(tx *core.Tx) error {
		if _, err := c.ownedBucket(tx); err != nil {
			return err
		}
		count := 0
		lastPrefix := ""
		for _, key := range c.s.objectKeys(tx, c.bucket, p.prefix) {
			h, _ := c.s.head(tx, c.bucket, key)
			// Within the marker key, resume after the marker version
			// (from its older neighbour); an unknown marker, or the oldest
			// version, resumes with the next key.
			from := h.Current
			if key == keyMarker && vidMarker != "" {
				from = 0
				if v, ok := c.s.findVersion(tx, c.bucket, key, vidMarker); ok {
					from = v.Older
				}
			} else if !p.pastMarker(key, keyMarker) {
				continue
			}
			if cp := p.commonPrefix(key); cp != "" {
				if cp == lastPrefix || from == 0 {
					continue
				}
				if count == p.maxKeys {
					res.IsTruncated = true
					break
				}
				count++
				lastPrefix = cp
				lastKey, lastVersion = cp, ""
				res.CommonPrefixes = append(res.CommonPrefixes, prefixEntry{Prefix: p.enc(cp)})
				continue
			}
			if from == 0 {
				continue
			}
			truncated := false
			c.s.eachVersion(tx, c.bucket, key, from, func(v Version) bool {
				if count == p.maxKeys {
					truncated = true
					return false
				}
				count++
				lastKey, lastVersion = key, v.VersionID
				e := versionEntry{Key: p.enc(key), VersionID: v.VersionID, IsLatest: v.Seq == h.Current,
					LastModified: isoTime(v.LastModified), Owner: owner{ID: canonicalID(v.Owner)}}
				if v.DeleteMarker {
					e.XMLName.Local = "DeleteMarker"
				} else {
					e.XMLName.Local = "Version"
					size := v.Size
					e.ETag, e.Size, e.StorageClass = v.ETag, &size, storageClass(v)
					if v.Checksum.Algorithm != "" {
						e.ChecksumAlgorithm, e.ChecksumType = v.Checksum.Algorithm, v.Checksum.Type
					}
				}
				res.Entries = append(res.Entries, e)
				return true
			})
			if truncated {
				res.IsTruncated = true
				break
			}
		}
		return nil
	})
	if err != nil {
		c.fail(err)
		return
	}
	if res.IsTruncated {
		res.NextKeyMarker = p.enc(lastKey)
		res.NextVersionIDMarker = lastVersion
	}
	c.ok(res)
}
