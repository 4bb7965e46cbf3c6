package s3_test

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/slab-lab/slab/sandbox/internal/core"
	s3svc "github.com/slab-lab/slab/sandbox/internal/s3"
)

func TestListObjectsV2(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "listing")
	keys := []string{"a.txt", "b/1.json", "b/2.json", "b/c/3.json", "d/4.json", "e.txt", "space key.txt"}
	for _, k := range keys {
		put(t, c, "listing", k, k)
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.KeyCount) != int32(len(keys)) || aws.ToBool(out.IsTruncated) || len(out.Contents) != len(keys) {
		t.Fatalf("all: %+v", out)
	}
	for i, o := range out.Contents {
		if aws.ToString(o.Key) != keys[i] || aws.ToInt64(o.Size) != int64(len(keys[i])) || o.StorageClass != types.ObjectStorageClassStandard ||
			aws.ToString(o.ETag) != `"`+md5hex(keys[i])+`"` || o.Owner != nil {
			t.Fatalf("entry %d: %+v", i, o)
		}
	}

	out, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	if got := listed(out); got != "a.txt,e.txt,space key.txt|b/,d/" || aws.ToInt32(out.KeyCount) != 5 {
		t.Fatalf("delimiter: %s %d", got, aws.ToInt32(out.KeyCount))
	}
	out, _ = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing"), Prefix: aws.String("b/"), Delimiter: aws.String("/")})
	if got := listed(out); got != "b/1.json,b/2.json|b/c/" {
		t.Fatalf("prefix+delimiter: %s", got)
	}
	out, _ = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing"), StartAfter: aws.String("b/2.json"), FetchOwner: aws.Bool(true)})
	if got := listed(out); got != "b/c/3.json,d/4.json,e.txt,space key.txt|" || out.Contents[0].Owner == nil {
		t.Fatalf("start-after: %s", got)
	}
	out, _ = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing"), MaxKeys: aws.Int32(2)})
	if got := listed(out); got != "a.txt,b/1.json|" || !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
		t.Fatalf("max-keys: %s", got)
	}
	out, _ = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing"), MaxKeys: aws.Int32(2), ContinuationToken: out.NextContinuationToken})
	if got := listed(out); got != "b/2.json,b/c/3.json|" {
		t.Fatalf("continuation: %s", got)
	}
	out, _ = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing"), MaxKeys: aws.Int32(0)})
	if aws.ToInt32(out.KeyCount) != 0 || len(out.Contents) != 0 {
		t.Fatalf("max-keys 0: %+v", out)
	}
	out, _ = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing"), Prefix: aws.String("space"), EncodingType: types.EncodingTypeUrl})
	if got := listed(out); got != "space+key.txt|" || aws.ToString(out.Prefix) != "space" {
		t.Fatalf("encoding-type url: %s", got)
	}
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing"), ContinuationToken: aws.String("!!!")})
	wantCode(t, err, "InvalidArgument")
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing"), MaxKeys: aws.Int32(-1)})
	wantCode(t, err, "InvalidArgument")
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("no-such-listing")})
	var nsb *types.NoSuchBucket
	if !errors.As(err, &nsb) {
		t.Fatalf("want NoSuchBucket, got %v", err)
	}

	// Version 1 with marker.
	v1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("listing"), Marker: aws.String("d/4.json"), Delimiter: aws.String("/")})
	if err != nil || len(v1.Contents) != 2 || aws.ToString(v1.Contents[0].Key) != "e.txt" {
		t.Fatalf("ListObjects v1: %+v %v", v1, err)
	}
	var nsb1 *types.NoSuchBucket
	_, err = c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("no-such-listing")})
	if !errors.As(err, &nsb1) {
		t.Fatalf("v1 want NoSuchBucket, got %v", err)
	}
}

// listed renders a page as "keys|prefixes".
func listed(out *s3.ListObjectsV2Output) string {
	var ks, ps []string
	for _, o := range out.Contents {
		ks = append(ks, aws.ToString(o.Key))
	}
	for _, p := range out.CommonPrefixes {
		ps = append(ps, aws.ToString(p.Prefix))
	}
	return strings.Join(ks, ",") + "|" + strings.Join(ps, ",")
}

