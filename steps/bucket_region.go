package steps

import (
	"errors"
	"fmt"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// redirectedRegion is the region S3 names when asked about a bucket in
// another region: HeadBucket answers 301 with x-amz-bucket-region (and no
// body, so the error has no code to go by). "" when err is not that.
func redirectedRegion(err error) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get("x-amz-bucket-region")
	}
	return ""
}

// wrongRegion is the learner's explanation of a bucket outside the lab's
// region, whichever call found it out.
func (p *performer) wrongRegion(region string) error {
	return fmt.Errorf("the bucket is in %s, the functions in %s: S3 notifications only reach a function in the bucket's region; a bucket cannot move: delete it (slab cleanup) or choose another name with --name bucket=...", region, p.env.Region)
}
