package s3

import (
	"net/http"
	"net/url"
	"sort"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// maxObjectTags is S3's limit of tags per object version.
const maxObjectTags = 10

// taggingHeader reads x-amz-tagging, tags as URL query parameters.
func (c *call) taggingHeader() ([]Tag, error) {
	v := c.h.Get("x-amz-tagging")
	if v == "" {
		return nil, nil
	}
	bad := errInvalidArgument("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.", "x-amz-tagging", v)
	q, err := url.ParseQuery(v)
	if err != nil {
		return nil, bad
	}
	var tags []Tag
	for k, vs := range q {
		if len(vs) != 1 {
			return nil, bad
		}
		tags = append(tags, Tag{Key: k, Value: vs[0]})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	return tags, validateTags(tags, maxObjectTags, "Object")
}

// taggedVersion finds the version a tagging call names (?versionId, or the
// current one); delete markers carry no tags.
func (c *call) taggedVersion(tx *core.Tx) (Bucket, Version, error) {
	b, err := c.ownedBucket(tx)
	if err != nil {
		return Bucket{}, Version{}, err
	}
	versionID := c.q.Get("versionId")
	if c.q.Has("versionId") && !validVersionID(versionID) {
		return Bucket{}, Version{}, errInvalidVersionID(versionID)
	}
	v, ok := c.s.findVersion(tx, c.bucket, c.key, versionID)
	switch {
	case !ok && versionID != "":
		return Bucket{}, Version{}, errNoSuchVersion(c.key, versionID)
	case !ok:
		return Bucket{}, Version{}, errNoSuchKey(c.key)
	case v.DeleteMarker:
		c.r.W.Header().Set("x-amz-delete-marker", "true")
		return Bucket{}, Version{}, &core.Error{Code: "MethodNotAllowed", Status: 405, Message: "The specified method is not allowed against this resource.",
			Fields: map[string]string{"Method": c.r.HTTP.Method, "ResourceType": "DeleteMarker"}}
	}
	return b, v, nil
}

func (c *call) getObjectTagging() {
	c.r.Operation = "GetObjectTagging"
	var b Bucket
	var v Version
	err := c.s.c.Store.View(func(tx *core.Tx) error {
		var err error
		b, v, err = c.taggedVersion(tx)
		return err
	})
	if err != nil {
		c.fail(err)
		return
	}
	if b.Versioning != "" {
		c.r.W.Header().Set("x-amz-version-id", v.VersionID)
	}
	out := taggingOut{Tags: []tagOut{}}
	for _, t := range v.Tags {
		out.Tags = append(out.Tags, tagOut(t))
	}
	c.ok(out)
}

// setObjectTags replaces the tags of the named version (PutObjectTagging
// with tags, DeleteObjectTagging with none).
func (c *call) setObjectTags(tags []Tag, status int) {
	var b Bucket
	var v Version
	err := c.s.c.Store.Update(func(tx *core.Tx) error {
		var err error
		if b, v, err = c.taggedVersion(tx); err != nil {
			return err
		}
		v.Tags = tags
		c.s.versions.Put(tx, versionKey(c.bucket, c.key, v.Seq), v)
		return nil
	})
	if err != nil {
		c.fail(err)
		return
	}
	if b.Versioning != "" {
		c.r.W.Header().Set("x-amz-version-id", v.VersionID)
	}
	c.empty(status)
}

func (c *call) putObjectTagging() {
	c.r.Operation = "PutObjectTagging"
	tags, err := parseTagging(c.r.Body, maxObjectTags, "Object")
	if err != nil {
		c.fail(err)
		return
	}
	c.setObjectTags(tags, http.StatusOK)
}

func (c *call) deleteObjectTagging() {
	c.r.Operation = "DeleteObjectTagging"
	c.setObjectTags(nil, http.StatusNoContent)
}
