package core

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// Pattern must agree with the regexp it stands for on every input.
func TestPatternMatchesItsRegexp(t *testing.T) {
	classes := []struct {
		class    string
		min, max int
	}{
		{`A-Za-z0-9_.-`, 1, 256},
		{`\p{L}\p{Z}\p{N}_.:/=+\-@`, 1, 128},
		{`\x20-\x7E`, 1, 100},
		{`a-zA-Z0-9-_`, 1, 64},
	}
	inputs := []string{"", "a", "a.b-c_d", "ünï cödé", "tag:key/=+@", "\x00", "a b", "é", "\u2028", "😀", "\xff",
		strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 65), strings.Repeat("a", 100), strings.Repeat("a", 101),
		strings.Repeat("ü", 128), strings.Repeat("ü", 129), strings.Repeat("x", 256), strings.Repeat("x", 257)}
	for _, c := range classes {
		p := NewPattern(c.class, c.min, c.max)
		re := regexp.MustCompile(fmt.Sprintf(`^[%s]{%d,%d}$`, c.class, c.min, c.max))
		for _, in := range inputs {
			if got, want := p.MatchString(in), re.MatchString(in); got != want {
				t.Errorf("[%s]{%d,%d} on %q: %v, the regexp says %v", c.class, c.min, c.max, in, got, want)
			}
		}
	}
}

func FuzzPattern(f *testing.F) {
	f.Add("tag:key/=+@")
	f.Add(strings.Repeat("ü", 129))
	p := NewPattern(`\p{L}\p{Z}\p{N}_.:/=+\-@`, 1, 128)
	re := regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
	f.Fuzz(func(t *testing.T, s string) {
		if p.MatchString(s) != re.MatchString(s) {
			t.Fatalf("%q: pattern %v, regexp %v", s, p.MatchString(s), re.MatchString(s))
		}
	})
}
