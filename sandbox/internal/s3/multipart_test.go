package s3_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/slab-lab/slab/sandbox/internal/core"
	s3svc "github.com/slab-lab/slab/sandbox/internal/s3"
)

// multipartETag is S3's ETag of a multipart object: the MD5 of the parts'
// binary MD5s, then "-" and the part count.
func multipartETag(parts ...[]byte) string {
	var cat []byte
	for _, p := range parts {
		s := md5.Sum(p)
		cat = append(cat, s[:]...)
	}
	s := md5.Sum(cat)
	return `"` + hex.EncodeToString(s[:]) + "-" + string(rune('0'+len(parts))) + `"`
}

func TestMultipartUpload(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "mpu")
	create, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big.bin"),
		ContentType: aws.String("application/x-test"), Metadata: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	id := create.UploadId
	if len(aws.ToString(id)) < 32 || aws.ToString(create.Key) != "big.bin" {
		t.Fatalf("create: %+v", create)
	}
	parts := [][]byte{bytes.Repeat([]byte("a"), 5<<20), bytes.Repeat([]byte("b"), 5<<20), []byte("tail")}
	var completed []types.CompletedPart
	for i, p := range parts {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("big.bin"), UploadId: id,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		completed = append(completed, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
	}
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("big.bin"), UploadId: id})
	if err != nil || len(lp.Parts) != 3 || aws.ToInt64(lp.Parts[2].Size) != 4 {
		t.Fatalf("ListParts: %+v %v", lp, err)
	}
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu")})
	if err != nil || len(ups.Uploads) != 1 || aws.ToString(ups.Uploads[0].UploadId) != aws.ToString(id) {
		t.Fatalf("ListMultipartUploads: %+v %v", ups, err)
	}

	// Failures leave the upload in place.
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big.bin"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{completed[1], completed[0]}}})
	wantCode(t, err, "InvalidPartOrder")
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big.bin"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"00"`)}}}})
	wantCode(t, err, "InvalidPart")
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big.bin"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{completed[2], {PartNumber: aws.Int32(4), ETag: completed[2].ETag}}}})
	wantCode(t, err, "InvalidPart")
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big.bin"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{}})
	wantCode(t, err, "MalformedXML")
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("big.bin"), UploadId: id,
		PartNumber: aws.Int32(10001), Body: strings.NewReader("x")})
	wantCode(t, err, "InvalidArgument")

	done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big.bin"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(done.ETag) != multipartETag(parts...) {
		t.Fatalf("ETag %s want %s", aws.ToString(done.ETag), multipartETag(parts...))
	}
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big.bin")})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(g.Body)
	g.Body.Close()
	if err != nil || !bytes.Equal(body, bytes.Join(parts, nil)) || aws.ToString(g.ContentType) != "application/x-test" || g.Metadata["k"] != "v" {
		t.Fatalf("assembled object: %d bytes %v %+v", len(body), err, g.Metadata)
	}
	// Parts can be read back by number, as the transfer managers do.
	pg, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big.bin"), PartNumber: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := io.ReadAll(pg.Body)
	pg.Body.Close()
	if string(pb) != "tail" || aws.ToInt32(pg.PartsCount) != 3 || aws.ToString(pg.ContentRange) != "bytes 10485760-10485763/10485764" {
		t.Fatalf("part 3: %q %v %v", pb, aws.ToInt32(pg.PartsCount), aws.ToString(pg.ContentRange))
	}
	hp, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big.bin"), PartNumber: aws.Int32(1)})
	if err != nil || aws.ToInt64(hp.ContentLength) != 5<<20 || aws.ToInt32(hp.PartsCount) != 3 {
		t.Fatalf("head part 1: %+v %v", hp, err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big.bin"), PartNumber: aws.Int32(4)})
	wantCode(t, err, "InvalidPartNumber")
	wantStatus(t, err, 416)
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("big.bin"), UploadId: id,
		PartNumber: aws.Int32(1), Body: strings.NewReader("late")})
	var nsu *types.NoSuchUpload
	if !errors.As(err, &nsu) {
		wantCode(t, err, "NoSuchUpload")
	}
	wantStatus(t, err, 404)
	var blobs int
	_ = e.Core.Store.View(func(tx *core.Tx) error { blobs = s3svc.BlobCount(e.svc, tx); return nil })
	if blobs != 1 {
		t.Fatalf("%d bodies stored after completion, want the object's only", blobs)
	}
}

