package s3_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestPutGetHeadObject(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "objs")
	body := `{"hello":"world"}`
	sum := md5.Sum([]byte(body))
	out, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("objs"), Key: aws.String("dir/data.json"), Body: strings.NewReader(body),
		ContentType: aws.String("application/json"), ContentMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		Metadata: map[string]string{"Origin": "test", "run": "1"}, CacheControl: aws.String("no-cache"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.ETag) != `"`+md5hex(body)+`"` {
		t.Fatalf("ETag %s", aws.ToString(out.ETag))
	}
	if out.VersionId != nil {
		t.Fatalf("unversioned bucket returned version id %q", aws.ToString(out.VersionId))
	}
	// The SDK sends a CRC32 by default; S3 echoes it.
	if aws.ToString(out.ChecksumCRC32) == "" || out.ChecksumType != types.ChecksumTypeFullObject {
		t.Fatalf("checksum %q %q", aws.ToString(out.ChecksumCRC32), out.ChecksumType)
	}

	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/data.json")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(g.Body)
	g.Body.Close()
	if string(got) != body || aws.ToString(g.ContentType) != "application/json" || aws.ToString(g.ETag) != aws.ToString(out.ETag) ||
		aws.ToInt64(g.ContentLength) != int64(len(body)) || g.Metadata["origin"] != "test" || g.Metadata["run"] != "1" ||
		aws.ToString(g.CacheControl) != "no-cache" || g.LastModified == nil || time.Since(*g.LastModified) > time.Minute {
		t.Fatalf("GetObject: %q %+v", got, g)
	}

	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/data.json")})
	if err != nil || aws.ToInt64(h.ContentLength) != int64(len(body)) || aws.ToString(h.ETag) != aws.ToString(out.ETag) || h.Metadata["origin"] != "test" {
		t.Fatalf("HeadObject: %+v %v", h, err)
	}

	// No Content-Type given (the SDK always sends one): S3's default.
	if resp, b := e.raw(t, "PUT", "/objs/raw", nil, []byte("bytes")); resp.StatusCode != 200 {
		t.Fatalf("raw put: %d %s", resp.StatusCode, b)
	}
	g2, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("objs"), Key: aws.String("raw")})
	if err != nil || aws.ToString(g2.ContentType) != "binary/octet-stream" {
		t.Fatalf("default content type: %v %v", aws.ToString(g2.ContentType), err)
	}
	g2.Body.Close()

	// Errors.
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("objs"), Key: aws.String("missing")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Fatalf("want NoSuchKey, got %v", err)
	}
	wantStatus(t, err, 404)
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("objs"), Key: aws.String("missing")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Fatalf("HEAD missing: want NotFound, got %v", err)
	}
	// GetObject and PutObject do not model NoSuchBucket as a typed error.
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("nope-nope"), Key: aws.String("k")})
	wantCode(t, err, "NoSuchBucket")
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("nope-nope"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantCode(t, err, "NoSuchBucket")
	wrong := md5.Sum([]byte("other"))
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("objs"), Key: aws.String("bad"), Body: strings.NewReader(body),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(wrong[:]))})
	wantCode(t, err, "BadDigest")
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("objs"), Key: aws.String("bad"), Body: strings.NewReader(body),
		ContentMD5: aws.String("not-base64!")})
	wantCode(t, err, "InvalidDigest")
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("objs"), Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("x")})
	wantCode(t, err, "KeyTooLongError")
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("objs"), Key: aws.String("bad")})
	if !errors.As(err, &nf) {
		t.Fatalf("a refused put stored the object: %v", err)
	}
	// Empty objects are objects.
	put(t, c, "objs", "empty", "")
	if s := get(t, c, "objs", "empty"); s != "" {
		t.Fatalf("empty object: %q", s)
	}
}

func TestConditionalRequests(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "cond")
	out := put(t, c, "cond", "k", "v1")
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), IfMatch: aws.String(`"nope"`)})
	wantCode(t, err, "PreconditionFailed")
	wantStatus(t, err, 412)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), IfNoneMatch: out.ETag})
	wantStatus(t, err, 304)
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), IfMatch: out.ETag})
	if err != nil {
		t.Fatal(err)
	}
	g.Body.Close()
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), Body: strings.NewReader("v2"), IfNoneMatch: aws.String("*")})
	wantCode(t, err, "PreconditionFailed")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String("new"), Body: strings.NewReader("v"), IfNoneMatch: aws.String("*")}); err != nil {
		t.Fatal(err)
	}
}