func TestListObjectsV2Paginator(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "paged")
	var want []string
	for i := 0; i < 30; i++ {
		k := fmt.Sprintf("top-%02d", i)
		put(t, c, "paged", k, "x")
		want = append(want, k)
	}
	for i := 0; i < 20; i++ {
		put(t, c, "paged", fmt.Sprintf("dir%02d/inner-%d", i%5, i), "x")
	}
	for i := 0; i < 5; i++ {
		want = append(want, fmt.Sprintf("dir%02d/", i))
	}
	sort.Strings(want)
	var got []string
	pages := 0
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("paged"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(4)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if int(aws.ToInt32(page.KeyCount)) != len(page.Contents)+len(page.CommonPrefixes) || aws.ToInt32(page.KeyCount) > 4 {
			t.Fatalf("page %d: KeyCount %d", pages, aws.ToInt32(page.KeyCount))
		}
		for _, o := range page.Contents {
			got = append(got, aws.ToString(o.Key))
		}
		for _, cp := range page.CommonPrefixes {
			got = append(got, aws.ToString(cp.Prefix))
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") || pages != 9 {
		t.Fatalf("%d pages, got %v", pages, got)
	}
}

func TestListObjectVersionsPaginator(t *testing.T) {
	e := start(t)
	c := e.cli()
	mkBucket(t, c, "history")
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("history"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		key, id string
		marker  bool
	}
	var want []entry
	for _, k := range []string{"k1", "k2", "k3"} {
		var ids []entry
		for i := 0; i < 3; i++ {
			ids = append([]entry{{k, aws.ToString(put(t, c, "history", k, k).VersionId), false}}, ids...)
		}
		if k == "k2" {
			d, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("history"), Key: aws.String(k)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append([]entry{{k, aws.ToString(d.VersionId), true}}, ids...)
		}
		want = append(want, ids...)
	}

	full, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("history")})
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Versions) != 9 || len(full.DeleteMarkers) != 1 || !aws.ToBool(full.DeleteMarkers[0].IsLatest) {
		t.Fatalf("versions %d markers %d", len(full.Versions), len(full.DeleteMarkers))
	}
	latest := 0
	for _, v := range full.Versions {
		if aws.ToBool(v.IsLatest) {
			latest++
		}
		if aws.ToString(v.ETag) == "" || aws.ToInt64(v.Size) != 2 || v.Owner == nil {
			t.Fatalf("version entry %+v", v)
		}
	}
	if latest != 2 { // k1 and k3; k2's latest is its delete marker
		t.Fatalf("latest versions %d", latest)
	}

	var got []entry
	pages := 0
	p := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: aws.String("history"), MaxKeys: aws.Int32(3)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		// Versions and markers come in separate lists; order them as the
		// document did: by key, newest first, using the known ids.
		var pe []entry
		for _, v := range page.Versions {
			pe = append(pe, entry{aws.ToString(v.Key), aws.ToString(v.VersionId), false})
		}
		for _, m := range page.DeleteMarkers {
			pe = append(pe, entry{aws.ToString(m.Key), aws.ToString(m.VersionId), true})
		}
		if len(pe) > 3 {
			t.Fatalf("page %d has %d entries", pages, len(pe))
		}
		got = append(got, pe...)
	}
	if pages != 4 || len(got) != len(want) {
		t.Fatalf("%d pages, %d entries", pages, len(got))
	}
	seen := map[entry]bool{}
	for _, g := range got {
		seen[g] = true
	}
	for _, w := range want {
		if !seen[w] {
			t.Fatalf("missing %+v", w)
		}
	}
	// Markers resume inside a key's versions.
	page, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("history"), KeyMarker: aws.String("k1"),
		VersionIdMarker: aws.String(want[0].id), MaxKeys: aws.Int32(2)})
	if err != nil || len(page.Versions) != 2 || aws.ToString(page.Versions[0].VersionId) != want[1].id || aws.ToString(page.NextKeyMarker) != "k1" ||
		aws.ToString(page.NextVersionIdMarker) != want[2].id {
		t.Fatalf("version-id-marker: %+v %v", page, err)
	}
	_, err = c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("history"), VersionIdMarker: aws.String(want[0].id)})
	wantCode(t, err, "InvalidArgument")
	_, err = c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("no-such-history")})
	wantCode(t, err, "NoSuchBucket")
	// A delimiter rolls every version of a key up into its prefix.
	put(t, c, "history", "dir/a", "x")
	put(t, c, "history", "dir/a", "y")
	page, _ = c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("history"), Delimiter: aws.String("/"), Prefix: aws.String("d")})
	if len(page.CommonPrefixes) != 1 || aws.ToString(page.CommonPrefixes[0].Prefix) != "dir/" || len(page.Versions) != 0 {
		t.Fatalf("delimiter: %+v", page)
	}
}

