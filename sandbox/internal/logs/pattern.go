package logs

import (
	"regexp"
	"strings"
)

// compilePattern turns a CloudWatch Logs filter pattern into a matcher. It
// understands the forms people type into `aws logs tail --filter-pattern`
// and `filter-log-events`: terms (all must occur, case-sensitive), quoted
// phrases, ?term alternatives (at least one must occur), -term exclusions,
// and a %regex% pattern. JSON ({ $.field = ... }) and space-delimited
// ([a, b, ...]) patterns are refused with an error naming the limitation
// rather than matched wrongly.
func compilePattern(p string) (func(string) bool, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return func(string) bool { return true }, nil
	}
	if len(p) >= 2 && p[0] == '%' && p[len(p)-1] == '%' {
		re, err := regexp.Compile(p[1 : len(p)-1])
		if err != nil {
			return nil, invalid("Invalid regex in filter pattern %s: %v", p, err)
		}
		return re.MatchString, nil
	}
	if p[0] == '{' || p[0] == '[' {
		return nil, invalid("Invalid filter pattern %q: the sandbox emulates term, quoted-phrase and %%regex%% patterns only, not JSON or space-delimited ones", p)
	}
	var all, anyOf, none []string
	for i := 0; i < len(p); {
		for i < len(p) && p[i] == ' ' {
			i++
		}
		if i == len(p) {
			break
		}
		kind := byte(0)
		if p[i] == '?' || p[i] == '-' {
			kind = p[i]
			i++
		}
		var term strings.Builder
		if i < len(p) && p[i] == '"' {
			i++
			closed := false
			for i < len(p) {
				c := p[i]
				i++
				if c == '\\' && i < len(p) {
					term.WriteByte(p[i])
					i++
					continue
				}
				if c == '"' {
					closed = true
					break
				}
				term.WriteByte(c)
			}
			if !closed {
				return nil, invalid("Invalid filter pattern %q: unterminated quoted phrase", p)
			}
		} else {
			for i < len(p) && p[i] != ' ' {
				term.WriteByte(p[i])
				i++
			}
		}
		t := term.String()
		if t == "" {
			if kind != 0 {
				return nil, invalid("Invalid filter pattern %q: %c must be followed by a term", p, kind)
			}
			continue
		}
		switch kind {
		case '?':
			anyOf = append(anyOf, t)
		case '-':
			none = append(none, t)
		default:
			all = append(all, t)
		}
	}
	return func(msg string) bool {
		for _, t := range all {
			if !strings.Contains(msg, t) {
				return false
			}
		}
		for _, t := range none {
			if strings.Contains(msg, t) {
				return false
			}
		}
		if len(anyOf) == 0 {
			return true
		}
		for _, t := range anyOf {
			if strings.Contains(msg, t) {
				return true
			}
		}
		return false
	}, nil
}