func TestRangeRequests(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "ranges")
	put(t, c, "ranges", "digits", "0123456789")
	for rg, want := range map[string]string{"bytes=2-5": "2345", "bytes=7-": "789", "bytes=-3": "789", "bytes=8-100": "89", "bytes=0-0": "0"} {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ranges"), Key: aws.String("digits"), Range: aws.String(rg),
			ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatalf("%s: %v", rg, err)
		}
		b, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil || string(b) != want || aws.ToInt64(out.ContentLength) != int64(len(want)) || !strings.HasSuffix(aws.ToString(out.ContentRange), "/10") {
			t.Fatalf("%s: %q %v %v %v", rg, b, out.ContentRange, out.ContentLength, err)
		}
	}
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ranges"), Key: aws.String("digits"), Range: aws.String("bytes=10-")})
	wantCode(t, err, "InvalidRange")
	wantStatus(t, err, 416)
	// A whole-object range carries the checksum, which the SDK validates.
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ranges"), Key: aws.String("digits"), Range: aws.String("bytes=0-"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || string(b) != "0123456789" || aws.ToString(out.ChecksumCRC32) == "" {
		t.Fatalf("whole range: %q %v %v", b, out.ChecksumCRC32, err)
	}
}

func TestChecksums(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "sums")
	body := []byte("checksummed payload")
	for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha1,
		types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme} {
		key := "obj-" + string(alg)
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), Body: bytes.NewReader(body), ChecksumAlgorithm: alg})
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatalf("%s get: %v", alg, err)
		}
		got, err := io.ReadAll(g.Body) // the SDK validates the checksum while reading
		g.Body.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%s: body %q %v", alg, got, err)
		}
		var put, back string
		switch alg {
		case types.ChecksumAlgorithmCrc32:
			put, back = aws.ToString(out.ChecksumCRC32), aws.ToString(g.ChecksumCRC32)
		case types.ChecksumAlgorithmCrc32c:
			put, back = aws.ToString(out.ChecksumCRC32C), aws.ToString(g.ChecksumCRC32C)
		case types.ChecksumAlgorithmSha1:
			put, back = aws.ToString(out.ChecksumSHA1), aws.ToString(g.ChecksumSHA1)
		case types.ChecksumAlgorithmSha256:
			put, back = aws.ToString(out.ChecksumSHA256), aws.ToString(g.ChecksumSHA256)
			sum := sha256.Sum256(body)
			if put != base64.StdEncoding.EncodeToString(sum[:]) {
				t.Fatalf("sha256 %s", put)
			}
		case types.ChecksumAlgorithmCrc64nvme:
			put, back = aws.ToString(out.ChecksumCRC64NVME), aws.ToString(g.ChecksumCRC64NVME)
		}
		if put == "" || put != back {
			t.Fatalf("%s: put %q get %q", alg, put, back)
		}
	}
	// Without checksum mode no checksum is returned.
	bare := s3.NewFromConfig(e.For(acctA, "us-east-1"), func(o *s3.Options) { o.UsePathStyle = true })
	g, err := bare.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String("obj-CRC32")})
	if err != nil || g.ChecksumCRC32 != nil {
		t.Fatalf("no checksum mode: %v %v", g.ChecksumCRC32, err)
	}
	g.Body.Close()
	// A wrong precomputed checksum is refused.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("wrong"), Body: bytes.NewReader(body), ChecksumCRC32: aws.String("AAAAAA==")})
	ae := wantCode(t, err, "BadDigest")
	if ae.ErrorMessage() != "The CRC32 you specified did not match the calculated checksum." {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("wrong"), Body: bytes.NewReader(body), ChecksumCRC32: aws.String("!!")})
	wantCode(t, err, "InvalidRequest")
	crc := crc32.ChecksumIEEE(body)
	good := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("right"), Body: bytes.NewReader(body), ChecksumCRC32: aws.String(good)})
	if err != nil || aws.ToString(out.ChecksumCRC32) != good {
		t.Fatalf("precomputed CRC32: %v %v", out, err)
	}
}

