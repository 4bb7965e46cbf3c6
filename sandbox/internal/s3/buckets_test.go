package s3_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	s3svc "github.com/slab-lab/slab/sandbox/internal/s3"
)

func TestCreateBucketLocationConstraintRules(t *testing.T) {
	e := start(t)
	east := e.client(acctA, "us-east-1")
	west := e.client(acctA, "eu-west-1")
	cfg := func(loc types.BucketLocationConstraint) *types.CreateBucketConfiguration {
		return &types.CreateBucketConfiguration{LocationConstraint: loc}
	}

	mkBucket(t, east, "plain-east")
	_, err := east.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("explicit-east"), CreateBucketConfiguration: cfg("us-east-1")})
	ae := wantCode(t, err, "InvalidLocationConstraint")
	if ae.ErrorMessage() != "The specified location-constraint is not valid" {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	_, err = west.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("unspecified-west")})
	ae = wantCode(t, err, "IllegalLocationConstraintException")
	if ae.ErrorMessage() != "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to." {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	_, err = west.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mismatch-west"), CreateBucketConfiguration: cfg("us-west-2")})
	wantCode(t, err, "IllegalLocationConstraintException")
	_, err = east.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mismatch-east"), CreateBucketConfiguration: cfg("eu-west-1")})
	wantCode(t, err, "IllegalLocationConstraintException")
	_, err = west.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mars"), CreateBucketConfiguration: cfg("mars-north-1")})
	wantCode(t, err, "InvalidLocationConstraint")
	if _, err := west.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("good-west"), CreateBucketConfiguration: cfg("eu-west-1")}); err != nil {
		t.Fatal(err)
	}

	for name, want := range map[string]types.BucketLocationConstraint{"plain-east": "", "good-west": "eu-west-1"} {
		out, err := east.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(name)})
		if err != nil || out.LocationConstraint != want {
			t.Fatalf("GetBucketLocation %s: %q %v", name, out.LocationConstraint, err)
		}
	}
	_, err = east.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("nope-bucket")})
	var nsb *types.NoSuchBucket
	if !errors.As(err, &nsb) {
		wantCode(t, err, "NoSuchBucket")
	}
	// `--create-bucket-configuration LocationConstraint=` sends an empty
	// element (the SDK never does): refused, and no bucket is made.
	resp, body := e.raw(t, http.MethodPut, "/empty-constraint", nil, []byte(`<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint></LocationConstraint></CreateBucketConfiguration>`))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "<Code>InvalidLocationConstraint</Code>") {
		t.Fatalf("empty LocationConstraint: %d %s", resp.StatusCode, body)
	}
	if _, err := east.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("empty-constraint")}); err == nil {
		t.Fatal("a bucket was created for an empty LocationConstraint")
	}
	head, err := west.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("good-west")})
	if err != nil || aws.ToString(head.BucketRegion) != "eu-west-1" {
		t.Fatalf("HeadBucket region: %v %v", head, err)
	}
	// Asked through another region, S3 redirects: 301, the bucket's region
	// in x-amz-bucket-region, no body.
	_, err = east.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("good-west")})
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusMovedPermanently || re.Response.Header.Get("x-amz-bucket-region") != "eu-west-1" {
		t.Fatalf("HeadBucket through us-east-1 of a bucket in eu-west-1: %v", err)
	}
}

func TestCreateBucketInvalidNames(t *testing.T) {
	e := start(t)
	c := e.cli()
	for _, name := range []string{"ab", strings.Repeat("a", 64), "Upper-Case", "under_score", "-dash-first", "dot-last.",
		"two..dots", "192.168.5.4", "xn--punycode", "sthree-bucket", "bucket-s3alias", "bucket--ol-s3", "amzn-s3-demo-x"} {
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
		ae := wantCode(t, err, "InvalidBucketName")
		if ae.ErrorMessage() != "The specified bucket is not valid." {
			t.Fatalf("%s: message %q", name, ae.ErrorMessage())
		}
	}
	for _, name := range []string{"abc", strings.Repeat("a", 63), "my.dotted-bucket-1", "1-digit-first"} {
		if !s3svc.ValidBucketName(name) {
			t.Fatalf("%s should be valid", name)
		}
	}
}

