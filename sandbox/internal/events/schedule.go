package events

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed EventBridge schedule expression: rate(...) or
// cron(...), always in UTC as EventBridge rules are.
type Schedule struct {
	Expression string
	// Every is the period of a rate expression, zero for cron.
	Every time.Duration
	// Anchor is when a rate schedule starts counting (the rule's creation or
	// last enabling): it fires at Anchor+Every, Anchor+2*Every, ...
	Anchor time.Time
	cron   *cronSpec
}

var errBadSchedule = errors.New("Parameter ScheduleExpression is not valid.")

var rateRE = regexp.MustCompile(`^rate\(([0-9]+) (minute|minutes|hour|hours|day|days)\)$`)

// ParseSchedule parses a schedule expression with AWS's rules: rate(1 minute)
// but rate(5 minutes) (the unit's number must agree with the value), and
// six-field cron(minutes hours day-of-month month day-of-week year) where
// exactly one of the two day fields is "?".
func ParseSchedule(expr string) (Schedule, error) {
	if m := rateRE.FindStringSubmatch(expr); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 || n > 1_000_000 {
			return Schedule{}, errBadSchedule
		}
		unit := m[2]
		if (n == 1) != !strings.HasSuffix(unit, "s") {
			return Schedule{}, errBadSchedule
		}
		d := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(unit, "s")]
		return Schedule{Expression: expr, Every: time.Duration(n) * d}, nil
	}
	if body, ok := strings.CutPrefix(expr, "cron("); ok && strings.HasSuffix(body, ")") {
		spec, err := parseCron(strings.TrimSuffix(body, ")"))
		if err != nil {
			return Schedule{}, errBadSchedule
		}
		return Schedule{Expression: expr, cron: spec}, nil
	}
	return Schedule{}, errBadSchedule
}

// IsRate reports whether the schedule is a rate expression.
func (s Schedule) IsRate() bool { return s.Every > 0 }

// Next returns the first firing time strictly after after, or the zero time
// when a cron schedule never fires again (its years are over).
func (s Schedule) Next(after time.Time) time.Time {
	after = after.UTC()
	if s.Every > 0 {
		a := s.Anchor.UTC()
		if s.Anchor.IsZero() {
			// Unanchored rates count from the Unix epoch: a zero time.Time
			// is too far back for time.Duration arithmetic.
			a = time.Unix(0, 0).UTC()
		}
		if after.Before(a) {
			return a.Add(s.Every)
		}
		k := after.Sub(a)/s.Every + 1
		return a.Add(k * s.Every)
	}
	if s.cron == nil {
		return time.Time{}
	}
	return s.cron.next(after)
}

// --- cron ---

const (
	maxYear = 2199
	minYear = 1970
)

// field is the set of values a cron field allows.
type field struct {
	allowed []bool // indexed by value
	any     bool   // "*" or "?": the field does not constrain
}

type cronSpec struct {
	minute, hour, month, year field
	dom, dow                  field
	domQuestion               bool
	lastDay                   bool  // L in day-of-month
	lastWeekday               bool  // LW
	nearestWeekday            []int // 15W
	lastDow                   []int // 5L: last Thursday
	nthDow                    [][2]int
}

var monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
var dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