func TestVersionedObjects(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "vers")
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("vers"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	v1 := aws.ToString(put(t, c, "vers", "k", "one").VersionId)
	v2 := aws.ToString(put(t, c, "vers", "k", "two").VersionId)
	if len(v1) != 32 || len(v2) != 32 || v1 == v2 {
		t.Fatalf("version ids %q %q", v1, v2)
	}
	if get(t, c, "vers", "k") != "two" {
		t.Fatal("current is not the newest")
	}
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vers"), Key: aws.String("k"), VersionId: aws.String(v1)})
	if err != nil || aws.ToString(g.VersionId) != v1 {
		t.Fatalf("get v1: %v", err)
	}
	b, _ := io.ReadAll(g.Body)
	g.Body.Close()
	if string(b) != "one" {
		t.Fatalf("v1 body %q", b)
	}

	del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vers"), Key: aws.String("k")})
	if err != nil || !aws.ToBool(del.DeleteMarker) || len(aws.ToString(del.VersionId)) != 32 {
		t.Fatalf("delete marker: %+v %v", del, err)
	}
	marker := aws.ToString(del.VersionId)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vers"), Key: aws.String("k")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Fatalf("current delete marker: want NoSuchKey, got %v", err)
	}
	re := wantStatus(t, err, 404)
	if re.Response.Header.Get("x-amz-delete-marker") != "true" || re.Response.Header.Get("x-amz-version-id") != marker {
		t.Fatalf("delete marker headers: %v", re.Response.Header)
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("vers"), Key: aws.String("k")})
	re = wantStatus(t, err, 404)
	if re.Response.Header.Get("x-amz-delete-marker") != "true" {
		t.Fatalf("HEAD delete marker headers: %v", re.Response.Header)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vers"), Key: aws.String("k"), VersionId: aws.String(marker)})
	wantCode(t, err, "MethodNotAllowed")
	wantStatus(t, err, 405)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vers"), Key: aws.String("k"), VersionId: aws.String(strings.Repeat("x", 32))})
	wantCode(t, err, "NoSuchVersion")
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vers"), Key: aws.String("k"), VersionId: aws.String("bogus")})
	wantCode(t, err, "InvalidArgument")

	// Deleting the marker by version id brings "two" back.
	del, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vers"), Key: aws.String("k"), VersionId: aws.String(marker)})
	if err != nil || !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) != marker {
		t.Fatalf("delete the marker: %+v %v", del, err)
	}
	if get(t, c, "vers", "k") != "two" {
		t.Fatal("marker removal did not restore the previous version")
	}
	// Deleting a version permanently.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vers"), Key: aws.String("k"), VersionId: aws.String(v2)}); err != nil {
		t.Fatal(err)
	}
	if get(t, c, "vers", "k") != "one" {
		t.Fatal("v1 is not current after deleting v2")
	}

	// Suspended: writes replace the "null" version.
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("vers"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}}); err != nil {
		t.Fatal(err)
	}
	if v := aws.ToString(put(t, c, "vers", "k", "three").VersionId); v != "null" {
		t.Fatalf("suspended put version %q", v)
	}
	put(t, c, "vers", "k", "four")
	lv, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("vers")})
	if err != nil {
		t.Fatal(err)
	}
	if len(lv.Versions) != 2 || aws.ToString(lv.Versions[0].VersionId) != "null" || !aws.ToBool(lv.Versions[0].IsLatest) ||
		aws.ToString(lv.Versions[1].VersionId) != v1 || aws.ToInt64(lv.Versions[0].Size) != 4 {
		t.Fatalf("versions after suspended puts: %+v", lv.Versions)
	}
	del, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vers"), Key: aws.String("k")})
	if err != nil || !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) != "null" {
		t.Fatalf("suspended delete: %+v %v", del, err)
	}
	lv, _ = c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("vers")})
	if len(lv.Versions) != 1 || len(lv.DeleteMarkers) != 1 || aws.ToString(lv.DeleteMarkers[0].VersionId) != "null" {
		t.Fatalf("after suspended delete: %+v %+v", lv.Versions, lv.DeleteMarkers)
	}
}

func TestUnversionedDelete(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "unv")
	put(t, c, "unv", "k", "v")
	del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("unv"), Key: aws.String("k")})
	if err != nil || del.DeleteMarker != nil || del.VersionId != nil {
		t.Fatalf("unversioned delete: %+v %v", del, err)
	}
	// Deleting a missing key succeeds, as on S3.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("unv"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	lv, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("unv")})
	if err != nil || len(lv.Versions)+len(lv.DeleteMarkers) != 0 {
		t.Fatalf("versions left: %+v %v", lv, err)
	}
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("nope-nope"), Key: aws.String("k")})
	wantCode(t, err, "NoSuchBucket")
}