func TestMultipartSmallPartsAndAbort(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "mpu-small")
	create, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu-small"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	var completed []types.CompletedPart
	for i := 1; i <= 2; i++ {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu-small"), Key: aws.String("k"), UploadId: create.UploadId,
			PartNumber: aws.Int32(int32(i)), Body: strings.NewReader("small")})
		if err != nil {
			t.Fatal(err)
		}
		completed = append(completed, types.CompletedPart{PartNumber: aws.Int32(int32(i)), ETag: out.ETag})
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu-small"), Key: aws.String("k"), UploadId: create.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed}})
	wantCode(t, err, "EntityTooSmall")
	// A single small part is a valid upload.
	one, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu-small"), Key: aws.String("k"), UploadId: create.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed[1:]}})
	if err != nil || !strings.HasSuffix(aws.ToString(one.ETag), `-1"`) {
		t.Fatalf("single part: %+v %v", one, err)
	}
	if get(t, c, "mpu-small", "k") != "small" {
		t.Fatal("single part body")
	}

	create, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu-small"), Key: aws.String("aborted")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu-small"), Key: aws.String("aborted"), UploadId: create.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("gone")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mpu-small"), Key: aws.String("aborted"), UploadId: create.UploadId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mpu-small"), Key: aws.String("aborted"), UploadId: create.UploadId})
	var nsu *types.NoSuchUpload
	if !errors.As(err, &nsu) {
		t.Fatalf("abort twice: want NoSuchUpload, got %v", err)
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu-small"), Key: aws.String("aborted"), UploadId: create.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed[:1]}})
	wantCode(t, err, "NoSuchUpload")
	// An upload id belongs to its key.
	create, _ = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu-small"), Key: aws.String("mine")})
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu-small"), Key: aws.String("other"), UploadId: create.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	wantCode(t, err, "NoSuchUpload")
	_, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("nope-nope"), Key: aws.String("k")})
	wantCode(t, err, "NoSuchBucket")
}

func TestMultipartChecksums(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "mpu-sums")
	for _, tc := range []struct {
		alg  types.ChecksumAlgorithm
		typ  types.ChecksumType
		want types.ChecksumType
	}{
		{types.ChecksumAlgorithmCrc32, "", types.ChecksumTypeComposite},
		{types.ChecksumAlgorithmCrc32, types.ChecksumTypeFullObject, types.ChecksumTypeFullObject},
		{types.ChecksumAlgorithmSha256, "", types.ChecksumTypeComposite},
		{types.ChecksumAlgorithmCrc64nvme, "", types.ChecksumTypeFullObject},
	} {
		key := string(tc.alg) + string(tc.typ)
		create, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu-sums"), Key: aws.String(key),
			ChecksumAlgorithm: tc.alg, ChecksumType: tc.typ})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if create.ChecksumAlgorithm != tc.alg || create.ChecksumType != tc.want {
			t.Fatalf("%s: create %s %s", key, create.ChecksumAlgorithm, create.ChecksumType)
		}
		parts := [][]byte{bytes.Repeat([]byte("x"), 5<<20), []byte("end")}
		var completed []types.CompletedPart
		for i, p := range parts {
			out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu-sums"), Key: aws.String(key), UploadId: create.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p), ChecksumAlgorithm: tc.alg})
			if err != nil {
				t.Fatalf("%s part %d: %v", key, i+1, err)
			}
			completed = append(completed, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag,
				ChecksumCRC32: out.ChecksumCRC32, ChecksumSHA256: out.ChecksumSHA256, ChecksumCRC64NVME: out.ChecksumCRC64NVME})
		}
		done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu-sums"), Key: aws.String(key),
			UploadId: create.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: completed}})
		if err != nil {
			t.Fatalf("%s complete: %v", key, err)
		}
		sum := aws.ToString(done.ChecksumCRC32) + aws.ToString(done.ChecksumSHA256) + aws.ToString(done.ChecksumCRC64NVME)
		if done.ChecksumType != tc.want || sum == "" || strings.HasSuffix(sum, "-2") != (tc.want == types.ChecksumTypeComposite) {
			t.Fatalf("%s: complete checksum %q %s", key, sum, done.ChecksumType)
		}
		// Full-object checksums are validated by the SDK on read;
		// composite ones it skips.
		g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpu-sums"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(g.Body)
		g.Body.Close()
		if err != nil || len(body) != 5<<20+3 {
			t.Fatalf("%s read: %d %v", key, len(body), err)
		}
	}
	create, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu-sums"), Key: aws.String("mismatch"),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu-sums"), Key: aws.String("mismatch"), UploadId: create.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("x"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	wantCode(t, err, "InvalidRequest")
	_, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu-sums"), Key: aws.String("bad"),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha1, ChecksumType: types.ChecksumTypeFullObject})
	wantCode(t, err, "InvalidRequest")
}