func parseCron(s string) (*cronSpec, error) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return nil, errBadSchedule
	}
	c := &cronSpec{}
	var err error
	if c.minute, err = parseField(f[0], 0, 59, nil); err != nil {
		return nil, err
	}
	if c.hour, err = parseField(f[1], 0, 23, nil); err != nil {
		return nil, err
	}
	if c.month, err = parseField(f[3], 1, 12, monthNames); err != nil {
		return nil, err
	}
	if c.year, err = parseField(f[5], minYear, maxYear, nil); err != nil {
		return nil, err
	}
	domQ, dowQ := f[2] == "?", f[4] == "?"
	if domQ == dowQ {
		// AWS: one of day-of-month and day-of-week must be "?", not both.
		return nil, errBadSchedule
	}
	c.domQuestion = domQ
	if domQ {
		c.dom.any = true
		if err := c.parseDow(f[4]); err != nil {
			return nil, err
		}
	} else {
		c.dow.any = true
		if err := c.parseDom(f[2]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *cronSpec) parseDom(s string) error {
	c.dom.allowed = make([]bool, 32)
	for _, item := range strings.Split(s, ",") {
		switch {
		case item == "L":
			c.lastDay = true
		case item == "LW":
			c.lastWeekday = true
		case strings.HasSuffix(item, "W"):
			n, err := strconv.Atoi(strings.TrimSuffix(item, "W"))
			if err != nil || n < 1 || n > 31 {
				return errBadSchedule
			}
			c.nearestWeekday = append(c.nearestWeekday, n)
		default:
			f, err := parseField(item, 1, 31, nil)
			if err != nil {
				return err
			}
			if f.any {
				c.dom.any = true
			}
			for v, ok := range f.allowed {
				if ok {
					c.dom.allowed[v] = true
				}
			}
		}
	}
	return nil
}

func (c *cronSpec) parseDow(s string) error {
	c.dow.allowed = make([]bool, 8)
	for _, item := range strings.Split(s, ",") {
		switch {
		case item == "L":
			c.dow.allowed[7] = true // L alone is the last day of the week, Saturday
		case strings.HasSuffix(item, "L"):
			n, err := dayValue(strings.TrimSuffix(item, "L"))
			if err != nil {
				return err
			}
			c.lastDow = append(c.lastDow, n)
		case strings.Contains(item, "#"):
			d, k, _ := strings.Cut(item, "#")
			n, err := dayValue(d)
			if err != nil {
				return err
			}
			nth, err := strconv.Atoi(k)
			if err != nil || nth < 1 || nth > 5 {
				return errBadSchedule
			}
			c.nthDow = append(c.nthDow, [2]int{n, nth})
		default:
			f, err := parseField(item, 1, 7, dayNames)
			if err != nil {
				return err
			}
			if f.any {
				c.dow.any = true
			}
			for v, ok := range f.allowed {
				if ok {
					c.dow.allowed[v] = true
				}
			}
		}
	}
	return nil
}

func dayValue(s string) (int, error) {
	if n, ok := dayNames[s]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 7 {
		return 0, errBadSchedule
	}
	return n, nil
}

// parseField parses a comma list of *, n, a-b, */k, a/k and a-b/k.
func parseField(s string, lo, hi int, names map[string]int) (field, error) {
	f := field{allowed: make([]bool, hi+1)}
	value := func(v string) (int, error) {
		if n, ok := names[v]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, errBadSchedule
		}
		return n, nil
	}
	for _, item := range strings.Split(s, ",") {
		if item == "" {
			return f, errBadSchedule
		}
		rng, stepS, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepS)
			if err != nil || n < 1 || n > hi-lo+1 {
				return f, errBadSchedule
			}
			step = n
		}
		a, b := lo, hi
		switch {
		case rng == "*":
			if !hasStep {
				f.any = true
			}
		case strings.Contains(rng, "-"):
			as, bs, _ := strings.Cut(rng, "-")
			var err error
			if a, err = value(as); err != nil {
				return f, err
			}
			if b, err = value(bs); err != nil {
				return f, err
			}
			if b < a {
				return f, errBadSchedule
			}
		default:
			n, err := value(rng)
			if err != nil {
				return f, err
			}
			a = n
			if !hasStep {
				b = n
			}
		}
		for v := a; v <= b; v += step {
			f.allowed[v] = true
		}
	}
	return f, nil
}

func (f field) has(v int) bool { return f.any || (v >= 0 && v < len(f.allowed) && f.allowed[v]) }

func (c *cronSpec) dayMatches(d time.Time) bool {
	last := daysIn(d.Year(), d.Month())
	if c.domQuestion {
		dow := int(d.Weekday()) + 1
		if c.dow.has(dow) {
			return true
		}
		for _, n := range c.lastDow {
			if dow == n && d.Day()+7 > last {
				return true
			}
		}
		for _, nk := range c.nthDow {
			if dow == nk[0] && (d.Day()-1)/7+1 == nk[1] {
				return true
			}
		}
		return false
	}
	if c.dom.has(d.Day()) || (c.lastDay && d.Day() == last) {
		return true
	}
	if c.lastWeekday && d.Day() == nearestWeekday(d.Year(), d.Month(), last) {
		return true
	}
	for _, n := range c.nearestWeekday {
		if n <= last && d.Day() == nearestWeekday(d.Year(), d.Month(), n) {
			return true
		}
	}
	return false
}

// nearestWeekday is the weekday closest to day n of the month without
// leaving the month, as the W wildcard defines it.
func nearestWeekday(y int, m time.Month, n int) int {
	t := time.Date(y, m, n, 0, 0, 0, 0, time.UTC)
	last := daysIn(y, m)
	switch t.Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2
		}
		return n + 1
	}
	return n
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (c *cronSpec) next(after time.Time) time.Time {
	t := after.Truncate(time.Minute).Add(time.Minute)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	first := true
	for day.Year() <= maxYear {
		if !c.year.has(day.Year()) {
			day = time.Date(day.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
			first = false
			continue
		}
		if !c.month.has(int(day.Month())) {
			day = time.Date(day.Year(), day.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			first = false
			continue
		}
		if c.dayMatches(day) {
			h0, m0 := 0, 0
			if first {
				h0, m0 = t.Hour(), t.Minute()
			}
			for h := h0; h < 24; h++ {
				if !c.hour.has(h) {
					continue
				}
				start := 0
				if h == h0 {
					start = m0
				}
				for m := start; m < 60; m++ {
					if c.minute.has(m) {
						return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
					}
				}
			}
		}
		day = day.AddDate(0, 0, 1)
		first = false
	}
	return time.Time{}
}
