package awscli

import (
	"strings"
	"testing"
)

func TestTextAddsEndpointInsideCodeSpansOnly(t *testing.T) {
	c := CLI{Endpoint: "http://127.0.0.1:4567"}
	cases := []struct{ in, want string }{
		{"enable it: `aws s3api put-bucket-versioning --bucket b`", "enable it: `aws --endpoint-url http://127.0.0.1:4567 s3api put-bucket-versioning --bucket b`"},
		{"the aws CLI prints `aws --version`", "the aws CLI prints `aws --endpoint-url http://127.0.0.1:4567 --version`"},
		{"`aws --endpoint-url http://127.0.0.1:4567 sts get-caller-identity`", "`aws --endpoint-url http://127.0.0.1:4567 sts get-caller-identity`"},
		{"`x=$(aws sqs get-queue-url --queue-name q) && aws sqs purge-queue --queue-url $x | aws logs tail g`",
			"`x=$(aws --endpoint-url http://127.0.0.1:4567 sqs get-queue-url --queue-name q) && aws --endpoint-url http://127.0.0.1:4567 sqs purge-queue --queue-url $x | aws --endpoint-url http://127.0.0.1:4567 logs tail g`"},
		{"no commands here", "no commands here"},
		{"`slab show sns-sqs` and `jq -c .`", "`slab show sns-sqs` and `jq -c .`"},
		{"`aws-cli/2.9`", "`aws-cli/2.9`"},
	}
	for _, tc := range cases {
		if got := c.Text(tc.in); got != tc.want {
			t.Errorf("Text(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
	if got := (CLI{}).Text(cases[0].in); got != cases[0].in {
		t.Errorf("real AWS must leave hints alone: %q", got)
	}
}

func TestLinesSkipsComments(t *testing.T) {
	c := CLI{Endpoint: "http://e"}
	got := c.Lines("# aws is the CLI\naws s3 ls\nROLE=$(aws iam get-role --role-name r)")
	want := "# aws is the CLI\naws --endpoint-url http://e s3 ls\nROLE=$(aws --endpoint-url http://e iam get-role --role-name r)"
	if got != want {
		t.Errorf("got %q", got)
	}
}

func TestPrefix(t *testing.T) {
	if got := (CLI{Endpoint: "http://e", Profile: "p", Region: "eu-west-1"}).Prefix(); got != "aws --endpoint-url http://e --profile p --region eu-west-1" {
		t.Error(got)
	}
	if got := (CLI{}).Command(" sts get-caller-identity"); got != "aws sts get-caller-identity" {
		t.Error(got)
	}
}

func TestVersionAndNote(t *testing.T) {
	v, ok := ParseVersion("aws-cli/2.9.19 Python/3.11.2 Linux/6.1.0 source/x86_64.debian.12 prompt/off\n")
	if !ok || v != (Version{2, 9, 19}) {
		t.Fatalf("%v %v", v, ok)
	}
	if !v.Less(MinEndpointEnv) {
		t.Error("2.9.19 < 2.13.0")
	}
	if _, ok := ParseVersion("aws: command not found"); ok {
		t.Error("parsed garbage")
	}
	if n := ExportNote(v, true); !strings.Contains(n, "2.9.19 ignores its AWS_ENDPOINT_URL") || !strings.Contains(n, "2.13+") {
		t.Error(n)
	}
	if n := ExportNote(Version{1, 45, 11}, true); !strings.Contains(n, "version 1") {
		t.Error(n)
	}
	if n := ExportNote(Version{2, 15, 0}, true); !strings.Contains(n, "2.15.0 reads its") {
		t.Error(n)
	}
	if n := ExportNote(Version{}, false); !strings.Contains(n, "aws --version") || !strings.Contains(n, "--endpoint-url") {
		t.Error(n)
	}
}
