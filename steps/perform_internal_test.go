package steps

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

func TestAccessDeniedNamesTheActionAndResource(t *testing.T) {
	for _, tc := range []struct {
		service, op, code, resource string
		action                      string
		extra                       string
	}{
		{"IAM", "CreateRole", "AccessDenied", "arn:aws:iam::123456789012:role/lambda-integration-role", "iam:CreateRole", ""},
		{"S3", "HeadBucket", "Forbidden", "lambda-integration-123456789012-1", "s3:ListBucket", ""},
		{"S3", "PutBucketNotificationConfiguration", "AccessDenied", "b", "s3:PutBucketNotification", ""},
		{"Lambda", "CreateFunction", "AccessDeniedException", "arn:aws:lambda:us-east-1:123456789012:function:f", "lambda:CreateFunction", "iam:PassRole"},
		{"Lambda", "Invoke", "AccessDeniedException", "f", "lambda:InvokeFunction", ""},
		{"SNS", "CreateTopic", "AuthorizationError", "t", "sns:CreateTopic", ""},
		{"EventBridge", "PutRule", "AccessDeniedException", "r", "events:PutRule", ""},
	} {
		err := fmt.Errorf("wrapped: %w", &smithy.OperationError{ServiceID: tc.service, OperationName: tc.op,
			Err: &smithy.GenericAPIError{Code: tc.code, Message: "not authorized"}})
		got := explain(err, tc.resource)
		var de *DeniedError
		if !errors.As(got, &de) || de.Action != tc.action {
			t.Errorf("%s %s: %v", tc.service, tc.op, got)
			continue
		}
		msg := got.Error()
		if !strings.Contains(msg, tc.action+" on "+tc.resource) || (tc.extra != "" && !strings.Contains(msg, tc.extra)) {
			t.Errorf("message %q", msg)
		}
	}
	// Other errors pass unchanged.
	other := &smithy.OperationError{ServiceID: "IAM", OperationName: "GetRole", Err: &smithy.GenericAPIError{Code: "NoSuchEntity"}}
	if explain(other, "x") != error(other) {
		t.Error("a NoSuchEntity was rewritten")
	}
}

func TestSamePolicyIgnoresOrderAndShape(t *testing.T) {
	a := `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":["s3:GetObjectVersion","s3:GetObject"],"Resource":"arn:aws:s3:::b/*"},{"Effect":"Allow","Action":"sns:Publish","Resource":["arn:aws:sns:us-east-1:1:t"]}]}`
	b := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"arn:aws:sns:us-east-1:1:t"},{"Sid":"B","Effect":"Allow","Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":["arn:aws:s3:::b/*"]}]}`
	if why := samePolicy(a, b); why != "" {
		t.Errorf("same policies differ: %s", why)
	}
	c := strings.Replace(b, "b/*", "other/*", 1)
	if samePolicy(a, c) == "" {
		t.Error("different resources compare equal")
	}
}

func TestPrerequisitesAreEarlierSteps(t *testing.T) {
	for id, pres := range Prerequisites {
		for _, p := range pres {
			if ByID(p).Number >= ByID(id).Number {
				t.Errorf("%s needs the later step %s", id, p)
			}
		}
	}
	for _, s := range All {
		if s.Perform == nil {
			t.Errorf("step %s has no Perform", s.ID)
		}
	}
}