func TestBucketNamesAreGlobalAcrossAccounts(t *testing.T) {
	e := start(t)
	a := e.client(acctA, "us-east-1")
	b := e.client(acctB, "us-east-1")
	aWest := e.client(acctA, "eu-west-1")
	mkBucket(t, a, "shared-name")

	_, err := b.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("shared-name")})
	var exists *types.BucketAlreadyExists
	if !errors.As(err, &exists) {
		t.Fatalf("other account: want BucketAlreadyExists, got %v", err)
	}
	wantStatus(t, err, 409)

	// North Virginia answers 200 to re-creating your own bucket.
	if _, err := a.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("shared-name")}); err != nil {
		t.Fatalf("re-create own bucket in us-east-1: %v", err)
	}
	_, err = aWest.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("west-own"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = aWest.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("west-own"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}})
	var owned *types.BucketAlreadyOwnedByYou
	if !errors.As(err, &owned) {
		t.Fatalf("re-create own bucket in eu-west-1: want BucketAlreadyOwnedByYou, got %v", err)
	}
	wantStatus(t, err, 409)

	// Another account's bucket is off limits.
	put(t, a, "shared-name", "k", "v")
	_, err = b.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("shared-name"), Key: aws.String("k")})
	wantCode(t, err, "AccessDenied")
	wantStatus(t, err, 403)
	_, err = b.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("shared-name"), Key: aws.String("x"), Body: strings.NewReader("x")})
	wantCode(t, err, "AccessDenied")
	_, err = b.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("shared-name")})
	wantCode(t, err, "AccessDenied")
	_, err = b.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("shared-name")})
	wantCode(t, err, "AccessDenied")
	_, err = b.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("shared-name")})
	wantStatus(t, err, 403)
	_, err = b.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("shared-name"), Key: aws.String("c"), CopySource: aws.String("shared-name/k")})
	wantCode(t, err, "AccessDenied")

	// ExpectedBucketOwner guards against writing to someone else's bucket.
	if _, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("shared-name"), Key: aws.String("y"), Body: strings.NewReader("y"),
		ExpectedBucketOwner: aws.String(acctA)}); err != nil {
		t.Fatal(err)
	}
	_, err = a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("shared-name"), Key: aws.String("y"), Body: strings.NewReader("y"),
		ExpectedBucketOwner: aws.String(acctB)})
	wantCode(t, err, "AccessDenied")
	_, err = a.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("shared-name"), ExpectedBucketOwner: aws.String(acctB)})
	wantStatus(t, err, 403)

	// ListBuckets lists the caller's buckets of every region.
	mkBucket(t, b, "b-own")
	out, err := a.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, bk := range out.Buckets {
		names = append(names, aws.ToString(bk.Name)+"@"+aws.ToString(bk.BucketRegion))
		if bk.CreationDate == nil || time.Since(*bk.CreationDate) > time.Minute {
			t.Fatalf("creation date %v", bk.CreationDate)
		}
	}
	if strings.Join(names, ",") != "shared-name@us-east-1,west-own@eu-west-1" {
		t.Fatalf("ListBuckets: %v", names)
	}
	if out.Owner == nil || len(aws.ToString(out.Owner.ID)) != 64 {
		t.Fatalf("owner %+v", out.Owner)
	}
	// The ListBuckets paginator pages with max-buckets.
	pg := s3.NewListBucketsPaginator(a, &s3.ListBucketsInput{MaxBuckets: aws.Int32(1)})
	pages := 0
	names = nil
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, bk := range page.Buckets {
			names = append(names, aws.ToString(bk.Name))
		}
	}
	if pages != 2 || strings.Join(names, ",") != "shared-name,west-own" {
		t.Fatalf("paginated ListBuckets: %d pages %v", pages, names)
	}
}

func TestHeadBucketAndWaiters(t *testing.T) {
	e := start(t)
	c := e.cli()
	_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("not-there")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Fatalf("want NotFound, got %v", err)
	}
	wantCode(t, err, "NotFound")
	wantStatus(t, err, 404)

	mkBucket(t, c, "waited")
	if err := s3.NewBucketExistsWaiter(c).Wait(ctx, &s3.HeadBucketInput{Bucket: aws.String("waited")}, 5*time.Second); err != nil {
		t.Fatalf("BucketExists waiter: %v", err)
	}
	out, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("waited")})
	if err != nil || aws.ToString(out.BucketRegion) != "us-east-1" {
		t.Fatalf("HeadBucket: %+v %v", out, err)
	}

	put(t, c, "waited", "obj", "x")
	if err := s3.NewObjectExistsWaiter(c).Wait(ctx, &s3.HeadObjectInput{Bucket: aws.String("waited"), Key: aws.String("obj")}, 5*time.Second); err != nil {
		t.Fatalf("ObjectExists waiter: %v", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("waited"), Key: aws.String("obj")}); err != nil {
		t.Fatal(err)
	}
	if err := s3.NewObjectNotExistsWaiter(c).Wait(ctx, &s3.HeadObjectInput{Bucket: aws.String("waited"), Key: aws.String("obj")}, 5*time.Second); err != nil {
		t.Fatalf("ObjectNotExists waiter: %v", err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("waited")}); err != nil {
		t.Fatal(err)
	}
	if err := s3.NewBucketNotExistsWaiter(c).Wait(ctx, &s3.HeadBucketInput{Bucket: aws.String("waited")}, 5*time.Second); err != nil {
		t.Fatalf("BucketNotExists waiter: %v", err)
	}
}

