package s3

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slab-lab/slab/sandbox/internal/core"
)

// regions are the location constraints S3 accepts.
var regions = map[string]bool{
	"af-south-1": true, "ap-east-1": true, "ap-east-2": true, "ap-northeast-1": true, "ap-northeast-2": true,
	"ap-northeast-3": true, "ap-south-1": true, "ap-south-2": true, "ap-southeast-1": true, "ap-southeast-2": true,
	"ap-southeast-3": true, "ap-southeast-4": true, "ap-southeast-5": true, "ap-southeast-7": true,
	"ca-central-1": true, "ca-west-1": true, "cn-north-1": true, "cn-northwest-1": true,
	"eu-central-1": true, "eu-central-2": true, "eu-north-1": true, "eu-south-1": true, "eu-south-2": true,
	"eu-west-1": true, "eu-west-2": true, "eu-west-3": true, "il-central-1": true, "me-central-1": true,
	"me-south-1": true, "mx-central-1": true, "sa-east-1": true, "us-east-1": true, "us-east-2": true,
	"us-gov-east-1": true, "us-gov-west-1": true, "us-west-1": true, "us-west-2": true,
}

// ValidBucketName applies the general purpose bucket naming rules.
func ValidBucketName(n string) bool {
	if len(n) < 3 || len(n) > 63 {
		return false
	}
	for i := 0; i < len(n); i++ {
		ch := n[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '-') {
			return false
		}
	}
	alnum := func(ch byte) bool { return ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' }
	if !alnum(n[0]) || !alnum(n[len(n)-1]) || strings.Contains(n, "..") {
		return false
	}
	if ip := net.ParseIP(n); ip != nil && ip.To4() != nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(n, p) {
			return false
		}
	}
	for _, sfx := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(n, sfx) {
			return false
		}
	}
	return true
}

type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint *string  `xml:"LocationConstraint"`
}

