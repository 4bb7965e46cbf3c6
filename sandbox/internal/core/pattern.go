package core

import (
	"regexp"
	"unicode/utf8"
)

// Pattern matches whole strings of min to max characters, each in one
// character class: what AWS's API references write as [class]{min,max}.
// Go's regexp compiles a{1,256} into 256 copies of a, so such a regexp of
// Unicode classes costs megabytes and milliseconds at every start of slab
// (the tutor's start-up budget is 150 ms); the class once plus a length
// check is the same test.
type Pattern struct {
	class    *regexp.Regexp
	min, max int
}

// NewPattern is Pattern for regexp ^[class]{min,max}$.
func NewPattern(class string, min, max int) Pattern {
	return Pattern{class: regexp.MustCompile(`^[` + class + `]*$`), min: min, max: max}
}

// MatchString reports whether s has min to max characters, all in the class.
func (p Pattern) MatchString(s string) bool {
	if n := utf8.RuneCountInString(s); n < p.min || n > p.max {
		return false
	}
	return p.class.MatchString(s)
}