func TestCopyObject(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "src-bucket")
	mkBucket(t, c, "dst-bucket")
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("src-bucket"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	first, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src-bucket"), Key: aws.String("a b/ü.txt"), Body: strings.NewReader("first"),
		ContentType: aws.String("text/plain"), Metadata: map[string]string{"m": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	put(t, c, "src-bucket", "a b/ü.txt", "second")

	out, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst-bucket"), Key: aws.String("copy"), CopySource: aws.String("src-bucket/a%20b/%C3%BC.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.CopyObjectResult.ETag) != `"`+md5hex("second")+`"` || aws.ToString(out.CopySourceVersionId) == "" {
		t.Fatalf("copy result %+v", out)
	}
	if get(t, c, "dst-bucket", "copy") != "second" {
		t.Fatal("copy body")
	}
	// A source version, and metadata copied along.
	out, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst-bucket"), Key: aws.String("old"),
		CopySource: aws.String("src-bucket/a%20b/%C3%BC.txt?versionId=" + aws.ToString(first.VersionId))})
	if err != nil || aws.ToString(out.CopySourceVersionId) != aws.ToString(first.VersionId) {
		t.Fatalf("copy version: %+v %v", out, err)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst-bucket"), Key: aws.String("old")})
	if err != nil || aws.ToString(h.ContentType) != "text/plain" || h.Metadata["m"] != "1" {
		t.Fatalf("copied metadata: %+v %v", h, err)
	}
	if get(t, c, "dst-bucket", "old") != "first" {
		t.Fatal("copied version body")
	}
	// REPLACE takes the request's metadata.
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst-bucket"), Key: aws.String("old"), CopySource: aws.String("dst-bucket/old"),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/csv"), Metadata: map[string]string{"n": "2"}}); err != nil {
		t.Fatal(err)
	}
	h, _ = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst-bucket"), Key: aws.String("old")})
	if aws.ToString(h.ContentType) != "text/csv" || h.Metadata["n"] != "2" || h.Metadata["m"] != "" {
		t.Fatalf("replaced metadata: %+v", h)
	}

	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst-bucket"), Key: aws.String("old"), CopySource: aws.String("dst-bucket/old")})
	wantCode(t, err, "InvalidRequest")
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst-bucket"), Key: aws.String("x"), CopySource: aws.String("dst-bucket/missing")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		wantCode(t, err, "NoSuchKey")
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst-bucket"), Key: aws.String("x"), CopySource: aws.String("no-such-src/k")})
	wantCode(t, err, "NoSuchBucket")
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst-bucket"), Key: aws.String("x"), CopySource: aws.String("just-a-bucket")})
	wantCode(t, err, "InvalidArgument")
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst-bucket"), Key: aws.String("x"), CopySource: aws.String("dst-bucket/copy"),
		CopySourceIfMatch: aws.String(`"0000"`)})
	wantCode(t, err, "PreconditionFailed")
}

