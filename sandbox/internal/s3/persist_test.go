package s3_test

import (
	"encoding/base64"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/slab-lab/slab/sandbox/internal/core"
	s3svc "github.com/slab-lab/slab/sandbox/internal/s3"
	"github.com/slab-lab/slab/sandbox/internal/sbtest"
)

// TestStateSurvivesRestart: every record round-trips through the journal
// and the snapshot.
func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	boot := func() (*s3.Client, func()) {
		c := core.New()
		svc := s3svc.New(c)
		if err := c.Store.Open(dir); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(core.NewHandler(c, core.HandlerOptions{Accounts: sbtest.AnyKey{}, Services: []core.Service{svc}}))
		cfg := sbtest.Config(srv.URL, acctA, "us-east-1")
		cfg.HTTPClient = raceFreeClient
		cli := s3.NewFromConfig(cfg, sdkDefaults, func(o *s3.Options) { o.UsePathStyle = true })
		return cli, func() {
			srv.Close()
			if err := c.Store.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	c, stop := boot()
	mkBucket(t, c, "durable")
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("durable"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("durable"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("durable"),
		NotificationConfiguration: &types.NotificationConfiguration{LambdaFunctionConfigurations: []types.LambdaFunctionConfiguration{
			lambdaCfg("trigger", []types.Event{"s3:ObjectCreated:*"}, rule("suffix", ".json"))}}}); err != nil {
		t.Fatal(err)
	}
	v1 := aws.ToString(put(t, c, "durable", "doc.json", "one").VersionId)
	put(t, c, "durable", "doc.json", "two")
	create, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("durable"), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	part, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("durable"), Key: aws.String("mp"), UploadId: create.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
	if err != nil {
		t.Fatal(err)
	}
	stop()

	c, stop = boot()
	defer stop()
	if get(t, c, "durable", "doc.json") != "two" {
		t.Fatal("current version lost")
	}
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("durable"), Key: aws.String("doc.json"), VersionId: aws.String(v1)})
	if err != nil {
		t.Fatal(err)
	}
	g.Body.Close()
	tags, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("durable")})
	if err != nil || len(tags.TagSet) != 1 {
		t.Fatalf("tags: %+v %v", tags, err)
	}
	n, err := c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("durable")})
	if err != nil || len(n.LambdaFunctionConfigurations) != 1 || aws.ToString(n.LambdaFunctionConfigurations[0].Id) != "trigger" {
		t.Fatalf("notification: %+v %v", n, err)
	}
	done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("durable"), Key: aws.String("mp"), UploadId: create.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}})
	if err != nil || get(t, c, "durable", "mp") != "part" {
		t.Fatalf("multipart across restart: %+v %v", done, err)
	}
	// New versions keep growing the same history.
	put(t, c, "durable", "doc.json", "three")
	lv, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("durable"), Prefix: aws.String("doc")})
	if err != nil || len(lv.Versions) != 3 || aws.ToString(lv.Versions[2].VersionId) != v1 {
		t.Fatalf("versions: %+v %v", lv, err)
	}
}

