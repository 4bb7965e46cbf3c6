package awserr_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/slab-lab/slab/awserr"
)

// answer is a server that answers every request with one status, content
// type and body, as a proxy, a broken emulator or AWS itself might.
func answer(t *testing.T, status int, ctype, body string) aws.Config {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		if strings.HasPrefix(body, "{") && strings.Contains(body, "ResourceNotFound") {
			w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		}
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = w.Write([]byte(body))
		}
	}))
	t.Cleanup(srv.Close)
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
		APIOptions:       []func(*middleware.Stack) error{awserr.Capture},
	}
}

const htmlNotFound = "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"

func TestHTMLNotFoundFromLambdaIsAnErrorNotMissing(t *testing.T) {
	cfg := answer(t, 404, "text/html", htmlNotFound)
	_, err := lambda.NewFromConfig(cfg).ListEventSourceMappings(context.Background(), &lambda.ListEventSourceMappingsInput{FunctionName: aws.String("sqs-processor")})
	if err == nil {
		t.Fatal("no error")
	}
	if awserr.IsNotFound(err) {
		t.Errorf("an HTML 404 read as not found: %v", err)
	}
	b := awserr.Brief(err)
	for _, want := range []string{"HTTP 404", "<!DOCTYPE html> <html><head><title>404 Not Found"} {
		if !strings.Contains(b, want) {
			t.Errorf("brief %q lacks %q", b, want)
		}
	}
	if awserr.Status(err) != 404 || !awserr.IsUnreadable(err) {
		t.Errorf("status %d unreadable %v", awserr.Status(err), awserr.IsUnreadable(err))
	}
}

func TestEmptyNotFoundFromLambdaIsAnError(t *testing.T) {
	cfg := answer(t, 404, "", "")
	_, err := lambda.NewFromConfig(cfg).GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("f")})
	if err == nil || awserr.IsNotFound(err) || !strings.Contains(awserr.Brief(err), "HTTP 404 Not Found, not an AWS error response: (empty body)") {
		t.Errorf("got %v / %q", err, awserr.Brief(err))
	}
}

func TestServiceNotFoundIsNotFound(t *testing.T) {
	cfg := answer(t, 404, "application/json", `{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:000000000000:function:f"}`)
	// The X-Amzn-ErrorType header is set for bodies naming ResourceNotFound.
	cfg2 := answer(t, 404, "application/json", `{"Type":"User","message":"Function not found","__type":"ResourceNotFound"}`)
	_, err := lambda.NewFromConfig(cfg2).GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("f")})
	if !awserr.IsNotFound(err) {
		t.Errorf("Lambda's ResourceNotFoundException not read as not found: %v", err)
	}
	// JSON without a code: the service did not say what was wrong.
	_, err = lambda.NewFromConfig(cfg).GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("f")})
	if awserr.IsNotFound(err) {
		t.Errorf("a 404 without a code read as not found: %v", err)
	}

	ddb := answer(t, 400, "application/x-amz-json-1.0", `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}`)
	_, err = dynamodb.NewFromConfig(ddb).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("t")})
	if !awserr.IsNotFound(err) || awserr.Brief(err) != "ResourceNotFoundException: Requested resource not found" {
		t.Errorf("DynamoDB not found: %v / %q", err, awserr.Brief(err))
	}

	q := answer(t, 400, "application/x-amz-json-1.0", `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}`)
	_, err = sqs.NewFromConfig(q).GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("q")})
	if !awserr.IsNotFound(err) {
		t.Errorf("SQS QueueDoesNotExist: %v", err)
	}
}

// S3's HEAD answers have no body: a bare 404 there is S3 saying "no such
// bucket", and the SDK names it NotFound.
func TestS3HeadBucket404IsNotFound(t *testing.T) {
	cfg := answer(t, 404, "", "")
	_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String("b")})
	if !awserr.IsNotFound(err) {
		t.Errorf("HeadBucket 404: %v (code %q)", err, awserr.Code(err))
	}
	cfg = answer(t, 403, "", "")
	_, err = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String("b")})
	if !awserr.IsAccessDenied(err) {
		t.Errorf("HeadBucket 403: %v (code %q)", err, awserr.Code(err))
	}
}

func TestS3HTMLNotFoundIsAnError(t *testing.T) {
	cfg := answer(t, 404, "text/html", htmlNotFound)
	_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetBucketVersioning(context.Background(), &s3.GetBucketVersioningInput{Bucket: aws.String("b")})
	if err == nil || awserr.IsNotFound(err) || !strings.Contains(awserr.Brief(err), "HTTP 404") {
		t.Errorf("got %v / %q", err, awserr.Brief(err))
	}
}

func TestIAM500ShowsTheStatusNotAnXMLError(t *testing.T) {
	cfg := answer(t, 500, "text/plain", "Internal Server Error: simulate exploded")
	_, err := iam.NewFromConfig(cfg).SimulatePrincipalPolicy(context.Background(), &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::000000000000:role/r"), ActionNames: []string{"sqs:ReceiveMessage"},
	})
	b := awserr.Brief(err)
	if !strings.Contains(b, "HTTP 500 Internal Server Error") || !strings.Contains(b, "simulate exploded") || strings.Contains(b, "syntax") {
		t.Errorf("brief %q", b)
	}
	if awserr.IsNotFound(err) || awserr.IsAccessDenied(err) {
		t.Errorf("misclassified: %v", err)
	}
}

func TestIAMNoSuchEntity(t *testing.T) {
	cfg := answer(t, 404, "text/xml", `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name r cannot be found.</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
	_, err := iam.NewFromConfig(cfg).GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("r")})
	if !awserr.IsNotFound(err) || awserr.IsUnreadable(err) {
		t.Errorf("NoSuchEntity: %v", err)
	}
}

func TestBodyIsOneShortPrintableLine(t *testing.T) {
	cfg := answer(t, 502, "text/html", "<html>\x1b[31m\n\n"+strings.Repeat("x", 500)+"</html>")
	_, err := lambda.NewFromConfig(cfg).GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("f")})
	b := awserr.Brief(err)
	if strings.ContainsAny(b, "\x1b\n") || len(b) > 300 || !strings.HasSuffix(b, "…") {
		t.Errorf("brief %q", b)
	}
}

func TestS3EmptyNotFoundOnAGetIsAnError(t *testing.T) {
	cfg := answer(t, 404, "", "")
	_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetBucketVersioning(context.Background(), &s3.GetBucketVersioningInput{Bucket: aws.String("b")})
	if err == nil || awserr.IsNotFound(err) || !strings.Contains(awserr.Brief(err), "HTTP 404") {
		t.Errorf("got %v / %q", err, awserr.Brief(err))
	}
	cfg = answer(t, 404, "application/xml", `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>b</BucketName></Error>`)
	_, err = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetBucketVersioning(context.Background(), &s3.GetBucketVersioningInput{Bucket: aws.String("b")})
	if !awserr.IsNotFound(err) {
		t.Errorf("NoSuchBucket: %v", err)
	}
}