func TestDeleteObjects(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "multi")
	for _, k := range []string{"a", "b", "c"} {
		put(t, c, "multi", k, k)
	}
	out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("multi"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("a")}, {Key: aws.String("missing")}, {Key: aws.String("b"), VersionId: aws.String("not-a-version")},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Deleted) != 2 || aws.ToString(out.Deleted[0].Key) != "a" || aws.ToString(out.Deleted[1].Key) != "missing" {
		t.Fatalf("deleted %+v", out.Deleted)
	}
	if len(out.Errors) != 1 || aws.ToString(out.Errors[0].Key) != "b" || aws.ToString(out.Errors[0].Code) != "NoSuchVersion" {
		t.Fatalf("errors %+v", out.Errors)
	}
	// Quiet mode reports only errors.
	out, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("multi"), Delete: &types.Delete{Quiet: aws.Bool(true),
		Objects: []types.ObjectIdentifier{{Key: aws.String("b")}, {Key: aws.String(strings.Repeat("k", 1025))}}}})
	if err != nil || len(out.Deleted) != 0 || len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "KeyTooLongError" {
		t.Fatalf("quiet: %+v %v", out, err)
	}
	l, _ := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("multi")})
	if len(l.Contents) != 1 || aws.ToString(l.Contents[0].Key) != "c" {
		t.Fatalf("left: %+v", l.Contents)
	}
	// More than 1,000 keys is a malformed request.
	many := make([]types.ObjectIdentifier, 1001)
	for i := range many {
		many[i] = types.ObjectIdentifier{Key: aws.String("k")}
	}
	_, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("multi"), Delete: &types.Delete{Objects: many}})
	wantCode(t, err, "MalformedXML")
	_, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("multi"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{}}})
	wantCode(t, err, "MalformedXML")
	_, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("nope-nope"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("a")}}}})
	wantCode(t, err, "NoSuchBucket")

	// Raw: a body that is not XML, and a missing integrity header.
	body := []byte("<Delete><Object><Key>c</Key></Object>")
	sum := md5.Sum(body)
	resp, rb := e.raw(t, "POST", "/multi?delete", map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(sum[:])}, body)
	if resp.StatusCode != 400 || !strings.Contains(string(rb), "<Code>MalformedXML</Code>") {
		t.Fatalf("malformed body: %d %s", resp.StatusCode, rb)
	}
	body = []byte("<Delete><Object><Key>c</Key></Object></Delete>")
	resp, rb = e.raw(t, "POST", "/multi?delete", nil, body)
	if resp.StatusCode != 400 || !strings.Contains(string(rb), "Missing required header for this request: Content-MD5") {
		t.Fatalf("no Content-MD5: %d %s", resp.StatusCode, rb)
	}
	sum = md5.Sum(body)
	resp, rb = e.raw(t, "POST", "/multi?delete", map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(sum[:])}, body)
	if resp.StatusCode != 200 || !strings.Contains(string(rb), "<Deleted><Key>c</Key></Deleted>") {
		t.Fatalf("raw delete: %d %s", resp.StatusCode, rb)
	}
}

func TestObjectTagging(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "otags")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("otags"), Key: aws.String("k"), Body: strings.NewReader("v"),
		Tagging: aws.String("team=lab&stage=dev%20one")}); err != nil {
		t.Fatal(err)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("otags"), Key: aws.String("k")})
	if err != nil || aws.ToInt32(h.TagCount) != 2 {
		t.Fatalf("tag count: %v %v", h, err)
	}
	tg, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("otags"), Key: aws.String("k")})
	if err != nil || len(tg.TagSet) != 2 || aws.ToString(tg.TagSet[0].Key) != "stage" || aws.ToString(tg.TagSet[0].Value) != "dev one" {
		t.Fatalf("GetObjectTagging: %+v %v", tg, err)
	}
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("otags"), Key: aws.String("k"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("only"), Value: aws.String("one")}}}}); err != nil {
		t.Fatal(err)
	}
	// CopyObject copies tags unless told to replace them.
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("otags"), Key: aws.String("copy"), CopySource: aws.String("otags/k")}); err != nil {
		t.Fatal(err)
	}
	tg, _ = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("otags"), Key: aws.String("copy")})
	if len(tg.TagSet) != 1 || aws.ToString(tg.TagSet[0].Key) != "only" {
		t.Fatalf("copied tags: %+v", tg.TagSet)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("otags"), Key: aws.String("copy2"), CopySource: aws.String("otags/k"),
		TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("x=y")}); err != nil {
		t.Fatal(err)
	}
	tg, _ = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("otags"), Key: aws.String("copy2")})
	if len(tg.TagSet) != 1 || aws.ToString(tg.TagSet[0].Key) != "x" {
		t.Fatalf("replaced tags: %+v", tg.TagSet)
	}
	if _, err := c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String("otags"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	tg, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("otags"), Key: aws.String("k")})
	if err != nil || len(tg.TagSet) != 0 {
		t.Fatalf("after delete: %+v %v", tg, err)
	}
	if s := get(t, c, "otags", "k"); s != "v" {
		t.Fatalf("DeleteObjectTagging touched the object: %q", s)
	}
	var many []string
	for i := 0; i < 11; i++ {
		many = append(many, "k"+string(rune('a'+i))+"=v")
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("otags"), Key: aws.String("many"), Body: strings.NewReader("v"), Tagging: aws.String(strings.Join(many, "&"))})
	wantCode(t, err, "BadRequest")
	_, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("otags"), Key: aws.String("missing")})
	wantCode(t, err, "NoSuchKey")
}