// bodyFiles lists the body files of a data directory.
func bodyFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "s3"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Bodies are files of the data directory, never part of the snapshot or
// journal; a file goes when the last version or part using it goes; files
// nothing refers to (a crash between writing one and committing it) and
// bodies stored inline by older sandboxes are dealt with on load.
func TestBodiesAreFilesTheSnapshotRefersTo(t *testing.T) {
	dir := t.TempDir()
	boot := func() (*s3.Client, func()) {
		c := core.New()
		svc := s3svc.New(c)
		if err := c.Store.Open(dir); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(core.NewHandler(c, core.HandlerOptions{Accounts: sbtest.AnyKey{}, Services: []core.Service{svc}}))
		cfg := sbtest.Config(srv.URL, acctA, "us-east-1")
		cfg.HTTPClient = raceFreeClient
		cli := s3.NewFromConfig(cfg, sdkDefaults, func(o *s3.Options) { o.UsePathStyle = true })
		return cli, func() {
			srv.Close()
			if err := c.Store.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	c, stop := boot()
	mkBucket(t, c, "plain")
	mkBucket(t, c, "versioned")
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("versioned"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	const marker = "body-bytes-that-must-not-be-in-the-snapshot"
	put(t, c, "plain", "k", marker+"-1")
	put(t, c, "plain", "k", marker+"-2") // replaces the null version: one file left
	v1 := aws.ToString(put(t, c, "versioned", "k", marker+"-3").VersionId)
	put(t, c, "versioned", "k", marker+"-4")
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("plain"), Key: aws.String("copy"), CopySource: aws.String("versioned/k")}); err != nil {
		t.Fatal(err)
	}
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("plain"), Key: aws.String("aborted")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("plain"), Key: aws.String("aborted"), UploadId: mp.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("part")}); err != nil {
		t.Fatal(err)
	}
	if n := len(bodyFiles(t, dir)); n != 5 {
		t.Fatalf("%d body files, want 5 (plain/k, two versions, the copy, one part)", n)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("plain"), Key: aws.String("aborted"), UploadId: mp.UploadId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("versioned"), Key: aws.String("k"), VersionId: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	if n := len(bodyFiles(t, dir)); n != 3 {
		t.Fatalf("%d body files after aborting the upload and deleting a version, want 3", n)
	}
	stop()
	for _, f := range []string{"snapshot.json", "journal.jsonl"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), marker) || strings.Contains(string(b), base64.StdEncoding.EncodeToString([]byte(marker+"-4"))) {
			t.Fatalf("%s holds an object body", f)
		}
	}
	// A file left by a write that never committed.
	if err := os.WriteFile(filepath.Join(dir, "s3", "orphan"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, stop = boot()
	defer stop()
	if get(t, c, "plain", "k") != marker+"-2" || get(t, c, "versioned", "k") != marker+"-4" || get(t, c, "plain", "copy") != marker+"-4" {
		t.Fatal("bodies lost across the restart")
	}
	if n := len(bodyFiles(t, dir)); n != 3 {
		t.Fatalf("%d body files after the restart, want 3 (the orphan removed)", n)
	}
}

// A body stored inline by a sandbox before files is moved to a file when
// the store is loaded, and still served.
func TestInlineBodiesOfOlderSandboxesMoveToFiles(t *testing.T) {
	dir := t.TempDir()
	{
		c := core.New()
		s3svc.New(c)
		if err := c.Store.Open(dir); err != nil {
			t.Fatal(err)
		}
		if err := c.Store.Close(); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	// The records an older sandbox journalled for one PutObject of "old".
	journal := `[{"op":"put","t":"s3.buckets","k":"legacy","v":{"name":"legacy","account":"` + acctA + `","region":"us-east-1","created":"` + now + `","last_seq":5}}]` + "\n" +
		`[{"op":"put","t":"s3.blobs","k":"legacy/b1","v":{"data":"` + base64.StdEncoding.EncodeToString([]byte("old")) + `"}},` +
		`{"op":"put","t":"s3.versions","k":"legacy/k\u00005","v":{"seq":5,"version_id":"null","last_modified":"` + now + `","owner":"` + acctA + `","sequencer":"0000000000000005","etag":"\"149603e6c03516362a8da23f624db945\"","size":3,"meta":{"content_type":"text/plain"},"checksum":{},"data_key":"legacy/b1"}},` +
		`{"op":"put","t":"s3.objects","k":"legacy/k","v":{"bucket":"legacy","key":"k","current":5,"null":5,"count":1}}]` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "journal.jsonl"), []byte(journal), 0o600); err != nil {
		t.Fatal(err)
	}
	c := core.New()
	svc := s3svc.New(c)
	if err := c.Store.Open(dir); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(core.NewHandler(c, core.HandlerOptions{Accounts: sbtest.AnyKey{}, Services: []core.Service{svc}}))
	defer func() { srv.Close(); _ = c.Store.Close() }()
	cfg := sbtest.Config(srv.URL, acctA, "us-east-1")
	cfg.HTTPClient = raceFreeClient
	cli := s3.NewFromConfig(cfg, sdkDefaults, func(o *s3.Options) { o.UsePathStyle = true })
	if got := get(t, cli, "legacy", "k"); got != "old" {
		t.Fatalf("legacy body %q", got)
	}
	if files := bodyFiles(t, dir); len(files) != 1 {
		t.Fatalf("body files %v, want the inline body moved to one", files)
	}
}
