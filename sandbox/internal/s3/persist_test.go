package s3_test

import (
	"net/http/httptest"
	"strings"
	"testing"

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
		srv := httptest.NewServer(core.NewHandler(c, core.HandlerOptions{Services: []core.Service{svc}}))
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