func (c *call) createBucket() {
	c.r.Operation = "CreateBucket"
	if !ValidBucketName(c.bucket) {
		c.fail(&core.Error{Code: "InvalidBucketName", Message: "The specified bucket is not valid.", Fields: map[string]string{"BucketName": c.bucket}})
		return
	}
	var cfg createBucketConfiguration
	if len(strings.TrimSpace(string(c.r.Body))) > 0 {
		if xml.Unmarshal(c.r.Body, &cfg) != nil {
			c.fail(errMalformedXML())
			return
		}
	}
	constraint := ""
	if cfg.LocationConstraint != nil {
		constraint = strings.TrimSpace(*cfg.LocationConstraint)
		// An empty element is not an absent one: S3 refuses
		// `--create-bucket-configuration LocationConstraint=`, the guide's
		// command when `aws configure get region` prints nothing.
		if constraint == "" {
			c.fail(&core.Error{Code: "InvalidLocationConstraint", Message: "The specified location-constraint is not valid", Fields: map[string]string{"LocationConstraint": ""}})
			return
		}
	}
	region, err := locationFor(c.r.Scope.Region, constraint)
	if err != nil {
		c.fail(err)
		return
	}
	b := Bucket{Name: c.bucket, Account: c.r.Scope.Account, Region: region, Created: c.now()}
	err = c.s.c.Store.Update(func(tx *core.Tx) error {
		if old, exists := c.s.buckets.Get(tx, c.bucket); exists {
			if old.Account != b.Account {
				return core.ErrorStatus(409, "BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
			}
			// For legacy compatibility S3 answers 200 to re-creating a
			// bucket you own in North Virginia, and 409 elsewhere.
			if old.Region == "us-east-1" && region == "us-east-1" {
				return nil
			}
			return &core.Error{Code: "BucketAlreadyOwnedByYou", Status: 409, Message: "Your previous request to create the named bucket succeeded and you already own it.", Fields: map[string]string{"BucketName": c.bucket}}
		}
		c.s.buckets.Put(tx, c.bucket, b)
		return nil
	})
	if err != nil {
		c.fail(err)
		return
	}
	c.r.W.Header().Set("Location", "/"+c.bucket)
	c.empty(http.StatusOK)
}

// locationFor applies S3's location-constraint rules to a CreateBucket sent
// to the regional endpoint of reqRegion.
func locationFor(reqRegion, constraint string) (string, error) {
	if constraint == "EU" {
		constraint = "eu-west-1"
	}
	if constraint == "" {
		if reqRegion == "us-east-1" {
			return "us-east-1", nil
		}
		return "", core.Errorf("IllegalLocationConstraintException", "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	}
	if constraint == "us-east-1" || !regions[constraint] && constraint != reqRegion {
		return "", &core.Error{Code: "InvalidLocationConstraint", Message: "The specified location-constraint is not valid", Fields: map[string]string{"LocationConstraint": constraint}}
	}
	if constraint != reqRegion {
		return "", core.Errorf("IllegalLocationConstraintException", "The %s location constraint is incompatible for the region specific endpoint this request was sent to.", constraint)
	}
	return constraint, nil
}

func (c *call) headBucket() {
	c.r.Operation = "HeadBucket"
	var b Bucket
	var found bool
	_ = c.s.c.Store.View(func(tx *core.Tx) error {
		b, found = c.s.buckets.Get(tx, c.bucket)
		return nil
	})
	if !found {
		c.fail(errNoSuchBucket(c.bucket))
		return
	}
	c.r.W.Header().Set("x-amz-bucket-region", b.Region)
	if b.Region != c.r.Scope.Region && b.Account == c.r.Scope.Account {
		// Asked through another region, S3 redirects: 301 with the
		// bucket's region in x-amz-bucket-region and, a HEAD, no body.
		c.empty(http.StatusMovedPermanently)
		return
	}
	if want := c.h.Get("x-amz-expected-bucket-owner"); b.Account != c.r.Scope.Account || want != "" && want != b.Account {
		c.fail(errAccessDenied())
		return
	}
	c.r.W.Header().Set("x-amz-access-point-alias", "false")
	c.empty(http.StatusOK)
}

type owner struct {
	ID string `xml:"ID"`
}

type listAllMyBucketsResult struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
	Owner   owner    `xml:"Owner"`
	Buckets []struct {
		Name         string `xml:"Name"`
		CreationDate string `xml:"CreationDate"`
		BucketRegion string `xml:"BucketRegion"`
	} `xml:"Buckets>Bucket"`
	ContinuationToken string `xml:"ContinuationToken,omitempty"`
	Prefix            string `xml:"Prefix,omitempty"`
}

func (c *call) listBuckets() {
	c.r.Operation = "ListBuckets"
	max := 10000
	if v := c.q.Get("max-buckets"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			c.fail(errInvalidArgument("Argument max-buckets must be an integer between 1 and 10000.", "max-buckets", v))
			return
		}
		max = n
	}
	after := ""
	if tok := c.q.Get("continuation-token"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			c.fail(errInvalidArgument("The continuation token provided is incorrect", "continuation-token", tok))
			return
		}
		after = string(raw)
	}
	prefix, region := c.q.Get("prefix"), c.q.Get("bucket-region")
	var mine []Bucket
	_ = c.s.c.Store.View(func(tx *core.Tx) error {
		c.s.buckets.Scan(tx, "", func(_ string, b Bucket) bool {
			if b.Account == c.r.Scope.Account && b.Name > after && strings.HasPrefix(b.Name, prefix) && (region == "" || b.Region == region) {
				mine = append(mine, b)
			}
			return true
		})
		return nil
	})
	res := listAllMyBucketsResult{Owner: owner{ID: canonicalID(c.r.Scope.Account)}, Prefix: prefix}
	if len(mine) > max {
		mine = mine[:max]
		res.ContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(mine[max-1].Name))
	}
	for _, b := range mine {
		res.Buckets = append(res.Buckets, struct {
			Name         string `xml:"Name"`
			CreationDate string `xml:"CreationDate"`
			BucketRegion string `xml:"BucketRegion"`
		}{b.Name, isoTime(b.Created), b.Region})
	}
	c.ok(res)
}

