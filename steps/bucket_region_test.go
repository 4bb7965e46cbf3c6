package steps_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/lab"
	"github.com/slab-lab/slab/sandbox"
	"github.com/slab-lab/slab/steps"
)

// TestBucketInAnotherRegion: the learner's bucket was made in eu-west-1 and
// the lab now runs in us-east-1. S3 answers HeadBucket through the wrong
// region with 301 and x-amz-bucket-region (the sandbox too); perform turns
// that into the region explanation the checks give, twice.
func TestBucketInAnotherRegion(t *testing.T) {
	if tg := openTarget(t); tg.srv == nil {
		t.Skip("needs the in-process sandbox (two regions of one account)")
	}
	srv, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	eu, err := awsenv.Load(ctx, awsenv.Target{Kind: awsenv.Sandbox, Endpoint: srv.URL(), Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	us, err := awsenv.Load(ctx, awsenv.Target{Kind: awsenv.Sandbox, Endpoint: srv.URL(), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	n := lab.DefaultNames()
	out, err := steps.ByID(lab.StepS3Bucket).Perform(ctx, eu, n, steps.PerformOptions{StateID: "x"})
	if err != nil {
		t.Fatalf("%v\n%s", err, dump(out.Resources))
	}
	n.Bucket = out.Bucket

	// The wire: 301 with the bucket's region, as S3 answers.
	c := s3.NewFromConfig(us.Config, func(o *s3.Options) { o.UsePathStyle = true })
	_, herr := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(n.Bucket)})
	var re *awshttp.ResponseError
	if !errors.As(herr, &re) || re.HTTPStatusCode() != 301 || re.Response.Header.Get("x-amz-bucket-region") != "eu-west-1" {
		t.Fatalf("HeadBucket through us-east-1: %v", herr)
	}
	for range 2 {
		got, err := steps.ByID(lab.StepS3Bucket).Perform(ctx, us, n, steps.PerformOptions{StateID: "x"})
		if err == nil || !strings.Contains(err.Error(), "the bucket is in eu-west-1, the functions in us-east-1") ||
			len(got.Resources) != 1 || got.Resources[0].Action != steps.ActionFailed {
			t.Fatalf("perform in us-east-1: %v\n%s", err, dump(got.Resources))
		}
	}
}
