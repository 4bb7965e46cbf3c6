package events

import (
	"testing"
	"time"
)

func TestParseScheduleValidity(t *testing.T) {
	tests := []struct {
		expr string
		ok   bool
	}{
		{"rate(1 minute)", true},
		{"rate(5 minutes)", true},
		{"rate(1 hour)", true},
		{"rate(12 hours)", true},
		{"rate(1 day)", true},
		{"rate(7 days)", true},
		{"rate(1 minutes)", false},
		{"rate(5 minute)", false},
		{"rate(0 minutes)", false},
		{"rate(-5 minutes)", false},
		{"rate(5 Minutes)", false},
		{"rate(5  minutes)", false},
		{"rate(5 seconds)", false},
		{"rate(5minutes)", false},
		{"rate 5 minutes", false},
		{"cron(0 12 * * ? *)", true},
		{"cron(15 10 ? * 6L 2027-2030)", true},
		{"cron(0/15 * * * ? *)", true},
		{"cron(0 8 1 * ? *)", true},
		{"cron(0 18 ? * MON-FRI *)", true},
		{"cron(0 10 ? * 6#3 *)", true},
		{"cron(0 9 L * ? *)", true},
		{"cron(0 9 15W * ? *)", true},
		{"cron(0 9 LW JAN,JUL ? *)", true},
		{"cron(5,35 14 * * ? *)", true},
		{"cron(0 12 * * *)", false},      // five fields
		{"cron(0 12 * * * *)", false},    // neither day field is ?
		{"cron(0 12 ? * ? *)", false},    // both day fields are ?
		{"cron(60 12 * * ? *)", false},   // minute out of range
		{"cron(0 24 * * ? *)", false},    // hour out of range
		{"cron(0 12 32 * ? *)", false},   // day out of range
		{"cron(0 12 * 13 ? *)", false},   // month out of range
		{"cron(0 12 ? * 8 *)", false},    // day of week out of range
		{"cron(0 12 * * ? 1969)", false}, // year out of range
		{"cron(0 12 ? * FOO *)", false},  // unknown day name
		{"cron(0 12 10-5 * ? *)", false}, // reversed range
		{"cron(0 12 * * ? *", false},     // unclosed
		{"cron(0/0 12 * * ? *)", false},  // zero step
		{"cron(0,,5 12 * * ? *)", false}, // empty list item
		{"cron(0 12 ? * 2#6 *)", false},  // no sixth Monday
		{"", false},
		{"at(2026-12-01T10:00:00)", false}, // Scheduler syntax, not rules
	}
	for _, tc := range tests {
		_, err := ParseSchedule(tc.expr)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v, want ok=%v", tc.expr, err, tc.ok)
		}
		if err != nil && err.Error() != "Parameter ScheduleExpression is not valid." {
			t.Errorf("%q: message %q", tc.expr, err)
		}
	}
}

func TestScheduleNext(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	anchor := at("2026-11-27 12:00")
	tests := []struct {
		expr   string
		anchor time.Time
		after  string
		want   string
	}{
		{"rate(5 minutes)", anchor, "2026-11-27 12:00", "2026-11-27 12:05"},
		{"rate(5 minutes)", anchor, "2026-11-27 12:04", "2026-11-27 12:05"},
		{"rate(5 minutes)", anchor, "2026-11-27 12:05", "2026-11-27 12:10"},
		{"rate(5 minutes)", anchor, "2026-11-27 11:00", "2026-11-27 12:05"},
		{"rate(1 hour)", anchor, "2026-11-28 00:30", "2026-11-28 01:00"},
		{"rate(1 day)", anchor, "2026-11-27 12:00", "2026-11-28 12:00"},
		{"rate(5 minutes)", time.Time{}, "2026-11-27 12:03", "2026-11-27 12:05"},
		{"cron(0 12 * * ? *)", time.Time{}, "2026-11-27 11:59", "2026-11-27 12:00"},
		{"cron(0 12 * * ? *)", time.Time{}, "2026-11-27 12:00", "2026-11-28 12:00"},
		{"cron(0/15 * * * ? *)", time.Time{}, "2026-11-27 12:07", "2026-11-27 12:15"},
		{"cron(0/15 * * * ? *)", time.Time{}, "2026-11-27 23:50", "2026-11-28 00:00"},
		{"cron(0 18 ? * MON-FRI *)", time.Time{}, "2026-11-27 18:00", "2026-11-30 18:00"}, // Fri -> Mon
		{"cron(0 8 1 * ? *)", time.Time{}, "2026-11-27 00:00", "2026-12-01 08:00"},
		{"cron(0 9 L * ? *)", time.Time{}, "2027-02-01 00:00", "2027-02-28 09:00"},
		{"cron(0 9 L * ? *)", time.Time{}, "2028-02-01 00:00", "2028-02-29 09:00"},
		{"cron(0 10 ? * 6#3 *)", time.Time{}, "2026-12-01 00:00", "2026-12-18 10:00"}, // third Friday
		{"cron(15 10 ? * 6L *)", time.Time{}, "2026-12-01 00:00", "2026-12-25 10:15"}, // last Friday
		{"cron(0 9 15W * ? *)", time.Time{}, "2026-11-01 00:00", "2026-11-16 09:00"},  // 15th is a Sunday
		{"cron(0 9 1W * ? *)", time.Time{}, "2026-08-01 00:00", "2026-08-03 09:00"},   // 1st is a Saturday
		{"cron(0 9 LW * ? *)", time.Time{}, "2027-01-01 00:00", "2027-01-29 09:00"},   // 31st is a Sunday
		{"cron(30 2 29 FEB ? *)", time.Time{}, "2026-11-27 00:00", "2028-02-29 02:30"},
		{"cron(0 0 1 JAN ? 2030)", time.Time{}, "2026-11-27 00:00", "2030-01-01 00:00"},
		{"cron(0 0 1 JAN ? 2020)", time.Time{}, "2026-11-27 00:00", ""},
		{"cron(5,35 14 * * ? *)", time.Time{}, "2026-11-27 14:05", "2026-11-27 14:35"},
	}
	for _, tc := range tests {
		s, err := ParseSchedule(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		s.Anchor = tc.anchor
		got := s.Next(at(tc.after))
		want := time.Time{}
		if tc.want != "" {
			want = at(tc.want)
		}
		if !got.Equal(want) {
			t.Errorf("%s after %s: got %s, want %s", tc.expr, tc.after, got.Format("2006-01-02 15:04 Mon"), tc.want)
		}
		if s.IsRate() != (tc.expr[:4] == "rate") {
			t.Errorf("%s: IsRate %v", tc.expr, s.IsRate())
		}
	}
}

func TestScheduleNextSecondsAndZones(t *testing.T) {
	s, _ := ParseSchedule("cron(0 12 * * ? *)")
	ist := time.FixedZone("IST", 5*3600+1800)
	// 17:29:59 IST is 11:59:59 UTC: the next noon UTC is a second away.
	got := s.Next(time.Date(2026, 11, 27, 17, 29, 59, 0, ist))
	if want := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("got %s want %s", got, want)
	}
	r, _ := ParseSchedule("rate(1 minute)")
	r.Anchor = time.Date(2026, 11, 27, 12, 0, 30, 0, time.UTC)
	if got := r.Next(time.Date(2026, 11, 27, 12, 1, 30, 0, time.UTC)); !got.Equal(time.Date(2026, 11, 27, 12, 2, 30, 0, time.UTC)) {
		t.Fatalf("rate keeps its anchor's seconds: %s", got)
	}
}