func (c *call) deleteBucket() {
	c.r.Operation = "DeleteBucket"
	err := c.s.c.Store.Update(func(tx *core.Tx) error {
		if _, err := c.ownedBucket(tx); err != nil {
			return err
		}
		// Any version or delete marker keeps the bucket alive: the
		// guide's "aws s3 rm --recursive" only adds delete markers to a
		// versioned bucket, and this is the error learners then meet.
		if c.s.objects.Len(tx, c.bucket+"/") > 0 {
			return &core.Error{Code: "BucketNotEmpty", Status: 409,
				Message: "The bucket you tried to delete is not empty. You must delete all versions in the bucket.",
				Fields:  map[string]string{"BucketName": c.bucket}}
		}
		// In-progress multipart uploads do not keep a bucket alive; their
		// parts go with it.
		c.s.uploads.Scan(tx, c.bucket+"/", func(k string, u Upload) bool {
			for _, p := range u.Parts {
				c.s.dropBlob(tx, p.DataKey)
			}
			c.s.uploads.Delete(tx, k)
			return true
		})
		c.s.buckets.Delete(tx, c.bucket)
		return nil
	})
	if err != nil {
		c.fail(err)
		return
	}
	c.empty(http.StatusNoContent)
}

type locationConstraint struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
	Value   string   `xml:",chardata"`
}

func (c *call) getBucketLocation() {
	c.r.Operation = "GetBucketLocation"
	b, err := c.viewBucket()
	if err != nil {
		c.fail(err)
		return
	}
	v := b.Region
	if v == "us-east-1" {
		v = "" // S3 reports North Virginia as an empty constraint
	}
	c.ok(locationConstraint{Value: v})
}

// viewBucket loads the caller's bucket in a read-only transaction.
func (c *call) viewBucket() (Bucket, error) {
	var b Bucket
	err := c.s.c.Store.View(func(tx *core.Tx) error {
		var err error
		b, err = c.ownedBucket(tx)
		return err
	})
	return b, err
}

type versioningConfiguration struct {
	XMLName   xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ VersioningConfiguration"`
	Status    string   `xml:"Status,omitempty"`
	MfaDelete string   `xml:"MfaDelete,omitempty"`
}

type versioningInput struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	Status    *string  `xml:"Status"`
	MfaDelete *string  `xml:"MfaDelete"`
}

func (c *call) putBucketVersioning() {
	c.r.Operation = "PutBucketVersioning"
	var in versioningInput
	if xml.Unmarshal(c.r.Body, &in) != nil {
		c.fail(errMalformedXML())
		return
	}
	if in.Status == nil || (*in.Status != "Enabled" && *in.Status != "Suspended") {
		c.fail(errMalformedXML())
		return
	}
	mfa := ""
	if in.MfaDelete != nil {
		mfa = *in.MfaDelete
		switch mfa {
		case "Disabled":
		case "Enabled":
			// MFA delete needs an MFA device serial and token (x-amz-mfa);
			// the sandbox has no MFA devices to check them against.
			c.fail(core.ErrorStatus(501, "NotImplemented", "A header you provided implies functionality that is not implemented"))
			return
		default:
			c.fail(errMalformedXML())
			return
		}
	}
	err := c.s.c.Store.Update(func(tx *core.Tx) error {
		b, err := c.ownedBucket(tx)
		if err != nil {
			return err
		}
		b.Versioning = *in.Status
		if mfa != "" {
			b.MFADelete = mfa
		}
		c.s.buckets.Put(tx, c.bucket, b)
		return nil
	})
	if err != nil {
		c.fail(err)
		return
	}
	c.empty(http.StatusOK)
}

func (c *call) getBucketVersioning() {
	c.r.Operation = "GetBucketVersioning"
	b, err := c.viewBucket()
	if err != nil {
		c.fail(err)
		return
	}
	// S3 names MfaDelete only once a PutBucketVersioning has set it.
	c.ok(versioningConfiguration{Status: b.Versioning, MfaDelete: b.MFADelete})
}

