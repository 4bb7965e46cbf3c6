package policy

import (
	"fmt"
	"strings"
	"testing"
)

// bigPolicy builds a pretty-printed queue policy of about size bytes, one
// statement per few hundred bytes: the shape of the 3-6 MB policies a student
// could store before SQS checked sizes, and of what a learner pastes.
func bigPolicy(size int) (string, int) {
	var b strings.Builder
	b.WriteString("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n")
	n := 0
	for b.Len() < size {
		if n > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "    {\n      \"Sid\": \"s%d\",\n      \"Effect\": \"Allow\",\n      \"Principal\": {\"Service\": \"sns.amazonaws.com\"},\n      \"Action\": \"sqs:SendMessage\",\n      \"Resource\": \"arn:aws:sqs:us-east-1:000000000000:q%d\",\n      \"Condition\": {\"ArnEquals\": {\"aws:SourceArn\": \"arn:aws:sns:us-east-1:000000000000:t%d\"}}\n    }", n, n, n)
		n++
	}
	b.WriteString("\n  ]\n}\n")
	return b.String(), n
}

func benchmarkParse(b *testing.B, size int) {
	doc, n := bigPolicy(size)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := Parse(doc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "statements")
}

// policyOf builds a document of n statements.
func policyOf(n int) string {
	var b strings.Builder
	b.WriteString("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n")
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "    {\n      \"Sid\": \"s%d\",\n      \"Effect\": \"Allow\",\n      \"Action\": \"sqs:SendMessage\",\n      \"Resource\": \"arn:aws:sqs:us-east-1:000000000000:q%d\"\n    }", i, i)
	}
	b.WriteString("\n  ]\n}\n")
	return b.String()
}

// Parsing must be linear in the document: the 2,000 and 8,000
// statement documents took 0.27 s and 5.4 s when every statement's position
// was counted from the start. The test counts work, not time: the bytes the
// positioner examines, and the allocations, must grow with the size.
func TestParseIsLinear(t *testing.T) {
	small, large := policyOf(2000), policyOf(8000)
	for _, doc := range []string{small, large} {
		d := MustParse(doc)
		if d.pos.scanned > len(doc) {
			t.Errorf("%d statements: positions examined %d bytes of a %d-byte document", len(d.Statements), d.pos.scanned, len(doc))
		}
	}
	if testing.Short() {
		return
	}
	as := testing.AllocsPerRun(2, func() { MustParse(small) })
	al := testing.AllocsPerRun(2, func() { MustParse(large) })
	ratio := al / as
	if ratio > 4.5 {
		t.Errorf("4x the statements made %.0f allocations against %.0f (%.2fx); want about 4x", al, as, ratio)
	}
}

func BenchmarkParse1MB(b *testing.B)  { benchmarkParse(b, 1<<20) }
func BenchmarkParse10MB(b *testing.B) { benchmarkParse(b, 10<<20) }