// TestEmptyVersionedBucketInBatches is the guide's cleanup: a versioned
// bucket "emptied" with delete markers still cannot be deleted; deleting
// every version and marker (ListObjectVersions, then DeleteObjects in
// batches of 1,000) can.
func TestEmptyVersionedBucketInBatches(t *testing.T) {
	e := start(t)
	c := e.cli()
	const bucket = "big-versioned"
	mkBucket(t, c, bucket)
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	const keys, perKey = 250, 10
	var wg sync.WaitGroup
	errs := make(chan error, keys)
	sem := make(chan struct{}, 8)
	for k := 0; k < keys; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			key := fmt.Sprintf("data/%03d.json", k)
			for v := 0; v < perKey; v++ {
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(fmt.Sprint(v))}); err != nil {
					errs <- err
					return
				}
			}
		}(k)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// "aws s3 rm --recursive": one DeleteObjects of the current keys,
	// which only adds delete markers.
	var current []types.ObjectIdentifier
	lp := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for lp.HasMorePages() {
		page, err := lp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			current = append(current, types.ObjectIdentifier{Key: o.Key})
		}
	}
	if len(current) != keys {
		t.Fatalf("current keys %d", len(current))
	}
	out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &types.Delete{Objects: current}})
	if err != nil || len(out.Deleted) != keys || !aws.ToBool(out.Deleted[0].DeleteMarker) || aws.ToString(out.Deleted[0].DeleteMarkerVersionId) == "" {
		t.Fatalf("rm --recursive: %d deleted, %v", len(out.Deleted), err)
	}
	if l, _ := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}); aws.ToInt32(l.KeyCount) != 0 {
		t.Fatalf("keys still listed: %d", aws.ToInt32(l.KeyCount))
	}
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	wantCode(t, err, "BucketNotEmpty")

	var all []types.ObjectIdentifier
	markers := 0
	vp := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	for vp.HasMorePages() {
		page, err := vp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Versions {
			all = append(all, types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range page.DeleteMarkers {
			all = append(all, types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
			markers++
		}
	}
	if len(all) != keys*perKey+keys || markers != keys {
		t.Fatalf("listed %d entries, %d markers", len(all), markers)
	}
	batches := 0
	for i := 0; i < len(all); i += 1000 {
		batch := all[i:min(i+1000, len(all))]
		out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &types.Delete{Objects: batch, Quiet: aws.Bool(true)}})
		if err != nil || len(out.Errors) != 0 {
			t.Fatalf("batch %d: %v %+v", batches, err, out.Errors)
		}
		batches++
	}
	if batches != 3 {
		t.Fatalf("%d batches", batches)
	}
	lv, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	if err != nil || len(lv.Versions)+len(lv.DeleteMarkers) != 0 {
		t.Fatalf("left: %d versions %d markers %v", len(lv.Versions), len(lv.DeleteMarkers), err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("DeleteBucket after emptying: %v", err)
	}
	var blobs int
	_ = e.Core.Store.View(func(tx *core.Tx) error {
		blobs = s3svc.BlobCount(e.svc, tx)
		return nil
	})
	if blobs != 0 {
		t.Fatalf("%d object bodies leaked", blobs)
	}
}