type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	TagSet  *struct {
		Tags []struct {
			Key   *string `xml:"Key"`
			Value *string `xml:"Value"`
		} `xml:"Tag"`
	} `xml:"TagSet"`
}

type taggingOut struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ Tagging"`
	Tags    []tagOut `xml:"TagSet>Tag"`
}

type tagOut struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func invalidTag(msg string) *core.Error { return core.Errorf("InvalidTag", "%s", msg) }

// parseTagging reads a Tagging document of at most max tags.
func parseTagging(body []byte, max int, what string) ([]Tag, error) {
	var in tagging
	if xml.Unmarshal(body, &in) != nil || in.TagSet == nil {
		return nil, errMalformedXML()
	}
	var tags []Tag
	for _, t := range in.TagSet.Tags {
		if t.Key == nil || t.Value == nil {
			return nil, errMalformedXML()
		}
		tags = append(tags, Tag{Key: *t.Key, Value: *t.Value})
	}
	return tags, validateTags(tags, max, what)
}

// validateTags applies S3's tag rules; what names the resource in the
// count error ("Bucket", "Object").
func validateTags(tags []Tag, max int, what string) error {
	if len(tags) > max {
		if what == "Object" {
			return core.Errorf("BadRequest", "Object tags cannot be greater than %d", max)
		}
		return invalidTag(fmt.Sprintf("%s tag count cannot be greater than %d", what, max))
	}
	seen := map[string]bool{}
	for _, t := range tags {
		switch {
		case len(t.Key) == 0 || utf8.RuneCountInString(t.Key) > 128:
			return invalidTag("The TagKey you have provided is invalid")
		case utf8.RuneCountInString(t.Value) > 256:
			return invalidTag("The TagValue you have provided is invalid")
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return invalidTag("System tags cannot be added/updated by requester")
		case seen[t.Key]:
			return invalidTag("Cannot provide multiple Tags with the same key")
		}
		seen[t.Key] = true
	}
	return nil
}

func (c *call) putBucketTagging() {
	c.r.Operation = "PutBucketTagging"
	tags, err := parseTagging(c.r.Body, 50, "Bucket")
	if err != nil {
		c.fail(err)
		return
	}
	err = c.s.c.Store.Update(func(tx *core.Tx) error {
		b, err := c.ownedBucket(tx)
		if err != nil {
			return err
		}
		b.Tags = tags
		if len(tags) == 0 {
			b.Tags = nil // an empty tag set is no tag set
		}
		c.s.buckets.Put(tx, c.bucket, b)
		return nil
	})
	if err != nil {
		c.fail(err)
		return
	}
	c.empty(http.StatusNoContent)
}

func (c *call) getBucketTagging() {
	c.r.Operation = "GetBucketTagging"
	b, err := c.viewBucket()
	if err != nil {
		c.fail(err)
		return
	}
	if b.Tags == nil {
		c.fail(&core.Error{Code: "NoSuchTagSet", Status: 404, Message: "The TagSet does not exist", Fields: map[string]string{"BucketName": c.bucket}})
		return
	}
	out := taggingOut{Tags: []tagOut{}}
	for _, t := range b.Tags {
		out.Tags = append(out.Tags, tagOut(t))
	}
	sort.SliceStable(out.Tags, func(i, j int) bool { return out.Tags[i].Key < out.Tags[j].Key })
	c.ok(out)
}

func (c *call) deleteBucketTagging() {
	c.r.Operation = "DeleteBucketTagging"
	err := c.s.c.Store.Update(func(tx *core.Tx) error {
		b, err := c.ownedBucket(tx)
		if err != nil {
			return err
		}
		b.Tags = nil
		c.s.buckets.Put(tx, c.bucket, b)
		return nil
	})
	if err != nil {
		c.fail(err)
		return
	}
	c.empty(http.StatusNoContent)
}
