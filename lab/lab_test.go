package lab

import "testing"

func TestApplyOverrides(t *testing.T) {
	n, err := DefaultNames().Apply(map[string]string{"role": "course-role", "S3_FUNCTION": "ingest"})
	if err != nil {
		t.Fatal(err)
	}
	if n.Role != "course-role" || n.S3Function != "ingest" || n.Table != "lambda-integration-data" {
		t.Fatalf("got %+v", n)
	}
	if _, err := DefaultNames().Apply(map[string]string{"rol": "x"}); err == nil {
		t.Fatal("unknown key accepted")
	}
	if _, err := DefaultNames().Apply(map[string]string{"role": " "}); err == nil {
		t.Fatal("empty value accepted")
	}
}

func TestLabBucket(t *testing.T) {
	n := DefaultNames()
	b := n.BucketFor("123456789012", 1764240000)
	if b != "lambda-integration-123456789012-1764240000" {
		t.Fatal(b)
	}
	cases := map[string]bool{
		b:                                     true,
		"lambda-integration-123456789012-":    false,
		"lambda-integration-123456789012-17x": false,
		"lambda-integration-999999999999-1":   false,
		"lambda-integration-data-prod":        false,
		"other-lambda-integration-123456789012-123": false,
	}
	for name, want := range cases {
		if got := n.IsLabBucket(name, "123456789012"); got != want {
			t.Errorf("IsLabBucket(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestWithSuffix(t *testing.T) {
	n := DefaultNames().WithSuffix("s07")
	if n.Role != "lambda-integration-role-s07" || n.BucketPrefix != "lambda-integration-s07-" || n.Bucket != "" {
		t.Fatalf("got %+v", n)
	}
	if !n.IsLabBucket("lambda-integration-s07-123456789012-5", "123456789012") {
		t.Fatal("suffixed bucket not recognised")
	}
}