func TestDeleteBucket(t *testing.T) {
	e := start(t)
	c := e.cli()
	_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("missing-bucket")})
	var nsb *types.NoSuchBucket
	if !errors.As(err, &nsb) {
		wantCode(t, err, "NoSuchBucket")
	}
	wantStatus(t, err, 404)

	mkBucket(t, c, "full")
	put(t, c, "full", "a", "1")
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("full")})
	ae := wantCode(t, err, "BucketNotEmpty")
	wantStatus(t, err, 409)
	if ae.ErrorMessage() != "The bucket you tried to delete is not empty. You must delete all versions in the bucket." {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	// An in-progress multipart upload does not keep the bucket alive.
	if _, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("full"), Key: aws.String("mpu")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("full"), Key: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("full")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("full")})
	if !errors.As(err, &nsb) {
		t.Fatalf("after delete: %v", err)
	}
	// The name is free again, for any account.
	mkBucket(t, e.client(acctB, "us-east-1"), "full")
}

func TestBucketVersioningConfiguration(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "ver")
	out, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("ver")})
	if err != nil || out.Status != "" {
		t.Fatalf("unversioned: %+v %v", out, err)
	}
	for _, st := range []types.BucketVersioningStatus{types.BucketVersioningStatusEnabled, types.BucketVersioningStatusSuspended} {
		if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("ver"),
			VersioningConfiguration: &types.VersioningConfiguration{Status: st}}); err != nil {
			t.Fatal(err)
		}
		out, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("ver")})
		// Never configured: S3 leaves MfaDelete out.
		if err != nil || out.Status != st || out.MFADelete != "" {
			t.Fatalf("after %s: %+v %v", st, out, err)
		}
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("ver"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled, MFADelete: types.MFADeleteDisabled}}); err != nil {
		t.Fatal(err)
	}
	out, err = c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("ver")})
	if err != nil || out.Status != types.BucketVersioningStatusEnabled || out.MFADelete != types.MFADeleteStatusDisabled {
		t.Fatalf("after configuring MfaDelete: %+v %v", out, err)
	}
	// A later Put without MfaDelete keeps what was configured.
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("ver"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}}); err != nil {
		t.Fatal(err)
	}
	out, err = c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("ver")})
	if err != nil || out.MFADelete != types.MFADeleteStatusDisabled {
		t.Fatalf("after a Put without MfaDelete: %+v %v", out, err)
	}
	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("ver"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: "Sometimes"}})
	wantCode(t, err, "MalformedXML")
	_, err = c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("nope-nope")})
	wantCode(t, err, "NoSuchBucket")
}

func TestBucketTagging(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "tagged")
	_, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("tagged")})
	ae := wantCode(t, err, "NoSuchTagSet")
	wantStatus(t, err, 404)
	if ae.ErrorMessage() != "The TagSet does not exist" {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	tags := []types.Tag{{Key: aws.String("project"), Value: aws.String("lab")}, {Key: aws.String("env"), Value: aws.String("")}}
	if _, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("tagged"), Tagging: &types.Tagging{TagSet: tags}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("tagged")})
	if err != nil || len(out.TagSet) != 2 || aws.ToString(out.TagSet[0].Key) != "env" || aws.ToString(out.TagSet[1].Value) != "lab" {
		t.Fatalf("GetBucketTagging: %+v %v", out, err)
	}
	dup := []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("a"), Value: aws.String("2")}}
	_, err = c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("tagged"), Tagging: &types.Tagging{TagSet: dup}})
	wantCode(t, err, "InvalidTag")
	sys := []types.Tag{{Key: aws.String("aws:cloudformation:stack"), Value: aws.String("x")}}
	_, err = c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("tagged"), Tagging: &types.Tagging{TagSet: sys}})
	wantCode(t, err, "InvalidTag")
	if _, err := c.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String("tagged")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("tagged")})
	wantCode(t, err, "NoSuchTagSet")
	_, err = c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("nope-nope"), Tagging: &types.Tagging{TagSet: tags}})
	wantCode(t, err, "NoSuchBucket")
}

func TestUnsupportedSubresourceIsNotImplemented(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "plain")
	_, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("plain")})
	wantCode(t, err, "NotImplemented")
	wantStatus(t, err, 501)
	// PATCH is no S3 method.
	resp, body := e.raw(t, "PATCH", "/plain", nil, nil)
	if resp.StatusCode != 405 || !strings.Contains(string(body), "<Code>MethodNotAllowed</Code>") {
		t.Fatalf("PATCH: %d %s", resp.StatusCode, body)
	}
}

func TestAuditRecordsOperations(t *testing.T) {
	e := start(t)
	c := e.cli()
	mark := e.Core.Audit.Mark()
	mkBucket(t, c, "audited")
	put(t, c, "audited", "k", "v")
	get(t, c, "audited", "k")
	if _, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("audited")}); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, en := range e.Core.Audit.Since(mark) {
		ops = append(ops, en.Operation)
	}
	if strings.Join(ops, ",") != "CreateBucket,PutObject,GetObject,ListObjectsV2" {
		t.Fatalf("audit: %v", ops)
	}
	var muts []string
	for _, en := range e.Core.Audit.Since(mark) {
		if en.Mutating {
			muts = append(muts, en.Operation)
		}
	}
	if strings.Join(muts, ",") != "CreateBucket,PutObject" {
		t.Fatalf("mutating: %v", muts)
	}
}
